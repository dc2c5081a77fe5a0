//! Start-up and shutdown: connect and migrate the store, settle the signing key, bind the
//! listener, then run the HTTP server, the sender workers and the inbound doors (SMTP
//! listener, IMAP poller) until told to stop.
//!
//! Layer: the very top. It builds what the plain settings describe (the DKIM signer, the
//! STARTTLS set-up, the transport, the IMAP poller) and wires every layer together; no
//! other module imports it except `cli` and `main`, for `prepare`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rand::RngCore as _;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::actions::Services;
use crate::config::{Config, ConfigError, LiveSettings};
use crate::inbound::imap::ImapPoller;
use crate::inbound::smtp::InboundTls;
use crate::mail::dkim::DkimSigner;
use crate::mail::{Composer, QueueWorker, Transport};
use crate::signing::Signer;
use crate::store::Store;
use crate::templates::Templates;
use crate::tracking::{EventWriter, Tracker};
use crate::web::{self, AppState};

/// How long closing the database connections may take at the end of a shutdown (after the
/// grace period, `HUNDRED_SHUTDOWN_GRACE_SECONDS`).
const STORE_CLOSE: Duration = Duration::from_secs(5);

pub struct Application {
    listener: TcpListener,
    state: AppState,
    events: EventWriter,
    inbound_smtp: Option<crate::inbound::smtp::InboundSmtp>,
    imap: Option<ImapPoller>,
    setup_link: Option<String>,
}

/// Installs the process-wide TLS crypto provider. Two rustls backends can end up compiled
/// in through dependencies; without one chosen explicitly, TLS set-up panics.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Connects to the configured database, brings its schema up to date, and makes sure the
/// stored engagement was weighed with the configured half-life.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Ok(open_store_live(config).await?.0)
}

/// The store, and the owner's settings in effect (the store weighs engagement with their
/// half-life).
async fn open_store_live(config: &Config) -> anyhow::Result<(Store, LiveSettings)> {
    let store = Store::connect(&config.database_url).await?;
    store.migrate().await?;
    let live = crate::actions::settings::at_start(&store, config).await?;
    Ok((store, live))
}

/// Prepares what every use case needs (`actions::Services`): installs the TLS provider,
/// opens and migrates the store, settles the signing key and the consent text's version,
/// loads the templates and sets up the mail transport.
pub async fn prepare(config: Config) -> anyhow::Result<Services> {
    let dkim = dkim_signer(&config)?;
    prepare_signed(config, dkim).await
}

/// The DKIM signer, when configured. Built before anything else, so a key that cannot be
/// used stops start-up first, as a bad setting does (exit code 2, one line naming it).
fn dkim_signer(config: &Config) -> Result<Option<Arc<DkimSigner>>, ConfigError> {
    Ok(config
        .dkim
        .as_ref()
        .map(DkimSigner::from_settings)
        .transpose()?
        .map(Arc::new))
}

/// What start-up reads from the files the settings name (the DKIM key, the STARTTLS
/// certificate), read before the listener is bound and the store opened.
struct KeyFiles {
    dkim: Option<Arc<DkimSigner>>,
    inbound_tls: Option<InboundTls>,
}

impl KeyFiles {
    fn read(config: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            inbound_tls: config
                .inbound_tls
                .as_ref()
                .map(InboundTls::from_files)
                .transpose()?,
            dkim: dkim_signer(config)?,
        })
    }
}

async fn prepare_signed(config: Config, dkim: Option<Arc<DkimSigner>>) -> anyhow::Result<Services> {
    install_crypto_provider();
    let config = Arc::new(config);
    let (store, live) = open_store_live(&config).await?;
    let secret = match &config.secret_key {
        Some(secret) => secret.expose().to_string(),
        None => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            store.secret_key_or_store(&hex::encode(bytes)).await?
        }
    };
    let signer = Signer::new(secret.as_bytes());
    let templates = Arc::new(Templates::load()?);
    let transport = match &config.smtp_url {
        Some(url) => Transport::smtp(url.expose(), live.get().send_concurrency)?,
        None => Transport::outbox(config.outbox_dir.clone())?,
    };
    let composer = Composer::new(
        config.clone(),
        templates.clone(),
        signer.clone(),
        dkim,
        live.clone(),
    );
    Ok(Services {
        config,
        store,
        signer,
        templates,
        composer,
        transport,
        live,
        wake_sender: Arc::new(Notify::new()),
        wake_campaigns: Arc::new(Notify::new()),
    })
}

