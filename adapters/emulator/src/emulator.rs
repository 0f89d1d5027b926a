//! The handle: start an emulator on loopback ports, drive it from a test, stop it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::IntoFuture;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::{ClientSpec, Config, Consent, Limits, SelfClientCode, UserSpec};
use crate::conn::{ConnControl, FaultListener};
use crate::counters::Counters;
use crate::error::{ControlError, StartError};
use crate::faults::Fault;
use crate::region::{DataCenter, Environment};
use crate::routes::{router, AppState, Topology};
use crate::state::Model;

/// A running emulator: one loopback port per emulated data centre, served by its own single-threaded
/// tokio runtime on a background thread. Stopped by [`stop`](Self::stop) or on drop, which also ends
/// hung requests and open connections; no thread outlives it.
///
/// Every method takes `&self` and is safe to call from any thread while requests are being served:
/// the state is one mutex-protected model shared with the HTTP handlers. Instances share nothing, so
/// a test process can run many at once.
///
/// ```
/// use zoho_oauth_emulator::{Config, DataCenter, Emulator};
/// let emu = Emulator::start(Config::default())?;
/// assert!(emu.base_url(DataCenter::Us).starts_with("http://127.0.0.1:"));
/// emu.stop();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Emulator {
    model: Arc<Mutex<Model>>,
    topology: Arc<Topology>,
    stopper: Stopper,
    thread: Option<JoinHandle<()>>,
}

/// Stops an [`Emulator`] from another thread (a signal handler, a watchdog), while its owner
/// [`wait`](Emulator::wait)s. Cloneable; stopping twice is harmless.
#[derive(Debug, Clone)]
pub struct Stopper(Arc<watch::Sender<bool>>);

impl Stopper {
    /// Asks the emulator to stop; [`Emulator::wait`] then returns.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Emulator {
    /// Validates `config`, binds one loopback port per data centre and starts serving.
    ///
    /// # Errors
    ///
    /// [`StartError`] when the configuration is inconsistent (no or repeated data centre, a client
    /// at a data centre not emulated, an unknown consent user…), a port cannot be bound, or the
    /// runtime thread cannot start. Nothing is left running then.
    pub fn start(config: Config) -> Result<Self, StartError> {
        Self::launch(config, false)
    }

