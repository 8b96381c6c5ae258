//! Starting and stopping the mock: one HTTP port for the ECR API, the registry and the admin API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::core::{Registry, Settings};
use crate::store::{BlobStore, Database};
use crate::{admin, ecr_api, registry};

/// The account id the mock uses by default; AWS documentation uses the same placeholder.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
pub const DEFAULT_REGION: &str = "us-east-1";

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
        }
    }
}

/// Errors that stop the mock from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot listen on {address}: {source} (is another server using the port? pick another with --listen)"
    )]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Storage(#[from] crate::error::CoreError),
}

#[derive(Clone)]
struct AppState {
    registry: Arc<Registry>,
    endpoint: Arc<str>,
}

/// A running mock. Dropping it without [`MockEcr::shutdown`] leaves the server running until
/// the runtime stops.
pub struct MockEcr {
    address: SocketAddr,
    endpoint: String,
    registry: Arc<Registry>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl MockEcr {
    /// Opens the data folder, binds the port and serves in a background task.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let database = Database::open(&config.data_dir.join("mock-ecr.sqlite3"))?;
        let blobs = BlobStore::open(&config.data_dir)?;

        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind {
                address: config.listen,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: config.listen,
            source,
        })?;
        let host = config.public_host.as_deref().unwrap_or("localhost");
        let settings = Settings {
            default_account: config.account_id,
            default_region: config.region,
            registry_host: format!("{host}:{}", address.port()),
        };
        let endpoint = format!("http://{address}");
        let registry = Arc::new(Registry::new(database, blobs, config.clock, settings));

        let app = router(registry.clone(), &endpoint);
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = signal.await;
                })
                .await
        });
        tracing::info!(%endpoint, registry_host = %registry.settings().registry_host, "mock-ecr started");
        Ok(Self {
            address,
            endpoint,
            registry,
            shutdown,
            task,
        })
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

    /// Stops accepting connections, lets requests in flight finish, and waits for the server.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        match self.task.await {
            Ok(Ok(())) => tracing::info!(endpoint = %self.endpoint, "mock-ecr stopped"),
            Ok(Err(error)) => tracing::error!(%error, "mock-ecr stopped with an error"),
            Err(error) => tracing::error!(%error, "mock-ecr server task failed"),
        }
    }
}

/// Builds the router for a registry; `endpoint` is reported by the health check. Tests can call
/// it without a socket.
pub fn router(registry: Arc<Registry>, endpoint: &str) -> Router {
    let state = AppState {
        registry,
        endpoint: Arc::from(endpoint),
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

    if path == "/v2" || path.starts_with("/v2/") {
        return registry::handle(registry, parts.method, parts.uri, parts.headers, body).await;
    }
    match (&parts.method, path) {
        (&Method::POST, "/") => ecr_api::handle(registry, parts.headers, body).await,
        (&Method::GET, "/_ecrlab/health") => admin::health(&registry, &state.endpoint),
        (&Method::GET, "/_ecrlab/journal") => admin::journal(&registry, parts.uri.query()),
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
    let response = next.run(request).await;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    match target {
        Some(operation) => {
            tracing::info!(%method, %path, operation, status, millis = format!("{millis:.1}"), "request")
        }
        None => tracing::info!(%method, %path, status, millis = format!("{millis:.1}"), "request"),
    }
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
    let signals = ShutdownSignals::install();
    let mock = MockEcr::start(config).await?;
    on_start(&mock);
    signals.wait().await;
    tracing::info!("shutdown signal received, stopping");
    mock.shutdown().await;
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

    async fn wait(self) {
        #[cfg(unix)]
        match self.streams {
            Ok((mut interrupt, mut terminate)) => {
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
