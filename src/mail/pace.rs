//! How fast mail goes out: at most the owner's send rate, in messages a second, each worker
//! on its own budget. The rate is read from the live settings before every message, so a
//! change on the settings page applies to the next message, on every instance.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::DefaultDirectRateLimiter;

use crate::config::LiveSettings;

pub struct SendPace {
    live: LiveSettings,
    /// The limiter and the rate it was built for.
    limiter: Mutex<(f64, Arc<DefaultDirectRateLimiter>)>,
}

fn limiter(rate: f64) -> Arc<DefaultDirectRateLimiter> {
    let per_second =
        NonZeroU32::new(rate.ceil().clamp(1.0, 1_000_000.0) as u32).unwrap_or(NonZeroU32::MIN);
    Arc::new(governor::RateLimiter::direct(governor::Quota::per_second(
        per_second,
    )))
}

impl SendPace {
    pub fn new(live: LiveSettings) -> Self {
        let rate = live.get().send_rate;
        Self {
            live,
            limiter: Mutex::new((rate, limiter(rate))),
        }
    }

    /// Waits until the next message may go.
    pub async fn until_ready(&self) {
        let rate = self.live.get().send_rate;
        let current = match self.limiter.lock() {
            Ok(mut held) => {
                if held.0 != rate {
                    *held = (rate, limiter(rate));
                }
                held.1.clone()
            }
            // A poisoned lock only means another send panicked mid-swap: build a fresh one.
            Err(_) => limiter(rate),
        };
        current.until_ready().await;
    }
}

/// Has `slots` hand out `wanted` permits from now on instead of `had`: more at once, fewer
/// as the work holding them finishes.
pub fn resize(slots: &Arc<tokio::sync::Semaphore>, had: usize, wanted: usize) {
    if wanted > had {
        slots.add_permits(wanted - had);
    } else if wanted < had {
        let fewer = u32::try_from(had - wanted).unwrap_or(u32::MAX);
        let slots = slots.clone();
        tokio::spawn(async move {
            if let Ok(permits) = slots.acquire_many_owned(fewer).await {
                permits.forget();
            }
        });
    }
}
