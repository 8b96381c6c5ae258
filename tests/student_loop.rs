//! The student loop as a student runs it: `ecrlab check`, `hint`, `watch`, `quiz` and
//! `progress reset` from the built binary against a mock started in this process, with the
//! progress files in a temporary state folder. The lab's steps are performed with aws-sdk-ecr
//! and oci-client, as a student's own clients would.

#[path = "support/ecr_scans.rs"]
mod ecr_scans;
#[path = "support/ecr_sdk.rs"]
mod ecr_sdk;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use aws_sdk_ecr::config::AppName;
use aws_sdk_ecr::types::ImageTagMutability;
use ecrlab_core::clients::EcrSettings;
use ecrlab_core::demo::SampleImage;
use ecrlab_core::lab::Lab;
use ecrlab_core::progress::{Progress, ProgressError};
use mock_ecr::{Clock, Config, MockEcr};
use oci_client::client::{ClientConfig, ClientProtocol, Config as ImageConfig, ImageLayer};
use oci_client::manifest::{IMAGE_LAYER_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};

/// The first byte of every ANSI escape sequence.
const ESCAPE: char = '\x1b';
const LAB_ID: &str = "push-to-ecr";
/// How long a test waits for a line of output or for a process to end.
const PATIENCE: Duration = Duration::from_secs(60);

/// A mock with a fixed clock, so evidence times are the same in every run, and a
/// state folder for progress files.
struct Fixture {
    _data: tempfile::TempDir,
    state: tempfile::TempDir,
    mock: MockEcr,
}

async fn start() -> Fixture {
    let data = tempfile::tempdir().expect("temporary data folder");
    let mut config = Config::new(data.path());
    config.clock = Clock::fixed(time::macros::datetime!(2025-03-01 10:00 UTC));
    // Signature V4 rejects requests signed more than 15 minutes away from the mock's clock, and
    // the fixed clock is further than that from the time the SDK signs with.
    config.accept_any_signature = true;
    let mock = MockEcr::start(config).await.expect("mock starts");
    Fixture {
        _data: data,
        state: tempfile::tempdir().expect("temporary state folder"),
        mock,
    }
}

/// Returns `ecrlab` with `arguments`, the state folder `state` and no colour preference from
/// the test runner's environment.
fn ecrlab_command(state: &std::path::Path, arguments: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecrlab"));
    command
        .args(arguments)
        .env("ECRLAB_STATE_DIR", state)
        .env_remove("NO_COLOR")
        .env_remove("ECRLAB_ENDPOINT")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

impl Fixture {
    fn endpoint(&self) -> &str {
        self.mock.endpoint()
    }

    /// Returns `ecrlab <command> --endpoint <mock> <arguments>`.
    fn command(&self, command: &str, arguments: &[&str]) -> Command {
        let mut all = vec![command, "--endpoint", self.endpoint()];
        all.extend_from_slice(arguments);
        ecrlab_command(self.state.path(), &all)
    }

    async fn run(&self, command: &str, arguments: &[&str]) -> Output {
        self.command(command, arguments)
            .output()
            .await
            .expect("ecrlab runs")
    }

    fn progress_file(&self) -> PathBuf {
        self.state
            .path()
            .join("progress")
            .join(format!("{LAB_ID}.json"))
    }

    /// Replaces the mock's ports, which change from run to run, with `PORT`.
    fn normalize(&self, text: &str) -> String {
        let address = self.mock.address().to_string();
        text.replace(self.mock.registry_host(), "localhost:PORT")
            .replace(&address, "127.0.0.1:PORT")
    }

    /// Performs the lab's five steps with aws-sdk-ecr and oci-client.
    async fn perform_lab(&self) {
        let settings = EcrSettings::for_mock(self.endpoint()).expect("endpoint");
        // ecrlab's grading clients carry the SDK app name `ecrlab`, and a student's calls must
        // not, or the check would not count the student's reads of the findings.
        let app_name = AppName::new("lab-student").expect("valid app name");
        let ecr = aws_sdk_ecr::Client::from_conf(settings.ecr_config().app_name(app_name).build());
        ecr_sdk::create_repository(&ecr, "my-app", Some(ImageTagMutability::Immutable)).await;
        ecr_scans::turn_on_scan_on_push(&ecr, "my-app").await;

        let auth = registry_auth(&ecr).await;
        let reference = Reference::with_tag(
            self.mock.registry_host().to_owned(),
            "my-app".to_owned(),
            "v1".to_owned(),
        );
        let client = Client::new(ClientConfig {
            protocol: ClientProtocol::HttpsExcept(vec![self.mock.registry_host().to_owned()]),
            ..ClientConfig::default()
        });
        client
            .auth(&reference, &auth, RegistryOperation::Push)
            .await
            .expect("registry login");

        let layers = vec![ImageLayer::new(
            b"hello from a student".to_vec(),
            IMAGE_LAYER_MEDIA_TYPE.to_owned(),
            None,
        )];
        let config =
            ImageConfig::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
        let manifest = OciImageManifest::build(&layers, &config, None);
        client
            .push(&reference, &layers, config, &auth, Some(manifest))
            .await
            .expect("image pushed");

        let sample = SampleImage::build_scan_sample().expect("scan sample");
        let layers = vec![ImageLayer::new(
            sample.layer,
            "application/vnd.oci.image.layer.v1.tar".to_owned(),
            None,
        )];
        let config = ImageConfig::oci_v1(sample.config, None);
        let reference = Reference::with_tag(
            self.mock.registry_host().to_owned(),
            "my-app".to_owned(),
            "scan".to_owned(),
        );
        client
            .push(&reference, &layers, config, &auth, None)
            .await
            .expect("scan sample pushed");
        ecr_scans::wait_for_scan_findings(&ecr, "my-app", "scan").await;
    }
}

/// Returns the path of the ECR drills lab in this repository.
fn drills_lab() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../labs/ecr-drills/lab.toml")
}

