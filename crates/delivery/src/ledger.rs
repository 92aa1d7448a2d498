//! Which Kafka offsets may be committed.
//!
//! Every offset handed to the pipeline is charged here; its completion may come in any order (a dead-letter
//! settles at once, a change waits for PX). Only the contiguous prefix of completed offsets of a partition
//! is committable: committing past an unsettled offset would lose that change on a restart.
//!
//! A ledger belongs to one partition assignment, named by a generation number. After a rebalance the
//! consumer starts a new generation; tickets from the old one are rejected, because their partitions may
//! now belong to another consumer whose progress a late commit from here would overwrite.

use std::collections::{BTreeMap, HashMap};

/// Proof that an offset was charged, to hand back on completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket {
    generation: u64,
    partition: i32,
    offset: i64,
}

impl Ticket {
    pub fn partition(&self) -> i32 {
        self.partition
    }

    pub fn offset(&self) -> i64 {
        self.offset
    }
}

/// Why a completion was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("the ticket belongs to assignment generation {ticket}, the ledger is at {current}")]
    StaleGeneration { ticket: u64, current: u64 },
    #[error("offset {offset} of partition {partition} is not outstanding")]
    NotOutstanding { partition: i32, offset: i64 },
}

#[derive(Debug, Default)]
struct PartitionLedger {
    /// Charged offsets not yet behind the frontier, with whether each is complete.
    outstanding: BTreeMap<i64, bool>,
    /// The next offset to commit: one past the last completed offset of the contiguous prefix.
    frontier: Option<i64>,
    committed: Option<i64>,
}

impl PartitionLedger {
    fn advance(&mut self) {
        while let Some(entry) = self.outstanding.first_entry() {
            if !*entry.get() {
                break;
            }
            let (offset, _) = entry.remove_entry();
            self.frontier = Some(offset + 1);
        }
    }
}

#[derive(Debug, Default)]
pub struct OffsetLedger {
    generation: u64,
    partitions: HashMap<i32, PartitionLedger>,
}

