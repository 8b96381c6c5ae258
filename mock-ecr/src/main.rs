//! `mock-ecr`: run the mock ECR server in the foreground.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc in place of the system allocator: see docs/benchmarks.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A local Amazon ECR: the ECR JSON API and an OCI/Docker Registry v2 on one port.
#[derive(Parser)]
#[command(version)]
struct Arguments {
    #[command(flatten)]
    serve: mock_ecr::cli::ServeArguments,
}

#[tokio::main]
async fn main() -> ExitCode {
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // A failed log write would otherwise be reported with eprintln!, which panics when
        // stderr is a closed pipe (`ecrlab serve 2>&1 | head`) and kills the request.
        .log_internal_errors(false)
        .with_ansi(colour)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let arguments = Arguments::parse().serve;
    let data = arguments.data_dir();
    let config = arguments.into_config();

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
