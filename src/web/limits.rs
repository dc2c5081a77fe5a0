//! The signup limit per client address, following the owner's settings: the burst and the
//! per-minute refill are read on every check, and a change starts a fresh limiter.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::LiveSettings;

type Keyed = Arc<DefaultKeyedRateLimiter<IpAddr>>;

pub struct SignupLimiter {
    live: LiveSettings,
    /// The limiter and the (burst, per minute) it was built for.
    current: Mutex<((u32, u32), Keyed)>,
}

fn keyed((burst, per_minute): (u32, u32)) -> Keyed {
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(
        Quota::per_minute(per_minute).allow_burst(burst),
    ))
}

impl SignupLimiter {
    pub fn new(live: LiveSettings) -> Self {
        let limits = Self::limits(&live);
        Self {
            live,
            current: Mutex::new((limits, keyed(limits))),
        }
    }

    fn limits(live: &LiveSettings) -> (u32, u32) {
        let current = live.get();
        (
            current.signup.burst_per_ip,
            current.signup.per_ip_per_minute,
        )
    }

    /// The limiter for the limits in effect now.
    pub fn current(&self) -> Keyed {
        let limits = Self::limits(&self.live);
        match self.current.lock() {
            Ok(mut held) => {
                if held.0 != limits {
                    *held = (limits, keyed(limits));
                }
                held.1.clone()
            }
            Err(_) => keyed(limits),
        }
    }

    /// Whether one more signup from `key` goes over the limit.
    pub fn refuses(&self, key: &IpAddr) -> bool {
        self.current().check_key(key).is_err()
    }
}
