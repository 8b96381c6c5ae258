//! The subcommands' work, each a thin layer over `mock-ecr` and `ecrlab-core`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ecrlab_core::check::{CheckOptions, CheckReport, check_lab, graded_evidence};
use ecrlab_core::clients::{DEFAULT_REGION, EcrSettings, collect_evidence, fetch_env_exports};
use ecrlab_core::demo::run_demo;
use ecrlab_core::evidence::{Evidence, ScanFinding};
use ecrlab_core::lab::Lab;
use ecrlab_core::progress::Progress;
use ecrlab_core::quiz::{Question, questions_with_evidence};

use mock_ecr::cli::ServeArguments;

use crate::colour::paint_verdicts;

/// Whether output may use colour: only on a terminal, and never when `NO_COLOR` is set
/// (<https://no-color.org>).
pub fn colour_enabled() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// The mock's URL when neither `--endpoint` nor `ECRLAB_ENDPOINT` names one.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:5000";

/// The variable that `--endpoint` reads when the option is not given.
pub const ENDPOINT_VARIABLE: &str = "ECRLAB_ENDPOINT";

/// The options that select the lab and the mock, which every command that ecrlab suggests
/// repeats, so that the suggested command acts on the same lab and mock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabOptions {
    /// The lab file given with `--lab`; `None` for the built-in lab.
    lab: Option<PathBuf>,
    /// The mock's URL, when a command without `--endpoint` would reach another mock.
    endpoint: Option<String>,
}

impl LabOptions {
    /// Returns the options for a command that ran with `--lab lab` and reached the mock at
    /// `endpoint`. The endpoint is repeated only when it differs from the one a command
    /// without `--endpoint` uses: `$ECRLAB_ENDPOINT` when set, else [`DEFAULT_ENDPOINT`].
    pub fn new(lab: Option<&Path>, endpoint: &str) -> LabOptions {
        let variable = std::env::var_os(ENDPOINT_VARIABLE);
        LabOptions::with_variable(lab, endpoint, variable.as_deref())
    }

    /// Returns the options as [`LabOptions::new`] does, with `variable` as the value of
    /// `$ECRLAB_ENDPOINT`.
    fn with_variable(
        lab: Option<&Path>,
        endpoint: &str,
        variable: Option<&std::ffi::OsStr>,
    ) -> LabOptions {
        // A value that is not UTF-8 matches no endpoint, so the endpoint is repeated.
        let implied = match variable {
            Some(value) => value.to_str(),
            None => Some(DEFAULT_ENDPOINT),
        };
        LabOptions {
            lab: lab.map(Path::to_owned),
            endpoint: (implied != Some(endpoint)).then(|| endpoint.to_owned()),
        }
    }

    /// Returns `ecrlab SUBCOMMAND --lab PATH --endpoint URL`, with each option only when it is
    /// needed, for a subcommand that reads the mock.
    pub fn command(&self, subcommand: &str) -> String {
        let mut command = self.offline_command(subcommand);
        if let Some(endpoint) = &self.endpoint {
            command.push_str(" --endpoint ");
            command.push_str(&shell_word(endpoint));
        }
        command
    }

    /// Returns `ecrlab SUBCOMMAND --lab PATH` for a subcommand that does not read the mock,
    /// such as `progress reset`.
    pub fn offline_command(&self, subcommand: &str) -> String {
        let mut command = format!("ecrlab {subcommand}");
        if let Some(lab) = &self.lab {
            command.push_str(" --lab ");
            command.push_str(&shell_word(&lab.display().to_string()));
        }
        command
    }

    /// Returns the `ecrlab quiz` command for `lab`, with the mock's endpoint only when a
    /// question about scan findings needs the mock's evidence.
    pub fn quiz_command(&self, lab: &Lab) -> String {
        if lab.questions.iter().any(Question::needs_evidence) {
            self.command("quiz")
        } else {
            self.offline_command("quiz")
        }
    }

