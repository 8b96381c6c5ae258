//! Starting and stopping the mock: one HTTP port for the ECR API, the registry and the admin API.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt as _;
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::core::{Registry, Settings};
use crate::credentials::{AccessKey, AccessPolicy};
use crate::error::StorageFault;
use crate::store::{BlobStore, Database};
use crate::timeouts::Timeouts;
use crate::{admin, ecr_api, registry};

/// The account id the mock uses by default; AWS documentation uses the same placeholder.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
pub const DEFAULT_REGION: &str = "us-east-1";

/// How long shutdown waits for requests in flight before dropping their connections.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// How to run a mock.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder for the database and the blob store; created if missing.
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Host name clients use to reach the registry, used in `repositoryUri` and
    /// `proxyEndpoint` with the listening port. Defaults to `localhost`.
    pub public_host: Option<String>,
    pub account_id: String,
    pub region: String,
    pub clock: Clock,
    /// Access keys whose Signature V4 the ECR API accepts, each acting for its account.
    /// Defaults to the test key pair that `ecrlab env` prints, in [`DEFAULT_ACCOUNT_ID`].
    pub access_keys: Vec<AccessKey>,
    /// Accepts ECR API requests with any signature and any access key, for clients that
    /// cannot sign with the configured keys. Access keys not in `access_keys` then act for
    /// `account_id`.
    pub accept_any_signature: bool,
    /// Timeouts for slow clients: the request headers must arrive within
    /// `timeouts.header_read` (default 30 s), and a request body may pause for at most
    /// `timeouts.body_idle` (default 60 s).
    pub timeouts: Timeouts,
    /// An advisory data file (docs/scanning.md) that image scans use in place of the data
    /// that ships with mock-ecr.
    pub advisories: Option<PathBuf>,
}

impl Config {
    /// A configuration with defaults: 127.0.0.1 on a free port, the default account and region,
    /// and the system clock.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_host: None,
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            region: DEFAULT_REGION.to_owned(),
            clock: Clock::system(),
            access_keys: vec![AccessKey::default_student()],
            accept_any_signature: false,
            timeouts: Timeouts::default(),
            advisories: None,
        }
    }
}

/// Errors that stop the mock from starting. Each message names the value and the fix; the
/// underlying I/O error is part of the message, not a separate source, so it prints once.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data folder {} is a file, not a folder: pass another folder with --data", .path.display())]
    DataDirIsFile { path: PathBuf },
    #[error("cannot create data folder {}: {reason}", .path.display())]
    DataDir {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("data folder {} is on a read-only file system: remount it read-write or pass a writable folder with --data", .path.display())]
    DataDirReadOnly { path: PathBuf },
    #[error("data folder {} is not writable by this user: change its owner or permissions, or pass a writable folder with --data", .path.display())]
    DataDirNotWritable { path: PathBuf },
    #[error("data folder {} is on a full disk: free space on that disk or pass a folder on another disk with --data", .path.display())]
    DataDirFull { path: PathBuf },
    #[error("cannot write to data folder {}: {reason}; pass a writable folder with --data", .path.display())]
    DataDirWrite {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error(
        "cannot listen on {address}: the port is in use; stop the server that uses it or pick another port with --listen"
    )]
    PortInUse { address: SocketAddr },
    #[error("cannot listen on {address}: {reason}; pick another address with --listen")]
    Bind {
        address: SocketAddr,
        reason: std::io::Error,
    },
    #[error("invalid public host '{host}': {problem}")]
    PublicHost { host: String, problem: &'static str },
    #[error("invalid access keys: {0}")]
    AccessKeys(String),
    #[error("{0}; fix the file or start without --advisories to use the bundled data")]
    Advisories(crate::scan::AdvisoryError),
    #[error("{0}")]
    Storage(String),
}

impl From<crate::error::CoreError> for StartError {
    fn from(error: crate::error::CoreError) -> Self {
        match error {
            crate::error::CoreError::Storage(message) => Self::Storage(message),
            other => Self::Storage(other.to_string()),
        }
    }
}

