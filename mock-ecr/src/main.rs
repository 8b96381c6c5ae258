//! `mock-ecr`: run the mock ECR server in the foreground.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// A local Amazon ECR: the ECR JSON API and an OCI/Docker Registry v2 on one port.
#[derive(Parser)]
#[command(version)]
struct Arguments {
    /// Address and port to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:5000")]
    listen: SocketAddr,
    /// Folder for the database and blobs; created if missing, kept across restarts.
    #[arg(long, default_value = "mock-ecr-data")]
    data: PathBuf,
    /// Host name used in repository URIs and the login endpoint (with the listening port).
    #[arg(long, default_value = "localhost")]
    public_host: String,
    /// AWS region the mock reports where a request names none.
    #[arg(long, default_value = mock_ecr::DEFAULT_REGION)]
    region: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let arguments = Arguments::parse();
    let mut config = mock_ecr::Config::new(arguments.data);
    config.listen = arguments.listen;
    config.public_host = Some(arguments.public_host);
    config.region = arguments.region;

    let result = mock_ecr::serve_until_signal(config, |mock| {
        println!(
            "mock-ecr listening: ECR API {} , registry {}",
            mock.endpoint(),
            mock.registry_host()
        );
    })
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mock-ecr: {error}");
            ExitCode::FAILURE
        }
    }
}
