//! Serving connections with timeouts, so that a slow or stalled client cannot hold a
//! connection, a task and an upload lock forever.
//!
//! `axum::serve` (axum 0.8.9) builds hyper's connection builder without a timer, and hyper 1
//! applies its HTTP/1 `header_read_timeout` only when a timer is set, so the mock runs its own
//! accept loop with hyper's HTTP/1 builder and a Tokio timer.
//!
//! The request body gets an idle timeout of its own ([`IdleTimeoutBody`]). A body that sends
//! nothing for a while ends with an error, which the handlers map as they map any interrupted
//! body, so an upload keeps the bytes it received.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{Method, Request};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

/// How long a client may take to send a request's line and headers: 30 seconds, hyper 1's
/// own default for `header_read_timeout`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request body may send nothing while the mock reads it. A push streams each
/// layer without pauses, so a minute of silence means the client has stalled.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The maximum size of a request's line and headers together. A logged-in client sends one
/// `Authorization` header of a few kilobytes; larger requests get `431 Request Header Fields
/// Too Large` from hyper.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The timeouts applied to every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Time from the start of a request (or of a new connection) until its headers are
    /// complete. When it passes, the connection is closed without a response.
    pub header_read: Duration,
    /// Time a request body may send no data while it is read, after which the request fails
    /// with an error response.
    pub body_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header_read: DEFAULT_HEADER_READ_TIMEOUT,
            body_idle: DEFAULT_BODY_IDLE_TIMEOUT,
        }
    }
}

/// Accepts connections on `listener` and serves `router` on each until `shutdown` completes.
/// Then it stops accepting, lets each connection finish its request in flight, and returns
/// when all are closed. Dropping the returned future drops every open connection.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()>,
) {
    let (stop_sender, stop_receiver) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let connection =
                        serve_connection(stream, peer, router.clone(), timeouts, stop_receiver.clone());
                    connections.spawn(connection);
                }
                Err(error) => wait_after_accept_error(error).await,
            },
            Some(finished) = connections.join_next(), if !connections.is_empty() => {
                log_connection_task(finished);
            }
        }
    }
    drop(listener);
    let _ = stop_sender.send(true);
    while let Some(finished) = connections.join_next().await {
        log_connection_task(finished);
    }
}

/// Serves one connection: HTTP/1 with the header read timeout, every request body wrapped in
/// [`IdleTimeoutBody`]. A graceful stop lets the request in flight finish first.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let (parts, body) = request.into_parts();
        let body = IdleTimeoutBody::new(body, timeouts.body_idle, &parts.method, parts.uri.path());
        let request = Request::from_parts(parts, Body::new(body));
        router.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .max_header_size(MAX_HEADER_BYTES);
    let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
    let stopping = async move {
        // An error means the accept loop is gone, which is a stop too.
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopping => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        log_connection_error(peer, &error, timeouts);
    }
}

fn log_connection_error(peer: SocketAddr, error: &hyper::Error, timeouts: Timeouts) {
    if error.is_timeout() {
        tracing::warn!(
            %peer,
            timeout_seconds = timeouts.header_read.as_secs_f64(),
            "connection closed: the client did not send complete request headers within the header read timeout"
        );
    } else if error.is_incomplete_message() || error.is_canceled() {
        tracing::info!(%peer, %error, "connection closed by the client in the middle of a request");
    } else if error.is_parse() {
        // docker tries TLS before plain HTTP, and its TLS handshake reaches this branch on
        // every login and push, so a request that is not HTTP is logged at debug.
        tracing::debug!(%peer, %error, "connection closed: the client did not send HTTP");
    } else {
        tracing::info!(%peer, %error, "connection closed with an error");
    }
}

fn log_connection_task(finished: Result<(), tokio::task::JoinError>) {
    if let Err(error) = finished {
        tracing::error!(%error, "a connection task failed");
    }
}

/// Waits after a failed `accept`. An error that concerns one connection (reset or aborted
/// before it was accepted) is retried at once. Other errors, such as running out of file
/// descriptors, are logged and retried after a second, so the loop does not spin.
async fn wait_after_accept_error(error: std::io::Error) {
    use std::io::ErrorKind;
    let per_connection = matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
    );
    if per_connection {
        return;
    }
    tracing::error!(%error, "failed to accept a connection; retrying in one second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The error an [`IdleTimeoutBody`] ends with when its client sends nothing for too long.
#[derive(Debug, thiserror::Error)]
#[error(
    "the client sent no request body data for {seconds} seconds (the body idle timeout), so the request was ended"
)]
pub struct BodyIdleTimeout {
    seconds: u64,
}

/// A request body that fails with [`BodyIdleTimeout`] when no data arrives for `timeout`
/// while it is read. The clock runs only while the reader waits for data, so a handler that
/// reads the body late (after waiting for an upload's lock) is not cut off early.
pub struct IdleTimeoutBody<B> {
    inner: B,
    timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    timed_out: bool,
    method: Method,
    path: String,
}

impl<B> IdleTimeoutBody<B> {
    /// Wraps `inner`; `method` and `path` name the request in the log line of a timeout.
    pub fn new(inner: B, timeout: Duration, method: &Method, path: &str) -> Self {
        Self {
            inner,
            timeout,
            deadline: None,
            timed_out: false,
            method: method.clone(),
            path: path.to_owned(),
        }
    }
}

impl<B> HttpBody for IdleTimeoutBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let seconds = this.timeout.as_secs();
        if this.timed_out {
            return Poll::Ready(Some(Err(BodyIdleTimeout { seconds }.into())));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(context) {
            this.deadline = None;
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let deadline = this
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(context).is_pending() {
            return Poll::Pending;
        }
        this.timed_out = true;
        tracing::warn!(
            method = %this.method,
            path = %this.path,
            timeout_seconds = seconds,
            "request body timed out: the client sent no data within the body idle timeout"
        );
        Poll::Ready(Some(Err(BodyIdleTimeout { seconds }.into())))
    }

    fn is_end_stream(&self) -> bool {
        !self.timed_out && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
