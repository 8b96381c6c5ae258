//! Interop tests: the AWS CLI, docker, podman and skopeo against mock-ecr on 127.0.0.1.
//!
//! Each test starts its own mock on an ephemeral port, performs the lab's steps or provokes
//! one of ECR's registry errors with a real client, and checks the client's exit status and
//! output. The happy paths end with `ecrlab check`, which must pass every step up to the push;
//! `tests/scan_interop.rs` does the scanning step.
//!
//! Clients and where they come from:
//! - AWS CLI v1 (PyPI's `awscli`) and v2 (Debian's `awscli`). `ECRLAB_AWS_CLIS` lists their
//!   executables, separated by spaces. Without it, `aws` on `PATH` and `/usr/bin/aws` are used.
//! - docker: the cases run when `docker info` succeeds, and are announced as not run otherwise.
//! - podman (as root, vfs storage driver) and skopeo: from `PATH`.
//!
//! Under `CI=true` a missing AWS CLI version, podman or skopeo fails the test. Elsewhere the
//! affected cases are announced on standard error as skipped.

#[path = "interop/clients.rs"]
mod clients;
#[path = "interop/harness.rs"]
mod harness;

use clients::{AwsCli, ContainerCli, Skopeo};
use ecrlab_core::evidence::{Outcome, Source};
use harness::{ACCOUNT_ID, MockLab, REGION, Run, assert_push_steps_pass, unique_image_name};
use serde_json::json;

/// The repository name that the lab's instructions use.
const REPOSITORY: &str = "my-app";

/// An authorization token is valid for 12 hours (GetAuthorizationToken in the Amazon ECR API
/// Reference), so `expiresAt` lies this many seconds after the call.
const TOKEN_LIFETIME_SECONDS: f64 = 12.0 * 3600.0;

// ---------------------------------------------------------------------------------------------
// The AWS CLI and the ECR API
// ---------------------------------------------------------------------------------------------

#[test]
fn aws_cli_manages_repositories() {
    let lab = MockLab::start();
    for cli in AwsCli::all("aws_cli_manages_repositories") {
        check_repository_calls(&lab, &cli);
    }
}

fn check_repository_calls(lab: &MockLab, cli: &AwsCli) {
    let name = format!("team/cli-v{}", cli.major);
    let created = cli.ecr_json(
        lab,
        &[
            "create-repository",
            "--repository-name",
            &name,
            "--image-tag-mutability",
            "IMMUTABLE",
            "--image-scanning-configuration",
            "scanOnPush=true",
        ],
    );
    let repository = &created["repository"];
    let expected_uri = format!("{}/{name}", lab.registry_host());
    let expected_arn = format!("arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/{name}");
    assert_eq!(repository["repositoryName"], name.as_str(), "{created:#}");
    assert_eq!(
        repository["repositoryUri"],
        expected_uri.as_str(),
        "{created:#}"
    );
    assert_eq!(
        repository["repositoryArn"],
        expected_arn.as_str(),
        "{created:#}"
    );
    assert_eq!(repository["registryId"], ACCOUNT_ID, "{created:#}");
    assert_eq!(repository["imageTagMutability"], "IMMUTABLE", "{created:#}");
    assert_eq!(
        repository["imageScanningConfiguration"]["scanOnPush"], true,
        "{created:#}"
    );

    cli.ecr(lab, &["create-repository", "--repository-name", &name])
        .assert_rejected(
            Some(cli.service_error_status()),
            "RepositoryAlreadyExistsException",
        );

    let described = cli.ecr_json(lab, &["describe-repositories", "--repository-names", &name]);
    let repositories = described["repositories"]
        .as_array()
        .expect("repositories array");
    assert_eq!(repositories.len(), 1, "{described:#}");
    assert_eq!(
        repositories[0]["repositoryUri"],
        expected_uri.as_str(),
        "{described:#}"
    );

    cli.ecr(
        lab,
        &[
            "describe-repositories",
            "--repository-names",
            "team/missing",
        ],
    )
    .assert_rejected(
        Some(cli.service_error_status()),
        "RepositoryNotFoundException",
    );

    let mutability = cli.ecr_json(
        lab,
        &[
            "put-image-tag-mutability",
            "--repository-name",
            &name,
            "--image-tag-mutability",
            "MUTABLE",
        ],
    );
    assert_eq!(
        mutability["imageTagMutability"], "MUTABLE",
        "{mutability:#}"
    );

    let scanning = cli.ecr_json(
        lab,
        &[
            "put-image-scanning-configuration",
            "--repository-name",
            &name,
            "--image-scanning-configuration",
            "scanOnPush=false",
        ],
    );
    assert_eq!(
        scanning["imageScanningConfiguration"]["scanOnPush"], false,
        "{scanning:#}"
    );

    check_authorization_token(lab, cli);

    let deleted = cli.ecr_json(lab, &["delete-repository", "--repository-name", &name]);
    assert_eq!(
        deleted["repository"]["repositoryName"],
        name.as_str(),
        "{deleted:#}"
    );
    cli.ecr(lab, &["describe-repositories", "--repository-names", &name])
        .assert_rejected(
            Some(cli.service_error_status()),
            "RepositoryNotFoundException",
        );

    check_journal_names_cli(lab, cli, &name);
}