impl StartError {
    /// Maps a failure to create or write the data folder to the error that names its fix.
    fn data_dir(path: &Path, reason: std::io::Error) -> Self {
        let path = path.to_owned();
        match StorageFault::of_io(&reason) {
            Some(StorageFault::ReadOnly) => Self::DataDirReadOnly { path },
            Some(StorageFault::DiskFull) => Self::DataDirFull { path },
            _ if reason.kind() == std::io::ErrorKind::PermissionDenied => {
                Self::DataDirNotWritable { path }
            }
            _ => Self::DataDirWrite { path, reason },
        }
    }

    fn bind(address: SocketAddr, reason: std::io::Error) -> Self {
        if reason.kind() == std::io::ErrorKind::AddrInUse {
            Self::PortInUse { address }
        } else {
            Self::Bind { address, reason }
        }
    }
}

/// Checks a `--public-host` value: a host name or IP address, without scheme, port or path,
/// because the mock appends its own port.
fn validate_public_host(host: &str) -> Result<(), StartError> {
    let invalid = |problem| StartError::PublicHost {
        host: host.to_owned(),
        problem,
    };
    if host.is_empty() {
        return Err(invalid("it is empty; give a host name such as localhost"));
    }
    if host.contains("://") || host.contains('/') {
        return Err(invalid("give only the host name, without scheme or path"));
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(invalid(
            "give the host without a port: the mock appends the port it listens on",
        ));
    }
    let allowed =
        |character: char| character.is_ascii_alphanumeric() || "-.[]:".contains(character);
    if !host.chars().all(allowed) {
        return Err(invalid(
            "a host name contains only letters, digits, '-' and '.'",
        ));
    }
    Ok(())
}

/// Writes and deletes a one-page file in `folder`, so a folder that cannot be
/// written stops the start with the reason instead of failing the first push. Opening SQLite
/// alone does not show this, because SQLite opens an existing database read-only when it cannot
/// open it for writing.
fn check_writable(data_dir: &Path) -> Result<(), StartError> {
    use std::io::Write as _;

    let probe = data_dir.join(format!(".mock-ecr-write-check-{}", std::process::id()));
    // No sync: a full or read-only file system refuses the write itself, and a sync would
    // wait for whatever else the disk is writing back, which made start-up take 70 ms a
    // folder on a busy disk.
    let written = std::fs::File::create(&probe).and_then(|mut file| file.write_all(&[0u8; 4096]));
    let removed = match std::fs::remove_file(&probe) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    };
    written
        .and(removed)
        .map_err(|reason| StartError::data_dir(data_dir, reason))
}

#[derive(Clone)]
struct AppState {
    registry: Arc<Registry>,
    endpoint: Arc<str>,
    access: Arc<AccessPolicy>,
}

/// A running mock. Dropping it without [`MockEcr::shutdown`] leaves the server running until
/// the runtime stops.
pub struct MockEcr {
    address: SocketAddr,
    endpoint: String,
    registry: Arc<Registry>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
    /// The scan worker, [`Registry::run_scans`], and the sender that stops it.
    scanner: JoinHandle<()>,
    stop_scanner: oneshot::Sender<()>,
    /// The registry host name this data folder was last served with, when it differs from
    /// the current one.
    previous_host_name: Option<String>,
    /// [`RUNNING_MARKER`] in the data folder, removed by a clean shutdown.
    running_marker: PathBuf,
}

/// A file in the data folder that exists while a server runs on it. Finding it at start means
/// the last run did not shut down cleanly, so the start checks the database first.
pub const RUNNING_MARKER: &str = "mock-ecr.running";

const RUNNING_MARKER_TEXT: &str = "A mock-ecr server runs on this data folder, or the last one did not shut down cleanly; the next start checks the database when this file is here.\n";

