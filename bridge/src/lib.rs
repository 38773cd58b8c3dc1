//! vlab-bridge: the host side of vlab's MCU path. It knows the boards and
//! how to reach them ([`board`]), opens links to them ([`transport`]) and
//! speaks the wire protocol with their firmware ([`session`]). A board is
//! a benchmark target ([`board::BoardTarget`]) measured by the harness's
//! one loop. [`mlperf_tiny`] drives MLPerf Tiny devices under test, as
//! targets of that loop too.
//! [`nomad`] says what a lab host advertises to the cluster.

pub mod board;
pub mod interruptible;
pub mod linux;
pub mod mlperf_tiny;
pub mod nomad;
pub mod session;
pub mod transport;
