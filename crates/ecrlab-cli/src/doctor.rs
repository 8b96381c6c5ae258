//! `ecrlab doctor`: checks whether this machine is ready for the lab and prints one line per
//! check, `ok`, `warning` or `problem`, with the fix.
//!
//! The work has two halves. [`probe`] gathers [`Findings`]: it requests the mock's health,
//! resolves the registry host, runs `aws`, `docker` and `podman`, and reads the environment and
//! the registry auth files. [`diagnose`] turns findings into [`Line`]s without any I/O, so its
//! decisions are unit-tested with made-up findings.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use ecrlab_core::clients::{AdminClient, ClientError, EcrSettings, Health};
use ecrlab_core::hosts::{HostMapping, check_registry_host};
use reqwest::Url;

use crate::commands::DEFAULT_ENDPOINT;

/// The time limit of one probe command. `docker info` waits for the docker engine, so an
/// engine that does not respond shows as a failed check instead of a doctor that hangs.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Maximum length, in characters, of the error output that a line quotes from a command.
const MAX_QUOTED_CHARS: usize = 300;

// ---------------------------------------------------------------------------------------------
// Output

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// The lab can go on, but a step may fail or reach real AWS.
    Warning,
    /// A lab step cannot work until the student applies the fix.
    Problem,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Problem => "problem",
        }
    }
}

/// One printed result: what was checked, what was found and, when there is one, the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub status: Status,
    /// Topic of the line, such as `mock` or `login`.
    pub subject: &'static str,
    /// Findings, as one or more sentences.
    pub message: String,
    /// Remedy, as one sentence.
    pub fix: Option<String>,
}

impl Line {
    fn ok(subject: &'static str, message: String) -> Self {
        Line {
            status: Status::Ok,
            subject,
            message,
            fix: None,
        }
    }

    fn warning(subject: &'static str, message: String, fix: Option<String>) -> Self {
        Line {
            status: Status::Warning,
            subject,
            message,
            fix,
        }
    }

    fn problem(subject: &'static str, message: String, fix: Option<String>) -> Self {
        Line {
            status: Status::Problem,
            subject,
            message,
            fix,
        }
    }

    /// Formats the line as printed: the status padded to one column, the subject, the message
    /// and the fix.
    pub fn render(&self) -> String {
        let mut text = format!(
            "{:<7}  {}: {}",
            self.status.label(),
            self.subject,
            self.message
        );
        if let Some(fix) = &self.fix {
            text.push_str(" Fix: ");
            text.push_str(fix);
        }
        text
    }
}

/// Formats the whole report: a heading, one line per check and a count of problems and
/// warnings.
pub fn render_report(endpoint: &str, lines: &[Line]) -> String {
    let mut text = format!("Checking the lab setup for the mock at {endpoint}\n\n");
    for line in lines {
        text.push_str(&line.render());
        text.push('\n');
    }

    let problems = count_status(lines, Status::Problem);
    let warnings = count_status(lines, Status::Warning);
    text.push_str(&format!(
        "\n{} and {}.",
        count_noun(problems, "problem"),
        count_noun(warnings, "warning")
    ));
    if problems > 0 {
        text.push_str(" Fix the problems above and run `ecrlab doctor` again.");
    }
    text.push('\n');
    text
}

fn count_status(lines: &[Line], status: Status) -> usize {
    lines.iter().filter(|line| line.status == status).count()
}