/// Returns the command between the backticks of the last `Run `...`` sentence in `text`.
fn suggested_command(text: &str) -> Vec<String> {
    let line = text
        .lines()
        .rev()
        .find(|line| line.starts_with("Run `"))
        .unwrap_or_else(|| panic!("no suggested command in {text:?}"));
    let command = line["Run `".len()..]
        .split('`')
        .next()
        .expect("a closing backtick");
    command.split_whitespace().map(str::to_owned).collect()
}

/// Returns the registry login that GetAuthorizationToken issues.
async fn registry_auth(ecr: &aws_sdk_ecr::Client) -> RegistryAuth {
    let (user, password) = ecr_sdk::registry_credentials(ecr).await;
    RegistryAuth::Basic(user, password)
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 standard output")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 standard error")
}

/// Reads lines until one satisfies `matches`, returning every line read. Panics when output
/// ends or no such line arrives within [`PATIENCE`].
async fn read_until<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut Lines<R>,
    matches: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut read = Vec::new();
    loop {
        let line = tokio::time::timeout(PATIENCE, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no matching line in time; read so far: {read:#?}"))
            .expect("output is readable")
            .unwrap_or_else(|| panic!("output ended before a matching line: {read:#?}"));
        let found = matches(&line);
        read.push(line);
        if found {
            return read;
        }
    }
}

async fn read_rest<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut Lines<R>) -> Vec<String> {
    let mut read = Vec::new();
    while let Some(line) = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("output ends in time")
        .expect("output is readable")
    {
        read.push(line);
    }
    read
}

/// A running `ecrlab watch` with its output read line by line.
struct Watch {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Lines<BufReader<ChildStderr>>,
}

fn spawn_watch(mut command: Command) -> Watch {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ecrlab watch starts");
    let stdout = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let stderr = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    Watch {
        child,
        stdout,
        stderr,
    }
}

impl Watch {
    fn interrupt(&self) {
        let pid = self.child.id().expect("watch is running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -INT {pid} failed");
    }

    async fn exit_code(&mut self) -> Option<i32> {
        tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("watch ends in time")
            .expect("watch's status is readable")
            .code()
    }
}

const FRESH_LINE: &str = "0 of 5 steps passed: create-repository FAIL, authenticate FAIL, tag FAIL, push FAIL, scan-image FAIL";

#[test]
fn progress_round_trip() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("progress").join("push-to-ecr.json");
    let lab = Lab::builtin_push_to_ecr();
    let mut progress = Progress::new(&lab);
    progress.set_hint_level("authenticate", 2);
    progress.record_quiz_attempt("token-validity", "30 minutes");
    progress.record_quiz_attempt("token-validity", "12 hours");

    progress.save_to(&path).expect("progress is saved");
    let loaded = Progress::load_from(&path, &lab).expect("progress is loaded");
    assert_eq!(loaded, progress);
    assert_eq!(loaded.hint_level("authenticate"), 2);
    assert_eq!(loaded.hint_level("push"), 0);

    let files: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(files, ["push-to-ecr.json"], "no temporary file is left");
}

