//! `ecrlab report` writes a student's submission; `ecrlab grade` re-grades a folder of them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::ValueEnum;
use ecrlab_core::clients::{EcrSettings, collect_evidence};
use ecrlab_core::progress::Progress;
use ecrlab_core::report::{
    ClassReport, InstructorKey, MockIdentity, ReportFormat, ReportInputs, SubmissionError,
    build_submission, grade_class,
};

use crate::commands::load_lab;

/// The maximum length of a student name, in characters.
const MAX_STUDENT_CHARS: usize = 200;

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormatArgument {
    Text,
    Json,
    Junit,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GradeFormatArgument {
    Csv,
    Json,
    Junit,
}

#[derive(clap::Args)]
pub struct ReportArguments {
    /// URL of a running mock (`ecrlab serve` prints it).
    #[arg(long, env = "ECRLAB_ENDPOINT", default_value = crate::commands::DEFAULT_ENDPOINT)]
    endpoint: String,
    /// Lab file, or a lab id from `ecrlab lab list`; the built-in push-to-ECR lab when omitted.
    #[arg(long)]
    lab: Option<PathBuf>,
    /// The student's name in the report; $ECRLAB_STUDENT, else the login name, when omitted.
    #[arg(long, env = "ECRLAB_STUDENT")]
    student: Option<String>,
    /// Output format; json is the submission that `ecrlab grade` reads.
    #[arg(long, value_enum)]
    format: ReportFormatArgument,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// File with the instructor's secret; the report is signed with it (HMAC-SHA256).
    #[arg(long, env = "ECRLAB_INSTRUCTOR_KEY")]
    key: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct GradeArguments {
    /// Folder of JSON submissions; every `*.json` file directly inside it is graded.
    dir: PathBuf,
    /// Output format. The CSV has one row per submission; the class summary goes to stderr.
    #[arg(long, value_enum, default_value = "csv")]
    format: GradeFormatArgument,
    /// Lab file, or a lab id from `ecrlab lab list`; the built-in push-to-ECR lab when omitted.
    #[arg(long)]
    lab: Option<PathBuf>,
    /// File with the instructor's secret; unsigned or wrongly signed submissions are flagged.
    #[arg(long, env = "ECRLAB_INSTRUCTOR_KEY")]
    key: Option<PathBuf>,
}

/// Collects the evidence from the mock, grades the lab and the saved quiz answers, and
/// writes the submission. Succeeds whether or not the steps passed.
pub async fn report(arguments: ReportArguments, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let lab = load_lab(arguments.lab.as_deref())?;
    let student = student_name(arguments.student)?;
    let key = load_key(arguments.key.as_deref())?;
    let progress = Progress::load(&lab)?;

    let endpoint = &arguments.endpoint;
    let (settings, health) = EcrSettings::for_running_mock(endpoint)
        .await
        .with_context(|| {
            format!(
                "cannot read the mock's settings from {endpoint}: is `ecrlab serve` running there?"
            )
        })?;
    let evidence = collect_evidence(&settings.ecr_client(), &settings.admin_client()?)
        .await
        .with_context(|| format!("cannot collect evidence from the mock at {endpoint}"))?;

    let inputs = ReportInputs {
        lab: &lab,
        student,
        created_at: time::OffsetDateTime::now_utc(),
        mock: MockIdentity {
            endpoint: settings
                .endpoint_base()
                .unwrap_or(endpoint.as_str())
                .to_owned(),
            account_id: health.account_id,
            region: health.region,
            registry_host: health.registry_host,
        },
        evidence: &evidence,
        quiz_attempts: &progress.quiz_attempts,
    };
    let submission = build_submission(&inputs, key.as_ref());
    let text = submission.render(match arguments.format {
        ReportFormatArgument::Text => ReportFormat::Text,
        ReportFormatArgument::Json => ReportFormat::Json,
        ReportFormatArgument::Junit => ReportFormat::Junit,
        ReportFormatArgument::Markdown => ReportFormat::Markdown,
    });

    match &arguments.output {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("failed to write the report to {}", path.display()))?;
            eprintln!("ecrlab: wrote the report to {}", path.display());
        }
        None => out.write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Re-grades every submission in the folder and prints the rows and the class summary.
/// Fails only when a file cannot be read as a submission, after printing the others.
pub fn grade(arguments: GradeArguments, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let lab = load_lab(arguments.lab.as_deref())?;
    let key = load_key(arguments.key.as_deref())?;
    let (files, read_errors) = read_submissions(&arguments.dir)?;
    if files.is_empty() && read_errors.is_empty() {
        eprintln!(
            "ecrlab: warning: submissions folder {} contains no .json files; pass the folder that contains the files `ecrlab report --format json` writes",
            arguments.dir.display()
        );
    }

    let mut class = grade_class(&lab, &files, key.as_ref());
    if !read_errors.is_empty() {
        let mut errors = read_errors;
        errors.append(&mut class.errors);
        class = ClassReport::new(&lab, class.submissions, errors);
    }

    match arguments.format {
        GradeFormatArgument::Csv => {
            out.write_all(class.render_csv().as_bytes())?;
            out.flush()?;
            eprint!("{}", class.render_summary());
        }
        GradeFormatArgument::Json => out.write_all(class.render_json().as_bytes())?,
        GradeFormatArgument::Junit => out.write_all(class.render_junit().as_bytes())?,
    }
    out.flush()?;

    for error in &class.errors {
        eprintln!("ecrlab: error: {error}");
    }
    Ok(if class.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The `(file name, text)` of each readable file, and an error for each unreadable one.
type SubmissionFiles = (Vec<(String, String)>, Vec<SubmissionError>);

/// Reads every `*.json` file directly in `dir`, sorted by name. A file that cannot be read
/// becomes an error entry; a folder that cannot be listed is an error.
fn read_submissions(dir: &Path) -> anyhow::Result<SubmissionFiles> {
    // The message is built here, not with `context`, so that the fix comes after the OS error.
    let entries = std::fs::read_dir(dir).map_err(|error| {
        anyhow::anyhow!(
            "failed to list submissions folder {}: {error}; pass the folder that contains the students' JSON reports",
            dir.display()
        )
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry
            .with_context(|| format!("failed to list submissions folder {}", dir.display()))?;
        let path = entry.path();
        let is_json = path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
        if is_json && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();

    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((name, text)),
            Err(error) => errors.push(SubmissionError::Read {
                file: name,
                message: error.to_string(),
            }),
        }
    }
    Ok((files, errors))
}

fn load_key(path: Option<&Path>) -> anyhow::Result<Option<InstructorKey>> {
    match path {
        Some(path) if !path.as_os_str().is_empty() => Ok(Some(InstructorKey::from_file(path)?)),
        _ => Ok(None),
    }
}

/// Returns the student name from `--student` or `$ECRLAB_STUDENT`, else the login name from
/// `$USER`, `$LOGNAME` or `$USERNAME`.
fn student_name(given: Option<String>) -> anyhow::Result<String> {
    let name = given
        .or_else(|| {
            ["USER", "LOGNAME", "USERNAME"]
                .iter()
                .find_map(|variable| std::env::var(variable).ok())
        })
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .context("the student name is missing and no login name is set: pass --student NAME or set ECRLAB_STUDENT")?;
    if name.chars().any(char::is_control) {
        anyhow::bail!(
            "the student name {name:?} contains control characters; pass a plain name with --student"
        );
    }
    if name.chars().count() > MAX_STUDENT_CHARS {
        anyhow::bail!(
            "the student name is longer than {MAX_STUDENT_CHARS} characters; pass a shorter one with --student"
        );
    }
    Ok(name)
}