fn count_noun(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

// ---------------------------------------------------------------------------------------------
// Findings

/// Results of the probes, the input of [`diagnose`].
#[derive(Debug, Clone)]
pub struct Findings {
    /// The mock's URL without a trailing `/`, as given with `--endpoint`.
    pub endpoint: String,
    pub mock: MockFinding,
    /// The result of `aws --version`.
    pub aws_cli: Program,
    pub endpoint_variables: EndpointVariables,
    /// The result of `docker info --format {{.ServerVersion}}`.
    pub docker: Program,
    /// The result of `podman --version`.
    pub podman: Program,
    /// docker's `config.json`.
    pub docker_config: AuthFile,
    /// podman's primary auth file.
    pub podman_auth: AuthFile,
}

/// The response to `GET /_ecrlab/health`.
#[derive(Debug, Clone)]
pub enum MockFinding {
    /// The mock returned its health, and its registry host resolves as `host_mapping` describes.
    Healthy {
        health: Health,
        host_mapping: HostMapping,
    },
    /// No HTTP response arrived. `cause` is the innermost error, such as `Connection refused
    /// (os error 111)`.
    Unreachable { cause: String },
    /// A response arrived that is not the mock's health, such as another server's 404 page.
    Unexpected { error: String },
}

/// An external program and the result of one run of it.
#[derive(Debug, Clone)]
pub enum Program {
    NotOnPath,
    /// `output` is the standard output followed by the standard error when the program exited
    /// with status 0, and otherwise the reason it failed.
    Ran {
        path: PathBuf,
        output: Result<String, String>,
    },
}

impl Program {
    fn succeeded(&self) -> bool {
        matches!(self, Program::Ran { output: Ok(_), .. })
    }
}

/// The environment variables that decide where the AWS CLI and SDKs send ECR requests. Empty
/// values are stored as `None`.
#[derive(Debug, Clone, Default)]
pub struct EndpointVariables {
    /// `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL_ECR`, which overrides `AWS_ENDPOINT_URL` for ECR.
    pub ecr_endpoint_url: Option<String>,
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`, which makes both of them ignored when `true`.
    pub ignore_configured_endpoint_urls: Option<String>,
}

/// A registry auth file in the format of docker's `config.json`, which podman's `auth.json`
/// shares.
#[derive(Debug, Clone)]
pub enum AuthFile {
    /// The file's location could not be determined, for `reason`.
    Unknown {
        reason: String,
    },
    Missing {
        path: PathBuf,
    },
    Unreadable {
        path: PathBuf,
        error: String,
    },
    Read {
        path: PathBuf,
        entries: AuthEntries,
    },
}

/// The registries an auth file names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEntries {
    /// The keys of `auths`: registry hosts, written with a scheme by old docker versions and
    /// with a repository namespace by podman (containers-auth.json(5), "FORMAT").
    pub auths: Vec<String>,
    /// `credHelpers`, from registry host to helper name. Docker runs `docker-credential-<name>`
    /// for that host.
    pub cred_helpers: BTreeMap<String, String>,
}

// ---------------------------------------------------------------------------------------------
// Decisions

/// Decides the verdict of every check from `findings`, in the order they are printed.
pub fn diagnose(findings: &Findings) -> Vec<Line> {
    let registry_host = match &findings.mock {
        MockFinding::Healthy { health, .. } => Some(health.registry_host.as_str()),
        _ => None,
    };
    let login_client = if !findings.docker.succeeded() && findings.podman.succeeded() {
        LoginClient::Podman
    } else {
        LoginClient::Docker
    };
    vec![
        mock_line(&findings.endpoint, &findings.mock),
        registry_host_line(&findings.mock),
        aws_cli_line(&findings.aws_cli, &findings.endpoint),
        endpoint_variables_line(&findings.endpoint_variables, &findings.endpoint),
        container_clients_line(&findings.docker, &findings.podman),
        login_line(
            registry_host,
            &findings.docker_config,
            &findings.podman_auth,
            login_client,
        ),
    ]
}

fn mock_line(endpoint: &str, mock: &MockFinding) -> Line {
    const SUBJECT: &str = "mock";
    match mock {
        MockFinding::Healthy { health, .. } => Line::ok(
            SUBJECT,
            format!(
                "mock-ecr answers at {endpoint} (account {}, region {}, registry host {}).",
                health.account_id, health.region, health.registry_host
            ),
        ),
        MockFinding::Unreachable { cause } => Line::problem(
            SUBJECT,
            format!("nothing answers at {endpoint} ({cause})."),
            Some(format!(
                "start the mock in another shell with `{}`, or pass the endpoint that \
                 `ecrlab serve` printed with --endpoint.",
                serve_command(endpoint)
            )),
        ),
        MockFinding::Unexpected { error } => Line::problem(
            SUBJECT,
            format!("the server at {endpoint} is not a working ecrlab mock: {error}."),
            Some(format!(
                "pass the endpoint that `ecrlab serve` printed with --endpoint, or stop that \
                 server and start the mock with `{}`.",
                serve_command(endpoint)
            )),
        ),
    }
}

/// Returns the `ecrlab serve` command that listens where `endpoint` points.
fn serve_command(endpoint: &str) -> String {
    let Ok(url) = Url::parse(endpoint) else {
        return "ecrlab serve".to_owned();
    };
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return "ecrlab serve".to_owned();
    };
    if same_endpoint(endpoint, DEFAULT_ENDPOINT) {
        "ecrlab serve".to_owned()
    } else {
        format!("ecrlab serve --listen {host}:{port}")
    }
}

fn registry_host_line(mock: &MockFinding) -> Line {
    const SUBJECT: &str = "registry host";
    let MockFinding::Healthy {
        health,
        host_mapping,
    } = mock
    else {
        return Line::warning(
            SUBJECT,
            "not checked, because the mock did not answer.".to_owned(),
            None,
        );
    };
    // The advice names the /etc/hosts line, which is the fix of the unusable mappings.
    match host_mapping {
        HostMapping::Local { .. } => Line::ok(
            SUBJECT,
            format!(
                "{} is a local name, so clients reach the mock through it. {}",
                health.registry_host,
                host_mapping.advice()
            ),
        ),
        HostMapping::Mapped { .. } => Line::ok(SUBJECT, host_mapping.advice()),
        HostMapping::Elsewhere { .. } | HostMapping::Unresolved { .. } => {
            Line::problem(SUBJECT, host_mapping.advice(), None)
        }
    }
}

fn aws_cli_line(aws_cli: &Program, endpoint: &str) -> Line {
    const SUBJECT: &str = "AWS CLI";
    let (path, output) = match aws_cli {
        Program::NotOnPath => {
            return Line::warning(
                SUBJECT,
                "`aws` is not on PATH, so the lab's `aws ecr` commands cannot run.".to_owned(),
                Some(
                    "install AWS CLI version 2 (2.13.0 or later) and open a new shell.".to_owned(),
                ),
            );
        }
        Program::Ran { path, output } => (path.display(), output),
    };
    let text = match output {
        Ok(text) => text,
        Err(error) => {
            return Line::warning(
                SUBJECT,
                format!("`{path} --version` failed: {error}."),
                Some("check that `aws --version` works in this shell.".to_owned()),
            );
        }
    };
    let Some(version) = aws_cli_version(text) else {
        return Line::warning(
            SUBJECT,
            format!(
                "`{path} --version` printed no aws-cli/ version: {}.",
                first_line(text)
            ),
            Some("check that `aws` on PATH is the AWS CLI.".to_owned()),
        );
    };
    if ecrlab_core::clients::aws_cli_ignoring_endpoint_env(text).is_some() {
        Line::problem(
            SUBJECT,
            format!(
                "aws-cli/{version} at {path} ignores AWS_ENDPOINT_URL, so lab commands would go \
                 to real AWS."
            ),
            Some(format!(
                "install AWS CLI 2.13.0 or later (or 1.29.0 or later for version 1), or add \
                 --endpoint-url {endpoint} to every aws command."
            )),
        )
    } else {
        Line::ok(
            SUBJECT,
            format!("aws-cli/{version} at {path} reads AWS_ENDPOINT_URL."),
        )
    }
}

/// Returns the version in `aws --version` output such as `aws-cli/2.17.0 Python/3.12.6 ...`.
fn aws_cli_version(output: &str) -> Option<&str> {
    output
        .split_whitespace()
        .find_map(|word| word.strip_prefix("aws-cli/"))
}

fn endpoint_variables_line(variables: &EndpointVariables, endpoint: &str) -> Line {
    const SUBJECT: &str = "AWS_ENDPOINT_URL";
    let mut findings = Vec::new();
    let ignored = variables.ignore_configured_endpoint_urls.as_deref();
    if let Some(value) = ignored.filter(|value| value.eq_ignore_ascii_case("true")) {
        findings.push(format!(
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is {value}, so the AWS CLI and SDKs ignore the \
             endpoint variables and send ECR commands to real AWS."
        ));
    }
    let ecr_endpoint = variables.ecr_endpoint_url.as_deref();
    if let Some(value) = ecr_endpoint.filter(|value| !same_endpoint(value, endpoint)) {
        findings.push(format!(
            "AWS_ENDPOINT_URL_ECR is {value}, which overrides AWS_ENDPOINT_URL for ECR commands, \
             so they go there instead of to the mock."
        ));
    }
    match &variables.endpoint_url {
        None => findings.push(
            "AWS_ENDPOINT_URL is not set in this shell, so AWS CLI commands go to real AWS \
             instead of the mock."
                .to_owned(),
        ),
        Some(value) if !same_endpoint(value, endpoint) => findings.push(format!(
            "AWS_ENDPOINT_URL is {value}, not the mock's endpoint {endpoint}."
        )),
        Some(_) => {}
    }

    if findings.is_empty() {
        Line::ok(
            SUBJECT,
            format!("AWS_ENDPOINT_URL is the mock's endpoint {endpoint} in this shell."),
        )
    } else {
        Line::warning(
            SUBJECT,
            findings.join(" "),
            Some(format!(
                "run `eval \"$(ecrlab env --endpoint {endpoint})\"` in this shell."
            )),
        )
    }
}

/// Returns whether two endpoint URLs reach the same server: equal scheme and port, and equal host
/// names or loopback names on both sides (`localhost` and `127.0.0.1`).
fn same_endpoint(left: &str, right: &str) -> bool {
    let (Ok(left_url), Ok(right_url)) = (Url::parse(left), Url::parse(right)) else {
        return left.trim_end_matches('/') == right.trim_end_matches('/');
    };
    let (Some(left_host), Some(right_host)) = (left_url.host_str(), right_url.host_str()) else {
        return false;
    };
    left_url.scheme() == right_url.scheme()
        && left_url.port_or_known_default() == right_url.port_or_known_default()
        && left_url.path() == right_url.path()
        && (left_host.eq_ignore_ascii_case(right_host)
            || (is_loopback_name(left_host) && is_loopback_name(right_host)))
}

