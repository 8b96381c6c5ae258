//! `ecrlab`: serve the mock ECR, print its environment, check lab steps, run the quiz, demo,
//! scan an image on disk.
//!
//! The binary parses arguments and prints; the work lives in `mock-ecr` and `ecrlab-core`.

mod clock_cmd;
mod colour;
mod commands;
mod doctor;
mod lab_cmd;
mod quiz_cmd;
mod report_cmd;
mod scan_cmd;
mod student;
mod watch;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use ecrlab_core::check::CheckOptions;

/// Learn and test "push a container image to Amazon ECR" offline, against a local mock ECR.
#[derive(Parser)]
#[command(name = "ecrlab", version, propagate_version = true)]
struct Arguments {
    /// Log more: -v for info, -vv for debug (RUST_LOG overrides both).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the mock ECR (ECR API and registry on one port) in the foreground until Ctrl-C.
    Serve(mock_ecr::cli::ServeArguments),
    /// Print shell `export` lines that point the AWS CLI, SDKs and container tools at the mock.
    Env(EndpointArguments),
    /// Check the lab's steps against what the mock recorded, with evidence and hints.
    Check(CheckArguments),
    /// Show the next hint for the first step that has not passed yet.
    Hint(HintArguments),
    /// Re-check the lab each time the mock records an event, until every step passes.
    Watch(WatchArguments),
    /// Work with the saved progress (hint levels and quiz answers).
    #[command(subcommand)]
    Progress(ProgressCommand),
    /// Check this machine's setup for the lab: the mock, the registry host name, the AWS CLI
    /// and its endpoint variables, docker or podman, and the registry login.
    Doctor(EndpointArguments),
    /// Ask the lab's questions on the terminal, or grade a file of answers.
    Quiz(QuizArguments),
    /// Write a submission: step results with evidence, quiz answers and the hash-chained
    /// journal they were graded from.
    Report(report_cmd::ReportArguments),
    /// Re-grade a folder of JSON submissions from their evidence, flag tampered ones, and
    /// print a class summary.
    Grade(report_cmd::GradeArguments),
    /// Start a mock in-process, perform the whole lab with ecrlab's own clients, and grade it.
    Demo(DemoArguments),
    /// Scan an image on disk (OCI layout, OCI archive or docker save archive) for known
    /// vulnerabilities of its operating-system packages, without a server.
    Scan(scan_cmd::ScanArguments),
    /// Work with the mock's lifecycle policies.
    #[command(subcommand)]
    Lifecycle(LifecycleCommand),
    /// Read or move the mock's clock, for example to make tokens expire in a drill.
    #[command(subcommand)]
    Clock(clock_cmd::ClockCommand),
    /// List, show and lint lab definitions.
    #[command(subcommand)]
    Lab(lab_cmd::LabCommand),
}

#[derive(Subcommand)]
enum LifecycleCommand {
    /// Evaluate lifecycle policies now, instead of waiting for the mock's daily evaluation,
    /// and print the images they expired.
    Run(LifecycleRunArguments),
}

#[derive(clap::Args)]
struct LifecycleRunArguments {
    #[command(flatten)]
    endpoint: EndpointArguments,
    /// Evaluate only the policy of this repository; every policy when omitted.
    #[arg(long)]
    repository: Option<String>,
}

