//! The real clients under test: the AWS CLI (v1 from PyPI, v2 from Debian), docker, podman and
//! skopeo, each isolated from the user's configuration and pointed at one [`MockLab`].

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio::process::Command;

use crate::harness::{
    self, ACCESS_KEY_ID, MockLab, REGION, Run, SECRET_ACCESS_KEY, announce, client_missing,
};

/// Hosts that must never go through an HTTP proxy set in the environment.
pub const NO_PROXY: &str = "127.0.0.1,localhost";

/// One installed AWS CLI.
pub struct AwsCli {
    pub path: PathBuf,
    /// The version that `aws --version` prints, for example `2.9.19`.
    pub version: String,
    pub major: u32,
}

impl AwsCli {
    /// Returns every installed AWS CLI, ordered by version, for a case that runs with each.
    ///
    /// Under `CI=true` both major versions must be present; elsewhere a missing version is
    /// announced as a skipped part of `case`.
    pub fn all(case: &str) -> Vec<AwsCli> {
        let (found, tried) = find_aws_clis(case);
        for major in [1, 2] {
            if !found.iter().any(|cli| cli.major == major) {
                client_missing(
                    &format!("{case} with AWS CLI v{major}"),
                    &format!("AWS CLI v{major}"),
                    &format!("none of [{tried}] is version {major}"),
                );
            }
        }
        found
    }

    /// Returns the AWS CLI of major version `major`, for a case that needs one CLI.
    ///
    /// Under `CI=true` that version must be present. Elsewhere another version is used in its
    /// place, with a notice, and the case is skipped when no AWS CLI is found at all.
    pub fn one(case: &str, major: u32) -> Option<AwsCli> {
        let (mut found, tried) = find_aws_clis(case);
        if let Some(index) = found.iter().position(|cli| cli.major == major) {
            return Some(found.swap_remove(index));
        }
        let reason = format!("none of [{tried}] is version {major}");
        if harness::in_ci() || found.is_empty() {
            client_missing(case, &format!("AWS CLI v{major}"), &reason);
            return None;
        }
        let stand_in = found.swap_remove(0);
        announce(&format!(
            "NOTE {case}: runs with AWS CLI {} because {reason}",
            stand_in.version
        ));
        Some(stand_in)
    }

    /// Builds `aws --endpoint-url <mock> --region us-east-1 --output json ecr <args>` with the
    /// test credentials, and with no AWS setting or file of the user's in effect.
    pub fn ecr_command(&self, lab: &MockLab, args: &[&str]) -> Command {
        let mut command = Command::new(&self.path);
        clear_aws_environment(&mut command);
        let config_dir = lab.scratch_dir("aws-config");
        let config_file = config_dir.join("config");
        // Both versions print timestamps as the epoch seconds of ECR's JSON with this setting,
        // which v1 spells `none` (its default) and v2 `wire` (its default is `iso8601`).
        let timestamp_format = if self.major == 1 { "none" } else { "wire" };
        let config = format!("[default]\ncli_timestamp_format = {timestamp_format}\n");
        std::fs::write(&config_file, config)
            .unwrap_or_else(|error| panic!("failed to write {}: {error}", config_file.display()));
        command
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("AWS_CONFIG_FILE", &config_file)
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                config_dir.join("credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .env("NO_PROXY", NO_PROXY)
            .args(["--endpoint-url", lab.endpoint(), "--region", REGION])
            .args(["--output", "json", "ecr"])
            .args(args);
        command
    }

    /// Runs `aws ecr <args>` against the mock.
    pub fn ecr(&self, lab: &MockLab, args: &[&str]) -> Run {
        lab.run(&mut self.ecr_command(lab, args), None)
    }

    /// Runs `aws ecr <args>`, asserts success and parses the JSON it prints.
    pub fn ecr_json(&self, lab: &MockLab, args: &[&str]) -> Value {
        let run = self.ecr(lab, args);
        run.assert_success();
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|error| panic!("the AWS CLI printed invalid JSON ({error}):\n{run}"))
    }

    /// Runs `aws ecr get-login-password` and returns the password.
    pub fn login_password(&self, lab: &MockLab) -> String {
        let run = self.ecr(lab, &["get-login-password"]);
        run.assert_success();
        let password = run.stdout.trim().to_owned();
        assert!(
            !password.is_empty(),
            "get-login-password printed nothing:\n{run}"
        );
        password
    }

