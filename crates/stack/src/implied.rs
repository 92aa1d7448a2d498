//! The PX state a data set implies, computed in one pass over the export records, with no broker, service,
//! store or arrival order involved: what the demo checks PX against when no `expected.json` is given.
//!
//! It reads records with ingest's parser (so "which records are bad" has one definition) and folds them
//! with its own, deliberately simple model of the rest of the pipeline: every identity seen on one record
//! belongs to one profile (union-find over the whole file), a profile's PX users are the ids of the mapping
//! source anywhere in its component, and per (user, audience) the newest `lastQualificationTime` wins, an
//! exit winning a tie. Because the whole file is linked before anything is resolved, this is the state a
//! pipeline converges to once every link has arrived.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pxstream_core::change::MembershipStatus;
use pxstream_core::config::ActivationFile;
use pxstream_ingest::activations::Activations;
use pxstream_ingest::record::parse_record;

use crate::check::Expected;

/// What the records imply, and how many of them could not be read (the pipeline dead-letters those).
#[derive(Debug, Clone)]
pub struct Implied {
    pub expected: Expected,
    pub unreadable: usize,
}

pub fn implied_state<L: AsRef<[u8]>>(lines: &[L], activation: &ActivationFile) -> Implied {
    let config = activation.to_activation();
    let source = config
        .mapping
        .source
        .namespace()
        .expect("a loaded activation file has a valid mapping source");
    let activations = Activations::new(std::slice::from_ref(&config));

    let mut graph = Components::default();
    let mut profiles = Vec::new();
    let mut unreadable = 0;
    for line in lines {
        let Ok(record) = parse_record(line.as_ref(), &activations) else {
            unreadable += 1;
            continue;
        };
        let nodes: Vec<usize> = record
            .identities
            .iter()
            .map(|(namespace, id)| graph.node(namespace.as_str(), id))
            .collect();
        for pair in nodes.windows(2) {
            graph.union(pair[0], pair[1]);
        }
        if let Some(&first) = nodes.first() {
            profiles.push((first, record.changes));
        }
    }

    // Each component's PX users: the mapping source's ids among its identities.
    let mut users: HashMap<usize, BTreeSet<String>> = HashMap::new();
    for node in 0..graph.len() {
        let (namespace, id) = graph.identity(node);
        if namespace == source.as_str() {
            let id = id.to_owned();
            users.entry(graph.find(node)).or_default().insert(id);
        }
    }

    // (audience, user) → (time, exited): the largest wins, so an exit wins a tie.
    let mut newest: BTreeMap<(String, String), (i64, bool)> = BTreeMap::new();
    for (node, changes) in profiles {
        let Some(ids) = users.get(&graph.find(node)) else {
            continue; // never resolves: the pipeline holds these changes forever
        };
        for change in changes {
            let version = (
                change.time.as_micros(),
                change.status == MembershipStatus::Exited,
            );
            for user in ids {
                let slot = newest
                    .entry((change.audience.as_str().to_owned(), user.clone()))
                    .or_insert(version);
                *slot = (*slot).max(version);
            }
        }
    }

    let mut expected = Expected {
        members: BTreeMap::new(),
        segments: BTreeMap::new(),
    };
    for audience in &config.audiences {
        let id = audience.id.as_str().to_owned();
        expected.segments.insert(id.clone(), audience.name.clone());
        expected.members.insert(id, BTreeSet::new());
    }
    for ((audience, user), (_, exited)) in newest {
        if !exited {
            expected.members.entry(audience).or_default().insert(user);
        }
    }
    Implied {
        expected,
        unreadable,
    }
}

/// Union-find over (namespace, id) identities.
#[derive(Debug, Default)]
struct Components {
    index: HashMap<(String, String), usize>,
    identities: Vec<(String, String)>,
    parent: Vec<usize>,
}

impl Components {
    fn node(&mut self, namespace: &str, id: &str) -> usize {
        let key = (namespace.to_owned(), id.to_owned());
        if let Some(&node) = self.index.get(&key) {
            return node;
        }
        let node = self.parent.len();
        self.parent.push(node);
        self.identities.push(key.clone());
        self.index.insert(key, node);
        node
    }

    fn len(&self) -> usize {
        self.parent.len()
    }

    fn identity(&self, node: usize) -> (&str, &str) {
        let (namespace, id) = &self.identities[node];
        (namespace, id)
    }

    fn find(&mut self, mut node: usize) -> usize {
        while self.parent[node] != node {
            self.parent[node] = self.parent[self.parent[node]];
            node = self.parent[node];
        }
        node
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a] = b;
        }
    }
}

#[cfg(test)]
#[path = "implied_tests.rs"]
mod tests;