    /// [`start`](Self::start), optionally also stopping on Ctrl-C (for the foreground server only:
    /// it takes over the process's SIGINT).
    pub(crate) fn launch(config: Config, stop_on_ctrl_c: bool) -> Result<Self, StartError> {
        if config.data_centers.is_empty() {
            return Err(StartError::NoDataCenter);
        }
        for (i, dc) in config.data_centers.iter().enumerate() {
            if config.data_centers[..i].contains(dc) {
                return Err(StartError::DuplicateDataCenter(*dc));
            }
        }
        let model = Model::new(&config)?;

        let mut listeners = Vec::with_capacity(config.data_centers.len());
        let mut base_urls = BTreeMap::new();
        for (i, &data_center) in config.data_centers.iter().enumerate() {
            let port = match config.port {
                None => 0,
                Some(first) => u16::try_from(i)
                    .ok()
                    .and_then(|i| first.checked_add(i))
                    .ok_or(StartError::PortOutOfRange {
                        port: first,
                        count: config.data_centers.len(),
                    })?,
            };
            let bind_error = |source| StartError::Bind {
                data_center,
                port,
                source,
            };
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(bind_error)?;
            listener.set_nonblocking(true).map_err(bind_error)?;
            let bound = listener.local_addr().map_err(bind_error)?.port();
            base_urls.insert(data_center, format!("http://127.0.0.1:{bound}"));
            listeners.push((data_center, listener));
        }

        let model = Arc::new(Mutex::new(model));
        let topology = Arc::new(Topology::new(base_urls));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        {
            let _context = runtime.enter();
            for (data_center, listener) in listeners {
                let listener = tokio::net::TcpListener::from_std(listener).map_err(|source| {
                    StartError::Bind {
                        data_center,
                        port: 0,
                        source,
                    }
                })?;
                let app = router(AppState {
                    model: Arc::clone(&model),
                    topology: Arc::clone(&topology),
                    data_center,
                });
                let server = axum::serve(
                    FaultListener(listener),
                    app.into_make_service_with_connect_info::<ConnControl>(),
                );
                // Detached: the server runs until the runtime is dropped.
                drop(runtime.spawn(server.into_future()));
            }
        }

        let (sender, mut stop) = watch::channel(false);
        let thread = std::thread::Builder::new()
            .name("zoho-oauth-emulator".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let ctrl_c = async {
                        if stop_on_ctrl_c && tokio::signal::ctrl_c().await.is_ok() {
                            return;
                        }
                        std::future::pending::<()>().await;
                    };
                    tokio::select! {
                        _ = stop.wait_for(|stopped| *stopped) => {}
                        () = ctrl_c => {}
                    }
                });
                // Dropping the runtime cancels every server, connection and hung request.
                drop(runtime);
            })
            .map_err(StartError::Runtime)?;

        Ok(Emulator {
            model,
            topology,
            stopper: Stopper(Arc::new(sender)),
            thread: Some(thread),
        })
    }

    fn model(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The accounts origin of an emulated data centre, `http://127.0.0.1:PORT` (no trailing slash).
    /// It is also the production API domain; token requests go to `{base_url}/oauth/v2/token`.
    ///
    /// # Panics
    ///
    /// If `data_center` is not emulated; [`try_base_url`](Self::try_base_url) returns an error instead.
    #[must_use]
    pub fn base_url(&self, data_center: DataCenter) -> &str {
        match self.try_base_url(data_center) {
            Ok(url) => url,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`base_url`](Self::base_url) without the panic.
    ///
    /// # Errors
    ///
    /// [`ControlError::DataCenterNotEmulated`] if the data centre is not emulated.
    pub fn try_base_url(&self, data_center: DataCenter) -> Result<&str, ControlError> {
        self.topology
            .base_url(data_center)
            .ok_or(ControlError::DataCenterNotEmulated { data_center })
    }

    /// The API domain of an environment of an emulated data centre, as token responses report it:
    /// the base URL, plus `/sandbox` or `/developer` outside production.
    ///
    /// # Panics
    ///
    /// If `data_center` is not emulated.
    #[must_use]
    pub fn api_domain(&self, data_center: DataCenter, environment: Environment) -> String {
        format!(
            "{}{}",
            self.base_url(data_center),
            environment.path_prefix()
        )
    }

    /// The emulated data centres.
    #[must_use]
    pub fn data_centers(&self) -> Vec<DataCenter> {
        self.topology.iter().map(|(dc, _)| dc).collect()
    }

    /// Registers (or replaces) a client at its data centre, and at each of its
    /// [`multi_dc`](ClientSpec::multi_dc) data centres.
    ///
    /// # Errors
    ///
    /// An empty id or secret, a data centre that is not emulated, a per-DC secret for a data
    /// centre the client is not enabled at, or an org that is not a `soid` (`<service>.<org id>`).
    pub fn register_client(&self, spec: ClientSpec) -> Result<(), ControlError> {
        self.model().register_client(spec)
    }

    /// Registers (or replaces) a user, keyed by e-mail (case-insensitive).
    ///
    /// # Errors
    ///
    /// An e-mail without `@`, or a [`home`](UserSpec::home) data centre that is not emulated.
    pub fn register_user(&self, spec: UserSpec) -> Result<(), ControlError> {
        self.model().register_user(spec)
    }

    /// Mints a Self Client grant code, as the API console does: single use, no redirect URI,
    /// exchanged for an access token **and** a refresh token.
    ///
    /// # Errors
    ///
    /// A data centre not emulated, a client not registered there, an unknown user, an empty scope
    /// or a zero lifetime; [`ControlError::TooManyGrantCodes`] when the client already had
    /// [`Limits::grant_codes_per_window`] codes in the window.
    pub fn mint_self_client_code(&self, spec: &SelfClientCode) -> Result<String, ControlError> {
        self.model().mint_self_client_code(spec)
    }

    /// Sets how `GET /oauth/v2/auth` answers from now on.
    ///
    /// # Errors
    ///
    /// [`ControlError::UnknownUser`] if the consenting user is not registered.
    pub fn set_consent(&self, consent: Consent) -> Result<(), ControlError> {
        self.model().set_consent(consent)
    }

    /// Switches the consent page off (`true`: `GET /oauth/v2/auth` decides at once, the default)
    /// or on (`false`: it shows the page with Accept and Deny). The rest of the consent settings stay.
    pub fn set_auto_consent(&self, auto: bool) {
        let mut model = self.model();
        let consent = Consent {
            auto,
            ..model.consent().clone()
        };
        // The user is already known to be registered: this cannot fail.
        let _ = model.set_consent(consent);
    }

    /// The person signed in as `user_email` approves the device flow shown as `user_code` (what
    /// they would do on the verification page). The device's next poll gets its tokens, from the
    /// data centre of the user's account ([`UserSpec::home`]); polls elsewhere answer `other_dc`.
    ///
    /// # Errors
    ///
    /// [`ControlError::UnknownUserCode`], [`ControlError::UserCodeExpired`],
    /// [`ControlError::DeviceAlreadyDecided`], an unknown user, or a client not enabled at the
    /// user's data centre ([`ControlError::UnknownClient`]).
    pub fn approve_device(&self, user_code: &str, user_email: &str) -> Result<(), ControlError> {
        self.model().approve_device(user_code, user_email)
    }

    /// The person denies the device flow shown as `user_code`: its next poll answers `access_denied`.
    ///
    /// # Errors
    ///
    /// [`ControlError::UnknownUserCode`], [`ControlError::UserCodeExpired`] or
    /// [`ControlError::DeviceAlreadyDecided`].
    pub fn deny_device(&self, user_code: &str) -> Result<(), ControlError> {
        self.model().deny_device(user_code)
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.model().limits.clone()
    }

    /// Replaces the limits from now on (windows already counted are kept).
    pub fn set_limits(&self, limits: Limits) {
        self.model().limits = limits;
    }

    /// A snapshot of the counters.
    #[must_use]
    pub fn counters(&self) -> Counters {
        self.model().counters.clone()
    }

    /// Zeroes the counters (`in_flight` excepted: it is a gauge).
    pub fn reset_counters(&self) {
        self.model().counters.reset();
    }

    /// Expires every access token now; refresh tokens and grant codes are untouched.
    pub fn expire_access_tokens(&self) {
        self.model().expire_access_tokens();
    }

    /// Moves the emulated clock forward: codes, access tokens and throttle windows age by `by`.
    pub fn advance_clock(&self, by: Duration) {
        self.model().clock.advance(by);
    }

    /// Now on the emulated clock, in milliseconds since the Unix epoch.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        self.model().now()
    }

    /// Answers the next `times` token requests with `fault` (after faults already queued).
    pub fn queue_fault(&self, fault: Fault, times: usize) {
        self.model().queue_fault(fault, times);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.model().clear_faults();
    }

    /// How many queued faults are still waiting for a token request.
    #[must_use]
    pub fn pending_faults(&self) -> usize {
        self.model().pending_faults()
    }

    /// Delays every token request by `latency` (real time) while it counts as in flight, so that
    /// concurrent requests visibly overlap. Zero (the default) answers at once.
    pub fn set_latency(&self, latency: Duration) {
        self.model().latency = latency;
    }

    /// A handle that stops this emulator from another thread.
    #[must_use]
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    /// Blocks until a [`Stopper`] stops the emulator (or Ctrl-C, for [`serve_forever`](crate::serve_forever)).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Stops serving and joins the background thread. Dropping the emulator does the same.
    pub fn stop(self) {
        drop(self);
    }

    fn shutdown(&mut self) {
        self.stopper.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// A human-readable summary: where each data centre listens, and the registered clients and users.
    #[must_use]
    pub fn banner(&self) -> String {
        let mut out = String::from("Zoho OAuth emulator (loopback only)\n");
        for (dc, base) in self.topology.iter() {
            let _ = writeln!(
                out,
                "  {dc}: accounts server and production API {base}  (sandbox API {base}/sandbox, developer API {base}/developer)"
            );
        }
        let model = self.model();
        for client in model.clients() {
            let _ = writeln!(
                out,
                "client at {}: client_id={} client_secret={} redirect_uris={}",
                client.data_center,
                client.id,
                client.secret,
                client.redirect_uris.join(",")
            );
        }
        for user in model.users() {
            let _ = writeln!(out, "user: {} (ZUID {})", user.email, user.zuid);
        }
        if let Some((_, base)) = self.topology.iter().next() {
            let _ = writeln!(
                out,
                "Self Client code: curl -s -X POST {base}/_emulator/codes  (control API under {base}/_emulator/)"
            );
        }
        out
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}
