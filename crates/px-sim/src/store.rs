//! The simulator's shared state: configuration indexes, per-subscription data, tokens and faults.
//!
//! Each subscription has its own lock so tenants do not contend; no lock is ever held across an
//! `.await`, which keeps every mutation atomic with respect to other requests.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde_json::{Map, Value};

use crate::auth::TokenStore;
use crate::config::{Permission, SimConfig, SubscriptionConfig};
use crate::faults::{FaultSpec, FaultState};
use crate::limits::RateLimiter;
use crate::segments::Segment;
use crate::state::{RequestStats, SimState, SubscriptionState};

/// What one subscription holds; `/__sim/reset` replaces it with the default.
#[derive(Debug, Default)]
pub(crate) struct SubRuntime {
    /// Keyed by external id.
    pub segments: BTreeMap<String, Segment>,
    /// PX users keyed by identify id (case-sensitive), stored as the JSON PX answers.
    pub users: BTreeMap<String, Map<String, Value>>,
    pub requests: RequestStats,
    pub membership_changes_received: u64,
    pub limiter: RateLimiter,
}

#[derive(Debug)]
pub(crate) struct Sim {
    config: SimConfig,
    index: HashMap<String, usize>,
    keys: HashMap<String, (usize, Permission)>,
    subs: Vec<Mutex<SubRuntime>>,
    tokens: Mutex<TokenStore>,
    faults: Mutex<FaultState>,
}

/// A poisoned lock only means another request panicked; the data is still consistent because
/// every mutation is a few infallible steps.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Sim {
    pub(crate) fn new(config: SimConfig) -> anyhow::Result<Self> {
        config.validate()?;
        let index = config
            .subscriptions
            .iter()
            .enumerate()
            .map(|(i, sub)| (sub.id.clone(), i))
            .collect();
        let keys = config
            .subscriptions
            .iter()
            .enumerate()
            .flat_map(|(i, sub)| {
                sub.api_keys
                    .iter()
                    .map(move |key| (key.key.clone(), (i, key.permission)))
            })
            .collect();
        let subs = config
            .subscriptions
            .iter()
            .map(|_| Mutex::new(SubRuntime::default()))
            .collect();
        Ok(Self {
            config,
            index,
            keys,
            subs,
            tokens: Mutex::default(),
            faults: Mutex::default(),
        })
    }

    pub(crate) fn config(&self) -> &SimConfig {
        &self.config
    }

    pub(crate) fn config_of(&self, sub: usize) -> &SubscriptionConfig {
        &self.config.subscriptions[sub]
    }

    pub(crate) fn subscription_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub(crate) fn api_key(&self, key: &str) -> Option<(usize, Permission)> {
        self.keys.get(key).copied()
    }

    pub(crate) fn sub(&self, sub: usize) -> MutexGuard<'_, SubRuntime> {
        lock(&self.subs[sub])
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, TokenStore> {
        lock(&self.tokens)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultState> {
        lock(&self.faults)
    }

    /// Configured on, and not switched off by a `featureOff` fault.
    pub(crate) fn feature_enabled(&self, sub: usize) -> bool {
        let config = self.config_of(sub);
        config.feature_enabled && !self.faults().effective(Some(&config.id)).feature_off
    }

    /// Validates and installs a fault spec, running its one-shot actions.
    pub(crate) fn set_faults(&self, spec: FaultSpec) -> Result<(), String> {
        spec.validate()?;
        let scope = match &spec.subscription {
            Some(id) => Some(
                self.subscription_index(id)
                    .ok_or_else(|| format!("unknown subscription {id}"))?,
            ),
            None => None,
        };
        if spec.token_expiry {
            self.tokens().expire_access(scope, Instant::now());
        }
        self.faults().set(spec);
        Ok(())
    }

    /// Clears data, counters, rate windows and faults; configuration and issued tokens stay, so
    /// a client holding a token keeps working across a reset between test cases.
    pub(crate) fn reset(&self) {
        for sub in &self.subs {
            *lock(sub) = SubRuntime::default();
        }
        *self.faults() = FaultState::default();
    }

    pub(crate) fn snapshot(&self) -> SimState {
        let subscriptions = self
            .config
            .subscriptions
            .iter()
            .zip(&self.subs)
            .map(|(config, runtime)| {
                let runtime = lock(runtime);
                let state = SubscriptionState {
                    segments: runtime
                        .segments
                        .iter()
                        .map(|(external_id, segment)| (external_id.clone(), segment.snapshot()))
                        .collect(),
                    requests: runtime.requests.clone(),
                    membership_changes_received: runtime.membership_changes_received,
                };
                (config.id.clone(), state)
            })
            .collect();
        SimState { subscriptions }
    }
}