    /// Returns the `ecrlab lab show` command for the lab: by its path when it came from a
    /// file, by its id for the built-in lab.
    pub fn lab_show_command(&self, lab_id: &str) -> String {
        match &self.lab {
            Some(path) => format!(
                "ecrlab lab show {}",
                shell_word(&path.display().to_string())
            ),
            None => format!("ecrlab lab show {lab_id}"),
        }
    }
}

/// Quotes `word` for a POSIX shell when it contains characters other than letters, digits and
/// `_ - . / : = @ % + ,`.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Loads the lab at `path`, or the built-in push-to-ECR lab.
pub fn load_lab(path: Option<&Path>) -> anyhow::Result<Lab> {
    let Some(path) = path else {
        return Ok(Lab::builtin_push_to_ecr());
    };
    // `--lab ecr-drills` names a lab by id, as `ecrlab lab show` accepts, when no such file
    // exists: it is looked up among the built-in lab and the labs folder's labs.
    let text = path.to_string_lossy();
    let is_id = !path.exists()
        && !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if is_id {
        let folder = std::env::var_os("ECRLAB_LABS")
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from("labs")).filter(|folder| folder.is_dir()));
        let found = ecrlab_core::lab::catalog::find(&text, folder.as_deref())
            .with_context(|| format!("no lab file {text} exists"))?;
        return Ok(found.lab);
    }
    Ok(Lab::from_path(path)?)
}

