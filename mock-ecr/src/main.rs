//! `mock-ecr`: run the mock ECR server in the foreground.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// A local Amazon ECR: the ECR JSON API and an OCI/Docker Registry v2 on one port.
#[derive(Parser)]
#[command(version)]
struct Arguments {
    /// Address and port to listen on, such as 127.0.0.1:5000 or localhost:5000; port 0 picks a
    /// free port.
    #[arg(long, default_value = "127.0.0.1:5000", value_parser = mock_ecr::parse_listen_address)]
    listen: SocketAddr,
    /// Folder for the database and blobs, created if missing and kept across restarts
    /// [default: $XDG_DATA_HOME/ecrlab/data, else ~/.local/share/ecrlab/data].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Host name used in repository URIs and the login endpoint (with the listening port).
    #[arg(long, default_value = "localhost")]
    public_host: String,
    /// AWS region the mock reports where a request names none.
    #[arg(long, default_value = mock_ecr::DEFAULT_REGION)]
    region: String,
    /// Accept ECR API requests with any signature and any access key; unknown keys act for
    /// the default account. By default the mock checks each request's Signature V4.
    #[arg(long)]
    accept_any_signature: bool,
    /// Add an access key that the ECR API accepts, as ACCESS_KEY_ID:SECRET:ACCOUNT (a 12-digit
    /// account ID); repeat for several keys. The test key pair that `ecrlab env` prints is
    /// always accepted, in account 123456789012.
    #[arg(long = "access-key", value_name = "ACCESS_KEY_ID:SECRET:ACCOUNT", value_parser = mock_ecr::AccessKey::parse)]
    access_keys: Vec<mock_ecr::AccessKey>,
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
    let data = arguments.data.unwrap_or_else(mock_ecr::default_data_dir);
    let mut config = mock_ecr::Config::new(&data);
    config.listen = arguments.listen;
    config.public_host = Some(arguments.public_host);
    config.region = arguments.region;
    config.accept_any_signature = arguments.accept_any_signature;
    config.access_keys.extend(arguments.access_keys);

    let result = mock_ecr::serve_until_signal(config, |mock| {
        // The server keeps running when nobody reads its output, so a failed write is ignored.
        let mut stdout = std::io::stdout().lock();
        let banner = mock_ecr::startup_banner(mock, &data);
        let _ = stdout
            .write_all(banner.as_bytes())
            .and_then(|()| stdout.flush());
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