impl MockEcr {
    /// Opens the data folder, binds the port and serves in a background task.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        if let Some(host) = &config.public_host {
            validate_public_host(host)?;
        }
        let advisories = match &config.advisories {
            Some(path) => {
                Arc::new(crate::scan::Advisories::load(path).map_err(StartError::Advisories)?)
            }
            None => Arc::new(crate::scan::Advisories::bundled().clone()),
        };
        let access = AccessPolicy::new(config.access_keys, config.accept_any_signature)
            .map_err(StartError::AccessKeys)?;
        if config.data_dir.exists() && !config.data_dir.is_dir() {
            return Err(StartError::DataDirIsFile {
                path: config.data_dir.clone(),
            });
        }
        std::fs::create_dir_all(&config.data_dir).map_err(|reason| {
            match StartError::data_dir(&config.data_dir, reason) {
                StartError::DataDirWrite { path, reason } => StartError::DataDir { path, reason },
                classified => classified,
            }
        })?;
        check_writable(&config.data_dir)?;
        let database_path = config.data_dir.join("mock-ecr.sqlite3");
        let database = Database::open(&database_path)?;
        let blobs = BlobStore::open(&config.data_dir)?;
        // Uploads are written in uploads/ and moved into blobs/sha256/, which a restored or
        // copied data folder may have with other owners than the folder itself.
        for folder in [blobs.uploads_folder(), blobs.sha256_folder()] {
            check_writable(&folder)?;
        }
        let running_marker = config.data_dir.join(RUNNING_MARKER);
        let stopped_cleanly = !running_marker.exists();
        crate::store::recovery::recover(&database, &blobs, &database_path, !stopped_cleanly)
            .await?;
        std::fs::write(&running_marker, RUNNING_MARKER_TEXT)
            .map_err(|reason| StartError::data_dir(&config.data_dir, reason))?;
        let host = config.public_host.as_deref().unwrap_or("localhost");
        // Repository URIs name the host, and the lab's checks compare pushes with them, so a
        // restart under another host name is worth telling the student about.
        let previous_host_name = database
            .transaction(|tx| {
                crate::store::db::replace_server_setting(tx, "registry_host_name", host)
            })?
            .filter(|previous| previous != host);
        if let Some(previous) = &previous_host_name {
            tracing::warn!(
                previous,
                current = host,
                "the registry host name changed since this data folder was last served"
            );
        }

        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|reason| StartError::bind(config.listen, reason))?;
        let address = listener
            .local_addr()
            .map_err(|reason| StartError::bind(config.listen, reason))?;
        let settings = Settings {
            default_account: config.account_id,
            default_region: config.region,
            registry_host: format!("{host}:{}", address.port()),
        };
        let endpoint = format!("http://{address}");
        let registry = Arc::new(
            Registry::new(database, blobs, config.clock, settings).with_advisories(advisories),
        );
        let (stop_scanner, scanner_stopped) = oneshot::channel::<()>();
        let scanner = tokio::spawn(registry.clone().run_scans(async {
            let _ = scanner_stopped.await;
        }));

        let app = router_with_access(registry.clone(), &endpoint, access);
        let (shutdown, signal) = oneshot::channel::<()>();
        let stopped = async {
            let _ = signal.await;
        };
        let task = tokio::spawn(crate::timeouts::serve(
            listener,
            app,
            config.timeouts,
            stopped,
        ));
        tracing::info!(%endpoint, registry_host = %registry.settings().registry_host, "mock-ecr started");
        let advisories = registry.advisories();
        tracing::info!(
            origin = advisories.origin(),
            entries = advisories.len(),
            updated = %advisories.updated_at().date(),
            "image scans use this advisory data"
        );
        Ok(Self {
            address,
            endpoint,
            registry,
            shutdown,
            task,
            scanner,
            stop_scanner,
            previous_host_name,
            running_marker,
        })
    }

    /// Returns the registry host name the data folder was last served with, when it differs
    /// from this server's.
    pub fn previous_host_name(&self) -> Option<&str> {
        self.previous_host_name.as_deref()
    }

    /// The socket address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The ECR API endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The registry host clients push to, `localhost:PORT` unless configured otherwise.
    pub fn registry_host(&self) -> &str {
        &self.registry.settings().registry_host
    }

    /// The registry core, for tests that inspect state or move the clock.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Stops accepting connections and lets requests in flight finish for at most
    /// [`SHUTDOWN_GRACE`]; connections still open then (a client stalled mid-upload) are
    /// dropped, so shutdown never waits on a client.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let mut task = self.task;
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(Ok(())) => tracing::info!(endpoint = %self.endpoint, "mock-ecr stopped"),
            Ok(Err(error)) => tracing::error!(%error, "mock-ecr server task failed"),
            Err(_) => {
                task.abort();
                tracing::warn!(
                    endpoint = %self.endpoint,
                    grace_seconds = SHUTDOWN_GRACE.as_secs(),
                    "requests still open after the shutdown grace period were dropped"
                );
            }
        }
        // A scan that is running finishes; queued scans stay IN_PROGRESS in the database and
        // run after the next start. Waiting for the worker releases its reference to the
        // registry, so the database closes when this function returns.
        let _ = self.stop_scanner.send(());
        let mut scanner = self.scanner;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut scanner)
            .await
            .is_err()
        {
            scanner.abort();
            tracing::warn!(
                grace_seconds = SHUTDOWN_GRACE.as_secs(),
                "an image scan still ran after the shutdown grace period; it is run again after the next start"
            );
        }
        // Journal rows are written in the background; the last requests' rows are in the
        // database before shutdown returns.
        self.registry.flush_journal();
        if let Err(error) = std::fs::remove_file(&self.running_marker) {
            tracing::warn!(%error, marker = %self.running_marker.display(), "cannot remove the running marker; the next start checks the database");
        }
    }
}