fn is_loopback_name(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

fn container_clients_line(docker: &Program, podman: &Program) -> Line {
    const SUBJECT: &str = "container clients";
    let docker_text = match docker {
        Program::NotOnPath => "docker is not on PATH".to_owned(),
        Program::Ran {
            path,
            output: Ok(version),
        } => format!(
            "docker at {} reaches docker engine {}",
            path.display(),
            first_line(version)
        ),
        Program::Ran {
            path,
            output: Err(error),
        } => format!(
            "docker at {} cannot reach the docker engine (`docker info`: {error})",
            path.display()
        ),
    };
    let podman_text = match podman {
        Program::NotOnPath => "podman is not on PATH".to_owned(),
        Program::Ran {
            path,
            output: Ok(version),
        } => format!("{} at {}", first_line(version), path.display()),
        Program::Ran {
            path,
            output: Err(error),
        } => format!(
            "podman at {} failed (`podman --version`: {error})",
            path.display()
        ),
    };
    let message = format!("{docker_text}; {podman_text}.");

    if docker.succeeded() || podman.succeeded() {
        Line::ok(SUBJECT, message)
    } else {
        Line::warning(
            SUBJECT,
            format!("neither docker nor podman can push images: {message}"),
            Some(
                "install docker or podman; with docker installed, start its engine so that \
                 `docker info` works."
                    .to_owned(),
            ),
        )
    }
}

/// The client that the login command in a fix names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoginClient {
    Docker,
    Podman,
}

/// Returns the lab's login command for `client` and the registry `host`.
fn login_command(client: LoginClient, host: &str) -> String {
    match client {
        LoginClient::Docker => format!(
            "aws ecr get-login-password | docker login --username AWS --password-stdin {host}"
        ),
        // podman reaches the mock's plain-HTTP registry only with --tls-verify=false, unlike
        // docker, which treats loopback registries as insecure (see `ecrlab_core::hosts`).
        LoginClient::Podman => format!(
            "aws ecr get-login-password | podman login --username AWS --password-stdin \
             --tls-verify=false {host}"
        ),
    }
}

/// Entry that an auth file has for one registry host.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EntryMatch {
    /// An `auths` key for the host, quoted as written (it may carry a scheme or namespace).
    Auth(String),
    /// A `credHelpers` entry for the host, naming the helper.
    Helper(String),
    /// No entry for the host, but `auths` keys for the same host name on other ports.
    OtherPorts(Vec<String>),
    None,
}

/// Finds the entry for `host` (`name:port`) in `entries`. Keys are compared as docker reads
/// them: without an `http://` or `https://` prefix and without a path.
fn find_entry(entries: &AuthEntries, host: &str) -> EntryMatch {
    if let Some(key) = entries
        .auths
        .iter()
        .find(|key| registry_of_key(key) == host)
    {
        return EntryMatch::Auth(key.clone());
    }
    if let Some(helper) = entries.cred_helpers.get(host) {
        return EntryMatch::Helper(helper.clone());
    }
    let name = host_name(host);
    let other_ports: Vec<String> = entries
        .auths
        .iter()
        .filter(|key| host_name(registry_of_key(key)) == name)
        .cloned()
        .collect();
    if other_ports.is_empty() {
        EntryMatch::None
    } else {
        EntryMatch::OtherPorts(other_ports)
    }
}

/// Returns the registry host of an `auths` key: `https://localhost:5000/v1/` and
/// `localhost:5000/team` both name `localhost:5000`.
fn registry_of_key(key: &str) -> &str {
    let without_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    without_scheme.split('/').next().unwrap_or(without_scheme)
}

/// Returns the host name of `name:port` or `[v6]:port`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(name, _)| name);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

fn login_line(
    registry_host: Option<&str>,
    docker_config: &AuthFile,
    podman_auth: &AuthFile,
    client: LoginClient,
) -> Line {
    const SUBJECT: &str = "login";
    let Some(host) = registry_host else {
        return Line::warning(
            SUBJECT,
            "not checked, because the mock did not answer, so its registry host is unknown."
                .to_owned(),
            None,
        );
    };
    let files = [
        ("docker's config", docker_config),
        ("podman's auth file", podman_auth),
    ];
    let mut logged_in = false;
    let mut descriptions = Vec::new();
    for (label, file) in files {
        let (description, found) = describe_auth_file(label, file, host);
        logged_in |= found;
        descriptions.push(description);
    }
    let message = format!("{}.", descriptions.join("; "));

    if logged_in {
        Line::ok(SUBJECT, message)
    } else {
        Line::warning(
            SUBJECT,
            format!("no login for {host}: {message}"),
            Some(format!("log in with `{}`.", login_command(client, host))),
        )
    }
}