impl Application {
    /// Everything that can fail at start-up happens here, so `serve` fails fast with a
    /// message saying what to fix.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let keys = KeyFiles::read(&config)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("HUNDRED_LISTEN: could not listen on {}", config.listen))?;
        Self::build_with(config, keys, listener).await
    }

    /// Like `build`, on a listener the caller already bound (tests bind port 0 first, so
    /// the public URL can name the real port).
    pub async fn build_on(config: Config, listener: TcpListener) -> anyhow::Result<Self> {
        let keys = KeyFiles::read(&config)?;
        Self::build_with(config, keys, listener).await
    }

    async fn build_with(
        config: Config,
        keys: KeyFiles,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let KeyFiles { dkim, inbound_tls } = keys;
        let services = prepare_signed(config, dkim).await?;
        // Work this instance left leased when it last stopped (a crash, kill -9) is taken
        // over now rather than when the leases run out.
        let expired = services
            .store
            .expire_leases_of(
                &format!("{}/", services.config.instance_id),
                crate::store::Timestamp::now(),
            )
            .await?;
        if expired > 0 {
            tracing::warn!(
                deliveries = expired,
                "resuming deliveries left in flight by the previous run"
            );
        }
        let inbound_smtp = match services.config.inbound_smtp_listen {
            Some(address) => {
                // Mail is taken for the reply and bounce domains only (any, if neither is
                // set); the Reply-To is followed as the owner changes it.
                let domains = services
                    .config
                    .bounce_address
                    .iter()
                    .map(|address| address.domain().to_string())
                    .collect();
                Some(crate::inbound::smtp::bind(
                    address,
                    services.inbox(),
                    domains,
                    services.live.clone(),
                    crate::inbound::smtp::ConnectionLimits {
                        total: services.config.inbound_smtp_max_connections,
                        per_client: services.config.inbound_smtp_max_per_client,
                    },
                    inbound_tls,
                )?)
            }
            None => None,
        };
        let imap = services
            .config
            .imap
            .clone()
            .map(|settings| {
                ImapPoller::new(
                    settings,
                    services.config.imap_poll_interval,
                    services.inbox(),
                )
            })
            .transpose()?;
        // With no owner account yet, a one-time link to create one, printed on the console
        // (not logged: it is a credential).
        let setup_link = crate::actions::accounts::issue_setup_link(
            &services.store,
            services.config.public_base(),
        )
        .await?;
        if let Some(link) = &setup_link {
            eprintln!(
                "\nNo owner account yet. Open this link to create one (it works once):\n\n    {link}\n\nOr run `hundred user create --email you@example.com`.\n"
            );
        }
        let (tracker, events) = Tracker::new(
            services.store.clone(),
            &services.config,
            services.live.clone(),
        );
        let state = AppState::new(services, tracker);
        Ok(Self {
            listener,
            state,
            events,
            inbound_smtp,
            imap,
            setup_link,
        })
    }

    /// The one-time setup link printed at start-up, when no owner account exists.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.config.listen)
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Serves until `shutdown` resolves; then stops taking requests and mail, lets
    /// in-flight requests, sends and messages finish within the grace period
    /// (`HUNDRED_SHUTDOWN_GRACE_SECONDS`), cuts off what is still running after it (unstarted
    /// and cut-off work stays queued, and a restart takes it over), and closes the database
    /// within `STORE_CLOSE`.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = self.local_addr();
        let Self {
            listener,
            state,
            events,
            inbound_smtp,
            imap,
            setup_link: _,
        } = self;
        let stop = CancellationToken::new();
        let config = &state.config;
        let grace = config.shutdown_grace;
        // The listener says 421 to the sessions still open at the end of its part of the
        // grace, so it is done by the end of the whole.
        let smtp_task = inbound_smtp.map(|smtp| {
            tokio::spawn(smtp.run(
                stop.clone(),
                grace.saturating_sub(crate::inbound::smtp::CLOSING_TIME),
            ))
        });
        let worker = QueueWorker::new(
            state.store.clone(),
            state.transport.clone(),
            state.composer.clone(),
            config,
            state.wake_sender.clone(),
        );
        let worker_task = tokio::spawn(worker.run(stop.clone()));
        let campaigns = state.campaign_sender();
        let campaign_task = tokio::spawn(campaigns.run(stop.clone()));
        let imap_task = imap.map(|poller| tokio::spawn(poller.run(stop.clone())));
        // Settings saved on another instance take effect here within seconds.
        tokio::spawn(crate::actions::settings::keep_following(
            state.services.clone(),
            stop.clone(),
        ));
        // Stopped only after the server has answered its last request, so every event
        // recorded is stored.
        let events_stop = CancellationToken::new();
        let events_task = tokio::spawn(events.run(events_stop.clone()));

        tracing::info!(
            address = %address,
            database = state.store.backend_name(),
            transport = ?state.transport,
            "hundred is listening"
        );
        let store = state.store.clone();
        let app = web::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let http_stop = stop.clone();
        let server = axum::serve(listener, app)
            .with_graceful_shutdown(async move { http_stop.cancelled().await });
        let mut server_task = tokio::spawn(async move { server.await });
        let ended_early = tokio::select! {
            () = shutdown => None,
            served = &mut server_task => Some(served),
        };
        tracing::info!("shutting down: finishing in-flight requests, sends and inbound mail");
        stop.cancel();
        let deadline = tokio::time::Instant::now() + grace;
        let served = match ended_early {
            Some(served) => served,
            None => match tokio::time::timeout_at(deadline, &mut server_task).await {
                Ok(served) => served,
                Err(_) => {
                    tracing::warn!("requests still open after the grace period; closing them");
                    server_task.abort();
                    Ok(Ok(()))
                }
            },
        };
        events_stop.cancel();
        let mut tasks = vec![worker_task, campaign_task, events_task];
        tasks.extend(imap_task);
        tasks.extend(smtp_task);
        let aborts: Vec<_> = tasks.iter().map(|task| task.abort_handle()).collect();
        let workers = futures::future::join_all(tasks);
        if tokio::time::timeout_at(deadline, workers).await.is_err() {
            tracing::warn!(
                "work still running after the grace period; stopping it (sends in flight are retried after their leases expire or on restart)"
            );
            for task in aborts {
                task.abort();
            }
        }
        if tokio::time::timeout(STORE_CLOSE, store.close())
            .await
            .is_err()
        {
            tracing::warn!("the database connections did not close in time; leaving them");
        }
        served
            .context("the HTTP server stopped")?
            .context("the HTTP server failed")
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