pub async fn serve(arguments: ServeArguments) -> anyhow::Result<ExitCode> {
    let data = arguments.data_dir();
    let config = arguments.into_config();

    mock_ecr::serve_until_signal(config, |mock| {
        let banner = format!(
            "{}Point your tools at it in another shell with:\n  eval \"$(ecrlab env --endpoint {})\"\n",
            mock_ecr::startup_banner(mock, &data),
            mock.endpoint()
        );
        // The server keeps running when nobody reads its output any more (for example after
        // `ecrlab serve | head -3`), so a failed write is ignored instead of ending the process.
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(banner.as_bytes()).and_then(|()| stdout.flush());
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the `export` lines for the mock at `endpoint`. When the mock does not respond, prints
/// the exports that the endpoint alone determines, so that `eval "$(ecrlab env)"` still points
/// the shell at the mock instead of at AWS, then fails with the error.
pub async fn env(endpoint: &str, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let settings = EcrSettings::for_mock(endpoint)?;
    let exports = fetch_env_exports(&settings).await?;
    write!(out, "{}", exports.script)?;
    // `eval "$(ecrlab env)"` drops comments, so the note goes to stderr unless a person reads
    // stdout on a terminal.
    let host_note = exports.host_mapping.as_ref().map(|mapping| {
        let kind = if mapping.is_usable() {
            "note"
        } else {
            "warning"
        };
        (kind, mapping.advice())
    });
    if std::io::stdout().is_terminal() {
        writeln!(out, "# {}", exports.endpoint_note)?;
        if let Some((kind, note)) = &host_note {
            writeln!(out, "# {kind}: {note}")?;
        }
    } else {
        eprintln!("ecrlab: note: {}", exports.endpoint_note);
        if let Some((kind, note)) = &host_note {
            eprintln!("ecrlab: {kind}: {note}");
        }
    }
    out.flush()?;
    if let Some(version) = installed_aws_cli_ignoring_endpoint_env().await {
        eprintln!(
            "ecrlab: warning: the aws command on PATH is aws-cli/{version}, which ignores \
             AWS_ENDPOINT_URL and would send lab commands to real AWS: add --endpoint-url \
             {endpoint} to every aws command, or install a newer AWS CLI"
        );
    }
    match exports.error {
        None => Ok(ExitCode::SUCCESS),
        Some(error) => Err(anyhow::Error::new(error).context(format!(
            "cannot read the mock's settings from {endpoint}, so the exports name that endpoint \
             with region {DEFAULT_REGION}: AWS CLIs and SDKs that read AWS_ENDPOINT_URL then \
             fail instead of reaching AWS; start the mock and run `ecrlab env` again"
        ))),
    }
}

/// Runs `aws --version` and returns the version when that CLI ignores `AWS_ENDPOINT_URL`.
/// A missing, failing or hanging `aws` is not an error here: the warning is only advice.
async fn installed_aws_cli_ignoring_endpoint_env() -> Option<String> {
    let text = crate::doctor::run_with_timeout(Path::new("aws"), &["--version"])
        .await
        .ok()?;
    ecrlab_core::clients::aws_cli_ignoring_endpoint_env(&text)
}

/// Collects the evidence from the mock at `endpoint` and checks the lab's steps against it.
pub async fn grade(
    endpoint: &str,
    lab: &Lab,
    options: CheckOptions,
) -> anyhow::Result<CheckReport> {
    let evidence = fetch_evidence(endpoint).await?;
    Ok(check_lab(lab, &evidence, options))
}

/// Returns the lab with the answer keys of its questions about scan findings read from the
/// mock at `endpoint`, as `ecrlab check` grades them. The lab is returned unchanged when no
/// question needs evidence. When the mock cannot be read, those questions cannot be graded in
/// this run, and a warning on standard error gives the reason.
pub async fn lab_with_evidence(lab: &Lab, endpoint: &str, options: CheckOptions) -> Lab {
    if !lab.questions.iter().any(Question::needs_evidence) {
        return lab.clone();
    }
    match fetch_evidence(endpoint).await {
        Ok(evidence) => {
            let graded = graded_evidence(&evidence, options);
            Lab {
                questions: questions_with_evidence(&lab.questions, &graded),
                ..lab.clone()
            }
        }
        Err(error) => {
            eprintln!(
                "ecrlab: warning: the questions about scan findings are not graded in this run, because the mock at {endpoint} cannot be read ({}); start it with `ecrlab serve`, or pass its URL with --endpoint",
                error.root_cause()
            );
            lab.clone()
        }
    }
}

/// Collects the journal and the repositories from the mock at `endpoint`.
async fn fetch_evidence(endpoint: &str) -> anyhow::Result<Evidence> {
    let (settings, _) = EcrSettings::for_running_mock(endpoint)
        .await
        .with_context(|| {
            format!(
                "cannot read the mock's settings from {endpoint}: is `ecrlab serve` running there?"
            )
        })?;
    let admin = settings.admin_client()?;
    let evidence = collect_evidence(&settings.ecr_client(), &admin)
        .await
        .with_context(|| format!("cannot collect evidence from the mock at {endpoint}: is `ecrlab serve` running there?"))?;
    Ok(evidence)
}

/// Checks the lab's steps against the mock at `endpoint` and prints the report: as JSON, or as
/// text that shows each failed step's hint at the level `ecrlab hint` has reached. The text
/// output records each hint it showed in the lab's progress, so the next `ecrlab hint` shows
/// the following level; the JSON output leaves progress alone.
pub async fn check(
    endpoint: &str,
    lab: &Lab,
    options: &LabOptions,
    json: bool,
    colour: bool,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let report = grade(endpoint, lab, CheckOptions::default()).await?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        // Grading does not depend on progress, so an unreadable progress file only costs the
        // hint levels, and is left as it is.
        let loaded = Progress::load(lab);
        let mut progress = match &loaded {
            Ok(progress) => progress.clone(),
            Err(error) => {
                eprintln!("ecrlab: warning: {error}; showing each failed step's first hint");
                Progress::new(lab)
            }
        };
        let text = report.render_text_with_hints(lab, &progress, &options.command("hint"));
        write!(out, "{}", paint_verdicts(&text, colour))?;

        if loaded.is_ok() && record_shown_hints(&report, lab, &mut progress) {
            if let Err(error) = progress.save() {
                eprintln!(
                    "ecrlab: warning: {error}; the next `ecrlab hint` shows the first hint again"
                );
            }
        }
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Raises the hint level of each failed step that has hints to at least 1, because the text
/// report shows that step's first hint. Returns whether any level changed.
fn record_shown_hints(report: &CheckReport, lab: &Lab, progress: &mut Progress) -> bool {
    let mut changed = false;
    for result in report.steps.iter().filter(|result| !result.passed) {
        let has_hints = lab
            .step(&result.id)
            .is_some_and(|step| !step.hints.is_empty());
        if has_hints && progress.hint_level(&result.id) == 0 {
            progress.set_hint_level(&result.id, 1);
            changed = true;
        }
    }
    changed
}

/// Runs the whole lab against a mock started in process: the five steps with ecrlab's own
/// clients, the check, and the quiz answered with the lab's reference answers. The question
/// about scan findings is answered from the findings that the demo read.
pub async fn demo(data: Option<PathBuf>, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let temporary = match data {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("cannot create a temporary data folder")?),
    };
    let folder = match (&data, &temporary) {
        (Some(folder), _) => folder.clone(),
        (None, Some(temporary)) => temporary.path().to_owned(),
        (None, None) => unreachable!("a temporary folder exists whenever no folder was given"),
    };

    let mock = mock_ecr::MockEcr::start(mock_ecr::Config::new(&folder))
        .await
        .with_context(|| format!("cannot start the mock in {}", folder.display()))?;
    writeln!(
        out,
        "Started mock-ecr: ECR API {}, registry {}\n",
        mock.endpoint(),
        mock.registry_host()
    )?;
    let result = demo_steps(mock.endpoint(), out).await;
    mock.shutdown().await;
    result
}

async fn demo_steps(endpoint: &str, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let settings = EcrSettings::for_mock(endpoint)?;
    let outcome = run_demo(&settings, out)
        .await
        .context("the demo could not finish the lab steps")?;
    writeln!(
        out,
        "\nPushed {} ({}) and {} ({})\n",
        outcome.image, outcome.manifest_digest, outcome.scan_image, outcome.scan_manifest_digest
    )?;

    let lab = Lab::builtin_push_to_ecr();
    // The demo grades its own work, which a student's check would ignore.
    let options = CheckOptions {
        accept_demo_events: true,
    };
    let report = grade(endpoint, &lab, options).await?;
    writeln!(out, "Checking the steps against what the mock recorded:")?;
    write!(out, "{}", report.render_text())?;

    writeln!(
        out,
        "\nQuiz, answered with the lab's reference answers and the findings the demo read:"
    )?;
    let lab = lab_with_evidence(&lab, endpoint, options).await;
    let quiz_passed = quiz_cmd_reference(&lab, &outcome.scan_findings, out)?;

    let passed = report.passed && quiz_passed;
    writeln!(
        out,
        "\nDemo {}.",
        if passed {
            "passed: every step and every answer"
        } else {
            "FAILED"
        }
    )?;
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Grades each question's own reference answer, which shows how answers are read and checks
/// that the lab's answers are consistent with its grading rules. A question about scan
/// findings is answered from `findings`, the findings that the demo read.
fn quiz_cmd_reference(
    lab: &Lab,
    findings: &[ScanFinding],
    out: &mut impl Write,
) -> anyhow::Result<bool> {
    let mut all_correct = true;
    for question in &lab.questions {
        let answer = if question.needs_evidence() {
            question.answer_from_findings(findings).with_context(|| {
                format!(
                    "no finding that the demo read answers question '{}'",
                    question.id()
                )
            })?
        } else {
            question.answer()
        };
        let grade = question.grade(answer).with_context(|| {
            format!(
                "the reference answer of question '{}' cannot be read",
                question.id()
            )
        })?;
        all_correct &= grade.is_correct();
        let verdict = if grade.is_correct() {
            "correct"
        } else {
            "INCORRECT"
        };
        writeln!(out, "  {verdict:9} {}: {answer}", question.id())?;
    }
    Ok(all_correct)
}

/// Asks the mock at `endpoint` to evaluate its lifecycle policies now, or only the policy of
/// `repository`, and prints one line per expired image.
pub async fn lifecycle_run(
    endpoint: &str,
    repository: Option<&str>,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let url = format!(
        "{}{}",
        endpoint.trim_end_matches('/'),
        mock_ecr::admin::LIFECYCLE_RUN_PATH
    );
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("cannot build an HTTP client")?
        .post(&url);
    if let Some(repository) = repository {
        request = request.query(&[("repository", repository)]);
    }
    let response = request.send().await.with_context(|| {
        format!("cannot reach the mock at {url}: is `ecrlab serve` running there?")
    })?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.with_context(|| {
        format!("the response from {url} is not JSON: is this endpoint the mock?")
    })?;
    if !status.is_success() {
        let message = body["error"].as_str().unwrap_or("no error message");
        anyhow::bail!("the mock at {url} returned {status}: {message}");
    }

    let expired = body["expiredImages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    writeln!(
        out,
        "Evaluated {} lifecycle policies; expired {} images.",
        body["evaluatedPolicies"],
        expired.len()
    )?;
    for image in expired {
        let tags: Vec<&str> = image["imageTags"]
            .as_array()
            .map(|tags| tags.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default();
        let tags = if tags.is_empty() {
            "untagged".to_owned()
        } else {
            tags.join(", ")
        };
        writeln!(
            out,
            "  {} {} ({tags}) by rule {}",
            image["repository"].as_str().unwrap_or_default(),
            image["imageDigest"].as_str().unwrap_or_default(),
            image["appliedRulePriority"]
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lab_at_default_endpoint_needs_no_options() {
        let options = LabOptions::with_variable(None, DEFAULT_ENDPOINT, None);
        assert_eq!(options.command("hint"), "ecrlab hint");
        assert_eq!(options.offline_command("quiz"), "ecrlab quiz");
        assert_eq!(
            options.lab_show_command("push-to-ecr"),
            "ecrlab lab show push-to-ecr"
        );
    }

    #[test]
    fn suggested_commands_repeat_lab_and_endpoint() {
        let lab = Path::new("labs/ecr-drills/lab.toml");
        let options = LabOptions::with_variable(Some(lab), "http://127.0.0.1:5050", None);
        assert_eq!(
            options.command("hint --again"),
            "ecrlab hint --again --lab labs/ecr-drills/lab.toml --endpoint http://127.0.0.1:5050"
        );
        assert_eq!(
            options.offline_command("quiz"),
            "ecrlab quiz --lab labs/ecr-drills/lab.toml"
        );
        assert_eq!(
            options.lab_show_command("ecr-drills"),
            "ecrlab lab show labs/ecr-drills/lab.toml"
        );
    }

    #[test]
    fn endpoint_from_variable_is_not_repeated() {
        let variable = std::ffi::OsStr::new("http://127.0.0.1:5050");
        let same = LabOptions::with_variable(None, "http://127.0.0.1:5050", Some(variable));
        assert_eq!(same.command("check"), "ecrlab check");

        // The default endpoint given on the command line overrides the variable, so a
        // suggested command must name it.
        let default = LabOptions::with_variable(None, DEFAULT_ENDPOINT, Some(variable));
        assert_eq!(
            default.command("check"),
            "ecrlab check --endpoint http://127.0.0.1:5000"
        );
    }

    #[test]
    fn paths_with_spaces_are_quoted() {
        let lab = Path::new("my labs/it's/lab.toml");
        let options = LabOptions::with_variable(Some(lab), DEFAULT_ENDPOINT, None);
        assert_eq!(
            options.offline_command("quiz"),
            "ecrlab quiz --lab 'my labs/it'\\''s/lab.toml'"
        );
    }

    #[tokio::test]
    async fn lifecycle_run_reports_policies() {
        let data = tempfile::tempdir().unwrap();
        let mock = mock_ecr::MockEcr::start(mock_ecr::Config::new(data.path()))
            .await
            .unwrap();

        let mut out = Vec::new();
        let code = lifecycle_run(mock.endpoint(), None, &mut out)
            .await
            .unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "Evaluated 0 lifecycle policies; expired 0 images.\n");

        let error = lifecycle_run(mock.endpoint(), Some("team/my-app"), &mut Vec::new())
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("404"), "{error}");
        assert!(error.contains("'team/my-app'"), "{error}");
        mock.shutdown().await;
    }
}