/// Checks GetAuthorizationToken's output: `AWS:<password>` in base64, the mock's registry as
/// `proxyEndpoint`, and an expiry 12 hours ahead.
fn check_authorization_token(lab: &MockLab, cli: &AwsCli) {
    use base64::Engine as _;

    let before = unix_now();
    let token = cli.ecr_json(lab, &["get-authorization-token"]);
    let after = unix_now();

    let data = &token["authorizationData"][0];
    let encoded = data["authorizationToken"]
        .as_str()
        .expect("authorizationToken string");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap_or_else(|error| panic!("authorizationToken is not base64 ({error}): {token:#}"));
    let decoded = String::from_utf8(decoded).expect("authorizationToken decodes to UTF-8");
    let password = decoded.strip_prefix("AWS:").unwrap_or_else(|| {
        panic!("authorizationToken does not decode to AWS:<password>: {decoded}")
    });
    assert!(
        !password.is_empty(),
        "the decoded password is empty: {token:#}"
    );

    let proxy_endpoint = format!("http://{}", lab.registry_host());
    assert_eq!(data["proxyEndpoint"], proxy_endpoint.as_str(), "{token:#}");

    // The AWS config file that `ecr_command` writes sets `cli_timestamp_format`, so both
    // CLI versions print `expiresAt` as the epoch seconds the API returned.
    let expires_at = data["expiresAt"]
        .as_f64()
        .unwrap_or_else(|| panic!("expiresAt is not epoch seconds: {token:#}"));
    let earliest = before - 60.0 + TOKEN_LIFETIME_SECONDS;
    let latest = after + 60.0 + TOKEN_LIFETIME_SECONDS;
    assert!(
        (earliest..=latest).contains(&expires_at),
        "expiresAt {expires_at} is not 12 hours after the call ({before}..{after}): {token:#}"
    );

    let login_password = cli.login_password(lab);
    assert!(
        !login_password.contains(char::is_whitespace),
        "get-login-password printed more than one word: {login_password:?}"
    );
}

/// Checks that the journal records the CLI's calls with its user agent, including the
/// rejected CreateRepository with ECR's exception name.
fn check_journal_names_cli(lab: &MockLab, cli: &AwsCli, name: &str) {
    let journal = lab.journal();
    let user_agent = cli.user_agent_prefix();
    let by_cli: Vec<_> = journal
        .iter()
        .filter(|event| {
            event.action == "CreateRepository"
                && event.repository.as_deref() == Some(name)
                && event
                    .user_agent
                    .as_deref()
                    .is_some_and(|agent| agent.starts_with(&user_agent))
        })
        .collect();
    assert_eq!(
        by_cli.len(),
        2,
        "expected two CreateRepository events for {name} from {user_agent}: {journal:#?}"
    );
    assert_eq!(by_cli[0].outcome, Outcome::Ok, "{:#?}", by_cli[0]);
    assert_eq!(by_cli[1].outcome, Outcome::Error, "{:#?}", by_cli[1]);
    assert_eq!(
        by_cli[1].error_code.as_deref(),
        Some("RepositoryAlreadyExistsException"),
        "{:#?}",
        by_cli[1]
    );
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs_f64()
}