/// Describes what `file` holds for `host`, and whether that is a login.
fn describe_auth_file(label: &str, file: &AuthFile, host: &str) -> (String, bool) {
    match file {
        AuthFile::Unknown { reason } => (format!("{label} was not found ({reason})"), false),
        AuthFile::Missing { path } => (format!("{label} {} does not exist", path.display()), false),
        AuthFile::Unreadable { path, error } => (
            format!("{label} {} cannot be read: {error}", path.display()),
            false,
        ),
        AuthFile::Read { path, entries } => {
            let path = path.display();
            match find_entry(entries, host) {
                EntryMatch::Auth(key) => (format!("{label} {path} has an entry for {key}"), true),
                EntryMatch::Helper(helper) => (
                    format!(
                        "{label} {path} gets the credentials for {host} from \
                         docker-credential-{helper} (credHelpers)"
                    ),
                    true,
                ),
                EntryMatch::OtherPorts(keys) => (
                    format!(
                        "{label} {path} has entries only for {}, the same host name on another \
                         port, which is another registry to docker and podman",
                        keys.join(", ")
                    ),
                    false,
                ),
                EntryMatch::None => (format!("{label} {path} has no entry for {host}"), false),
            }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Probes

/// The process environment that the probes read. Empty values are stored as `None`, so an
/// empty variable counts as unset.
#[derive(Debug, Clone, Default)]
struct Environment {
    path: Option<OsString>,
    home: Option<PathBuf>,
    docker_config: Option<PathBuf>,
    registry_auth_file: Option<PathBuf>,
    xdg_runtime_dir: Option<PathBuf>,
    /// The user ID, for podman's auth file when `XDG_RUNTIME_DIR` is unset.
    uid: Option<u32>,
    /// Whether podman's Linux defaults apply; elsewhere it uses `$HOME/.config`.
    linux: bool,
    endpoint_variables: EndpointVariables,
}

impl Environment {
    fn from_process() -> Self {
        let path = |name: &str| non_empty_var(name).map(PathBuf::from);
        let text =
            |name: &str| non_empty_var(name).map(|value| value.to_string_lossy().into_owned());
        Environment {
            path: non_empty_var("PATH"),
            home: path("HOME"),
            docker_config: path("DOCKER_CONFIG"),
            registry_auth_file: path("REGISTRY_AUTH_FILE"),
            xdg_runtime_dir: path("XDG_RUNTIME_DIR"),
            uid: current_uid(),
            linux: cfg!(target_os = "linux"),
            endpoint_variables: EndpointVariables {
                endpoint_url: text("AWS_ENDPOINT_URL"),
                ecr_endpoint_url: text("AWS_ENDPOINT_URL_ECR"),
                ignore_configured_endpoint_urls: text("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"),
            },
        }
    }
}

fn non_empty_var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

/// Returns the user ID of this process, read from the owner of `/proc/self` (Linux).
#[cfg(unix)]
fn current_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt as _;

    std::fs::metadata("/proc/self")
        .ok()
        .map(|metadata| metadata.uid())
}

#[cfg(not(unix))]
fn current_uid() -> Option<u32> {
    None
}

/// Returns docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn docker_config_path(environment: &Environment) -> Result<PathBuf, String> {
    if let Some(folder) = &environment.docker_config {
        return Ok(folder.join("config.json"));
    }
    match &environment.home {
        Some(home) => Ok(home.join(".docker").join("config.json")),
        None => Err("neither DOCKER_CONFIG nor HOME is set".to_owned()),
    }
}

/// Returns podman's primary auth file: `$REGISTRY_AUTH_FILE`, else
/// `$XDG_RUNTIME_DIR/containers/auth.json` on Linux and `$HOME/.config/containers/auth.json`
/// elsewhere (containers-auth.json(5), "DESCRIPTION"). Without `XDG_RUNTIME_DIR`, Linux uses
/// `/run/containers/<uid>/auth.json`, which containers/image's `pkg/docker/config` tests expect.
fn podman_auth_path(environment: &Environment) -> Result<PathBuf, String> {
    if let Some(file) = &environment.registry_auth_file {
        return Ok(file.clone());
    }
    if !environment.linux {
        return match &environment.home {
            Some(home) => Ok(home.join(".config").join("containers").join("auth.json")),
            None => Err("neither REGISTRY_AUTH_FILE nor HOME is set".to_owned()),
        };
    }
    if let Some(folder) = &environment.xdg_runtime_dir {
        return Ok(folder.join("containers").join("auth.json"));
    }
    match environment.uid {
        Some(uid) => Ok(PathBuf::from(format!("/run/containers/{uid}/auth.json"))),
        None => Err(
            "neither REGISTRY_AUTH_FILE nor XDG_RUNTIME_DIR is set, and the user ID is unknown"
                .to_owned(),
        ),
    }
}

/// Reads the auth file at `path`, or records why there is none.
fn read_auth_file(path: Result<PathBuf, String>) -> AuthFile {
    let path = match path {
        Ok(path) => path,
        Err(reason) => return AuthFile::Unknown { reason },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return AuthFile::Missing { path };
        }
        Err(error) => {
            return AuthFile::Unreadable {
                path,
                error: error.to_string(),
            };
        }
    };
    match parse_auth_entries(&text) {
        Ok(entries) => AuthFile::Read { path, entries },
        Err(error) => AuthFile::Unreadable { path, error },
    }
}

