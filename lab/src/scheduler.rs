//! Placing queued benchmarks on target instances: first in, first out per
//! user and target type, round robin between users, and never more jobs on
//! an instance than its slots (a board has one). Placing a job takes a
//! slot; a job's end gives it back.
//!
//! Pure bookkeeping: the dispatcher feeds it the queue in submission order
//! and starts what it places.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Requirement, TargetOffer};
use crate::store::accounts::UserId;

/// A queued benchmark, as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// Benchmark id.
    pub id: String,
    /// Its owner.
    pub user: UserId,
    /// What it needs.
    pub need: Requirement,
}

/// A decision: run benchmark `id` on instance `uid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Benchmark id.
    pub id: String,
    /// Target instance.
    pub uid: String,
}

/// The instances and how many slots of each are taken.
#[derive(Debug)]
pub struct Scheduler {
    offers: Vec<TargetOffer>,
    busy: BTreeMap<String, u32>,
    last_user: Option<UserId>,
}

impl Scheduler {
    /// A scheduler over `offers`, all free.
    pub fn new(offers: Vec<TargetOffer>) -> Self {
        Self {
            offers,
            busy: BTreeMap::new(),
            last_user: None,
        }
    }

    /// Marks one slot of `uid` taken (a job placed, or found running at
    /// start-up).
    pub fn occupy(&mut self, uid: &str) {
        *self.busy.entry(uid.to_owned()).or_default() += 1;
    }

    /// Gives one slot of `uid` back.
    pub fn release(&mut self, uid: &str) {
        if let Some(n) = self.busy.get_mut(uid) {
            *n = n.saturating_sub(1);
        }
    }

    /// Jobs running on `uid` now.
    pub fn running_on(&self, uid: &str) -> u32 {
        self.busy.get(uid).copied().unwrap_or(0)
    }

    fn free(&self, offer: &TargetOffer) -> u32 {
        offer.slots.saturating_sub(self.running_on(&offer.uid))
    }

    /// The freest instance that can run `need` now.
    fn instance_for(&self, need: &Requirement) -> Option<usize> {
        self.offers
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind == need.kind && self.free(o) > 0 && o.refusal(need).is_none())
            .max_by_key(|(i, o)| (self.free(o), std::cmp::Reverse(*i)))
            .map(|(i, _)| i)
    }

    /// Places what can run now from `queue` (in submission order) and
    /// takes the slots.
    pub fn place(&mut self, queue: &[Waiting]) -> Vec<Placement> {
        let mut by_user: BTreeMap<UserId, Vec<&Waiting>> = BTreeMap::new();
        for job in queue {
            by_user.entry(job.user).or_default().push(job);
        }
        // Round robin: start with the first user after the last one served.
        let mut users: Vec<UserId> = by_user.keys().copied().collect();
        if let Some(last) = self.last_user {
            let split = users.partition_point(|u| *u <= last);
            users.rotate_left(split);
        }
        let mut placed = Vec::new();
        let mut taken: BTreeSet<&str> = BTreeSet::new();
        loop {
            let mut progress = false;
            for user in &users {
                // A job waits behind the same user's older jobs for its target type.
                let mut blocked: BTreeSet<&str> = BTreeSet::new();
                for job in &by_user[user] {
                    if taken.contains(job.id.as_str()) || blocked.contains(job.need.kind.as_str()) {
                        continue;
                    }
                    match self.instance_for(&job.need) {
                        Some(index) => {
                            let uid = self.offers[index].uid.clone();
                            self.occupy(&uid);
                            taken.insert(&job.id);
                            placed.push(Placement {
                                id: job.id.clone(),
                                uid,
                            });
                            self.last_user = Some(*user);
                            progress = true;
                            break;
                        }
                        None => {
                            blocked.insert(&job.need.kind);
                        }
                    }
                }
            }
            if !progress {
                return placed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(kind: &str, uid: &str, slots: u32) -> TargetOffer {
        TargetOffer {
            kind: kind.into(),
            display_name: kind.into(),
            uid: uid.into(),
            engines: vec!["micro".into()],
            benchmark_types: vec!["TYPE1".into()],
            storage: None,
            ram: None,
            slots,
        }
    }

    fn job(id: &str, user: UserId, kind: &str, uids: Option<&[&str]>) -> Waiting {
        Waiting {
            id: id.into(),
            user,
            need: Requirement {
                kind: kind.into(),
                engine: "micro".into(),
                benchmark_type: "TYPE1".into(),
                model_size: 1,
                uids: uids.map(|u| u.iter().map(|s| (*s).to_owned()).collect()),
            },
        }
    }

    fn ids(placed: &[Placement]) -> Vec<&str> {
        placed.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn a_board_runs_one_job_at_a_time_and_the_host_its_slots() {
        let mut s = Scheduler::new(vec![offer("board", "b0", 1), offer("host", "h0", 2)]);
        let queue = [
            job("1", 1, "board", None),
            job("2", 1, "board", None),
            job("3", 1, "host", None),
            job("4", 1, "host", None),
            job("5", 1, "host", None),
        ];
        assert_eq!(ids(&s.place(&queue)), ["1", "3", "4"]);
        assert_eq!(ids(&s.place(&queue[1..2])), Vec::<&str>::new());
        s.release("b0");
        assert_eq!(ids(&s.place(&queue[1..2])), ["2"]);
    }

    #[test]
    fn users_take_turns_and_each_users_jobs_keep_their_order() {
        let mut s = Scheduler::new(vec![offer("board", "b0", 1)]);
        let queue = [
            job("a1", 1, "board", None),
            job("a2", 1, "board", None),
            job("a3", 1, "board", None),
            job("b1", 2, "board", None),
        ];
        let mut order = Vec::new();
        let mut left: Vec<Waiting> = queue.to_vec();
        while !left.is_empty() {
            let placed = s.place(&left);
            assert_eq!(placed.len(), 1, "one board, one job");
            order.push(placed[0].id.clone());
            left.retain(|j| j.id != placed[0].id);
            s.release("b0");
        }
        assert_eq!(order, ["a1", "b1", "a2", "a3"]);
    }

    #[test]
    fn target_uids_restrict_placement_and_spread_over_instances() {
        let mut s = Scheduler::new(vec![offer("board", "b0", 1), offer("board", "b1", 1)]);
        let queue = [
            job("1", 1, "board", Some(&["b1"])),
            job("2", 1, "board", Some(&["b1"])),
            job("3", 2, "board", None),
        ];
        let placed = s.place(&queue);
        assert_eq!(
            placed,
            [
                Placement {
                    id: "1".into(),
                    uid: "b1".into()
                },
                Placement {
                    id: "3".into(),
                    uid: "b0".into()
                },
            ]
        );
        assert_eq!(s.running_on("b0"), 1);
        assert_eq!(s.running_on("b1"), 1);
    }
}
