//! The order records land on Kafka: at-least-once, unordered.
//!
//! Each snapshot arrives shortly after its export (shuffled within a window), some arrive again
//! (duplicates), and some arrive as retries up to `late_max_minutes` late, after newer snapshots of
//! the same profile.

use crate::config::GenConfig;
use crate::records::Snapshot;
use crate::rng::Rng;
use crate::timefmt::{MICROS_PER_SEC, Micros};

/// One record on the topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Index into the snapshots.
    pub snapshot: usize,
    pub arrival: Micros,
    /// A second delivery of a snapshot that was already delivered.
    pub duplicate: bool,
}

/// Shortest retry delay: below it a "late" record would just be part of the normal shuffle.
const MIN_RETRY_SECS: i64 = 180;
/// How long after the first delivery a duplicate can come (re-exports and backfills).
const DUPLICATE_SPREAD_SECS: i64 = 30 * 60;

/// Delivers every snapshot once, some twice, in arrival order (ties keep generation order).
pub fn deliver(cfg: &GenConfig, snapshots: &[Snapshot], rng: &mut Rng) -> Vec<Delivery> {
    let shuffle = i64::from(cfg.shuffle_window_secs).max(1) * MICROS_PER_SEC;
    let late_max = (i64::from(cfg.late_max_minutes) * 60).max(MIN_RETRY_SECS + 1) * MICROS_PER_SEC;
    let mut out = Vec::with_capacity(snapshots.len() + snapshots.len() / 8);
    for (i, snap) in snapshots.iter().enumerate() {
        let mut arrival = snap.exported_at + rng.range(0, shuffle);
        if rng.chance(cfg.late_rate) {
            arrival += rng.range(MIN_RETRY_SECS * MICROS_PER_SEC, late_max);
        }
        out.push(Delivery {
            snapshot: i,
            arrival,
            duplicate: false,
        });
        if rng.chance(cfg.duplicate_rate) {
            out.push(Delivery {
                snapshot: i,
                arrival: arrival
                    + rng.range(MICROS_PER_SEC, DUPLICATE_SPREAD_SECS * MICROS_PER_SEC),
                duplicate: true,
            });
        }
    }
    out.sort_by_key(|d| (d.arrival, d.snapshot, d.duplicate));
    out
}

/// Deliveries that arrive after a newer snapshot of the same profile had already arrived: the
/// records a consumer must recognise as stale.
pub fn count_out_of_order(snapshots: &[Snapshot], deliveries: &[Delivery]) -> usize {
    let mut newest: std::collections::HashMap<usize, Micros> = std::collections::HashMap::new();
    let mut late = 0;
    for d in deliveries {
        let snap = &snapshots[d.snapshot];
        let seen = newest.entry(snap.profile).or_insert(Micros::MIN);
        if snap.exported_at < *seen {
            late += 1;
        } else {
            *seen = snap.exported_at;
        }
    }
    late
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(profile: usize, exported_at: Micros) -> Snapshot {
        Snapshot {
            profile,
            exported_at,
            ecid_only: false,
            entries: Vec::new(),
            line: String::new(),
        }
    }

    #[test]
    fn every_snapshot_is_delivered_and_arrivals_are_sorted() {
        let snaps: Vec<Snapshot> = (0..500)
            .map(|i| snapshot(i % 50, i as i64 * 10 * MICROS_PER_SEC))
            .collect();
        let cfg = GenConfig::default();
        let deliveries = deliver(&cfg, &snaps, &mut Rng::new(11));
        assert!(deliveries.windows(2).all(|w| w[0].arrival <= w[1].arrival));
        for i in 0..snaps.len() {
            let firsts = deliveries
                .iter()
                .filter(|d| d.snapshot == i && !d.duplicate)
                .count();
            assert_eq!(firsts, 1);
        }
        assert!(deliveries.iter().any(|d| d.duplicate));
        assert!(count_out_of_order(&snaps, &deliveries) > 0);
    }

    #[test]
    fn without_lateness_or_shuffle_nothing_is_out_of_order() {
        let snaps: Vec<Snapshot> = (0..100)
            .map(|i| snapshot(i % 7, i as i64 * 200 * MICROS_PER_SEC))
            .collect();
        let cfg = GenConfig {
            late_rate: 0.0,
            duplicate_rate: 0.0,
            shuffle_window_secs: 1,
            ..GenConfig::default()
        };
        let deliveries = deliver(&cfg, &snaps, &mut Rng::new(1));
        assert_eq!(count_out_of_order(&snaps, &deliveries), 0);
    }
}