    /// Returns the exit status for an error that the service returned: 254 in v2 and 255 (any
    /// failure) in v1, as "Command line return codes in the AWS CLI" in each user guide lists.
    pub fn service_error_status(&self) -> i32 {
        if self.major == 1 { 255 } else { 254 }
    }

    /// Returns the `User-Agent` prefix that the CLI sends, `aws-cli/<version>`.
    pub fn user_agent_prefix(&self) -> String {
        format!("aws-cli/{}", self.version)
    }
}

/// Probes the candidate executables and returns the distinct AWS CLIs among them, ordered by
/// version, with the list of candidates for messages.
///
/// `ECRLAB_AWS_CLIS`, a space-separated list of executables, names the candidates (`.ci/run`
/// sets it to PyPI's v1 and Debian's v2). A listed one that does not run is a missing client
/// for `case`. Without the variable, `aws` on `PATH` and `/usr/bin/aws` are tried.
fn find_aws_clis(case: &str) -> (Vec<AwsCli>, String) {
    let candidates = aws_cli_candidates();
    let mut found: Vec<AwsCli> = Vec::new();
    for path in &candidates {
        match probe_aws_cli(path) {
            Ok(cli) if found.iter().any(|known| known.version == cli.version) => {}
            Ok(cli) => found.push(cli),
            Err(reason) if std::env::var_os("ECRLAB_AWS_CLIS").is_some() => {
                client_missing(case, &format!("AWS CLI {}", path.display()), &reason);
            }
            // Without ECRLAB_AWS_CLIS the fixed candidates are only guesses.
            Err(_) => {}
        }
    }
    found.sort_by_key(|cli| cli.major);

    let tried: Vec<String> = candidates
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    (found, tried.join(", "))
}

fn aws_cli_candidates() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("ECRLAB_AWS_CLIS") {
        return list
            .to_string_lossy()
            .split_whitespace()
            .map(PathBuf::from)
            .collect();
    }
    let mut candidates: Vec<PathBuf> = harness::find_on_path("aws").into_iter().collect();
    candidates.push(PathBuf::from("/usr/bin/aws"));
    candidates
}

/// Runs `<path> --version` and parses `aws-cli/X.Y.Z ...`.
fn probe_aws_cli(path: &Path) -> Result<AwsCli, String> {
    let output = std::process::Command::new(path)
        .arg("--version")
        .output()
        .map_err(|error| format!("{} failed to run: {error}", path.display()))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "`{} --version` exited with {}: {}",
            path.display(),
            output.status,
            text.trim()
        ));
    }

    let version = text
        .split_whitespace()
        .find_map(|word| word.strip_prefix("aws-cli/"))
        .ok_or_else(|| {
            format!(
                "`{} --version` printed no aws-cli/ version: {text}",
                path.display()
            )
        })?;
    let major = version
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .ok_or_else(|| {
            format!(
                "{} printed an unparsable version {version:?}",
                path.display()
            )
        })?;
    Ok(AwsCli {
        path: path.to_owned(),
        version: version.to_owned(),
        major,
    })
}

/// Removes every `AWS_*` variable (profile, endpoint, session token, ...) that a developer's
/// shell may export, so the CLI reads only the settings that the test makes.
fn clear_aws_environment(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
}

/// Which container engine a [`ContainerCli`] drives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

/// docker or podman, with its credentials (and podman's image storage) kept in the test's
/// scratch directory, so no login of the user's is used or changed.
pub struct ContainerCli {
    engine: Engine,
    program: PathBuf,
    state_dir: PathBuf,
    /// Image names that this test gave to docker's daemon, removed again on drop.
    docker_images: RefCell<Vec<String>>,
}

