//! vlab in the lab's cluster pipeline: the job a container's environment
//! describes ([`job`]) and the delivery of its artifacts to the lab's API
//! ([`delivery`]).

pub mod delivery;
pub mod job;