/// Parses the `auths` keys and `credHelpers` of an auth file. An empty file has no entries,
/// as docker reads it.
fn parse_auth_entries(text: &str) -> Result<AuthEntries, String> {
    if text.trim().is_empty() {
        return Ok(AuthEntries::default());
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| format!("invalid JSON ({error})"))?;
    let object = value
        .as_object()
        .ok_or_else(|| "the file is JSON but not an object".to_owned())?;
    // Sorted, because the JSON object's key order depends on serde_json's features.
    let mut auths: Vec<String> = object
        .get("auths")
        .and_then(serde_json::Value::as_object)
        .map(|auths| auths.keys().cloned().collect())
        .unwrap_or_default();
    auths.sort();
    let cred_helpers = object
        .get("credHelpers")
        .and_then(serde_json::Value::as_object)
        .map(|helpers| {
            helpers
                .iter()
                .filter_map(|(host, helper)| Some((host.clone(), helper.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok(AuthEntries {
        auths,
        cred_helpers,
    })
}

/// Gathers every finding for the mock at `endpoint`. Fails only when `endpoint` is not a valid
/// mock URL, because every other failure becomes a finding.
pub async fn probe(endpoint: &str) -> anyhow::Result<Findings> {
    let settings = EcrSettings::for_mock(endpoint)?;
    let admin = settings.admin_client()?;
    let environment = Environment::from_process();
    let search_path = environment.path.as_deref();

    let (mock, aws_cli, docker, podman) = tokio::join!(
        probe_mock(&admin),
        run_program("aws", &["--version"], search_path),
        run_program(
            "docker",
            &["info", "--format", "{{.ServerVersion}}"],
            search_path
        ),
        run_program("podman", &["--version"], search_path),
    );
    Ok(Findings {
        endpoint: settings.endpoint_base().unwrap_or(endpoint).to_owned(),
        mock,
        aws_cli,
        endpoint_variables: environment.endpoint_variables.clone(),
        docker,
        podman,
        docker_config: read_auth_file(docker_config_path(&environment)),
        podman_auth: read_auth_file(podman_auth_path(&environment)),
    })
}

async fn probe_mock(admin: &AdminClient) -> MockFinding {
    match admin.health().await {
        Ok(health) => {
            let host_mapping =
                check_registry_host(&health.registry_host, &health.account_id, &health.region)
                    .await;
            MockFinding::Healthy {
                health,
                host_mapping,
            }
        }
        Err(ClientError::Request { source, .. }) => MockFinding::Unreachable {
            cause: innermost_cause(&source),
        },
        Err(error) => MockFinding::Unexpected {
            error: format!("{:#}", anyhow::Error::new(error)),
        },
    }
}

fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Finds `name` on the search path and runs it with `args`.
async fn run_program(name: &str, args: &[&str], search_path: Option<&OsStr>) -> Program {
    let Some(path) = find_on_path(name, search_path) else {
        return Program::NotOnPath;
    };
    let output = run_with_timeout(&path, args).await;
    Program::Ran { path, output }
}

/// Finds an executable file named `name` in the folders of `search_path`, as a shell does.
fn find_on_path(name: &str, search_path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(search_path?)
        .map(|folder| folder.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;

    path.metadata()
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Runs `program` with `args` and no input, for at most [`COMMAND_TIMEOUT`].
pub(crate) async fn run_with_timeout(program: &Path, args: &[&str]) -> Result<String, String> {
    let run = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(COMMAND_TIMEOUT, run).await {
        Err(_) => {
            return Err(format!(
                "it did not finish within {} s",
                COMMAND_TIMEOUT.as_secs()
            ));
        }
        Ok(Err(error)) => return Err(error.to_string()),
        Ok(Ok(output)) => output,
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        // AWS CLI version 1 prints its version on standard error, version 2 on standard output.
        return Ok(format!("{stdout}\n{stderr}"));
    }
    let reason = first_line(&stderr);
    if reason.is_empty() {
        Err(format!("it exited with {}", output.status))
    } else {
        Err(truncate(reason, MAX_QUOTED_CHARS))
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// Runs every check against the mock at `endpoint` and prints the report. Returns failure when
/// a check found a problem.
pub async fn run(endpoint: &str, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let findings = probe(endpoint).await?;
    let lines = diagnose(&findings);
    write!(out, "{}", render_report(&findings.endpoint, &lines))?;
    out.flush()?;
    if lines.iter().any(|line| line.status == Status::Problem) {
        Ok(ExitCode::FAILURE)
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENDPOINT: &str = "http://127.0.0.1:5000";
    const HOST: &str = "localhost:5000";
    const ECR_NAME: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

    fn health(registry_host: &str) -> Health {
        Health {
            status: "ok".to_owned(),
            account_id: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            registry_host: registry_host.to_owned(),
            endpoint: ENDPOINT.to_owned(),
        }
    }

    fn healthy(registry_host: &str, host_mapping: HostMapping) -> MockFinding {
        MockFinding::Healthy {
            health: health(registry_host),
            host_mapping,
        }
    }

    fn local_mock() -> MockFinding {
        healthy(
            HOST,
            HostMapping::Local {
                suggested: ECR_NAME.to_owned(),
            },
        )
    }

    fn ran(path: &str, output: Result<&str, &str>) -> Program {
        Program::Ran {
            path: PathBuf::from(path),
            output: output.map(str::to_owned).map_err(str::to_owned),
        }
    }

    fn auth_file(path: &str, auths: &[&str]) -> AuthFile {
        AuthFile::Read {
            path: PathBuf::from(path),
            entries: AuthEntries {
                auths: auths.iter().map(|key| key.to_string()).collect(),
                cred_helpers: BTreeMap::new(),
            },
        }
    }

    fn missing(path: &str) -> AuthFile {
        AuthFile::Missing {
            path: PathBuf::from(path),
        }
    }

    #[test]
    fn mock_line_cases() {
        let cases = [
            (
                "healthy",
                ENDPOINT,
                local_mock(),
                "ok       mock: mock-ecr answers at http://127.0.0.1:5000 (account 123456789012, \
                 region us-east-1, registry host localhost:5000).",
            ),
            (
                "refused on the default endpoint",
                ENDPOINT,
                MockFinding::Unreachable {
                    cause: "Connection refused (os error 111)".to_owned(),
                },
                "problem  mock: nothing answers at http://127.0.0.1:5000 (Connection refused (os \
                 error 111)). Fix: start the mock in another shell with `ecrlab serve`, or pass \
                 the endpoint that `ecrlab serve` printed with --endpoint.",
            ),
            (
                "refused on another port",
                "http://127.0.0.1:59999",
                MockFinding::Unreachable {
                    cause: "Connection refused (os error 111)".to_owned(),
                },
                "problem  mock: nothing answers at http://127.0.0.1:59999 (Connection refused (os \
                 error 111)). Fix: start the mock in another shell with `ecrlab serve --listen \
                 127.0.0.1:59999`, or pass the endpoint that `ecrlab serve` printed with \
                 --endpoint.",
            ),
            (
                "another server",
                "http://localhost:8080",
                MockFinding::Unexpected {
                    error: "GET http://localhost:8080/_ecrlab/health returned HTTP 404: an HTML \
                            page"
                        .to_owned(),
                },
                "problem  mock: the server at http://localhost:8080 is not a working ecrlab mock: \
                 GET http://localhost:8080/_ecrlab/health returned HTTP 404: an HTML page. Fix: \
                 pass the endpoint that `ecrlab serve` printed with --endpoint, or stop that \
                 server and start the mock with `ecrlab serve --listen localhost:8080`.",
            ),
        ];
        for (name, endpoint, finding, expected) in cases {
            assert_eq!(
                mock_line(endpoint, &finding).render(),
                expected,
                "case: {name}"
            );
        }
    }

    #[test]
    fn registry_host_line_cases() {
        let ecr_host = format!("{ECR_NAME}:5000");
        let cases = [
            (
                "mock down",
                MockFinding::Unreachable {
                    cause: "refused".to_owned(),
                },
                Status::Warning,
            ),
            ("local name", local_mock(), Status::Ok),
            (
                "mapped to this machine",
                healthy(
                    &ecr_host,
                    HostMapping::Mapped {
                        name: ECR_NAME.to_owned(),
                    },
                ),
                Status::Ok,
            ),
            (
                "resolves to AWS",
                healthy(
                    &ecr_host,
                    HostMapping::Elsewhere {
                        name: ECR_NAME.to_owned(),
                        addresses: vec!["52.1.2.3".parse().unwrap()],
                    },
                ),
                Status::Problem,
            ),
            (
                "does not resolve",
                healthy(
                    &ecr_host,
                    HostMapping::Unresolved {
                        name: ECR_NAME.to_owned(),
                        error: "no such host".to_owned(),
                    },
                ),
                Status::Problem,
            ),
        ];
        for (name, finding, status) in cases {
            let line = registry_host_line(&finding);
            assert_eq!(line.status, status, "case: {name}");
            assert_eq!(line.subject, "registry host", "case: {name}");
            if let MockFinding::Healthy { host_mapping, .. } = &finding {
                assert!(
                    line.message.contains(&host_mapping.advice()),
                    "case {name}: the line quotes the advice: {}",
                    line.message
                );
            }
            if status == Status::Problem {
                assert!(
                    line.message.contains(&format!(
                        "add the line '127.0.0.1 {ECR_NAME}' to /etc/hosts"
                    )),
                    "case {name}: the fix is the /etc/hosts line: {}",
                    line.message
                );
            }
        }
        assert_eq!(
            registry_host_line(&local_mock()).render(),
            format!(
                "ok       registry host: localhost:5000 is a local name, so clients reach the mock \
                 through it. {}",
                HostMapping::Local {
                    suggested: ECR_NAME.to_owned()
                }
                .advice()
            )
        );
        assert_eq!(
            registry_host_line(&MockFinding::Unreachable {
                cause: "refused".to_owned()
            })
            .render(),
            "warning  registry host: not checked, because the mock did not answer."
        );
    }

    #[test]
    fn aws_cli_line_cases() {
        let cases = [
            (
                "not on PATH",
                Program::NotOnPath,
                "warning  AWS CLI: `aws` is not on PATH, so the lab's `aws ecr` commands cannot \
                 run. Fix: install AWS CLI version 2 (2.13.0 or later) and open a new shell.",
            ),
            (
                "fails to run",
                ran("/usr/bin/aws", Err("Permission denied (os error 13)")),
                "warning  AWS CLI: `/usr/bin/aws --version` failed: Permission denied (os error \
                 13). Fix: check that `aws --version` works in this shell.",
            ),
            (
                "prints no version",
                ran("/usr/bin/aws", Ok("usage: aws [options]\n")),
                "warning  AWS CLI: `/usr/bin/aws --version` printed no aws-cli/ version: usage: \
                 aws [options]. Fix: check that `aws` on PATH is the AWS CLI.",
            ),
            (
                "version 2 that reads AWS_ENDPOINT_URL",
                ran(
                    "/usr/local/bin/aws",
                    Ok("aws-cli/2.17.0 Python/3.12.6 Linux/6.1 exe/x86_64\n\n"),
                ),
                "ok       AWS CLI: aws-cli/2.17.0 at /usr/local/bin/aws reads AWS_ENDPOINT_URL.",
            ),
            (
                "version 2 that ignores AWS_ENDPOINT_URL",
                ran(
                    "/usr/bin/aws",
                    Ok("aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12\n"),
                ),
                "problem  AWS CLI: aws-cli/2.9.19 at /usr/bin/aws ignores AWS_ENDPOINT_URL, so \
                 lab commands would go to real AWS. Fix: install AWS CLI 2.13.0 or later (or \
                 1.29.0 or later for version 1), or add --endpoint-url http://127.0.0.1:5000 to \
                 every aws command.",
            ),
            (
                "version 1 on standard error that ignores AWS_ENDPOINT_URL",
                ran(
                    "/usr/bin/aws",
                    Ok("\naws-cli/1.27.0 Python/3.11.7 Linux/6.1 botocore/1.29.0\n"),
                ),
                "problem  AWS CLI: aws-cli/1.27.0 at /usr/bin/aws ignores AWS_ENDPOINT_URL, so \
                 lab commands would go to real AWS. Fix: install AWS CLI 2.13.0 or later (or \
                 1.29.0 or later for version 1), or add --endpoint-url http://127.0.0.1:5000 to \
                 every aws command.",
            ),
        ];
        for (name, program, expected) in cases {
            assert_eq!(
                aws_cli_line(&program, ENDPOINT).render(),
                expected,
                "case: {name}"
            );
        }
    }

    #[test]
    fn endpoint_variables_line_cases() {
        let variables =
            |endpoint: Option<&str>, ecr: Option<&str>, ignore: Option<&str>| EndpointVariables {
                endpoint_url: endpoint.map(str::to_owned),
                ecr_endpoint_url: ecr.map(str::to_owned),
                ignore_configured_endpoint_urls: ignore.map(str::to_owned),
            };
        let ok = "ok       AWS_ENDPOINT_URL: AWS_ENDPOINT_URL is the mock's endpoint \
                  http://127.0.0.1:5000 in this shell.";
        let fix = " Fix: run `eval \"$(ecrlab env --endpoint http://127.0.0.1:5000)\"` in this \
                   shell.";
        let cases = [
            (
                "exact",
                variables(Some(ENDPOINT), None, None),
                ok.to_owned(),
            ),
            (
                "trailing slash",
                variables(Some("http://127.0.0.1:5000/"), None, None),
                ok.to_owned(),
            ),
            (
                "localhost for 127.0.0.1",
                variables(Some("http://localhost:5000"), None, None),
                ok.to_owned(),
            ),
            (
                "ECR variable equal and ignore flag false",
                variables(Some(ENDPOINT), Some(ENDPOINT), Some("false")),
                ok.to_owned(),
            ),
            (
                "unset",
                variables(None, None, None),
                format!(
                    "warning  AWS_ENDPOINT_URL: AWS_ENDPOINT_URL is not set in this shell, so AWS \
                     CLI commands go to real AWS instead of the mock.{fix}"
                ),
            ),
            (
                "another port",
                variables(Some("http://127.0.0.1:5001"), None, None),
                format!(
                    "warning  AWS_ENDPOINT_URL: AWS_ENDPOINT_URL is http://127.0.0.1:5001, not the \
                     mock's endpoint http://127.0.0.1:5000.{fix}"
                ),
            ),
            (
                "ECR variable elsewhere",
                variables(
                    Some(ENDPOINT),
                    Some("https://ecr.us-east-1.amazonaws.com"),
                    None,
                ),
                format!(
                    "warning  AWS_ENDPOINT_URL: AWS_ENDPOINT_URL_ECR is \
                     https://ecr.us-east-1.amazonaws.com, which overrides AWS_ENDPOINT_URL for \
                     ECR commands, so they go there instead of to the mock.{fix}"
                ),
            ),
            (
                "endpoint variables ignored and unset",
                variables(None, None, Some("TRUE")),
                format!(
                    "warning  AWS_ENDPOINT_URL: AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is TRUE, so \
                     the AWS CLI and SDKs ignore the endpoint variables and send ECR commands to \
                     real AWS. AWS_ENDPOINT_URL is not set in this shell, so AWS CLI commands go \
                     to real AWS instead of the mock.{fix}"
                ),
            ),
        ];
        for (name, variables, expected) in cases {
            assert_eq!(
                endpoint_variables_line(&variables, ENDPOINT).render(),
                expected,
                "case: {name}"
            );
        }
    }

    #[test]
    fn same_endpoint_cases() {
        let cases = [
            ("http://127.0.0.1:5000", "http://127.0.0.1:5000/", true),
            ("http://LOCALHOST:5000", "http://127.0.0.1:5000", true),
            ("http://[::1]:5000", "http://127.0.0.1:5000", true),
            ("http://127.0.0.1:80", "http://127.0.0.1", true),
            ("https://127.0.0.1:5000", "http://127.0.0.1:5000", false),
            ("http://127.0.0.1:5001", "http://127.0.0.1:5000", false),
            ("http://192.168.1.9:5000", "http://127.0.0.1:5000", false),
            ("not a url", "http://127.0.0.1:5000", false),
        ];
        for (left, right, same) in cases {
            assert_eq!(same_endpoint(left, right), same, "{left} and {right}");
        }
    }

    #[test]
    fn container_clients_line_cases() {
        let docker_ok = ran("/usr/bin/docker", Ok("27.3.1\n"));
        let docker_down = ran(
            "/usr/bin/docker",
            Err(
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the \
                 docker daemon running?",
            ),
        );
        let podman_ok = ran("/usr/bin/podman", Ok("podman version 5.2.3\n"));
        let fix = " Fix: install docker or podman; with docker installed, start its engine so \
                   that `docker info` works.";
        let cases = [
            (
                "both",
                docker_ok.clone(),
                podman_ok.clone(),
                "ok       container clients: docker at /usr/bin/docker reaches docker engine \
                 27.3.1; podman version 5.2.3 at /usr/bin/podman."
                    .to_owned(),
            ),
            (
                "docker only",
                docker_ok,
                Program::NotOnPath,
                "ok       container clients: docker at /usr/bin/docker reaches docker engine \
                 27.3.1; podman is not on PATH."
                    .to_owned(),
            ),
            (
                "podman with docker's engine down",
                docker_down.clone(),
                podman_ok,
                "ok       container clients: docker at /usr/bin/docker cannot reach the docker \
                 engine (`docker info`: Cannot connect to the Docker daemon at \
                 unix:///var/run/docker.sock. Is the docker daemon running?); podman version \
                 5.2.3 at /usr/bin/podman."
                    .to_owned(),
            ),
            (
                "docker's engine down and no podman",
                docker_down,
                Program::NotOnPath,
                format!(
                    "warning  container clients: neither docker nor podman can push images: \
                     docker at /usr/bin/docker cannot reach the docker engine (`docker info`: \
                     Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the \
                     docker daemon running?); podman is not on PATH.{fix}"
                ),
            ),
            (
                "neither on PATH",
                Program::NotOnPath,
                ran("/usr/bin/podman", Err("it did not finish within 10 s")),
                format!(
                    "warning  container clients: neither docker nor podman can push images: \
                     docker is not on PATH; podman at /usr/bin/podman failed (`podman --version`: \
                     it did not finish within 10 s).{fix}"
                ),
            ),
        ];
        for (name, docker, podman, expected) in cases {
            assert_eq!(
                container_clients_line(&docker, &podman).render(),
                expected,
                "case: {name}"
            );
        }
    }

    #[test]
    fn login_line_cases() {
        let docker_path = "/home/student/.docker/config.json";
        let podman_path = "/run/user/1000/containers/auth.json";
        let docker_fix = " Fix: log in with `aws ecr get-login-password | docker login --username \
                          AWS --password-stdin localhost:5000`.";
        let helper = AuthFile::Read {
            path: PathBuf::from(docker_path),
            entries: AuthEntries {
                auths: Vec::new(),
                cred_helpers: BTreeMap::from([(HOST.to_owned(), "pass".to_owned())]),
            },
        };
        let cases = [
            (
                "docker entry",
                auth_file(docker_path, &["https://index.docker.io/v1/", HOST]),
                missing(podman_path),
                "ok       login: docker's config /home/student/.docker/config.json has an entry \
                 for localhost:5000; podman's auth file /run/user/1000/containers/auth.json does \
                 not exist."
                    .to_owned(),
            ),
            (
                "podman entry for a namespace",
                missing(docker_path),
                auth_file(podman_path, &["localhost:5000/team"]),
                "ok       login: docker's config /home/student/.docker/config.json does not \
                 exist; podman's auth file /run/user/1000/containers/auth.json has an entry for \
                 localhost:5000/team."
                    .to_owned(),
            ),
            (
                "docker entry with a scheme",
                auth_file(docker_path, &["http://localhost:5000"]),
                missing(podman_path),
                "ok       login: docker's config /home/student/.docker/config.json has an entry \
                 for http://localhost:5000; podman's auth file \
                 /run/user/1000/containers/auth.json does not exist."
                    .to_owned(),
            ),
            (
                "credential helper",
                helper,
                missing(podman_path),
                "ok       login: docker's config /home/student/.docker/config.json gets the \
                 credentials for localhost:5000 from docker-credential-pass (credHelpers); \
                 podman's auth file /run/user/1000/containers/auth.json does not exist."
                    .to_owned(),
            ),
            (
                "no files",
                missing(docker_path),
                missing(podman_path),
                format!(
                    "warning  login: no login for localhost:5000: docker's config \
                     /home/student/.docker/config.json does not exist; podman's auth file \
                     /run/user/1000/containers/auth.json does not exist.{docker_fix}"
                ),
            ),
            (
                "another port",
                auth_file(docker_path, &["localhost:5001", "127.0.0.1:5000"]),
                auth_file(podman_path, &[]),
                format!(
                    "warning  login: no login for localhost:5000: docker's config \
                     /home/student/.docker/config.json has entries only for localhost:5001, the \
                     same host name on another port, which is another registry to docker and \
                     podman; podman's auth file /run/user/1000/containers/auth.json has no entry \
                     for localhost:5000.{docker_fix}"
                ),
            ),
            (
                "unreadable and unknown",
                AuthFile::Unreadable {
                    path: PathBuf::from(docker_path),
                    error: "invalid JSON (expected value at line 1 column 1)".to_owned(),
                },
                AuthFile::Unknown {
                    reason: "neither REGISTRY_AUTH_FILE nor HOME is set".to_owned(),
                },
                format!(
                    "warning  login: no login for localhost:5000: docker's config \
                     /home/student/.docker/config.json cannot be read: invalid JSON (expected \
                     value at line 1 column 1); podman's auth file was not found (neither \
                     REGISTRY_AUTH_FILE nor HOME is set).{docker_fix}"
                ),
            ),
        ];
        for (name, docker_config, podman_auth, expected) in cases {
            assert_eq!(
                login_line(
                    Some(HOST),
                    &docker_config,
                    &podman_auth,
                    LoginClient::Docker
                )
                .render(),
                expected,
                "case: {name}"
            );
        }
    }

    #[test]
    fn login_line_without_registry_host() {
        let line = login_line(None, &missing("a"), &missing("b"), LoginClient::Docker);
        assert_eq!(
            line.render(),
            "warning  login: not checked, because the mock did not answer, so its registry host \
             is unknown."
        );
    }

    #[test]
    fn login_fix_names_podman_when_docker_is_unusable() {
        let findings = Findings {
            endpoint: ENDPOINT.to_owned(),
            mock: local_mock(),
            aws_cli: ran("/usr/bin/aws", Ok("aws-cli/2.17.0 Python/3.12.6")),
            endpoint_variables: EndpointVariables {
                endpoint_url: Some(ENDPOINT.to_owned()),
                ..EndpointVariables::default()
            },
            docker: Program::NotOnPath,
            podman: ran("/usr/bin/podman", Ok("podman version 5.2.3")),
            docker_config: missing("/home/student/.docker/config.json"),
            podman_auth: missing("/run/user/1000/containers/auth.json"),
        };
        let lines = diagnose(&findings);
        let login = lines.last().expect("a login line");
        assert_eq!(login.subject, "login");
        assert_eq!(
            login.fix.as_deref(),
            Some(
                "log in with `aws ecr get-login-password | podman login --username AWS \
                 --password-stdin --tls-verify=false localhost:5000`."
            )
        );
    }

    #[test]
    fn diagnose_checks_in_order() {
        let findings = Findings {
            endpoint: ENDPOINT.to_owned(),
            mock: MockFinding::Unreachable {
                cause: "Connection refused (os error 111)".to_owned(),
            },
            aws_cli: Program::NotOnPath,
            endpoint_variables: EndpointVariables::default(),
            docker: Program::NotOnPath,
            podman: Program::NotOnPath,
            docker_config: missing("/home/student/.docker/config.json"),
            podman_auth: missing("/run/user/1000/containers/auth.json"),
        };
        let lines = diagnose(&findings);
        let subjects: Vec<&str> = lines.iter().map(|line| line.subject).collect();
        assert_eq!(
            subjects,
            [
                "mock",
                "registry host",
                "AWS CLI",
                "AWS_ENDPOINT_URL",
                "container clients",
                "login"
            ]
        );
        let statuses: Vec<Status> = lines.iter().map(|line| line.status).collect();
        assert_eq!(
            statuses,
            [
                Status::Problem,
                Status::Warning,
                Status::Warning,
                Status::Warning,
                Status::Warning,
                Status::Warning
            ]
        );
    }

    #[test]
    fn entry_matching_cases() {
        let entries = |auths: &[&str]| AuthEntries {
            auths: auths.iter().map(|key| key.to_string()).collect(),
            cred_helpers: BTreeMap::new(),
        };
        let cases = [
            (entries(&[HOST]), EntryMatch::Auth(HOST.to_owned())),
            (
                entries(&["https://localhost:5000/v1/"]),
                EntryMatch::Auth("https://localhost:5000/v1/".to_owned()),
            ),
            (
                entries(&["localhost:5001", "localhost:6000/team"]),
                EntryMatch::OtherPorts(vec![
                    "localhost:5001".to_owned(),
                    "localhost:6000/team".to_owned(),
                ]),
            ),
            (
                entries(&["localhost"]),
                EntryMatch::OtherPorts(vec!["localhost".to_owned()]),
            ),
            (entries(&["127.0.0.1:5000", "docker.io"]), EntryMatch::None),
            (entries(&[]), EntryMatch::None),
        ];
        for (entries, expected) in cases {
            assert_eq!(find_entry(&entries, HOST), expected, "{entries:?}");
        }
        assert_eq!(
            find_entry(&entries(&["[::1]:5001"]), "[::1]:5000"),
            EntryMatch::OtherPorts(vec!["[::1]:5001".to_owned()])
        );
    }

    #[test]
    fn auth_file_parsing_cases() {
        let parsed = parse_auth_entries(
            r#"{"auths": {"localhost:5000": {"auth": "QVdTOnRva2Vu"}, "docker.io": {}},
                "credsStore": "desktop",
                "credHelpers": {"public.ecr.aws": "ecr-login", "bad": 7}}"#,
        )
        .unwrap();
        assert_eq!(parsed.auths, ["docker.io", "localhost:5000"]);
        assert_eq!(
            parsed.cred_helpers,
            BTreeMap::from([("public.ecr.aws".to_owned(), "ecr-login".to_owned())])
        );

        assert_eq!(parse_auth_entries(" \n").unwrap(), AuthEntries::default());
        assert_eq!(parse_auth_entries("{}").unwrap(), AuthEntries::default());

        let invalid = parse_auth_entries("{\"auths\": ").unwrap_err();
        assert!(invalid.starts_with("invalid JSON ("), "{invalid}");
        assert_eq!(
            parse_auth_entries("[]").unwrap_err(),
            "the file is JSON but not an object"
        );
    }

    #[test]
    fn auth_file_reading_cases() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("config.json");

        assert!(matches!(
            read_auth_file(Ok(path.clone())),
            AuthFile::Missing { .. }
        ));

        std::fs::write(&path, r#"{"auths": {"localhost:5000": {}}}"#).unwrap();
        let AuthFile::Read { entries, .. } = read_auth_file(Ok(path.clone())) else {
            panic!("the file is read");
        };
        assert_eq!(entries.auths, [HOST]);

        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            read_auth_file(Ok(path.clone())),
            AuthFile::Unreadable { .. }
        ));

        assert!(matches!(
            read_auth_file(Err("no HOME".to_owned())),
            AuthFile::Unknown { .. }
        ));
    }

    #[test]
    fn auth_file_location_cases() {
        let linux = Environment {
            home: Some(PathBuf::from("/home/student")),
            uid: Some(1000),
            linux: true,
            ..Environment::default()
        };
        assert_eq!(
            docker_config_path(&linux),
            Ok(PathBuf::from("/home/student/.docker/config.json"))
        );
        assert_eq!(
            podman_auth_path(&linux),
            Ok(PathBuf::from("/run/containers/1000/auth.json"))
        );

        let configured = Environment {
            docker_config: Some(PathBuf::from("/tmp/docker")),
            xdg_runtime_dir: Some(PathBuf::from("/run/user/1000")),
            ..linux.clone()
        };
        assert_eq!(
            docker_config_path(&configured),
            Ok(PathBuf::from("/tmp/docker/config.json"))
        );
        assert_eq!(
            podman_auth_path(&configured),
            Ok(PathBuf::from("/run/user/1000/containers/auth.json"))
        );

        let overridden = Environment {
            registry_auth_file: Some(PathBuf::from("/tmp/auth.json")),
            ..configured
        };
        assert_eq!(
            podman_auth_path(&overridden),
            Ok(PathBuf::from("/tmp/auth.json"))
        );

        let macos = Environment {
            linux: false,
            ..linux
        };
        assert_eq!(
            podman_auth_path(&macos),
            Ok(PathBuf::from("/home/student/.config/containers/auth.json"))
        );

        let bare = Environment {
            linux: true,
            ..Environment::default()
        };
        assert_eq!(
            docker_config_path(&bare),
            Err("neither DOCKER_CONFIG nor HOME is set".to_owned())
        );
        assert_eq!(
            podman_auth_path(&bare),
            Err(
                "neither REGISTRY_AUTH_FILE nor XDG_RUNTIME_DIR is set, and the user ID is \
                 unknown"
                    .to_owned()
            )
        );
    }

    #[test]
    fn report_counts_problems_and_warnings() {
        let lines = [
            Line::ok("mock", "mock-ecr answers.".to_owned()),
            Line::warning("login", "no login.".to_owned(), Some("log in.".to_owned())),
            Line::problem(
                "AWS CLI",
                "too old.".to_owned(),
                Some("update it.".to_owned()),
            ),
        ];
        assert_eq!(
            render_report(ENDPOINT, &lines),
            "Checking the lab setup for the mock at http://127.0.0.1:5000\n\
             \n\
             ok       mock: mock-ecr answers.\n\
             warning  login: no login. Fix: log in.\n\
             problem  AWS CLI: too old. Fix: update it.\n\
             \n\
             1 problem and 1 warning. Fix the problems above and run `ecrlab doctor` again.\n"
        );
        assert!(
            render_report(ENDPOINT, &lines[..1]).ends_with("\n0 problems and 0 warnings.\n"),
            "{}",
            render_report(ENDPOINT, &lines[..1])
        );
    }

    #[cfg(unix)]
    #[test]
    fn program_search_skips_non_executables() {
        use std::os::unix::fs::PermissionsExt as _;

        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let plain = first.path().join("aws");
        std::fs::write(&plain, "").unwrap();
        let executable = second.path().join("aws");
        std::fs::write(&executable, "").unwrap();
        std::fs::set_permissions(&executable, std::fs::Permissions::from_mode(0o755)).unwrap();

        let search_path = std::env::join_paths([first.path(), second.path()]).unwrap();
        assert_eq!(find_on_path("aws", Some(&search_path)), Some(executable));
        assert_eq!(find_on_path("podman", Some(&search_path)), None);
        assert_eq!(find_on_path("aws", None), None);
    }

    #[test]
    fn truncate_cuts_long_excerpts() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcdé", 4), "abcd...");
    }
}