impl ContainerCli {
    /// Returns docker when `docker info` reaches a running engine.
    ///
    /// Without a running engine the docker cases are announced as not run, also under
    /// `CI=true`: podman covers the same steps there.
    pub fn docker(case: &str, lab: &MockLab) -> Option<Self> {
        let Some(program) = harness::find_on_path("docker") else {
            announce(&format!("NOT RUN {case}: no `docker` executable on PATH"));
            return None;
        };
        let output = std::process::Command::new(&program)
            .args(["info", "--format", "{{.ServerVersion}}"])
            .output();
        let failure = match output {
            Ok(output) if output.status.success() => None,
            Ok(output) => Some(String::from_utf8_lossy(&output.stderr).trim().to_owned()),
            Err(error) => Some(error.to_string()),
        };
        if let Some(reason) = failure {
            announce(&format!("NOT RUN {case}: `docker info` failed: {reason}"));
            return None;
        }
        Some(Self::new(Engine::Docker, program, lab))
    }

    /// Returns podman, or applies the missing-client policy for `case`.
    pub fn podman(case: &str, lab: &MockLab) -> Option<Self> {
        match harness::find_on_path("podman") {
            Some(program) => Some(Self::new(Engine::Podman, program, lab)),
            None => {
                client_missing(case, "podman", "no `podman` executable on PATH");
                None
            }
        }
    }