/// Formats the lines both binaries print on start. Scripts read the endpoint from the line
/// that starts with `ECR API endpoint:`.
pub fn startup_banner(mock: &MockEcr, data_dir: &std::path::Path) -> String {
    let mut banner = format!(
        "mock-ecr is running; stop it with Ctrl-C\n  ECR API endpoint: {}\n  registry:         {}\n  data folder:      {}\n",
        mock.endpoint(),
        mock.registry_host(),
        data_dir.display()
    );
    if let Some(previous) = mock.previous_host_name() {
        let current = mock
            .registry_host()
            .rsplit_once(':')
            .map_or(mock.registry_host(), |(name, _)| name);
        banner.push_str(&format!(
            "  note: this data folder was last served as registry {previous}; repository URIs now \
             name {current}, so images tagged with {previous} no longer match them. Start with \
             --public-host {previous} to keep the old URIs.\n"
        ));
    }
    banner
}

/// Parses a listening address: an IP address and port (`127.0.0.1:5000`, `[::1]:5000`) or a
/// host name and port (`localhost:5000`), which resolves to its first IPv4 address.
pub fn parse_listen_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    let invalid = || format!("'{text}' is not an address and port such as 127.0.0.1:5000");
    let (host, port) = text.rsplit_once(':').ok_or_else(invalid)?;
    let port: u16 = port.parse().map_err(|_| invalid())?;
    let addresses = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|error| format!("cannot resolve '{host}' in '{text}': {error}"))?;
    let addresses: Vec<SocketAddr> = addresses.collect();
    addresses
        .iter()
        .find(|address| address.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(invalid)
}

/// The data folder used when none is given: `$XDG_DATA_HOME/ecrlab/data`, else
/// `~/.local/share/ecrlab/data`, else `ecrlab-data` in the current folder. A fixed place keeps
/// a student's state whichever folder they start the server from.
pub fn default_data_dir() -> std::path::PathBuf {
    let non_empty = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(base) = non_empty("XDG_DATA_HOME") {
        return std::path::PathBuf::from(base).join("ecrlab").join("data");
    }
    if let Some(home) = non_empty("HOME") {
        return std::path::PathBuf::from(home)
            .join(".local")
            .join("share")
            .join("ecrlab")
            .join("data");
    }
    std::path::PathBuf::from("ecrlab-data")
}

/// Builds the router for a registry; `endpoint` is reported by the health check. Tests can call
/// it without a socket. The ECR API accepts the default test key pair only, as
/// [`AccessPolicy::default`] sets.
pub fn router(registry: Arc<Registry>, endpoint: &str) -> Router {
    router_with_access(registry, endpoint, AccessPolicy::default())
}

