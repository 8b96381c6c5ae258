//! A minimal axum server that sets the request ceiling of the machine for bench/run.
//!
//! `GET` on any path other than `/` returns the bytes of a manifest file as an OCI image
//! manifest, so a registry's manifest GET can be compared with a server that does no routing,
//! storage or authentication. `POST /` returns the request body unchanged, as a floor for a JSON API.
//!
//! Usage: `ceiling LISTEN_ADDRESS MANIFEST_FILE`, such as `ceiling 127.0.0.1:5100 manifest.json`.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

#[tokio::main]
async fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [listen, manifest_path] = arguments.as_slice() else {
        eprintln!("usage: ceiling LISTEN_ADDRESS MANIFEST_FILE");
        return ExitCode::from(2);
    };
    let listen: SocketAddr = match listen.parse() {
        Ok(address) => address,
        Err(error) => {
            eprintln!("ceiling: invalid listen address '{listen}': {error}; use HOST:PORT");
            return ExitCode::from(2);
        }
    };
    let manifest = match tokio::fs::read(manifest_path).await {
        Ok(bytes) => Bytes::from(bytes),
        Err(error) => {
            eprintln!("ceiling: failed to read manifest file '{manifest_path}': {error}");
            return ExitCode::FAILURE;
        }
    };

    let app = Router::new()
        .route("/", post(echo))
        .route("/{*path}", get(send_manifest))
        .with_state(manifest);

    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("ceiling: failed to listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = axum::serve(listener, app).await {
        eprintln!("ceiling: server failed: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn echo(body: Bytes) -> Bytes {
    body
}

async fn send_manifest(State(manifest): State<Bytes>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, OCI_MANIFEST)], manifest)
}