    fn new(engine: Engine, program: PathBuf, lab: &MockLab) -> Self {
        let state_dir = lab.scratch_dir(match engine {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        });
        if engine == Engine::Podman {
            write_empty_auth_file(&state_dir.join("auth.json"));
        }
        Self {
            engine,
            program,
            state_dir,
            docker_images: RefCell::new(Vec::new()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self.engine {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }

    /// Builds a command for this engine with its isolated state.
    ///
    /// podman runs as root with the vfs storage driver, which needs neither fuse-overlayfs nor
    /// kernel overlay support, and stores its images and auth file under the scratch directory.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.program);
        command.env("NO_PROXY", NO_PROXY);
        match self.engine {
            Engine::Docker => {
                command.env("DOCKER_CONFIG", self.state_dir.join("config"));
            }
            Engine::Podman => {
                command
                    .env("REGISTRY_AUTH_FILE", self.state_dir.join("auth.json"))
                    .arg("--root")
                    .arg(self.state_dir.join("storage"))
                    .arg("--runroot")
                    .arg(self.state_dir.join("run"))
                    .args(["--storage-driver", "vfs", "--events-backend", "none"]);
            }
        }
        command.args(args);
        command
    }

    /// Returns the flags for a registry over plain HTTP. podman needs `--tls-verify=false`.
    /// docker's engine falls back to HTTP for its insecure registries, which include
    /// 127.0.0.0/8 by default and so `localhost`.
    fn tls_args(&self) -> &'static [&'static str] {
        match self.engine {
            Engine::Docker => &[],
            Engine::Podman => &["--tls-verify=false"],
        }
    }

    fn remember_docker_image(&self, image: &str) {
        let mut images = self.docker_images.borrow_mut();
        if self.engine == Engine::Docker && !images.iter().any(|known| known == image) {
            images.push(image.to_owned());
        }
    }

    /// Builds the sample image as `image`. Each `variant` gets a distinct label, so two
    /// variants have different configs and so different manifest digests.
    ///
    /// A second label names this client's state folder, which is unique to the test. Without
    /// it, two tests running at once build byte-identical images that docker stores as one,
    /// and one test's `docker rmi` can delete the image while the other is still tagging it.
    pub fn build_sample(&self, lab: &MockLab, image: &str, variant: u32) -> Run {
        let context = harness::sample_image_context();
        let containerfile = context.join("Containerfile");
        let label = format!("org.ecrlab.interop.variant={variant}");
        let owner = format!("org.ecrlab.interop.test={}", self.state_dir.display());
        let mut command = self.command(&[
            "build", "--label", &label, "--label", &owner, "-t", image, "-f",
        ]);
        command.arg(containerfile).arg(context);
        self.remember_docker_image(image);
        lab.run(&mut command, None)
    }

    /// Builds the scanning step's sample image as `image`, labelled with this client's state
    /// folder for the reason that [`ContainerCli::build_sample`] gives.
    #[allow(
        dead_code,
        reason = "only the scan interop target builds the scan sample"
    )]
    pub fn build_scan_sample(&self, lab: &MockLab, image: &str) -> Run {
        let context = harness::scan_image_context();
        let containerfile = context.join("Containerfile");
        let owner = format!("org.ecrlab.interop.test={}", self.state_dir.display());
        let mut command = self.command(&["build", "--label", &owner, "-t", image, "-f"]);
        command.arg(containerfile).arg(context);
        self.remember_docker_image(image);
        lab.run(&mut command, None)
    }

    /// Writes `image` to `archive` in the docker-archive format: `docker save`, or `podman save
    /// --format docker-archive`.
    #[allow(
        dead_code,
        reason = "only the scan interop target saves archives to scan"
    )]
    pub fn save_docker_archive(&self, lab: &MockLab, image: &str, archive: &Path) -> Run {
        let archive = archive.display().to_string();
        let args = match self.engine {
            Engine::Docker => vec!["save", "-o", &archive, image],
            Engine::Podman => vec!["save", "--format", "docker-archive", "-o", &archive, image],
        };
        lab.run(&mut self.command(&args), None)
    }

    /// Runs `<client> <args>` with this client's isolated state. Unlike [`ContainerCli::push`],
    /// it adds no flags, so a caller that reaches the mock adds podman's `--tls-verify=false`.
    #[allow(dead_code, reason = "the interop target does not call it")]
    pub fn run(&self, lab: &MockLab, args: &[&str]) -> Run {
        lab.run(&mut self.command(args), None)
    }

    pub fn tag(&self, lab: &MockLab, source: &str, target: &str) -> Run {
        self.remember_docker_image(target);
        lab.run(&mut self.command(&["tag", source, target]), None)
    }

    /// Runs `<client> login --username AWS --password-stdin <host>` with `password` on stdin,
    /// the way the lab pipes `aws ecr get-login-password` into it.
    pub fn login(&self, lab: &MockLab, host: &str, password: &str) -> Run {
        let mut args = vec!["login", "--username", "AWS", "--password-stdin"];
        args.extend(self.tls_args());
        args.push(host);
        lab.run(&mut self.command(&args), Some(password.as_bytes()))
    }

    /// Pushes `image` and returns the run and the manifest digest the client reports.
    pub fn push(&self, lab: &MockLab, image: &str) -> (Run, Option<String>) {
        let digest_file = self.state_dir.join("pushed-digest");
        let mut args = vec!["push"];
        args.extend(self.tls_args());
        let digest_file_arg;
        if self.engine == Engine::Podman {
            // A digest file left by an earlier push must not pass for this push's digest, and a
            // missing file is what the removal is for.
            let _ = std::fs::remove_file(&digest_file);
            digest_file_arg = format!("--digestfile={}", digest_file.display());
            args.push(&digest_file_arg);
        }
        args.push(image);
        let run = lab.run(&mut self.command(&args), None);

        let digest = match self.engine {
            // docker ends a push with `<tag>: digest: sha256:<hex> size: <bytes>`.
            Engine::Docker => run
                .stdout
                .split_whitespace()
                .skip_while(|word| *word != "digest:")
                .nth(1)
                .map(str::to_owned),
            Engine::Podman => std::fs::read_to_string(&digest_file).ok(),
        };
        if let Some(digest) = &digest {
            // docker's engine keeps `<repository>@<digest>` after a push, even once the tag
            // has moved to another image, so it is removed on drop as well.
            self.remember_docker_image(&format!("{}@{digest}", repository_of(image)));
        }
        (run, digest)
    }

    /// Writes `image` to `archive` and returns it as a source reference for skopeo:
    /// `oci-archive:` from podman, `docker-archive:` from docker.
    pub fn save(&self, lab: &MockLab, image: &str, archive: &Path) -> String {
        let archive_text = archive.display().to_string();
        let (args, transport) = match self.engine {
            Engine::Docker => (vec!["save", "-o", &archive_text, image], "docker-archive"),
            Engine::Podman => (
                vec![
                    "save",
                    "--format",
                    "oci-archive",
                    "-o",
                    &archive_text,
                    image,
                ],
                "oci-archive",
            ),
        };
        lab.run(&mut self.command(&args), None).assert_success();
        format!("{transport}:{archive_text}")
    }
}

