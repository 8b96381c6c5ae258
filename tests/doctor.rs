//! `ecrlab doctor` as a student runs it: the built binary against a mock started in this
//! process. Stand-in `aws`, `docker` and `podman` scripts on PATH and login files in a temporary
//! folder keep the output independent of the machine's own tools and logins.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

const AWS_CLI_2: &str = "echo 'aws-cli/2.17.0 Python/3.12.6 Linux/6.1 exe/x86_64'";
/// AWS CLI version 1 prints its version on standard error, and 1.27 ignores AWS_ENDPOINT_URL.
const AWS_CLI_1_OLD: &str = "echo 'aws-cli/1.27.0 Python/3.11.7 Linux/6.1 botocore/1.29.0' >&2";
const DOCKER: &str = "if [ \"$1\" = info ]; then echo 27.3.1; else exit 2; fi";
const PODMAN: &str = "echo 'podman version 5.2.3'";

/// A student's environment in a temporary folder: `bin/` with the stand-in programs, a home
/// folder, docker's config folder and podman's auth file (neither file exists at first).
struct Student {
    folder: tempfile::TempDir,
}

impl Student {
    fn new(aws_script: &str) -> Self {
        let folder = tempfile::tempdir().expect("temporary folder");
        let student = Student { folder };
        std::fs::create_dir_all(student.bin()).unwrap();
        std::fs::create_dir_all(student.home()).unwrap();
        std::fs::create_dir_all(student.docker_config_folder()).unwrap();
        student.write_program("aws", aws_script);
        student.write_program("docker", DOCKER);
        student.write_program("podman", PODMAN);
        student
    }

    fn bin(&self) -> PathBuf {
        self.folder.path().join("bin")
    }

    fn home(&self) -> PathBuf {
        self.folder.path().join("home")
    }

    fn docker_config_folder(&self) -> PathBuf {
        self.folder.path().join("docker")
    }

    fn docker_config(&self) -> PathBuf {
        self.docker_config_folder().join("config.json")
    }

    fn podman_auth(&self) -> PathBuf {
        self.folder.path().join("podman-auth.json")
    }

    fn write_program(&self, name: &str, body: &str) {
        let path = self.bin().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Runs `ecrlab doctor --endpoint <endpoint>` with only this student's variables set and
    /// `AWS_ENDPOINT_URL` set to `endpoint`, and returns the exit code and standard output.
    async fn doctor(&self, endpoint: &str) -> (Option<i32>, String) {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecrlab"))
            .args(["doctor", "--endpoint", endpoint])
            .env_clear()
            .env("PATH", self.bin())
            .env("HOME", self.home())
            .env("DOCKER_CONFIG", self.docker_config_folder())
            .env("REGISTRY_AUTH_FILE", self.podman_auth())
            .env("AWS_ENDPOINT_URL", endpoint)
            .output()
            .await
            .expect("ecrlab doctor runs");
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.is_empty(),
            "ecrlab doctor wrote to standard error: {stderr}"
        );
        assert!(
            !stdout.contains('\u{1b}'),
            "the report contains escape codes: {stdout:?}"
        );
        (output.status.code(), stdout)
    }
}

/// Returns the report line about `subject`, such as `login`.
fn line_about<'a>(report: &'a str, subject: &str) -> &'a str {
    report
        .lines()
        .find(|line| {
            line.get(9..)
                .is_some_and(|rest| rest.starts_with(&format!("{subject}:")))
        })
        .unwrap_or_else(|| panic!("no line about {subject} in the report:\n{report}"))
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

