//! Learning links: the identities of one record belong together, so their components become one.
//!
//! A batch is linked in memory first (union-find over the batch's identities, with identities already in
//! one stored component pre-joined), then written as a few set operations: fresh components for groups
//! the store has never seen, identities added to their group's component, and merges of the stored
//! components a group spans into the largest of them, so relabelling stays cheap over time.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pxstream_core::Namespace;

use crate::store::{ComponentId, IdentityKey, Merge, StoreError, StoreTx};

/// What learning a batch's links did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LearnedLinks {
    /// The component of each profile, in request order; `None` for a profile without identities.
    pub components: Vec<Option<ComponentId>>,
    /// Components that gained identities or absorbed others: only their held changes can newly resolve.
    pub changed: Vec<ComponentId>,
    /// Stored components that gained a possible PX user: `Some(namespace)` for a new identity of that
    /// namespace, `None` for a merge (each side gains the other's ids). Fresh components are absent:
    /// they have no earlier states to catch up on.
    pub grown: Vec<(ComponentId, Option<Namespace>)>,
    /// Stored components folded into another.
    pub merges: usize,
    /// Held changes dropped by a merge because the target already held the same change.
    pub held_dropped: u64,
}

/// Links the identities of each profile and returns each profile's component.
pub async fn learn_links<T: StoreTx>(
    tx: &mut T,
    profiles: &[&[IdentityKey]],
) -> Result<LearnedLinks, StoreError> {
    let mut index: HashMap<&IdentityKey, usize> = HashMap::new();
    let mut keys: Vec<IdentityKey> = Vec::new();
    let mut profile_nodes: Vec<Vec<usize>> = Vec::with_capacity(profiles.len());
    for identities in profiles {
        let nodes = identities
            .iter()
            .map(|key| {
                *index.entry(key).or_insert_with(|| {
                    keys.push(key.clone());
                    keys.len() - 1
                })
            })
            .collect();
        profile_nodes.push(nodes);
    }
    if keys.is_empty() {
        return Ok(LearnedLinks {
            components: vec![None; profiles.len()],
            ..LearnedLinks::default()
        });
    }

    let known = tx.components_of(&keys).await?;
    let stored: Vec<Option<ComponentId>> = keys.iter().map(|k| known.get(k).copied()).collect();

    let mut sets = UnionFind::new(keys.len());
    for nodes in &profile_nodes {
        for pair in nodes.windows(2) {
            sets.union(pair[0], pair[1]);
        }
    }
    let mut first_in_component: HashMap<ComponentId, usize> = HashMap::new();
    for (node, component) in stored.iter().enumerate() {
        if let Some(component) = component {
            let first = *first_in_component.entry(*component).or_insert(node);
            sets.union(first, node);
        }
    }

    #[derive(Default)]
    struct Group {
        stored: BTreeSet<ComponentId>,
        new: Vec<usize>,
    }
    let mut groups: BTreeMap<usize, Group> = BTreeMap::new();
    for (node, component) in stored.iter().enumerate() {
        let group = groups.entry(sets.find(node)).or_default();
        match component {
            Some(component) => {
                group.stored.insert(*component);
            }
            None => group.new.push(node),
        }
    }

    let spanning: Vec<ComponentId> = groups
        .values()
        .filter(|g| g.stored.len() > 1)
        .flat_map(|g| g.stored.iter().copied())
        .collect();
    let sizes = if spanning.is_empty() {
        HashMap::new()
    } else {
        tx.component_sizes(&spanning).await?
    };
    let unseen = groups.values().filter(|g| g.stored.is_empty()).count();
    let mut fresh = if unseen == 0 {
        Vec::new()
    } else {
        tx.allocate_components(unseen).await?
    }
    .into_iter();

    let mut target_of_root: HashMap<usize, ComponentId> = HashMap::with_capacity(groups.len());
    let mut merges = Vec::new();
    let mut rows = Vec::new();
    let mut changed = Vec::new();
    let mut grown = BTreeSet::new();
    for (root, group) in &groups {
        let target = if group.stored.is_empty() {
            fresh.next().ok_or_else(|| {
                StoreError::Corrupt("the store allocated fewer components than asked".into())
            })?
        } else {
            largest(&group.stored, &sizes)
        };
        let absorbed = group.stored.iter().filter(|c| **c != target);
        let before = merges.len();
        merges.extend(absorbed.map(|&from| Merge { from, into: target }));
        rows.extend(group.new.iter().map(|&node| (keys[node].clone(), target)));
        if !group.new.is_empty() || merges.len() > before {
            changed.push(target);
        }
        if merges.len() > before {
            grown.insert((target, None));
        } else if !group.stored.is_empty() {
            grown.extend(
                group
                    .new
                    .iter()
                    .map(|&node| (target, Some(keys[node].namespace.clone()))),
            );
        }
        target_of_root.insert(*root, target);
    }

    let held_dropped = if merges.is_empty() {
        0
    } else {
        tx.merge_components(&merges).await?
    };
    if !rows.is_empty() {
        tx.insert_identities(&rows).await?;
    }

    let components = profile_nodes
        .iter()
        .map(|nodes| {
            nodes
                .first()
                .and_then(|&node| target_of_root.get(&sets.find(node)).copied())
        })
        .collect();
    Ok(LearnedLinks {
        components,
        changed,
        grown: grown.into_iter().collect(),
        merges: merges.len(),
        held_dropped,
    })
}

/// The component that absorbs the others: the largest, so the fewest rows move; ties go to the oldest id
/// so the choice is deterministic.
fn largest(components: &BTreeSet<ComponentId>, sizes: &HashMap<ComponentId, u64>) -> ComponentId {
    components
        .iter()
        .copied()
        .max_by_key(|c| (sizes.get(c).copied().unwrap_or(0), std::cmp::Reverse(*c)))
        .unwrap_or_default()
}

/// Disjoint sets over `0..n` with path halving and union by size.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    pub fn find(&mut self, mut node: usize) -> usize {
        while self.parent[node] != node {
            self.parent[node] = self.parent[self.parent[node]];
            node = self.parent[node];
        }
        node
    }

    pub fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_joins_transitively() {
        let mut sets = UnionFind::new(5);
        sets.union(0, 1);
        sets.union(3, 4);
        sets.union(1, 4);
        assert_eq!(sets.find(0), sets.find(3));
        assert_ne!(sets.find(0), sets.find(2));
    }

    #[test]
    fn the_largest_component_absorbs_the_others_and_ties_go_to_the_oldest() {
        let components: BTreeSet<_> = [3, 5, 9].into_iter().collect();
        let sizes: HashMap<_, _> = [(3, 2), (5, 7), (9, 7)].into_iter().collect();
        assert_eq!(largest(&components, &sizes), 5);
    }
}