// ---------------------------------------------------------------------------------------------
// The lab with each container client
// ---------------------------------------------------------------------------------------------

#[test]
fn docker_push_passes_lab_check() {
    let case = "docker_push_passes_lab_check";
    let lab = MockLab::start();
    let Some(docker) = ContainerCli::docker(case, &lab) else {
        return;
    };
    // docker runs the lab with AWS CLI v2 and podman with v1, so each version drives a whole
    // lab.
    let Some(aws) = AwsCli::one(case, 2) else {
        return;
    };
    push_with_container_client(&lab, &aws, &docker);
}

#[test]
fn podman_push_passes_lab_check() {
    let case = "podman_push_passes_lab_check";
    let lab = MockLab::start();
    let Some(podman) = ContainerCli::podman(case, &lab) else {
        return;
    };
    let Some(aws) = AwsCli::one(case, 1) else {
        return;
    };
    push_with_container_client(&lab, &aws, &podman);
}

/// Performs the lab's four steps as a student does, then grades them with `ecrlab check`.
fn push_with_container_client(lab: &MockLab, aws: &AwsCli, client: &ContainerCli) {
    let host = lab.registry_host();
    create_lab_repository(lab, aws);

    // As in `aws ecr get-login-password | docker login --password-stdin`, the client reads
    // exactly what the AWS CLI printed, trailing newline included.
    let password_output = aws.ecr(lab, &["get-login-password"]);
    password_output.assert_success();
    let login = client.login(lab, host, &password_output.stdout);
    login.assert_success();
    assert!(
        login.stdout.contains("Login Succeeded"),
        "expected `Login Succeeded`:\n{login}"
    );

    let local_image = unique_image_name(client.name());
    client.build_sample(lab, &local_image, 1).assert_success();
    let target = format!("{host}/{REPOSITORY}:v1");
    client.tag(lab, &local_image, &target).assert_success();
    let (push, digest) = client.push(lab, &target);
    push.assert_success();
    let digest = digest.unwrap_or_else(|| panic!("the push reported no digest:\n{push}"));

    assert_single_image(lab, aws, &digest, "v1");
    assert_push_steps_pass(lab);
}

#[test]
fn skopeo_copy_passes_lab_check() {
    let case = "skopeo_copy_passes_lab_check";
    let lab = MockLab::start();
    let Some(pusher) = SkopeoPusher::find(case, &lab) else {
        return;
    };
    let Some(aws) = AwsCli::one(case, 2) else {
        return;
    };
    let host = lab.registry_host();
    create_lab_repository(&lab, &aws);
    let password = aws.login_password(&lab);

    let target = format!("{host}/{REPOSITORY}:v1");
    pusher
        .push_sample(&lab, &target, 1, Some(&password))
        .assert_success();
    let digest = pusher
        .skopeo
        .inspect_digest(&lab, &format!("docker://{target}"), &password);
    assert_single_image(&lab, &aws, &digest, "v1");

    // Copying between two repositories of the mock pulls the manifest and blobs back out.
    aws.ecr_json(
        &lab,
        &["create-repository", "--repository-name", "team/copy"],
    );
    let copy_target = format!("docker://{host}/team/copy:v1");
    pusher
        .skopeo
        .copy(
            &lab,
            &format!("docker://{target}"),
            Some(&password),
            &copy_target,
            Some(&password),
        )
        .assert_success();
    let copied_digest = pusher.skopeo.inspect_digest(&lab, &copy_target, &password);
    assert_eq!(
        copied_digest, digest,
        "the copy in team/copy has another digest"
    );

    assert_push_steps_pass(&lab);
}

fn create_lab_repository(lab: &MockLab, aws: &AwsCli) {
    aws.ecr_json(
        lab,
        &[
            "create-repository",
            "--repository-name",
            REPOSITORY,
            "--image-tag-mutability",
            "IMMUTABLE",
            "--image-scanning-configuration",
            "scanOnPush=true",
        ],
    );
}