async fn start_mock(data: &Path) -> mock_ecr::MockEcr {
    mock_ecr::MockEcr::start(mock_ecr::Config::new(data))
        .await
        .expect("the mock starts on 127.0.0.1")
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_warns_without_login() {
    let data = tempfile::tempdir().unwrap();
    let mock = start_mock(data.path()).await;
    let endpoint = mock.endpoint().to_owned();
    let host = mock.registry_host().to_owned();
    let student = Student::new(AWS_CLI_2);
    let bin = show(&student.bin());

    let (code, report) = student.doctor(&endpoint).await;

    assert_eq!(
        code,
        Some(0),
        "a missing login is a warning, not a problem:\n{report}"
    );
    assert_eq!(
        report.lines().next(),
        Some(format!("Checking the lab setup for the mock at {endpoint}").as_str())
    );
    assert_eq!(
        line_about(&report, "mock"),
        format!(
            "ok       mock: mock-ecr answers at {endpoint} (account 123456789012, region \
             us-east-1, registry host {host})."
        )
    );
    assert!(
        line_about(&report, "registry host").starts_with(&format!(
            "ok       registry host: {host} is a local name, so clients reach the mock through \
             it. To push to ECR's own host name instead, add the line '127.0.0.1 \
             123456789012.dkr.ecr.us-east-1.amazonaws.com' to /etc/hosts"
        )),
        "{report}"
    );
    assert_eq!(
        line_about(&report, "AWS CLI"),
        format!("ok       AWS CLI: aws-cli/2.17.0 at {bin}/aws reads AWS_ENDPOINT_URL.")
    );
    assert_eq!(
        line_about(&report, "AWS_ENDPOINT_URL"),
        format!(
            "ok       AWS_ENDPOINT_URL: AWS_ENDPOINT_URL is the mock's endpoint {endpoint} in \
             this shell."
        )
    );
    assert_eq!(
        line_about(&report, "container clients"),
        format!(
            "ok       container clients: docker at {bin}/docker reaches docker engine 27.3.1; \
             podman version 5.2.3 at {bin}/podman."
        )
    );
    assert_eq!(
        line_about(&report, "login"),
        format!(
            "warning  login: no login for {host}: docker's config {} does not exist; podman's \
             auth file {} does not exist. Fix: log in with `aws ecr get-login-password | docker \
             login --username AWS --password-stdin {host}`.",
            show(&student.docker_config()),
            show(&student.podman_auth())
        )
    );
    assert_eq!(report.lines().last(), Some("0 problems and 1 warning."));

    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_accepts_login_entry() {
    let data = tempfile::tempdir().unwrap();
    let mock = start_mock(data.path()).await;
    let endpoint = mock.endpoint().to_owned();
    let host = mock.registry_host().to_owned();
    let student = Student::new(AWS_CLI_2);
    // What `docker login` writes without a credential store: base64 of `user:password`.
    let auth = base64::engine::general_purpose::STANDARD.encode("AWS:token");
    let docker_config = serde_json::json!({ "auths": { &host: { "auth": auth } } });
    std::fs::write(student.docker_config(), docker_config.to_string()).unwrap();
    // A login kept from a mock that listened on another port.
    let podman_auth = serde_json::json!({ "auths": { "localhost:1": { "auth": auth } } });
    std::fs::write(student.podman_auth(), podman_auth.to_string()).unwrap();

    let (code, report) = student.doctor(&endpoint).await;

    assert_eq!(code, Some(0), "{report}");
    assert_eq!(
        line_about(&report, "login"),
        format!(
            "ok       login: docker's config {} has an entry for {host}; podman's auth file {} \
             has entries only for localhost:1, the same host name on another port, which is \
             another registry to docker and podman.",
            show(&student.docker_config()),
            show(&student.podman_auth())
        )
    );
    assert_eq!(report.lines().last(), Some("0 problems and 0 warnings."));

    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_reports_mock_not_running() {
    // A port that was free a moment ago, so nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let student = Student::new(AWS_CLI_2);

    let (code, report) = student.doctor(&endpoint).await;

    assert_eq!(
        code,
        Some(1),
        "a mock that does not answer is a problem:\n{report}"
    );
    let mock_line = line_about(&report, "mock");
    assert!(
        mock_line.starts_with(&format!("problem  mock: nothing answers at {endpoint} (")),
        "{mock_line}"
    );
    assert!(
        mock_line.ends_with(&format!(
            "Fix: start the mock in another shell with `ecrlab serve --listen 127.0.0.1:{port}`, \
             or pass the endpoint that `ecrlab serve` printed with --endpoint."
        )),
        "{mock_line}"
    );
    assert_eq!(
        line_about(&report, "registry host"),
        "warning  registry host: not checked, because the mock did not answer."
    );
    assert_eq!(
        line_about(&report, "login"),
        "warning  login: not checked, because the mock did not answer, so its registry host is \
         unknown."
    );
    assert_eq!(
        report.lines().last(),
        Some("1 problem and 2 warnings. Fix the problems above and run `ecrlab doctor` again.")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_reports_aws_cli_ignoring_endpoint() {
    let data = tempfile::tempdir().unwrap();
    let mock = start_mock(data.path()).await;
    let endpoint = mock.endpoint().to_owned();
    let student = Student::new(AWS_CLI_1_OLD);

    let (code, report) = student.doctor(&endpoint).await;

    assert_eq!(code, Some(1), "{report}");
    assert_eq!(
        line_about(&report, "AWS CLI"),
        format!(
            "problem  AWS CLI: aws-cli/1.27.0 at {}/aws ignores AWS_ENDPOINT_URL, so lab commands \
             would go to real AWS. Fix: install AWS CLI 2.13.0 or later (or 1.29.0 or later for \
             version 1), or add --endpoint-url {endpoint} to every aws command.",
            show(&student.bin())
        )
    );

    mock.shutdown().await;
}
