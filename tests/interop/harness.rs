//! Test harness: mock-ecr on an ephemeral 127.0.0.1 port, client processes with a time limit,
//! the policy for clients that are not installed, and grading with `ecrlab check`.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ecrlab_core::evidence::JournalEvent;
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

/// The test credentials that mock-ecr accepts and `ecrlab env` prints.
pub const ACCESS_KEY_ID: &str = "AKIAECRLABSTUDENT001";
pub const SECRET_ACCESS_KEY: &str = "ecrlab-local-secret-not-for-aws";
pub const REGION: &str = "us-east-1";
pub const ACCOUNT_ID: &str = "123456789012";

/// The push-to-ecr lab's step ids, in the order `ecrlab check` reports them.
const LAB_STEPS: [&str; 5] = [
    "create-repository",
    "authenticate",
    "tag",
    "push",
    "scan-image",
];

/// The step of the lab that pushes the scan sample and reads its findings, which tests of the
/// push alone do not do.
const SCAN_STEP: &str = "scan-image";

/// Upper bound for one client command. Pushing the sample image to the local mock takes about
/// a second, so reaching this limit means a client hangs.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether the tests run in CI (`CI=true`), where every client except docker must be installed.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Writes `message` to the test process's standard error.
///
/// libtest captures only the `print!` family of macros, so a direct write reaches the terminal
/// even for a passing test. Skip notices use it so that no case is skipped silently.
pub fn announce(message: &str) {
    let mut stderr = std::io::stderr().lock();
    // When standard error is closed there is nowhere else to report, so the test goes on.
    let _ = writeln!(stderr, "\n*** {message}");
}

/// Reports that `case` cannot run because `client` is unavailable.
///
/// # Panics
/// Under `CI=true`, because CI installs every client (see `.ci/run`) and a missing one means
/// the installation broke.
pub fn client_missing(case: &str, client: &str, reason: &str) {
    assert!(
        !in_ci(),
        "{case}: {client} is required when CI=true, but {reason}. .ci/run installs it."
    );
    announce(&format!(
        "SKIPPED {case}: {client} is unavailable ({reason}). Install it to run this case."
    ));
}

/// Finds an executable named `name` in the directories of `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;

    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|directory| directory.join(name))
        .find(|candidate| {
            candidate.metadata().is_ok_and(|metadata| {
                metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
            })
        })
}

/// Returns the sample image's build context, `labs/push-to-ecr/image/`, which contains a
/// `Containerfile`.
pub fn sample_image_context() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../labs/push-to-ecr/image")
}

/// Returns the build context of the scanning step's sample image,
/// `labs/push-to-ecr/scan-image/`, which contains a `Containerfile`.
#[allow(
    dead_code,
    reason = "only the scan interop target builds the scan sample"
)]
pub fn scan_image_context() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../labs/push-to-ecr/scan-image")
}

/// Returns a local image name that no other test in this run uses, because docker's engine is
/// shared.
pub fn unique_image_name(client: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let number = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "ecrlab-interop-{client}-{}-{number}:latest",
        std::process::id()
    )
}

/// A running mock-ecr with its own data directory, plus a scratch directory for the clients'
/// configuration (docker's config, podman's storage, auth files).
///
/// Each test starts its own mock, so the journal that `ecrlab check` grades contains that
/// test's requests only.
pub struct MockLab {
    runtime: tokio::runtime::Runtime,
    mock: Option<mock_ecr::MockEcr>,
    endpoint: String,
    registry_host: String,
    scratch: tempfile::TempDir,
}

impl MockLab {
    pub fn start() -> Self {
        Self::launch(None)
    }