/// Asserts that DescribeImages lists exactly one image in the lab's repository, with `digest`
/// and the single tag `tag`.
fn assert_single_image(lab: &MockLab, aws: &AwsCli, digest: &str, tag: &str) {
    let images = aws.ecr_json(lab, &["describe-images", "--repository-name", REPOSITORY]);
    let details = images["imageDetails"]
        .as_array()
        .expect("imageDetails array");
    assert_eq!(details.len(), 1, "{images:#}");
    assert_eq!(details[0]["imageDigest"], digest, "{images:#}");
    assert_eq!(details[0]["imageTags"], json!([tag]), "{images:#}");
}

// ---------------------------------------------------------------------------------------------
// ECR's registry errors as each client shows them
// ---------------------------------------------------------------------------------------------

/// ECR's message for a push to a repository that does not exist, which the registry returns
/// with `NAME_UNKNOWN`. Clients print it after the code in words, `name unknown: `.
const NAME_UNKNOWN_MESSAGE: &str = "name unknown: The repository with name 'team/never-created' does not exist in the registry with id '123456789012'";

/// ECR's message for a push that would move a tag in an IMMUTABLE repository, which the
/// registry returns with `TAG_INVALID`. Clients print it after `tag invalid: `.
const TAG_INVALID_MESSAGE: &str = "tag invalid: The image tag 'v1' already exists in the 'my-app' repository and cannot be overwritten because the repository is immutable.";

/// A password that the mock never issued.
const INVALID_PASSWORD: &str = "not-a-token-the-mock-issued";

/// A client that pushes the sample image to the mock.
trait Pusher {
    /// Pushes variant `variant` of the sample image to `target` (`host/repository:tag`),
    /// authenticated as `AWS` with `password` when one is given, and returns the push command.
    fn push_sample(&self, lab: &MockLab, target: &str, variant: u32, password: Option<&str>)
    -> Run;
}

impl Pusher for ContainerCli {
    fn push_sample(
        &self,
        lab: &MockLab,
        target: &str,
        variant: u32,
        password: Option<&str>,
    ) -> Run {
        if let Some(password) = password {
            self.login(lab, lab.registry_host(), password)
                .assert_success();
        }
        let local_image = unique_image_name(self.name());
        self.build_sample(lab, &local_image, variant)
            .assert_success();
        self.tag(lab, &local_image, target).assert_success();
        self.push(lab, target).0
    }
}

/// skopeo pushing an archive of the sample image that podman (or else docker) built.
struct SkopeoPusher {
    skopeo: Skopeo,
    builder: ContainerCli,
}

impl SkopeoPusher {
    fn find(case: &str, lab: &MockLab) -> Option<Self> {
        let skopeo = Skopeo::find(case, lab)?;
        let builder = match harness::find_on_path("podman") {
            Some(_) => ContainerCli::podman(case, lab)?,
            None => match ContainerCli::docker(case, lab) {
                Some(docker) => docker,
                None => {
                    harness::client_missing(
                        case,
                        "podman",
                        "no `podman` on PATH and docker is not running, so nothing builds the image that skopeo copies",
                    );
                    return None;
                }
            },
        };
        Some(Self { skopeo, builder })
    }
}

impl Pusher for SkopeoPusher {
    fn push_sample(
        &self,
        lab: &MockLab,
        target: &str,
        variant: u32,
        password: Option<&str>,
    ) -> Run {
        let local_image = unique_image_name(self.builder.name());
        self.builder
            .build_sample(lab, &local_image, variant)
            .assert_success();
        let archive = lab
            .scratch_dir("archives")
            .join(format!("sample-{variant}.tar"));
        let source = self.builder.save(lab, &local_image, &archive);
        self.skopeo
            .copy(lab, &source, None, &format!("docker://{target}"), password)
    }
}

/// A mock that contains the lab's IMMUTABLE repository, the AWS CLI that created it and a valid
/// password from that CLI.
struct LabWithRepository {
    lab: MockLab,
    aws: AwsCli,
    password: String,
}