/// Builds the router like [`router`], with the ECR API checking signatures against `access`.
pub fn router_with_access(registry: Arc<Registry>, endpoint: &str, access: AccessPolicy) -> Router {
    let state = AppState {
        registry,
        endpoint: Arc::from(endpoint),
        access: Arc::new(access),
    };
    Router::new()
        .fallback(route)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn route(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let registry = state.registry.clone();

    // Lifecycle policies are evaluated lazily: the first request after the mock's clock passes
    // a policy's next evaluation time expires that policy's images before it is handled.
    if let Err(error) = registry.run_due_lifecycle_policies() {
        tracing::error!(%error, "failed to evaluate lifecycle policies that were due");
    }

    if path == "/v2" || path.starts_with("/v2/") {
        return registry::handle(registry, parts.method, parts.uri, parts.headers, body).await;
    }
    match (&parts.method, path) {
        (&Method::POST, "/") => {
            ecr_api::handle(
                registry,
                &state.access,
                &parts.method,
                &parts.uri,
                parts.headers,
                body,
            )
            .await
        }
        (&Method::GET, "/_ecrlab/health") => admin::health(&registry, &state.endpoint),
        (&Method::GET, "/_ecrlab/journal") => admin::journal(&registry, parts.uri.query()),
        (&Method::POST, admin::LIFECYCLE_RUN_PATH) => {
            admin::run_lifecycle(&registry, parts.uri.query())
        }
        (&Method::GET, admin::CLOCK_PATH) => admin::clock(&registry),
        (&Method::POST, admin::CLOCK_ADVANCE_PATH) => {
            admin::advance_clock(&registry, parts.uri.query())
        }
        (&Method::GET, path) if path.starts_with(ecr_api::DOWNLOAD_PATH) => {
            ecr_api::download_layer(&registry, path).await
        }
        _ => not_found(&parts.method, path, body),
    }
}

fn not_found(method: &Method, path: &str, _body: Body) -> Response {
    let message = format!(
        "{method} {path} is not served by mock-ecr: the ECR API is POST /, the registry is under /v2/, the admin API under /_ecrlab/"
    );
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "error": message })),
    )
        .into_response()
}

/// Logs one line per request: method, path, status and duration.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .and_then(|target| target.rsplit('.').next())
        .map(str::to_owned);
    let started = Instant::now();
    // A bug that panics in a handler must not drop the connection without an answer: the
    // client gets a 500 with an error body, and the log says where the request failed.
    let response = match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            tracing::error!(%method, %path, %reason, "request handler panicked");
            internal_error_response(&path)
        }
    };
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    let millis = format!("{millis:.1}");
    if is_successful_read(&method, target.as_deref(), status) {
        match target {
            Some(operation) => {
                tracing::debug!(%method, %path, operation, status, millis, "request")
            }
            None => tracing::debug!(%method, %path, status, millis, "request"),
        }
    } else {
        match target {
            Some(operation) => {
                tracing::info!(%method, %path, operation, status, millis, "request")
            }
            None => tracing::info!(%method, %path, status, millis, "request"),
        }
    }
    response
}

/// Returns whether a request read state without changing it and succeeded. Such requests are
/// logged at `debug`, so the default `info` log shows what changed and what failed, and a pull
/// or a polling client does not flood it. A log line costs about a quarter of a manifest GET's
/// CPU time (docs/benchmarks.md).
fn is_successful_read(method: &Method, operation: Option<&str>, status: u16) -> bool {
    if status >= 400 {
        return false;
    }
    match operation {
        // GetAuthorizationToken issues a credential, so it stays visible like a change.
        Some("GetAuthorizationToken") => false,
        Some(operation) => ["Describe", "List", "Get", "BatchGet", "BatchCheck"]
            .iter()
            .any(|prefix| operation.starts_with(prefix)),
        None => matches!(*method, Method::GET | Method::HEAD),
    }
}