impl Drop for ContainerCli {
    /// Removes the image names this test created in docker's engine, which outlives the test.
    ///
    /// Digest references go first: removing an image's last tag can take its digest
    /// references with it, and a second removal of those would fail.
    fn drop(&mut self) {
        let mut images = self.docker_images.take();
        images.sort_by_key(|image| !image.contains('@'));
        for image in &images {
            let output = std::process::Command::new(&self.program)
                .env("DOCKER_CONFIG", self.state_dir.join("config"))
                .args(["rmi", image])
                .output();
            match output {
                Ok(output) if output.status.success() => {}
                Ok(output) => announce(&format!(
                    "NOTE: `docker rmi {image}` failed, so the image is left behind: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                )),
                Err(error) => announce(&format!("NOTE: `docker rmi` failed to run: {error}")),
            }
        }
    }
}

/// Returns `image` without its tag: `localhost:5000/team/app:v1` becomes
/// `localhost:5000/team/app`. A colon before the last `/` belongs to the host's port.
fn repository_of(image: &str) -> &str {
    let name_start = image.rfind('/').map_or(0, |slash| slash + 1);
    match image[name_start..].rfind(':') {
        Some(colon) => &image[..name_start + colon],
        None => image,
    }
}

/// skopeo, which copies images between registries and archives without an engine.
pub struct Skopeo {
    program: PathBuf,
    auth_file: PathBuf,
}

impl Skopeo {
    /// Returns skopeo, or applies the missing-client policy for `case`.
    pub fn find(case: &str, lab: &MockLab) -> Option<Self> {
        match harness::find_on_path("skopeo") {
            Some(program) => {
                // An auth file with no logins, so only the credentials on the command line count.
                let auth_file = lab.scratch_dir("skopeo").join("auth.json");
                write_empty_auth_file(&auth_file);
                Some(Self { program, auth_file })
            }
            None => {
                client_missing(case, "skopeo", "no `skopeo` executable on PATH");
                None
            }
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.program);
        command
            .env("NO_PROXY", NO_PROXY)
            .env("REGISTRY_AUTH_FILE", &self.auth_file)
            .args(args);
        command
    }

    /// Runs `skopeo <args>` with the empty auth file. Unlike [`Skopeo::copy`], it adds no flags.
    #[allow(dead_code, reason = "the interop target does not call it")]
    pub fn run(&self, lab: &MockLab, args: &[&str]) -> Run {
        lab.run(&mut self.command(args), None)
    }

    /// Copies `source` to the registry reference `destination` (`docker://host/repo:tag`).
    /// `source_password` and `destination_password` are ECR passwords for the user `AWS`.
    pub fn copy(
        &self,
        lab: &MockLab,
        source: &str,
        source_password: Option<&str>,
        destination: &str,
        destination_password: Option<&str>,
    ) -> Run {
        let mut args = vec!["copy".to_owned(), "--dest-tls-verify=false".to_owned()];
        if source.starts_with("docker://") {
            args.push("--src-tls-verify=false".to_owned());
        }
        if let Some(password) = source_password {
            args.push(format!("--src-creds=AWS:{password}"));
        }
        if let Some(password) = destination_password {
            args.push(format!("--dest-creds=AWS:{password}"));
        }
        args.push(source.to_owned());
        args.push(destination.to_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lab.run(&mut self.command(&args), None)
    }

    /// Runs `skopeo inspect` on a registry reference and returns the manifest digest.
    pub fn inspect_digest(&self, lab: &MockLab, reference: &str, password: &str) -> String {
        let creds = format!("--creds=AWS:{password}");
        let run = lab.run(
            &mut self.command(&["inspect", "--tls-verify=false", &creds, reference]),
            None,
        );
        run.assert_success();
        let inspected: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|error| {
            panic!("skopeo inspect printed invalid JSON ({error}):\n{run}")
        });
        inspected["Digest"]
            .as_str()
            .unwrap_or_else(|| panic!("skopeo inspect printed no Digest:\n{run}"))
            .to_owned()
    }
}

/// Writes a containers-auth.json(5) file that contains no credentials. podman 4.3 rejects a
/// `REGISTRY_AUTH_FILE` that does not exist, so an isolated client needs an empty one.
fn write_empty_auth_file(path: &Path) {
    std::fs::write(path, "{\"auths\": {}}\n")
        .unwrap_or_else(|error| panic!("failed to write {}: {error}", path.display()));
}