impl LabWithRepository {
    fn start(case: &str) -> Option<Self> {
        let lab = MockLab::start();
        let aws = AwsCli::one(case, 2)?;
        create_lab_repository(&lab, &aws);
        let password = aws.login_password(&lab);
        Some(Self { lab, aws, password })
    }

    fn target(&self, repository: &str) -> String {
        format!("{}/{repository}:v1", self.lab.registry_host())
    }

    /// Asserts that the lab's repository contains no image, as after a rejected push.
    fn assert_repository_empty(&self) {
        let images = self.aws.ecr_json(
            &self.lab,
            &["describe-images", "--repository-name", REPOSITORY],
        );
        assert_eq!(images["imageDetails"], json!([]), "{images:#}");
    }

    /// Asserts that the journal records a registry request rejected with `DENIED`.
    fn assert_journal_has_denied(&self) {
        let journal = self.lab.journal();
        let denied = journal.iter().any(|event| {
            event.source == Source::Registry
                && event.outcome == Outcome::Error
                && event.error_code.as_deref() == Some("DENIED")
        });
        assert!(
            denied,
            "no registry request rejected with DENIED in the journal: {journal:#?}"
        );
    }
}

/// Checks that a push with no credentials is rejected and stores nothing. docker gives up on
/// its own after ECR's `401` Basic challenge to `GET /v2/`, but podman and skopeo send the
/// request, which ECR rejects with `401`.
fn check_push_without_credentials(setup: &LabWithRepository, pusher: &dyn Pusher, message: &str) {
    pusher
        .push_sample(&setup.lab, &setup.target(REPOSITORY), 1, None)
        .assert_rejected(None, message);
    setup.assert_repository_empty();
}

/// Checks that a push to a repository that was never created is rejected with ECR's
/// `NAME_UNKNOWN`.
fn check_push_to_missing_repository(setup: &LabWithRepository, pusher: &dyn Pusher) {
    let target = setup.target("team/never-created");
    pusher
        .push_sample(&setup.lab, &target, 1, Some(&setup.password))
        .assert_rejected(None, NAME_UNKNOWN_MESSAGE);

    let journal = setup.lab.journal();
    let rejected = journal.iter().any(|event| {
        event.repository.as_deref() == Some("team/never-created")
            && event.outcome == Outcome::Error
            && event.error_code.as_deref() == Some("NAME_UNKNOWN")
    });
    assert!(
        rejected,
        "no request rejected with NAME_UNKNOWN in the journal: {journal:#?}"
    );
}

/// Checks that a second image pushed to an existing tag of an IMMUTABLE repository is rejected
/// with ECR's `TAG_INVALID`, and that the tag still names the first image.
fn check_immutable_tag_overwrite(setup: &LabWithRepository, pusher: &dyn Pusher) {
    let target = setup.target(REPOSITORY);
    pusher
        .push_sample(&setup.lab, &target, 1, Some(&setup.password))
        .assert_success();
    pusher
        .push_sample(&setup.lab, &target, 2, Some(&setup.password))
        .assert_rejected(None, TAG_INVALID_MESSAGE);

    let journal = setup.lab.journal();
    let accepted: Vec<_> = journal
        .iter()
        .filter(|event| event.action == "ManifestPut" && event.outcome == Outcome::Ok)
        .collect();
    assert_eq!(
        accepted.len(),
        1,
        "expected one accepted ManifestPut: {journal:#?}"
    );
    let first_digest = accepted[0]
        .digest
        .as_deref()
        .expect("ManifestPut names its digest");
    assert_single_image(&setup.lab, &setup.aws, first_digest, "v1");

    let rejected = journal.iter().any(|event| {
        event.action == "ManifestPut"
            && event.outcome == Outcome::Error
            && event.error_code.as_deref() == Some("TAG_INVALID")
    });
    assert!(
        rejected,
        "no ManifestPut rejected with TAG_INVALID in the journal: {journal:#?}"
    );
}

#[test]
fn docker_push_without_login_is_rejected() {
    let case = "docker_push_without_login_is_rejected";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(docker) = ContainerCli::docker(case, &setup.lab) else {
        return;
    };
    check_push_without_credentials(&setup, &docker, "no basic auth credentials");
}