#[test]
fn progress_keeps_entries_of_older_lab_version() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("push-to-ecr.json");
    std::fs::write(
        &path,
        r#"{"labId": "push-to-ecr", "labVersion": "0.9.0", "hintLevels": {"tag": 1}}"#,
    )
    .unwrap();
    let lab = Lab::builtin_push_to_ecr();
    let progress = Progress::load_from(&path, &lab).expect("progress is loaded");
    assert_eq!(progress.lab_version, lab.version);
    assert_eq!(progress.hint_level("tag"), 1);
    assert!(progress.quiz_attempts.is_empty());
}

#[test]
fn progress_of_other_lab_is_invalid() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("push-to-ecr.json");
    std::fs::write(&path, r#"{"labId": "other-lab", "labVersion": "1.0.0"}"#).unwrap();
    let error = Progress::load_from(&path, &Lab::builtin_push_to_ecr()).unwrap_err();
    assert!(matches!(error, ProgressError::Invalid { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("\"other-lab\""), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_progress_is_reported_and_kept() {
    let fixture = start().await;
    let path = fixture.progress_file();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let corrupt = "{\"labId\": \"push-to-ecr\", \"hintLevels\": ";
    std::fs::write(&path, corrupt).unwrap();

    let hint = fixture.run("hint", &[]).await;
    assert_eq!(hint.status.code(), Some(1));
    let stderr = stderr_of(&hint);
    let expected_start = format!(
        "ecrlab: error: progress file {} is invalid: ",
        path.display()
    );
    assert!(stderr.starts_with(&expected_start), "{stderr}");
    assert!(stderr.contains("`ecrlab progress reset`"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stdout_of(&hint), "");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), corrupt);

    // Grading does not need progress, so check still grades and only warns.
    let check = fixture.run("check", &[]).await;
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout_of(&check).contains("hint 1 of 3: "));
    let stderr = stderr_of(&check);
    assert!(
        stderr.starts_with("ecrlab: warning: progress file "),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), corrupt);

    let answers = fixture.state.path().join("answers.toml");
    std::fs::write(&answers, "token-validity = \"12 hours\"\n").unwrap();
    let quiz = fixture
        .run("quiz", &["--answers", answers.to_str().unwrap()])
        .await;
    let stderr = stderr_of(&quiz);
    assert!(stderr.contains("answers are not recorded"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), corrupt);

    let reset = ecrlab_command(fixture.state.path(), &["progress", "reset"])
        .output()
        .await
        .unwrap();
    assert_eq!(reset.status.code(), Some(0));
    assert!(!path.exists(), "progress reset deletes the file");
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hint_levels_rise_then_stay() {
    let fixture = start().await;
    let mut outputs = Vec::new();
    for arguments in [&[][..], &[], &[], &[], &["--again"]] {
        let output = fixture.run("hint", arguments).await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
        assert_eq!(stderr_of(&output), "");
        outputs.push(stdout_of(&output));
    }
    insta::assert_snapshot!("hint_level_1", fixture.normalize(&outputs[0]));
    insta::assert_snapshot!("hint_level_2", fixture.normalize(&outputs[1]));
    insta::assert_snapshot!("hint_level_3", fixture.normalize(&outputs[2]));
    assert_eq!(outputs[3], outputs[2], "the last hint level stays");
    assert_eq!(outputs[4], outputs[2], "--again repeats the level reached");

    let progress = Progress::load_from(&fixture.progress_file(), &Lab::builtin_push_to_ecr())
        .expect("hint saved progress");
    assert_eq!(progress.hint_level("create-repository"), 3);
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hint_again_before_any_hint_shows_first() {
    let fixture = start().await;
    let again = fixture.run("hint", &["--again"]).await;
    assert!(
        stdout_of(&again).contains("\nHint 1 of 3: "),
        "{}",
        stdout_of(&again)
    );
    let next = fixture.run("hint", &[]).await;
    assert!(
        stdout_of(&next).contains("\nHint 2 of 3: "),
        "{}",
        stdout_of(&next)
    );
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_shows_hint_levels_then_passes() {
    let fixture = start().await;
    for _ in 0..2 {
        let hint = fixture.run("hint", &[]).await;
        assert_eq!(hint.status.code(), Some(0), "{}", stderr_of(&hint));
    }
    let failing = fixture.run("check", &[]).await;
    assert_eq!(failing.status.code(), Some(1), "{}", stderr_of(&failing));
    insta::assert_snapshot!(
        "check_failing_with_hint_levels",
        fixture.normalize(&stdout_of(&failing))
    );

    fixture.perform_lab().await;
    let passing = fixture.run("check", &[]).await;
    assert_eq!(passing.status.code(), Some(0), "{}", stdout_of(&passing));
    insta::assert_snapshot!("check_passing", fixture.normalize(&stdout_of(&passing)));

    let hint = fixture.run("hint", &[]).await;
    assert_eq!(hint.status.code(), Some(0));
    insta::assert_snapshot!(
        "hint_all_steps_passed",
        fixture.normalize(&stdout_of(&hint))
    );
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn colour_only_when_requested_or_terminal() {
    let fixture = start().await;

    let piped = fixture.run("check", &[]).await;
    assert!(!stdout_of(&piped).contains(ESCAPE), "piped output is plain");
    assert!(stdout_of(&piped).contains("FAIL create-repository"));

    let mut no_color = fixture.command("check", &["--color", "auto"]);
    no_color.env("NO_COLOR", "1");
    let no_color = no_color.output().await.unwrap();
    assert!(
        !stdout_of(&no_color).contains(ESCAPE),
        "NO_COLOR output is plain"
    );

    // The checks above showed hint 1, so this hint is hint 2.
    let never = fixture.run("hint", &["--color", "never"]).await;
    assert!(!stdout_of(&never).contains(ESCAPE));

    let always = fixture.run("check", &["--color", "always"]).await;
    let text = stdout_of(&always);
    assert!(
        text.contains("\x1b[31mFAIL\x1b[0m create-repository"),
        "{text:?}"
    );
    assert!(text.contains("\x1b[1mhint 2 of 3\x1b[0m: "), "{text:?}");

    let hint = fixture.run("hint", &["--color", "always", "--again"]).await;
    assert!(
        stdout_of(&hint).contains("\x1b[1mHint 2 of 3:\x1b[0m "),
        "{:?}",
        stdout_of(&hint)
    );
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn quiz_answers_are_recorded() {
    let fixture = start().await;
    let answers = fixture.state.path().join("answers.toml");
    for answer in ["30 minutes", "12 hours"] {
        std::fs::write(&answers, format!("token-validity = \"{answer}\"\n")).unwrap();
        let quiz = fixture
            .run("quiz", &["--answers", answers.to_str().unwrap()])
            .await;
        assert_eq!(stderr_of(&quiz), "");
    }
    let progress = Progress::load_from(&fixture.progress_file(), &Lab::builtin_push_to_ecr())
        .expect("quiz saved progress");
    assert_eq!(
        progress
            .quiz_attempts
            .get("token-validity")
            .map(Vec::as_slice),
        Some(&["30 minutes".to_owned(), "12 hours".to_owned()][..])
    );
    assert_eq!(
        progress.quiz_attempts.len(),
        1,
        "unanswered questions are not recorded"
    );
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn quiz_interrupted_keeps_answers() {
    use tokio::io::AsyncWriteExt as _;

    let fixture = start().await;
    let mut command = fixture.command("quiz", &[]);
    command.stdin(Stdio::piped());
    // The helpers of `watch` read any command's output line by line.
    let mut quiz = spawn_watch(command);
    let mut stdin = quiz.child.stdin.take().expect("piped stdin");
    stdin
        .write_all(b"public.ecr.aws\n")
        .await
        .expect("quiz reads standard input");
    // The feedback follows the save, so the answer is on disk once it is printed.
    read_until(&mut quiz.stdout, |line| line.contains("Not correct yet")).await;
    quiz.interrupt();
    let code = quiz.exit_code().await;

    assert_ne!(code, Some(0), "an interrupted quiz does not pass");
    let progress = Progress::load_from(&fixture.progress_file(), &Lab::builtin_push_to_ecr())
        .expect("quiz saved progress");
    assert_eq!(
        progress
            .quiz_attempts
            .get("registry-url")
            .map(Vec::as_slice),
        Some(&["public.ecr.aws".to_owned()][..])
    );
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_exits_when_lab_completes() {
    let fixture = start().await;
    let mut watch = spawn_watch(fixture.command("watch", &["--interval", "100ms"]));
    let first = read_until(&mut watch.stdout, |line| line == FRESH_LINE).await;

    fixture.perform_lab().await;
    let code = watch.exit_code().await;
    let rest = read_rest(&mut watch.stdout).await;
    let errors = read_rest(&mut watch.stderr).await;

    assert_eq!(code, Some(0), "{first:#?} {rest:#?} {errors:#?}");
    // The quiz reads the findings from the mock, so the suggestion names this mock.
    assert_eq!(
        rest.last(),
        Some(&format!(
            "Lab push-to-ecr complete: every step passes. Next, answer the quiz with `ecrlab quiz --endpoint {}`.",
            fixture.endpoint()
        ))
    );
    assert_eq!(
        rest.iter().rev().nth(1).map(String::as_str),
        Some(
            "5 of 5 steps passed: create-repository PASS, authenticate PASS, tag PASS, push PASS, scan-image PASS"
        )
    );
    let all = [first, rest].concat();
    assert!(
        !all.iter().any(|line| line.contains(ESCAPE)),
        "piped output is plain: {all:#?}"
    );
    assert_eq!(errors, Vec::<String>::new());
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_ctrl_c_exits_130() {
    let fixture = start().await;
    let mut watch = spawn_watch(fixture.command("watch", &["--interval", "100ms"]));
    read_until(&mut watch.stdout, |line| line == FRESH_LINE).await;

    watch.interrupt();
    assert_eq!(watch.exit_code().await, Some(130));
    assert_eq!(read_rest(&mut watch.stdout).await, ["Stopped."]);
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_retries_until_mock_answers() {
    // A port that was free a moment ago, for a mock that starts only after watch does.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let endpoint = format!("http://{address}");
    let state = tempfile::tempdir().unwrap();
    let mut watch = spawn_watch(ecrlab_command(
        state.path(),
        &["watch", "--endpoint", &endpoint, "--interval", "100ms"],
    ));
    let warning = read_until(&mut watch.stderr, |line| line.contains("retrying")).await;
    let warning = warning.last().unwrap();
    assert!(
        warning.starts_with(&format!(
            "ecrlab: warning: cannot check the lab at {endpoint}: "
        )),
        "{warning}"
    );

    let data = tempfile::tempdir().unwrap();
    let mut config = Config::new(data.path());
    config.listen = address;
    let mock = MockEcr::start(config)
        .await
        .expect("mock starts on the port");
    read_until(&mut watch.stdout, |line| line == FRESH_LINE).await;
    read_until(&mut watch.stderr, |line| line.contains("reachable again")).await;

    watch.interrupt();
    assert_eq!(watch.exit_code().await, Some(130));
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_suggestion_runs_for_same_lab() {
    let fixture = start().await;
    let lab = drills_lab();
    let lab = lab.to_str().expect("UTF-8 path");
    let check = fixture.run("check", &["--lab", lab]).await;
    assert_eq!(check.status.code(), Some(1), "{}", stderr_of(&check));
    let text = stdout_of(&check);
    assert!(text.starts_with("ecr-drills "), "{text}");
    assert!(
        text.ends_with(&format!(
            "\nRun `ecrlab hint --lab {lab} --endpoint {}` for hint 2 of 3 on step immutable-tag.\n",
            fixture.endpoint()
        )),
        "{text}"
    );

    // The suggested command, run as printed, shows the next hint of the same lab's step.
    let words = suggested_command(&text);
    assert_eq!(words[0], "ecrlab");
    let arguments: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let hint = ecrlab_command(fixture.state.path(), &arguments)
        .output()
        .await
        .expect("ecrlab runs");
    assert_eq!(hint.status.code(), Some(0), "{}", stderr_of(&hint));
    let text = stdout_of(&hint);
    assert!(
        text.starts_with(
            "Step 1 of 3, immutable-tag: Push a second image to an immutable tag\nHint 2 of 3: "
        ),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "\nRun `ecrlab hint --lab {lab} --endpoint {}` again for hint 3 of 3.\n",
            fixture.endpoint()
        )),
        "{text}"
    );

    let last = fixture.run("hint", &["--lab", lab]).await;
    assert!(
        stdout_of(&last).ends_with(&format!(
            "This is the last hint for this step: `ecrlab hint --again --lab {lab} --endpoint {endpoint}` shows it again, and `ecrlab check --lab {lab} --endpoint {endpoint}` shows what the registry recorded.\n",
            endpoint = fixture.endpoint()
        )),
        "{}",
        stdout_of(&last)
    );
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_from_variable_is_not_repeated() {
    let fixture = start().await;
    let mut check = ecrlab_command(fixture.state.path(), &["check"]);
    check.env("ECRLAB_ENDPOINT", fixture.endpoint());
    let check = check.output().await.expect("ecrlab runs");
    assert_eq!(check.status.code(), Some(1), "{}", stderr_of(&check));
    assert!(
        stdout_of(&check)
            .ends_with("\nRun `ecrlab hint` for hint 2 of 3 on step create-repository.\n"),
        "{}",
        stdout_of(&check)
    );
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_records_shown_hint_level() {
    let fixture = start().await;
    let check = fixture.run("check", &[]).await;
    assert_eq!(check.status.code(), Some(1), "{}", stderr_of(&check));
    let text = stdout_of(&check);
    assert!(
        text.contains("\n     hint 1 of 3: Repositories are created"),
        "{text}"
    );
    assert!(
        text.ends_with("for hint 2 of 3 on step create-repository.\n"),
        "{text}"
    );

    // Every failed step's first hint was shown, so each is recorded at level 1.
    let progress = Progress::load_from(&fixture.progress_file(), &Lab::builtin_push_to_ecr())
        .expect("check saved progress");
    for step in ["create-repository", "authenticate", "tag", "push"] {
        assert_eq!(progress.hint_level(step), 1, "{step}");
    }

    let hint = fixture.run("hint", &[]).await;
    assert_eq!(hint.status.code(), Some(0), "{}", stderr_of(&hint));
    assert!(
        stdout_of(&hint).contains("\nHint 2 of 3: "),
        "{}",
        stdout_of(&hint)
    );

    // A second check shows the level that hint reached and records nothing lower.
    let again = fixture.run("check", &[]).await;
    assert!(stdout_of(&again).contains("\n     hint 2 of 3: "));
    let progress = Progress::load_from(&fixture.progress_file(), &Lab::builtin_push_to_ecr())
        .expect("progress is readable");
    assert_eq!(progress.hint_level("create-repository"), 2);
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn json_check_leaves_progress_alone() {
    let fixture = start().await;
    let check = fixture.run("check", &["--format", "json"]).await;
    assert_eq!(check.status.code(), Some(1), "{}", stderr_of(&check));
    assert!(!fixture.progress_file().exists());
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_suggests_quiz_for_same_lab() {
    let fixture = start().await;
    // A one-step lab, so that creating a repository completes it.
    let lab = fixture.state.path().join("create-only").join("lab.toml");
    std::fs::create_dir_all(lab.parent().unwrap()).unwrap();
    std::fs::write(
        &lab,
        r#"format = 1
id = "create-only"
title = "Create a repository"
version = "0.1.0"
summary = "One step."

[[steps]]
id = "create"
title = "Create a repository"
check = "repository-created"
instructions = "aws ecr create-repository --repository-name my-app"
hints = ["Use the AWS CLI.", "Run: aws ecr create-repository --repository-name my-app"]
"#,
    )
    .unwrap();
    let lab = lab.to_str().expect("UTF-8 path");
    let mut watch = spawn_watch(fixture.command("watch", &["--lab", lab, "--interval", "100ms"]));
    read_until(&mut watch.stdout, |line| {
        line == "0 of 1 steps passed: create FAIL"
    })
    .await;

    // ecrlab's own SDK client creates the repository, and watch skips the events of ecrlab's
    // clients until another client's event arrives: here the image push.
    fixture.perform_lab().await;
    assert_eq!(watch.exit_code().await, Some(0));
    let rest = read_rest(&mut watch.stdout).await;
    assert_eq!(
        rest.last().map(String::as_str),
        Some(
            format!(
                "Lab create-only complete: every step passes. Next, answer the quiz with `ecrlab quiz --lab {lab}`."
            )
            .as_str()
        ),
        "{rest:#?}"
    );
    fixture.mock.shutdown().await;
}