/// Builds the 500 response for a request whose handler panicked, in the error format of the
/// API the path belongs to.
fn internal_error_response(path: &str) -> Response {
    let message =
        "mock-ecr failed to handle this request because of a bug; the server log has the details";
    let body = if path == "/v2" || path.starts_with("/v2/") {
        json!({ "errors": [{ "code": "UNKNOWN", "message": message }] })
    } else {
        json!({ "__type": "ServerException", "message": message })
    };
    let mut response = (StatusCode::INTERNAL_SERVER_ERROR, body.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Runs a mock in the foreground until Ctrl-C or SIGTERM, then stops it cleanly.
/// `on_start` receives the running mock, for printing where it listens.
pub async fn serve_until_signal(
    config: Config,
    on_start: impl FnOnce(&MockEcr),
) -> Result<(), StartError> {
    // The handlers are installed before the mock starts, so a signal sent as soon as the
    // endpoint is printed still stops the server cleanly instead of killing it.
    let mut signals = ShutdownSignals::install();
    let mock = MockEcr::start(config).await?;
    on_start(&mock);
    signals.wait().await;
    tracing::info!("shutdown signal received, stopping");
    // A second signal during the grace period stops at once, as users expect of Ctrl-C twice.
    tokio::select! {
        () = mock.shutdown() => {}
        () = signals.wait() => {
            tracing::warn!("second shutdown signal received, stopping without waiting for requests");
        }
    }
    Ok(())
}

/// Ctrl-C and, on Unix, SIGTERM, registered when created.
struct ShutdownSignals {
    #[cfg(unix)]
    streams: std::io::Result<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl ShutdownSignals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = signal(SignalKind::interrupt())
                .and_then(|interrupt| Ok((interrupt, signal(SignalKind::terminate())?)));
            Self { streams }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        match &mut self.streams {
            Ok((interrupt, terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGINT and SIGTERM; waiting for Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successful_reads_are_quiet() {
        let quiet = [
            (Method::GET, None, 200),
            (Method::HEAD, None, 200),
            (Method::GET, None, 307),
            (Method::POST, Some("DescribeRepositories"), 200),
            (Method::POST, Some("ListImages"), 200),
            (Method::POST, Some("BatchGetImage"), 200),
            (Method::POST, Some("BatchCheckLayerAvailability"), 200),
            (Method::POST, Some("GetLifecyclePolicy"), 200),
        ];
        for (method, operation, status) in quiet {
            assert!(
                is_successful_read(&method, operation, status),
                "{method} {operation:?} {status}"
            );
        }
        let logged = [
            (Method::GET, None, 401),
            (Method::GET, None, 404),
            (Method::PUT, None, 201),
            (Method::PATCH, None, 202),
            (Method::DELETE, None, 202),
            (Method::POST, Some("GetAuthorizationToken"), 200),
            (Method::POST, Some("CreateRepository"), 200),
            (Method::POST, Some("PutImage"), 200),
            (Method::POST, Some("DescribeRepositories"), 400),
        ];
        for (method, operation, status) in logged {
            assert!(
                !is_successful_read(&method, operation, status),
                "{method} {operation:?} {status}"
            );
        }
    }

    #[tokio::test]
    async fn restart_under_other_host_is_noted() {
        let data = tempfile::tempdir().unwrap();
        let start = |host: Option<&str>| {
            let mut config = Config::new(data.path());
            config.listen = "127.0.0.1:0".parse().unwrap();
            config.public_host = host.map(str::to_owned);
            MockEcr::start(config)
        };
        let ecr_name = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

        let first = start(Some(ecr_name)).await.unwrap();
        assert_eq!(first.previous_host_name(), None, "a new data folder");
        first.shutdown().await;

        let same = start(Some(ecr_name)).await.unwrap();
        assert_eq!(same.previous_host_name(), None, "the same host name");
        same.shutdown().await;

        let local = start(None).await.unwrap();
        assert_eq!(local.previous_host_name(), Some(ecr_name));
        let banner = startup_banner(&local, data.path());
        assert!(
            banner.contains(&format!("--public-host {ecr_name}")),
            "{banner}"
        );
        assert!(banner.contains("now name localhost"), "{banner}");
        local.shutdown().await;
    }

    #[tokio::test]
    async fn running_marker_marks_unclean_stop() {
        let data = tempfile::tempdir().unwrap();
        let marker = data.path().join(RUNNING_MARKER);
        let config = || {
            let mut config = Config::new(data.path());
            config.listen = "127.0.0.1:0".parse().unwrap();
            config
        };
        let clean = MockEcr::start(config()).await.unwrap();
        assert!(marker.exists(), "a running server leaves the marker");
        clean.shutdown().await;
        assert!(!marker.exists(), "a clean shutdown removes the marker");

        let crashed = MockEcr::start(config()).await.unwrap();
        crashed.task.abort();
        drop(crashed);
        assert!(
            marker.exists(),
            "a server that did not shut down leaves the marker"
        );
    }

    #[tokio::test]
    async fn panicking_handler_gets_500_with_body() {
        use tower::ServiceExt as _;

        async fn boom() -> StatusCode {
            panic!("deliberate test panic")
        }
        let router = Router::new()
            .route("/v2/boom", axum::routing::get(boom))
            .route("/boom", axum::routing::get(boom))
            .layer(middleware::from_fn(log_request));
        let cases = [
            ("/v2/boom", "\"code\":\"UNKNOWN\""),
            ("/boom", "\"__type\":\"ServerException\""),
        ];
        for (path, expected) in cases {
            let request = Request::get(path).body(Body::empty()).unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{path}"
            );
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains(expected), "{path}: {text}");
            assert!(text.contains("because of a bug"), "{path}: {text}");
        }
    }

    #[test]
    fn data_dir_errors_name_folder_and_fix() {
        use std::io::{Error, ErrorKind};
        let folder = Path::new("/srv/ecrlab-data");
        let cases = [
            (ErrorKind::ReadOnlyFilesystem, "read-only file system"),
            (ErrorKind::PermissionDenied, "not writable by this user"),
            (ErrorKind::StorageFull, "full disk"),
            (ErrorKind::Other, "cannot write to data folder"),
        ];
        for (kind, expected) in cases {
            let message = StartError::data_dir(folder, Error::from(kind)).to_string();
            assert!(message.contains(expected), "{kind:?}: {message}");
            assert!(message.contains("/srv/ecrlab-data"), "{kind:?}: {message}");
            assert!(message.contains("--data"), "{kind:?}: {message}");
        }
    }

    #[test]
    fn listen_address_accepts_names() {
        assert_eq!(
            parse_listen_address("127.0.0.1:5000").unwrap(),
            SocketAddr::from(([127, 0, 0, 1], 5000))
        );
        assert_eq!(
            parse_listen_address("localhost:5001").unwrap(),
            SocketAddr::from(([127, 0, 0, 1], 5001))
        );
        assert!(parse_listen_address("[::1]:0").unwrap().is_ipv6());
        for bad in ["5000", "localhost", "127.0.0.1:http", "host:99999"] {
            let message = parse_listen_address(bad).unwrap_err();
            assert!(message.contains(bad), "{bad}: {message}");
        }
    }

    #[test]
    fn public_host_accepts_names_and_addresses() {
        for host in [
            "localhost",
            "registry.example.test",
            "127.0.0.1",
            "[::1]",
            "my-host",
        ] {
            assert!(validate_public_host(host).is_ok(), "{host}");
        }
    }

    #[test]
    fn public_host_rejects_ports_schemes_and_paths() {
        let cases = [
            ("", "empty"),
            ("localhost:9999", "without a port"),
            ("http://localhost", "without scheme"),
            ("localhost/v2", "without scheme or path"),
            ("my host", "letters, digits"),
        ];
        for (host, expected) in cases {
            let message = validate_public_host(host).unwrap_err().to_string();
            assert!(message.contains(expected), "{host}: {message}");
            assert!(message.contains(&format!("'{host}'")), "{host}: {message}");
        }
    }
}