#[test]
fn podman_push_without_login_is_rejected() {
    let case = "podman_push_without_login_is_rejected";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(podman) = ContainerCli::podman(case, &setup.lab) else {
        return;
    };
    // podman's first request is `HEAD` on a blob, and a response to HEAD has no body to show,
    // so containers/image prints its own text for the 401.
    check_push_without_credentials(&setup, &podman, "unauthorized: authentication required");
    setup.assert_journal_has_denied();
}

#[test]
fn skopeo_push_without_credentials_is_rejected() {
    let case = "skopeo_push_without_credentials_is_rejected";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(skopeo) = SkopeoPusher::find(case, &setup.lab) else {
        return;
    };
    check_push_without_credentials(&setup, &skopeo, "unauthorized: authentication required");
    setup.assert_journal_has_denied();
}

#[test]
fn docker_login_invalid_password_denied() {
    let case = "docker_login_invalid_password_denied";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(docker) = ContainerCli::docker(case, &setup.lab) else {
        return;
    };
    // docker's engine reports the status of its `GET /v2/` but not the error body.
    docker
        .login(&setup.lab, setup.lab.registry_host(), INVALID_PASSWORD)
        .assert_rejected(Some(1), "failed with status: 401 Unauthorized");
    setup.assert_journal_has_denied();
}

#[test]
fn podman_login_invalid_password_denied() {
    let case = "podman_login_invalid_password_denied";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(podman) = ContainerCli::podman(case, &setup.lab) else {
        return;
    };
    // podman (containers/image) reports a 401 response to its login as a wrong password.
    podman
        .login(&setup.lab, setup.lab.registry_host(), INVALID_PASSWORD)
        .assert_rejected(Some(125), "invalid username/password");
    setup.assert_journal_has_denied();
}

#[test]
fn skopeo_invalid_password_denied() {
    let case = "skopeo_invalid_password_denied";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(skopeo) = SkopeoPusher::find(case, &setup.lab) else {
        return;
    };
    // As without credentials, the 401 is the response to a `HEAD` and has no body to show.
    skopeo
        .push_sample(
            &setup.lab,
            &setup.target(REPOSITORY),
            1,
            Some(INVALID_PASSWORD),
        )
        .assert_rejected(Some(1), "unauthorized: authentication required");
    setup.assert_repository_empty();
    setup.assert_journal_has_denied();
}

#[test]
fn docker_missing_repository_is_name_unknown() {
    let case = "docker_missing_repository_is_name_unknown";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(docker) = ContainerCli::docker(case, &setup.lab) else {
        return;
    };
    check_push_to_missing_repository(&setup, &docker);
}

#[test]
fn podman_missing_repository_is_name_unknown() {
    let case = "podman_missing_repository_is_name_unknown";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(podman) = ContainerCli::podman(case, &setup.lab) else {
        return;
    };
    check_push_to_missing_repository(&setup, &podman);
}

#[test]
fn skopeo_missing_repository_is_name_unknown() {
    let case = "skopeo_missing_repository_is_name_unknown";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(skopeo) = SkopeoPusher::find(case, &setup.lab) else {
        return;
    };
    check_push_to_missing_repository(&setup, &skopeo);
}

#[test]
fn docker_immutable_tag_overwrite_rejected() {
    let case = "docker_immutable_tag_overwrite_rejected";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(docker) = ContainerCli::docker(case, &setup.lab) else {
        return;
    };
    check_immutable_tag_overwrite(&setup, &docker);
}

#[test]
fn podman_immutable_tag_overwrite_rejected() {
    let case = "podman_immutable_tag_overwrite_rejected";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(podman) = ContainerCli::podman(case, &setup.lab) else {
        return;
    };
    check_immutable_tag_overwrite(&setup, &podman);
}

#[test]
fn skopeo_immutable_tag_overwrite_rejected() {
    let case = "skopeo_immutable_tag_overwrite_rejected";
    let Some(setup) = LabWithRepository::start(case) else {
        return;
    };
    let Some(skopeo) = SkopeoPusher::find(case, &setup.lab) else {
        return;
    };
    check_immutable_tag_overwrite(&setup, &skopeo);
}
