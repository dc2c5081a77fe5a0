//! Who is connected to the inbound SMTP listener: a limit on connections in all and per
//! client address, and, when every place is taken, the session that has waited longest for
//! a command (longer than [`EVICTABLE_AFTER`]) makes room for the newcomer, so connections
//! opened and left silent cannot lock real senders out.
//!
//! IPv6 clients count per /64 network (one host is usually given a whole /64), IPv4 clients
//! per address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// A session waiting this long for its next command may be closed to make room: a real
/// sender answers within milliseconds, so it is holding a place without using it.
pub const EVICTABLE_AFTER: Duration = Duration::from_secs(2);

/// How many connections the listener takes (`HUNDRED_INBOUND_SMTP_MAX_CONNECTIONS`,
/// `HUNDRED_INBOUND_SMTP_MAX_PER_CLIENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub total: usize,
    pub per_client: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            total: 64,
            per_client: 8,
        }
    }
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// That client already has its share.
    PerClient,
    /// Every place is taken by a session that is busy (or idle only briefly).
    Full,
}

impl Refusal {
    pub(super) fn reply(self) -> &'static [u8] {
        match self {
            Self::PerClient => {
                b"421 4.7.0 Too many connections from your address, try again later\r\n"
            }
            Self::Full => b"421 4.7.0 Too many connections, try again later\r\n",
        }
    }
}

pub(super) struct Clients {
    limits: ConnectionLimits,
    registry: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    sessions: HashMap<u64, Entry>,
    per_client: HashMap<IpAddr, usize>,
}

struct Entry {
    client: IpAddr,
    /// Since when the session has been waiting for a command; `None` while it works.
    waiting_since: Option<Instant>,
    evict: CancellationToken,
}

/// A session's place; giving it up (drop) frees it.
pub(crate) struct Ticket {
    id: u64,
    clients: Arc<Clients>,
    /// Cancelled when the session is chosen to make room.
    pub(super) evict: CancellationToken,
}

/// The address a client counts under.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(network))
        }
        v4 => v4,
    }
}

impl Clients {
    pub(super) fn new(limits: ConnectionLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            registry: Mutex::new(Registry::default()),
        })
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        // Nothing in the registry can be left half-changed by a panic; go on with it.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for a new connection from `ip`, or why there is none.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Result<Ticket, Refusal> {
        let client = client_key(ip);
        let mut registry = self.registry();
        if registry.per_client.get(&client).copied().unwrap_or(0) >= self.limits.per_client {
            return Err(Refusal::PerClient);
        }
        if registry.sessions.len() >= self.limits.total {
            let idlest = registry
                .sessions
                .iter()
                .filter_map(|(id, entry)| entry.waiting_since.map(|since| (since, *id)))
                .filter(|(since, _)| now.saturating_duration_since(*since) >= EVICTABLE_AFTER)
                .min();
            let Some((_, id)) = idlest else {
                return Err(Refusal::Full);
            };
            if let Some(entry) = registry.remove(id) {
                entry.evict.cancel();
            }
        }
        registry.next_id += 1;
        let id = registry.next_id;
        let evict = CancellationToken::new();
        registry.sessions.insert(
            id,
            Entry {
                client,
                waiting_since: None,
                evict: evict.clone(),
            },
        );
        *registry.per_client.entry(client).or_insert(0) += 1;
        Ok(Ticket {
            id,
            clients: self.clone(),
            evict,
        })
    }

    #[cfg(test)]
    fn count(&self) -> usize {
        self.registry().sessions.len()
    }
}

impl Registry {
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.sessions.remove(&id)?;
        if let Some(count) = self.per_client.get_mut(&entry.client) {
            *count -= 1;
            if *count == 0 {
                self.per_client.remove(&entry.client);
            }
        }
        Some(entry)
    }
}

impl Ticket {
    /// The session waits for a command from now (`Some`), or has one to work on (`None`).
    pub(super) fn waiting(&self, since: Option<Instant>) {
        if let Some(entry) = self.clients.registry().sessions.get_mut(&self.id) {
            entry.waiting_since = since;
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.clients.registry().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn one_client_gets_its_share_and_no_more() {
        let clients = Clients::new(ConnectionLimits {
            total: 10,
            per_client: 2,
        });
        let now = Instant::now();
        let first = clients.admit(ip("192.0.2.1"), now).unwrap();
        let _second = clients.admit(ip("192.0.2.1"), now).unwrap();
        assert_eq!(
            clients.admit(ip("192.0.2.1"), now).err(),
            Some(Refusal::PerClient)
        );
        assert!(clients.admit(ip("192.0.2.2"), now).is_ok());
        drop(first);
        assert!(clients.admit(ip("192.0.2.1"), now).is_ok(), "a place freed");
    }

    #[test]
    fn ipv6_clients_count_per_network() {
        let clients = Clients::new(ConnectionLimits {
            total: 10,
            per_client: 1,
        });
        let now = Instant::now();
        let _one = clients.admit(ip("2001:db8:1:2::1"), now).unwrap();
        assert_eq!(
            clients.admit(ip("2001:db8:1:2::ffff"), now).err(),
            Some(Refusal::PerClient)
        );
        assert!(clients.admit(ip("2001:db8:1:3::1"), now).is_ok());
        let _v4 = clients.admit(ip("::ffff:192.0.2.9"), now).unwrap();
        assert_eq!(
            clients.admit(ip("192.0.2.9"), now).err(),
            Some(Refusal::PerClient),
            "a mapped IPv4 address is that address"
        );
    }

    #[test]
    fn when_full_the_longest_idle_session_makes_room() {
        let clients = Clients::new(ConnectionLimits {
            total: 3,
            per_client: 3,
        });
        let start = Instant::now();
        let busy = clients.admit(ip("192.0.2.1"), start).unwrap();
        let idle_long = clients.admit(ip("192.0.2.2"), start).unwrap();
        let idle_less = clients.admit(ip("192.0.2.3"), start).unwrap();
        idle_long.waiting(Some(start));
        idle_less.waiting(Some(start + Duration::from_secs(1)));

        // Nobody has been idle long enough yet.
        let soon = start + Duration::from_secs(1);
        assert_eq!(
            clients.admit(ip("198.51.100.1"), soon).err(),
            Some(Refusal::Full)
        );

        let later = start + Duration::from_secs(5);
        let newcomer = clients.admit(ip("198.51.100.1"), later).unwrap();
        assert!(idle_long.evict.is_cancelled(), "the idlest one goes");
        assert!(!idle_less.evict.is_cancelled() && !busy.evict.is_cancelled());
        assert_eq!(clients.count(), 3);
        drop(idle_long);
        assert_eq!(clients.count(), 3, "its place is already the newcomer's");

        let _another = clients.admit(ip("198.51.100.2"), later).unwrap();
        assert!(idle_less.evict.is_cancelled());
        assert_eq!(
            clients.admit(ip("198.51.100.3"), later).err(),
            Some(Refusal::Full),
            "a session at work is never closed to make room"
        );
        drop(newcomer);
    }
}