#[derive(clap::Args)]
struct EndpointArguments {
    /// URL of a running mock (`ecrlab serve` prints it).
    #[arg(long, env = "ECRLAB_ENDPOINT", default_value = crate::commands::DEFAULT_ENDPOINT)]
    endpoint: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
struct CheckArguments {
    #[command(flatten)]
    endpoint: EndpointArguments,
    /// Lab file, or a lab id from `ecrlab lab list`; the built-in push-to-ECR lab when omitted.
    #[arg(long)]
    lab: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    colour: colour::ColorArguments,
}

#[derive(clap::Args)]
struct HintArguments {
    #[command(flatten)]
    endpoint: EndpointArguments,
    /// Lab file, or a lab id from `ecrlab lab list`; the built-in push-to-ECR lab when omitted.
    #[arg(long)]
    lab: Option<PathBuf>,
    /// Show the hint last shown again instead of the next one.
    #[arg(long)]
    again: bool,
    #[command(flatten)]
    colour: colour::ColorArguments,
}

#[derive(clap::Args)]
struct WatchArguments {
    #[command(flatten)]
    endpoint: EndpointArguments,
    /// Lab file, or a lab id from `ecrlab lab list`; the built-in push-to-ECR lab when omitted.
    #[arg(long)]
    lab: Option<PathBuf>,
    /// How often to ask the mock for new events: a number with ms, s or m, such as 500ms.
    #[arg(long, default_value = "1s", value_parser = watch::parse_interval)]
    interval: std::time::Duration,
    #[command(flatten)]
    colour: colour::ColorArguments,
}

#[derive(Subcommand)]
enum ProgressCommand {
    /// Delete the lab's saved hint levels and quiz answers.
    Reset(ProgressResetArguments),
}

#[derive(clap::Args)]
struct ProgressResetArguments {
    /// Lab file, or a lab id from `ecrlab lab list`; the built-in push-to-ECR lab when omitted.
    #[arg(long)]
    lab: Option<PathBuf>,
}

#[derive(clap::Args)]
struct QuizArguments {
    /// URL of the mock that grades the questions about scan findings (`ecrlab serve` prints
    /// it); the other questions do not need a mock.
    #[arg(long, env = "ECRLAB_ENDPOINT", default_value = crate::commands::DEFAULT_ENDPOINT)]
    endpoint: String,
    /// Lab file, or a lab id from `ecrlab lab list`; the built-in push-to-ECR lab when omitted.
    #[arg(long)]
    lab: Option<PathBuf>,
    /// Grade the answers in this file instead of asking on the terminal.
    #[arg(long)]
    answers: Option<PathBuf>,
}

#[derive(clap::Args)]
struct DemoArguments {
    /// Keep the mock's data in this folder instead of a temporary one.
    #[arg(long)]
    data: Option<PathBuf>,
}

/// mimalloc, as in mock-ecr, for the server that `ecrlab serve` and `ecrlab demo` run: see
/// docs/benchmarks.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    init_logging(&arguments);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ecrlab: error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(arguments.command));
    match result {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ecrlab: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    let code = match command {
        Command::Serve(arguments) => commands::serve(arguments).await?,
        Command::Env(arguments) => commands::env(&arguments.endpoint, &mut stdout).await?,
        Command::Check(arguments) => {
            let lab = commands::load_lab(arguments.lab.as_deref())?;
            let json = matches!(arguments.format, Format::Json);
            let colour = arguments.colour.enabled();
            let endpoint = &arguments.endpoint.endpoint;
            let options = commands::LabOptions::new(arguments.lab.as_deref(), endpoint);
            commands::check(endpoint, &lab, &options, json, colour, &mut stdout).await?
        }
        Command::Hint(arguments) => {
            let lab = commands::load_lab(arguments.lab.as_deref())?;
            let colour = arguments.colour.enabled();
            let endpoint = &arguments.endpoint.endpoint;
            let options = commands::LabOptions::new(arguments.lab.as_deref(), endpoint);
            let again = arguments.again;
            student::hint(endpoint, &lab, &options, again, colour, &mut stdout).await?
        }
        Command::Watch(arguments) => {
            let lab = commands::load_lab(arguments.lab.as_deref())?;
            let colour = arguments.colour.enabled();
            let endpoint = &arguments.endpoint.endpoint;
            let options = commands::LabOptions::new(arguments.lab.as_deref(), endpoint);
            let interval = arguments.interval;
            watch::watch(endpoint, &lab, &options, interval, colour, &mut stdout).await?
        }
        Command::Progress(ProgressCommand::Reset(arguments)) => {
            let lab = commands::load_lab(arguments.lab.as_deref())?;
            student::reset_progress(&lab, &mut stdout)?
        }
        Command::Doctor(arguments) => doctor::run(&arguments.endpoint, &mut stdout).await?,
        Command::Quiz(arguments) => {
            let lab = commands::load_lab(arguments.lab.as_deref())?;
            let options = CheckOptions::default();
            let lab = commands::lab_with_evidence(&lab, &arguments.endpoint, options).await;
            let stdin = std::io::stdin().lock();
            let answers = arguments.answers.as_deref();
            let passed = quiz_cmd::run_recorded(&lab, answers, stdin, &mut stdout)?;
            if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Report(arguments) => report_cmd::report(arguments, &mut stdout).await?,
        Command::Grade(arguments) => report_cmd::grade(arguments, &mut stdout)?,
        Command::Demo(arguments) => commands::demo(arguments.data, &mut stdout).await?,
        Command::Scan(arguments) => {
            let now = time::OffsetDateTime::now_utc();
            scan_cmd::run(&arguments, now, &mut stdout, &mut std::io::stderr().lock())?
        }
        Command::Lab(command) => lab_cmd::run(command, &mut stdout)?,
        Command::Clock(command) => clock_cmd::run(command, &mut stdout).await?,
        Command::Lifecycle(LifecycleCommand::Run(arguments)) => {
            commands::lifecycle_run(
                &arguments.endpoint.endpoint,
                arguments.repository.as_deref(),
                &mut stdout,
            )
            .await?
        }
    };
    stdout.flush()?;
    Ok(code)
}

fn init_logging(arguments: &Arguments) {
    let default_level = match (&arguments.command, arguments.verbose) {
        (_, 2..) => "debug",
        (Command::Serve(_), _) | (_, 1) => "info",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // A failed log write would otherwise be reported with eprintln!, which panics when
        // stderr is a closed pipe (`ecrlab serve 2>&1 | head`) and kills the request.
        .log_internal_errors(false)
        .with_ansi(commands::colour_enabled())
        .with_env_filter(filter)
        .init();
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