    /// Starts a mock whose repository URIs and `proxyEndpoint` name `public_host` with the
    /// mock's port, as `ecrlab serve --public-host` does. The mock still listens on 127.0.0.1,
    /// so clients reach it only when `public_host` resolves there.
    #[allow(
        dead_code,
        reason = "only the registry interop target uses a public host"
    )]
    pub fn start_with_public_host(public_host: &str) -> Self {
        Self::launch(Some(public_host))
    }

    fn launch(public_host: Option<&str>) -> Self {
        let scratch = tempfile::Builder::new()
            .prefix("ecrlab-interop-")
            .tempdir()
            .expect("failed to create a temporary directory for the interop test");
        let data_dir = scratch.path().join("mock-data");
        std::fs::create_dir_all(&data_dir).expect("failed to create the mock's data directory");

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("failed to build a tokio runtime for the mock");
        let mut config = mock_ecr::Config::new(data_dir);
        config.public_host = public_host.map(str::to_owned);
        let mock = runtime
            .block_on(mock_ecr::MockEcr::start(config))
            .expect("mock-ecr failed to start on 127.0.0.1");

        let endpoint = mock.endpoint().to_string();
        let registry_host = mock.registry_host().to_string();
        Self {
            runtime,
            mock: Some(mock),
            endpoint,
            registry_host,
            scratch,
        }
    }

    /// Returns the ECR API endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Returns the registry host that `repositoryUri` names: `localhost:PORT`, or
    /// `<public host>:PORT` for a mock started with a public host.
    pub fn registry_host(&self) -> &str {
        &self.registry_host
    }

    /// Creates the directory `name` inside this test's scratch directory and returns its path.
    pub fn scratch_dir(&self, name: &str) -> PathBuf {
        let path = self.scratch.path().join(name);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|error| panic!("failed to create {}: {error}", path.display()));
        path
    }

    /// Runs `command` to completion, feeding it `stdin` when given, and captures its output.
    ///
    /// # Panics
    /// When the program cannot be started or does not finish within [`COMMAND_TIMEOUT`].
    pub fn run(&self, command: &mut Command, stdin: Option<&[u8]>) -> Run {
        let command_line = format!("{:?}", command.as_std());
        command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);

        let finished = self.runtime.block_on(async {
            let mut child = command.spawn()?;
            if let Some(input) = stdin {
                let mut pipe = child.stdin.take().expect("stdin is piped");
                match pipe.write_all(input).await {
                    // A client that exits before reading its input shows why in its output.
                    Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                        return Err(error);
                    }
                    _ => {}
                }
                // Closing the pipe is the end of input that `--password-stdin` waits for.
                drop(pipe);
            }
            tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
                .await
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
        });
        let output = finished.unwrap_or_else(|error| {
            panic!("`{command_line}` failed to run or timed out after {COMMAND_TIMEOUT:?}: {error}")
        });

        Run {
            command_line,
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Fetches the whole journal from the admin API, `GET /_ecrlab/journal?after=0`.
    pub fn journal(&self) -> Vec<JournalEvent> {
        #[derive(serde::Deserialize)]
        struct JournalPage {
            events: Vec<JournalEvent>,
        }

        let url = format!("{}/_ecrlab/journal?after=0", self.endpoint);
        let body = self
            .runtime
            .block_on(async { reqwest::get(&url).await?.error_for_status()?.text().await });
        let body = body.unwrap_or_else(|error| panic!("GET {url} failed: {error}"));
        let page: JournalPage = serde_json::from_str(&body).unwrap_or_else(|error| {
            panic!("GET {url} returned an invalid journal ({error}): {body}")
        });
        page.events
    }

    /// Moves the mock's clock forward by `by`, so that tokens expire without waiting.
    #[allow(dead_code, reason = "the interop target does not move the clock")]
    pub fn advance_clock(&self, by: time::Duration) {
        let mock = self
            .mock
            .as_ref()
            .expect("the mock runs until the lab is dropped");
        mock.registry().clock().advance(by);
    }

    /// Runs `future` on the mock's runtime, for clients that run in the test process, such as
    /// aws-sdk-ecr and reqwest.
    #[allow(dead_code, reason = "the interop target runs only external clients")]
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl Drop for MockLab {
    fn drop(&mut self) {
        if let Some(mock) = self.mock.take() {
            self.runtime.block_on(mock.shutdown());
        }
    }
}

/// Runs `ecrlab check --endpoint <mock> --format json` and asserts that every lab step passed.
#[allow(
    dead_code,
    reason = "only the scan interop target does the scanning step"
)]
pub fn assert_lab_check_passes(lab: &MockLab) {
    let (run, report) = run_lab_check(lab);
    run.assert_success();
    for step in lab_steps(&run, &report) {
        assert_eq!(step["passed"], true, "step {} failed: {step:#}", step["id"]);
    }
    assert_eq!(report["passed"], true, "the report did not pass:\n{run}");
}

/// Runs `ecrlab check` like [`assert_lab_check_passes`] after a test that pushed an image but
/// did not do the scanning step: every step but that one must pass.
pub fn assert_push_steps_pass(lab: &MockLab) {
    let (run, report) = run_lab_check(lab);
    for step in lab_steps(&run, &report) {
        let expected = step["id"] != SCAN_STEP;
        assert_eq!(
            step["passed"], expected,
            "step {} has the wrong verdict: {step:#}",
            step["id"]
        );
    }
}

fn run_lab_check(lab: &MockLab) -> (Run, Value) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecrlab"));
    command.args(["check", "--endpoint", lab.endpoint(), "--format", "json"]);
    let run = lab.run(&mut command, None);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("`ecrlab check` printed invalid JSON ({error}):\n{run}"));
    (run, report)
}

/// Returns the steps of a check report, after asserting that they are the lab's steps.
fn lab_steps<'a>(run: &Run, report: &'a Value) -> &'a [Value] {
    let steps = report["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("the report has no steps array:\n{run}"));
    let ids: Vec<&str> = steps
        .iter()
        .filter_map(|step| step["id"].as_str())
        .collect();
    assert_eq!(ids, LAB_STEPS, "unexpected steps:\n{run}");
    steps
}

/// A finished client command and what it printed.
pub struct Run {
    pub command_line: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts that the command exited with status 0.
    pub fn assert_success(&self) -> &Self {
        assert!(self.status.success(), "expected success:\n{self}");
        self
    }

    /// Asserts that the command failed and that its output contains `message`, compared without
    /// regard to case. `expected_code` pins the exit status where the client documents it.
    pub fn assert_rejected(&self, expected_code: Option<i32>, message: &str) -> &Self {
        assert!(!self.status.success(), "expected a failure:\n{self}");
        if let Some(code) = expected_code {
            assert_eq!(
                self.status.code(),
                Some(code),
                "unexpected exit status:\n{self}"
            );
        }
        let output = format!("{}\n{}", self.stdout, self.stderr).to_lowercase();
        assert!(
            output.contains(&message.to_lowercase()),
            "expected the output to contain {message:?}:\n{self}"
        );
        self
    }
}

impl fmt::Display for Run {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(formatter, "command: {}", self.command_line)?;
        writeln!(formatter, "status: {}", self.status)?;
        writeln!(formatter, "--- stdout\n{}", self.stdout.trim_end())?;
        write!(formatter, "--- stderr\n{}", self.stderr.trim_end())
    }
}