impl OffsetLedger {
    pub fn new(generation: u64) -> Self {
        Self {
            generation,
            partitions: HashMap::new(),
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Starts over for a new assignment; everything outstanding is forgotten and its tickets rejected.
    pub fn reassign(&mut self, generation: u64) {
        if generation != self.generation {
            self.generation = generation;
            self.partitions.clear();
        }
    }

    /// Records that `offset` of `partition` entered the pipeline.
    ///
    /// Offsets of a partition arrive in increasing order, possibly with gaps (compaction, transaction
    /// markers): only charged offsets count, so a gap never blocks the frontier.
    pub fn charge(&mut self, partition: i32, offset: i64) -> Ticket {
        let ledger = self.partitions.entry(partition).or_default();
        if ledger.frontier.is_none_or(|frontier| offset >= frontier) {
            ledger.outstanding.entry(offset).or_insert(false);
        }
        Ticket {
            generation: self.generation,
            partition,
            offset,
        }
    }

    /// Marks a charged offset settled.
    pub fn complete(&mut self, ticket: Ticket) -> Result<(), Rejected> {
        if ticket.generation != self.generation {
            return Err(Rejected::StaleGeneration {
                ticket: ticket.generation,
                current: self.generation,
            });
        }
        let not_outstanding = Rejected::NotOutstanding {
            partition: ticket.partition,
            offset: ticket.offset,
        };
        let ledger = self
            .partitions
            .get_mut(&ticket.partition)
            .ok_or(not_outstanding)?;
        match ledger.outstanding.get_mut(&ticket.offset) {
            Some(done) => *done = true,
            // Already behind the frontier (a re-read offset): settling it again changes nothing.
            None if ledger.frontier.is_some_and(|f| ticket.offset < f) => return Ok(()),
            None => return Err(not_outstanding),
        }
        ledger.advance();
        Ok(())
    }

    /// `(partition, next offset)` for every partition whose frontier moved since its last commit.
    pub fn committable(&self) -> Vec<(i32, i64)> {
        let mut ready: Vec<(i32, i64)> = self
            .partitions
            .iter()
            .filter_map(|(partition, ledger)| {
                let frontier = ledger.frontier?;
                (ledger.committed != Some(frontier)).then_some((*partition, frontier))
            })
            .collect();
        ready.sort_unstable();
        ready
    }

    /// Records that these positions were committed (only those of the current generation matter).
    pub fn committed(&mut self, positions: &[(i32, i64)]) {
        for (partition, offset) in positions {
            if let Some(ledger) = self.partitions.get_mut(partition) {
                ledger.committed = Some(ledger.committed.map_or(*offset, |c| c.max(*offset)));
            }
        }
    }

    /// Charged offsets not yet settled, over all partitions.
    pub fn outstanding(&self) -> usize {
        self.partitions
            .values()
            .map(|l| l.outstanding.values().filter(|done| !**done).count())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_land_at_the_frontier_only() {
        let mut ledger = OffsetLedger::new(1);
        let tickets: Vec<Ticket> = (0..4).map(|o| ledger.charge(0, o)).collect();
        ledger.complete(tickets[1]).unwrap();
        ledger.complete(tickets[2]).unwrap();
        assert!(
            ledger.committable().is_empty(),
            "offset 0 is still in flight"
        );
        ledger.complete(tickets[0]).unwrap();
        assert_eq!(ledger.committable(), vec![(0, 3)]);
        ledger.complete(tickets[3]).unwrap();
        assert_eq!(ledger.committable(), vec![(0, 4)]);
        assert_eq!(ledger.outstanding(), 0);
    }

    #[test]
    fn a_committed_frontier_is_not_offered_again() {
        let mut ledger = OffsetLedger::new(1);
        let t = ledger.charge(3, 41);
        ledger.complete(t).unwrap();
        assert_eq!(ledger.committable(), vec![(3, 42)]);
        ledger.committed(&[(3, 42)]);
        assert!(ledger.committable().is_empty());
        let t = ledger.charge(3, 42);
        ledger.complete(t).unwrap();
        assert_eq!(ledger.committable(), vec![(3, 43)]);
    }

    #[test]
    fn gaps_between_offsets_do_not_block_the_frontier() {
        let mut ledger = OffsetLedger::new(1);
        let a = ledger.charge(0, 10);
        let b = ledger.charge(0, 12);
        let c = ledger.charge(0, 15);
        for t in [c, a, b] {
            ledger.complete(t).unwrap();
        }
        assert_eq!(ledger.committable(), vec![(0, 16)]);
    }

    #[test]
    fn partitions_advance_independently() {
        let mut ledger = OffsetLedger::new(1);
        let p0 = ledger.charge(0, 5);
        let p1a = ledger.charge(1, 7);
        let _p1b = ledger.charge(1, 8);
        ledger.complete(p1a).unwrap();
        assert_eq!(ledger.committable(), vec![(1, 8)]);
        ledger.complete(p0).unwrap();
        assert_eq!(ledger.committable(), vec![(0, 6), (1, 8)]);
        assert_eq!(ledger.outstanding(), 1);
    }

    #[test]
    fn a_completion_from_a_revoked_assignment_is_rejected() {
        let mut ledger = OffsetLedger::new(1);
        let old = ledger.charge(0, 5);
        ledger.reassign(2);
        assert_eq!(
            ledger.complete(old),
            Err(Rejected::StaleGeneration {
                ticket: 1,
                current: 2
            })
        );
        assert!(ledger.committable().is_empty());
        // The new owner of the partition starts from the committed offset again.
        let again = ledger.charge(0, 5);
        ledger.complete(again).unwrap();
        assert_eq!(ledger.committable(), vec![(0, 6)]);
    }

    #[test]
    fn an_offset_never_charged_cannot_be_completed() {
        let mut ledger = OffsetLedger::new(1);
        let _ = ledger.charge(0, 5);
        let forged = Ticket {
            generation: 1,
            partition: 0,
            offset: 6,
        };
        assert!(matches!(
            ledger.complete(forged),
            Err(Rejected::NotOutstanding { .. })
        ));
        let other_partition = Ticket {
            generation: 1,
            partition: 9,
            offset: 5,
        };
        assert!(ledger.complete(other_partition).is_err());
    }

    #[test]
    fn a_re_read_offset_behind_the_frontier_settles_without_moving_it_back() {
        let mut ledger = OffsetLedger::new(1);
        let t = ledger.charge(0, 5);
        ledger.complete(t).unwrap();
        let again = ledger.charge(0, 5);
        ledger.complete(again).unwrap();
        assert_eq!(ledger.committable(), vec![(0, 6)]);
    }
}
