//! The demo and the grading against a real mock: `run_demo` performs the lab's five steps on an
//! in-process mock-ecr, and the evidence that ecrlab's clients collect afterwards shows each of
//! them. A student's work, done here with aws-sdk-ecr, reqwest and oci-client, is graded in
//! whichever region it was done, after a restart on another port, and apart from the demo's.

#[path = "support/ecr_scans.rs"]
mod ecr_scans;
#[path = "support/ecr_sdk.rs"]
mod ecr_sdk;

use std::path::Path;
use std::process::Output;

use aws_sdk_ecr::config::AppName;
use ecrlab_core::check::{CheckOptions, CheckReport, check_lab};
use ecrlab_core::clients::{self, AdminClient, EcrSettings};
use ecrlab_core::demo::{self, DEMO_USER_AGENT, DemoOutcome, SampleImage};
use ecrlab_core::evidence::{Evidence, JournalEvent, Outcome, Source};
use ecrlab_core::lab::Lab;
use oci_client::client::{ClientConfig, ClientProtocol, Config as ImageConfig, ImageLayer};
use oci_client::manifest::{IMAGE_LAYER_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;

struct RunningMock {
    mock: mock_ecr::MockEcr,
    settings: EcrSettings,
    // Held so that the data folder lives as long as the mock.
    _data_dir: tempfile::TempDir,
}

impl RunningMock {
    async fn start() -> Self {
        let data_dir = tempfile::tempdir().expect("create a data folder");
        let mock = mock_ecr::MockEcr::start(mock_ecr::Config::new(data_dir.path()))
            .await
            .expect("start the mock");
        let settings = EcrSettings::for_mock(mock.endpoint()).expect("mock endpoint is valid");
        RunningMock {
            mock,
            settings,
            _data_dir: data_dir,
        }
    }

    fn admin(&self) -> AdminClient {
        self.settings.admin_client().expect("admin client")
    }

    async fn run_demo(&self) -> (DemoOutcome, String) {
        let mut output = Vec::new();
        let outcome = demo::run_demo(&self.settings, &mut output).await;
        let output = String::from_utf8(output).expect("demo output is UTF-8");
        match outcome {
            Ok(outcome) => (outcome, output),
            Err(error) => panic!("demo failed: {error:?}\noutput so far:\n{output}"),
        }
    }

    async fn evidence(&self) -> Evidence {
        let ecr = self.settings.ecr_client();
        clients::collect_evidence(&ecr, &self.admin())
            .await
            .expect("collect evidence")
    }
}

fn events_with<'a>(evidence: &'a Evidence, action: &str) -> Vec<&'a JournalEvent> {
    evidence
        .events
        .iter()
        .filter(|event| event.action == action)
        .collect()
}

#[tokio::test]
async fn demo_performs_lab_steps() {
    let lab = RunningMock::start().await;
    let registry_host = lab.mock.registry_host().to_owned();

    let (outcome, output) = lab.run_demo().await;

    let sample = SampleImage::build().unwrap();
    assert_eq!(outcome.repository_uri, format!("{registry_host}/my-app"));
    assert_eq!(
        outcome.image.to_string(),
        format!("{registry_host}/my-app:latest")
    );
    assert_eq!(outcome.manifest_digest, sample.manifest_digest);
    assert!(outcome.token_expires_at.is_some(), "outcome: {outcome:?}");
    for step in [
        "Step 1/5",
        "Step 2/5",
        "Step 3/5",
        "Step 4/5",
        "Step 5/5",
        "Login Succeeded",
        "HIGH      CVE-2026-28388 in libssl3 3.0.11-1~deb12u2",
    ] {
        assert!(output.contains(step), "output lacks {step}:\n{output}");
    }
    assert!(
        output.contains(&format!("$ docker push {registry_host}/my-app:latest")),
        "output:\n{output}"
    );
    let scan_sample = SampleImage::build_scan_sample().unwrap();
    assert_eq!(
        outcome.scan_image.to_string(),
        format!("{registry_host}/my-app:scan")
    );
    assert_eq!(outcome.scan_manifest_digest, scan_sample.manifest_digest);
    let findings: Vec<(&str, &str, Option<&str>)> = outcome
        .scan_findings
        .iter()
        .map(|finding| {
            (
                finding.name.as_str(),
                finding.severity.as_str(),
                finding.package_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            ("CVE-2026-28388", "HIGH", Some("libssl3")),
            ("CVE-2026-4438", "LOW", Some("libc6")),
        ]
    );
    lab.mock.shutdown().await;
}

#[tokio::test]
async fn demo_leaves_repository_state() {
    let lab = RunningMock::start().await;

    let (outcome, _) = lab.run_demo().await;
    let evidence = lab.evidence().await;

    let sample = SampleImage::build().unwrap();
    assert_eq!(
        evidence.repositories.len(),
        1,
        "{:?}",
        evidence.repositories
    );
    let repository = &evidence.repositories[0];
    assert_eq!(repository.name, "my-app");
    assert_eq!(repository.uri, outcome.repository_uri);
    assert_eq!(repository.tag_mutability, "IMMUTABLE");
    assert!(repository.scan_on_push);
    assert_eq!(repository.images.len(), 2, "{:?}", repository.images);
    let image = &repository.images[0];
    assert_eq!(image.digest, sample.manifest_digest);
    assert_eq!(image.tags, ["latest"]);
    assert_eq!(image.size_bytes, sample.layer.len() as i64);
    assert_eq!(
        image.manifest_media_type.as_deref(),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert!(image.pushed_at.is_some(), "image: {image:?}");
    // The first sample has no package database, so its scan on push cannot read it.
    let hello_scan = image.scan.as_ref().expect("the first image was scanned");
    assert_eq!(hello_scan.status, "UNSUPPORTED_IMAGE");
    assert!(hello_scan.findings.is_empty());

    let scanned = &repository.images[1];
    assert_eq!(scanned.digest, outcome.scan_manifest_digest);
    assert_eq!(scanned.tags, ["scan"]);
    let scan = scanned.scan.as_ref().expect("the scan sample was scanned");
    assert_eq!(scan.status, "COMPLETE");
    assert!(scan.completed_at.is_some(), "{scan:?}");
    assert_eq!(scan.findings, outcome.scan_findings);
    lab.mock.shutdown().await;
}

#[tokio::test]
async fn demo_journals_each_step() {
    let lab = RunningMock::start().await;

    let (outcome, _) = lab.run_demo().await;
    let evidence = lab.evidence().await;

    let created = events_with(&evidence, "CreateRepository");
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].outcome, Outcome::Ok);
    assert_eq!(created[0].source, Source::EcrApi);
    assert_eq!(created[0].repository.as_deref(), Some("my-app"));

    let tokens = events_with(&evidence, "GetAuthorizationToken");
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0].outcome, Outcome::Ok);

    let logins: Vec<&JournalEvent> = events_with(&evidence, "Login")
        .into_iter()
        .filter(|event| event.outcome == Outcome::Ok)
        .collect();
    assert!(
        !logins.is_empty(),
        "no successful Login in {:?}",
        evidence.events
    );
    assert_eq!(logins[0].source, Source::Registry);
    assert_eq!(logins[0].user_agent.as_deref(), Some(DEMO_USER_AGENT));

    let uploaded: Vec<Option<&str>> = events_with(&evidence, "BlobUpload")
        .iter()
        .filter(|event| event.outcome == Outcome::Ok)
        .map(|event| event.digest.as_deref())
        .collect();
    assert!(
        uploaded.contains(&Some(outcome.layer_digest.as_str())),
        "layer upload missing from {uploaded:?}"
    );
    assert!(
        uploaded.contains(&Some(outcome.config_digest.as_str())),
        "config upload missing from {uploaded:?}"
    );

    let manifests = events_with(&evidence, "ManifestPut");
    assert_eq!(manifests.len(), 2, "{manifests:?}");
    assert_eq!(manifests[0].outcome, Outcome::Ok);
    assert_eq!(manifests[0].repository.as_deref(), Some("my-app"));
    assert_eq!(manifests[0].reference.as_deref(), Some("latest"));
    assert_eq!(
        manifests[0].digest.as_deref(),
        Some(outcome.manifest_digest.as_str())
    );
    assert_eq!(manifests[0].user_agent.as_deref(), Some(DEMO_USER_AGENT));
    assert_eq!(manifests[1].reference.as_deref(), Some("scan"));
    assert_eq!(
        manifests[1].digest.as_deref(),
        Some(outcome.scan_manifest_digest.as_str())
    );

    let scans: Vec<(&str, Option<&str>)> = evidence
        .events
        .iter()
        .filter(|event| event.source == Source::Scanner)
        .map(|event| (event.action.as_str(), event.digest.as_deref()))
        .collect();
    let scan_digest = Some(outcome.scan_manifest_digest.as_str());
    assert!(
        scans.contains(&("ImageScanStarted", scan_digest)),
        "{scans:?}"
    );
    assert!(
        scans.contains(&("ImageScanCompleted", scan_digest)),
        "{scans:?}"
    );
    let reads = events_with(&evidence, "DescribeImageScanFindings");
    assert!(
        reads
            .iter()
            .any(|event| event.outcome == Outcome::Ok && event.digest.as_deref() == scan_digest),
        "{reads:?}"
    );
    lab.mock.shutdown().await;
}

#[tokio::test]
async fn demo_reuses_existing_repository() {
    let lab = RunningMock::start().await;
    let ecr = lab.settings.ecr_client();
    ecr_sdk::create_repository(&ecr, "my-app", None).await;

    let (outcome, output) = lab.run_demo().await;

    assert!(
        output.contains("my-app already exists, so the demo uses it"),
        "output:\n{output}"
    );
    assert!(
        output.contains("tag mutability MUTABLE"),
        "output:\n{output}"
    );
    // The repository was created without scan on push, so the demo turns it on before it
    // pushes the scan sample, as the lab's instructions do.
    assert!(
        output.contains(
            "$ aws ecr put-image-scanning-configuration --repository-name my-app --image-scanning-configuration scanOnPush=true"
        ),
        "output:\n{output}"
    );
    let evidence = lab.evidence().await;
    let repository = &evidence.repositories[0];
    assert_eq!(repository.tag_mutability, "MUTABLE");
    assert!(repository.scan_on_push);
    assert_eq!(repository.images[0].digest, outcome.manifest_digest);
    assert_eq!(
        repository.images[0].scan, None,
        "pushed before scan on push"
    );
    let scan = repository.images[1].scan.as_ref().expect("scanned on push");
    assert_eq!(scan.status, "COMPLETE");
    let report = grade(
        &evidence,
        CheckOptions {
            accept_demo_events: true,
        },
    );
    assert_all_passed(&report);
    lab.mock.shutdown().await;
}

#[tokio::test]
async fn env_script_names_running_mock() {
    let lab = RunningMock::start().await;

    let health = lab.admin().health().await.expect("health");
    let exports = clients::fetch_env_exports(&lab.settings)
        .await
        .expect("env exports");
    assert!(exports.error.is_none(), "error: {:?}", exports.error);
    let script = exports.script;

    assert_eq!(health.account_id, "123456789012");
    assert_eq!(health.registry_host, lab.mock.registry_host());
    assert!(
        script.contains(&format!(
            "export AWS_ENDPOINT_URL={}\n",
            lab.mock.endpoint()
        )),
        "script:\n{script}"
    );
    assert!(
        script.contains(&format!(
            "export ECR_REGISTRY={}\n",
            lab.mock.registry_host()
        )),
        "script:\n{script}"
    );
    assert!(
        script.contains("export AWS_REGION=us-east-1\n"),
        "script:\n{script}"
    );
    assert!(
        script.contains(&format!("export ECRLAB_ENDPOINT={}\n", lab.mock.endpoint())),
        "script:\n{script}"
    );
    lab.mock.shutdown().await;
}

#[tokio::test]
async fn journal_since_skips_earlier_events() {
    let lab = RunningMock::start().await;
    let ecr = lab.settings.ecr_client();
    for name in ["first", "second", "third"] {
        ecr_sdk::create_repository(&ecr, name, None).await;
    }
    let admin = lab.admin();

    let all = admin.journal_since(0).await.expect("journal");
    let later = admin.journal_since(all[0].seq).await.expect("journal");

    let repositories: Vec<Option<&str>> = all
        .iter()
        .map(|event| event.repository.as_deref())
        .collect();
    assert_eq!(repositories, [Some("first"), Some("second"), Some("third")]);
    assert_eq!(later, all[1..]);
    lab.mock.shutdown().await;
}

/// A user agent like the one `docker login` and `docker push` send.
const DOCKER_USER_AGENT: &str = "docker/27.3.1 go/go1.22.7 git-commit/41ca978 os/linux arch/amd64";

/// Starts a mock on `data_dir` in `region`, listening on a free port.
async fn start_mock(data_dir: &Path, region: &str) -> mock_ecr::MockEcr {
    let mut config = mock_ecr::Config::new(data_dir);
    config.region = region.to_owned();
    mock_ecr::MockEcr::start(config)
        .await
        .expect("start the mock")
}

/// Does the lab's steps as a student would, with clients other than the demo's: aws-sdk-ecr
/// signing for `region` creates `repository`, turns on scan on push and gets a token, a
/// docker-style `GET /v2/` logs in, and oci-client pushes a one-layer image as
/// `<registry>/<repository>:<tag>`. Then oci-client pushes the scan sample as `:scan`, and
/// aws-sdk-ecr waits for its scan and reads the findings.
async fn do_lab_as_student(mock: &mock_ecr::MockEcr, region: &str, repository: &str, tag: &str) {
    let mut settings = EcrSettings::for_mock(mock.endpoint()).expect("endpoint");
    settings.region = region.to_owned();
    // ecrlab's grading clients carry the SDK app name `ecrlab`, and a student's calls must not.
    let app_name = AppName::new("lab-student").expect("valid app name");
    let ecr = aws_sdk_ecr::Client::from_conf(settings.ecr_config().app_name(app_name).build());
    ecr_sdk::create_repository(&ecr, repository, None).await;
    ecr_scans::turn_on_scan_on_push(&ecr, repository).await;
    let (user, password) = ecr_sdk::registry_credentials(&ecr).await;

    let login = reqwest::Client::builder()
        .no_proxy()
        .user_agent(DOCKER_USER_AGENT)
        .build()
        .expect("HTTP client")
        .get(format!("http://{}/v2/", mock.registry_host()))
        .basic_auth(&user, Some(&password))
        .send()
        .await
        .expect("GET /v2/");
    assert_eq!(login.status(), 200, "login in {region}");

    let auth = RegistryAuth::Basic(user, password);
    push_image(mock, &auth, repository, tag).await;
    push_scan_sample(mock, &auth, repository).await;
    let findings = ecr_scans::wait_for_scan_findings(&ecr, repository, "scan").await;
    assert!(
        findings
            .iter()
            .any(|finding| finding.name() == Some("CVE-2026-28388")),
        "{findings:?}"
    );
}

/// Pushes the scanning step's sample image as `<registry>/<repository>:scan`.
async fn push_scan_sample(mock: &mock_ecr::MockEcr, auth: &RegistryAuth, repository: &str) {
    let registry = mock.registry_host().to_owned();
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(vec![registry.clone()]),
        ..ClientConfig::default()
    });
    let sample = SampleImage::build_scan_sample().expect("scan sample");
    let layers = vec![ImageLayer::new(
        sample.layer,
        "application/vnd.oci.image.layer.v1.tar".to_owned(),
        None,
    )];
    let config = ImageConfig::oci_v1(sample.config, None);
    let reference =
        oci_client::Reference::with_tag(registry, repository.to_owned(), "scan".to_owned());
    client
        .push(&reference, &layers, config, auth, None)
        .await
        .expect("push the scan sample");
}

async fn push_image(mock: &mock_ecr::MockEcr, auth: &RegistryAuth, repository: &str, tag: &str) {
    let registry = mock.registry_host().to_owned();
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(vec![registry.clone()]),
        ..ClientConfig::default()
    });
    let layers = vec![ImageLayer::new(
        format!("layer of {repository}:{tag}").into_bytes(),
        IMAGE_LAYER_MEDIA_TYPE.to_owned(),
        None,
    )];
    let config = ImageConfig::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
    let manifest = OciImageManifest::build(&layers, &config, None);
    let reference =
        oci_client::Reference::with_tag(registry, repository.to_owned(), tag.to_owned());
    client
        .push(&reference, &layers, config, auth, Some(manifest))
        .await
        .expect("push the image");
}

/// Collects the evidence as `ecrlab check` does: settings in the mock's region from its health
/// response, then every region the journal names.
async fn collect_as_check(endpoint: &str) -> Evidence {
    let (settings, _) = EcrSettings::for_running_mock(endpoint)
        .await
        .expect("health");
    let admin = settings.admin_client().expect("admin client");
    clients::collect_evidence(&settings.ecr_client(), &admin)
        .await
        .expect("collect evidence")
}

fn grade(evidence: &Evidence, options: CheckOptions) -> CheckReport {
    check_lab(&Lab::builtin_push_to_ecr(), evidence, options)
}

fn assert_all_passed(report: &CheckReport) {
    for step in &report.steps {
        assert!(step.passed, "step {} failed: {:?}", step.id, step.evidence);
    }
    assert!(report.passed);
}

/// Asserts that the four push steps passed and the scanning step, which the test did not do,
/// failed.
fn assert_push_steps_passed(report: &CheckReport) {
    for step in &report.steps {
        let scanning = step.id == "scan-image";
        assert_eq!(
            step.passed, !scanning,
            "step {}: {:?}",
            step.id, step.evidence
        );
    }
}

fn step_evidence<'a>(report: &'a CheckReport, id: &str) -> &'a [String] {
    &report
        .steps
        .iter()
        .find(|step| step.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
        .evidence
}

fn assert_mentions(lines: &[String], needle: &str) {
    assert!(
        lines.iter().any(|line| line.contains(needle)),
        "{lines:#?} does not mention {needle:?}"
    );
}

async fn ecrlab(arguments: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args(arguments)
        .env("NO_COLOR", "1")
        .env_remove("ECRLAB_ENDPOINT")
        .output()
        .await
        .expect("ecrlab runs")
}

/// Runs `ecrlab check --format json` and returns its exit code and report.
async fn check_command(endpoint: &str) -> (Option<i32>, serde_json::Value) {
    let output = ecrlab(&["check", "--endpoint", endpoint, "--format", "json"]).await;
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), report)
}

#[tokio::test(flavor = "multi_thread")]
async fn check_grades_lab_done_in_other_region() {
    let data_dir = tempfile::tempdir().expect("data folder");
    let mock = start_mock(data_dir.path(), "us-east-1").await;

    do_lab_as_student(&mock, "eu-west-1", "my-app", "v1").await;
    let mut settings = EcrSettings::for_mock(mock.endpoint()).expect("endpoint");
    settings.region = "us-east-1".to_owned();
    ecr_sdk::create_repository(&settings.ecr_client(), "other", None).await;
    let evidence = collect_as_check(mock.endpoint()).await;
    let report = grade(&evidence, CheckOptions::default());
    let (code, json) = check_command(mock.endpoint()).await;

    let found: Vec<(&str, &str)> = evidence
        .repositories
        .iter()
        .map(|repository| (repository.region.as_str(), repository.name.as_str()))
        .collect();
    assert_eq!(found, [("us-east-1", "other"), ("eu-west-1", "my-app")]);
    assert_all_passed(&report);
    assert_mentions(
        step_evidence(&report, "create-repository"),
        "repository my-app exists in eu-west-1",
    );
    assert_mentions(
        step_evidence(&report, "authenticate"),
        "token for eu-west-1",
    );
    // The push step names the newest push, the scan sample's.
    assert_mentions(
        step_evidence(&report, "push"),
        "my-app:scan is in the registry",
    );
    assert_mentions(
        step_evidence(&report, "scan-image"),
        "read its findings with DescribeImageScanFindings",
    );
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["passed"], true, "{json:#}");
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_grades_mock_serving_other_region() {
    let data_dir = tempfile::tempdir().expect("data folder");
    let mock = start_mock(data_dir.path(), "eu-west-1").await;
    // `ecrlab env` exports the mock's region, so default tools work in it.
    let (settings, health) = EcrSettings::for_running_mock(mock.endpoint())
        .await
        .expect("health");

    do_lab_as_student(&mock, &settings.region, "my-app", "v1").await;
    let evidence = collect_as_check(mock.endpoint()).await;
    let report = grade(&evidence, CheckOptions::default());
    let (code, json) = check_command(mock.endpoint()).await;

    assert_eq!(health.region, "eu-west-1");
    assert_eq!(settings.region, "eu-west-1");
    assert_eq!(
        evidence.repositories.len(),
        1,
        "{:?}",
        evidence.repositories
    );
    assert_eq!(evidence.repositories[0].region, "eu-west-1");
    assert_all_passed(&report);
    assert_eq!(code, Some(0), "{json:#}");
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_explains_token_from_other_region() {
    let data_dir = tempfile::tempdir().expect("data folder");
    let mock = start_mock(data_dir.path(), "us-east-1").await;
    let mut settings = EcrSettings::for_mock(mock.endpoint()).expect("endpoint");
    settings.region = "eu-west-1".to_owned();
    ecr_sdk::create_repository(&settings.ecr_client(), "my-app", None).await;

    // A token for us-east-1 does not open the repositories of eu-west-1.
    let default_ecr = EcrSettings::for_mock(mock.endpoint())
        .expect("endpoint")
        .ecr_client();
    let (user, password) = ecr_sdk::registry_credentials(&default_ecr).await;
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(vec![mock.registry_host().to_owned()]),
        ..ClientConfig::default()
    });
    let layers = vec![ImageLayer::new(
        b"layer".to_vec(),
        IMAGE_LAYER_MEDIA_TYPE.to_owned(),
        None,
    )];
    let config = ImageConfig::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
    let reference = oci_client::Reference::with_tag(
        mock.registry_host().to_owned(),
        "my-app".to_owned(),
        "v1".to_owned(),
    );
    let pushed = client
        .push(
            &reference,
            &layers,
            config,
            &RegistryAuth::Basic(user, password),
            None,
        )
        .await;
    let report = grade(
        &collect_as_check(mock.endpoint()).await,
        CheckOptions::default(),
    );

    assert!(pushed.is_err(), "a token for us-east-1 pushed to eu-west-1");
    assert_mentions(
        step_evidence(&report, "tag"),
        "with a token for us-east-1, but repository my-app exists only in eu-west-1",
    );
    assert_mentions(
        step_evidence(&report, "tag"),
        "aws ecr get-login-password --region eu-west-1",
    );
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_passes_after_restart_on_other_port() {
    let data_dir = tempfile::tempdir().expect("data folder");
    let first = start_mock(data_dir.path(), "us-east-1").await;
    do_lab_as_student(&first, "us-east-1", "my-app", "v1").await;
    let first_host = first.registry_host().to_owned();
    first.shutdown().await;

    let second = start_mock(data_dir.path(), "us-east-1").await;
    let evidence = collect_as_check(second.endpoint()).await;
    let report = grade(&evidence, CheckOptions::default());
    let (code, json) = check_command(second.endpoint()).await;

    assert_ne!(
        first_host,
        second.registry_host(),
        "the port did not change"
    );
    assert_eq!(
        evidence.repositories[0].uri,
        format!("{}/my-app", second.registry_host())
    );
    assert_all_passed(&report);
    assert_mentions(step_evidence(&report, "tag"), "ports are not compared");
    assert_eq!(code, Some(0), "{json:#}");
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_rejects_unauthenticated_manifest_put() {
    let lab = RunningMock::start().await;
    ecr_sdk::create_repository(&lab.settings.ecr_client(), "my-app", None).await;

    let response = reqwest::Client::builder()
        .no_proxy()
        .user_agent("curl/8.5.0")
        .build()
        .expect("HTTP client")
        .put(format!(
            "http://{}/v2/my-app/manifests/v1",
            lab.mock.registry_host()
        ))
        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .body("{}")
        .send()
        .await
        .expect("PUT manifest");
    let evidence = lab.evidence().await;
    let report = grade(&evidence, CheckOptions::default());

    assert_eq!(response.status(), 401);
    let denied = events_with(&evidence, "ManifestPut");
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].error_code.as_deref(), Some("DENIED"));
    let tag = report
        .steps
        .iter()
        .find(|step| step.id == "tag")
        .expect("tag step");
    assert!(!tag.passed, "{:?}", tag.evidence);
    assert_mentions(&tag.evidence, "but the registry rejected it with DENIED");
    lab.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_ignores_demo_work_for_student() {
    let lab = RunningMock::start().await;

    lab.run_demo().await;
    let evidence = lab.evidence().await;
    let student = grade(&evidence, CheckOptions::default());
    let demo = grade(
        &evidence,
        CheckOptions {
            accept_demo_events: true,
        },
    );
    let (code, json) = check_command(lab.mock.endpoint()).await;

    for step in &student.steps {
        assert!(!step.passed, "step {} passed: {:?}", step.id, step.evidence);
        assert_mentions(&step.evidence, "ignored ");
        assert_mentions(&step.evidence, "ecrlab-demo");
    }
    assert_all_passed(&demo);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(json["passed"], false, "{json:#}");
    lab.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn env_command_exports_endpoint_for_check() {
    let lab = RunningMock::start().await;
    let endpoint = lab.mock.endpoint().to_owned();

    let output = ecrlab(&["env", "--endpoint", &endpoint]).await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stdout.contains(&format!("export ECRLAB_ENDPOINT={endpoint}\n")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .all(|line| line.starts_with("export ") || line.starts_with("unset ")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .next()
            .is_some_and(|line| line.starts_with("unset ")
                && line.contains("AWS_ENDPOINT_URL_ECR")
                && line.contains("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")),
        "variables that would override the exports are unset first: {stdout}"
    );
    // stdout is a pipe here, as under eval, so the note goes to stderr.
    assert!(stderr.contains("ignore AWS_ENDPOINT_URL"), "{stderr}");
    assert!(
        stderr.contains(&format!("--endpoint-url {endpoint}")),
        "{stderr}"
    );
    lab.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn env_command_points_shell_at_stopped_mock() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let endpoint = format!("http://127.0.0.1:{port}");

    let output = ecrlab(&["env", "--endpoint", &endpoint]).await;
    let shell = tokio::process::Command::new("sh")
        .args([
            "-c",
            r#"eval "$("$0" env --endpoint "$1" 2>/dev/null)"; printf '%s %s %s' "$AWS_ENDPOINT_URL" "$ECRLAB_ENDPOINT" "$ECR_REGISTRY""#,
            env!("CARGO_BIN_EXE_ecrlab"),
            &endpoint,
        ])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("ECRLAB_ENDPOINT")
        .output()
        .await
        .expect("sh runs");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    for line in [
        format!("export AWS_ENDPOINT_URL={endpoint}"),
        format!("export ECRLAB_ENDPOINT={endpoint}"),
        "export AWS_REGION=us-east-1".to_owned(),
        format!("export ECR_REGISTRY=localhost:{port}"),
    ] {
        assert!(stdout.lines().any(|printed| printed == line), "{stdout}");
    }
    assert!(stderr.contains("ecrlab: error:"), "{stderr}");
    assert!(stderr.contains(&endpoint), "{stderr}");
    assert!(stderr.contains("ecrlab serve"), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&shell.stdout),
        format!("{endpoint} {endpoint} localhost:{port}")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_passes_push_without_login_request() {
    let lab = RunningMock::start().await;
    let ecr = lab.settings.ecr_client();
    ecr_sdk::create_repository(&ecr, "my-app", None).await;
    let (user, password) = ecr_sdk::registry_credentials(&ecr).await;

    // oci-client sends its credentials with the push itself, without a `GET /v2/` that carries
    // them, so the journal has no Login event.
    push_image(
        &lab.mock,
        &RegistryAuth::Basic(user, password),
        "my-app",
        "v1",
    )
    .await;
    let evidence = lab.evidence().await;
    let report = grade(&evidence, CheckOptions::default());

    assert!(
        events_with(&evidence, "Login")
            .iter()
            .all(|event| event.outcome != Outcome::Ok),
        "{:?}",
        evidence.events
    );
    assert_push_steps_passed(&report);
    assert_mentions(
        step_evidence(&report, "authenticate"),
        "the registry accepted its credentials, although no login was journaled",
    );
    lab.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_unaffected_by_invalid_region() {
    let lab = RunningMock::start().await;
    // A region no SDK can sign for is rejected by the mock, so it never becomes a registry
    // whose evidence the check would have to collect.
    let created = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client")
        .post(lab.mock.endpoint())
        .header(
            "X-Amz-Target",
            "AmazonEC2ContainerRegistry_V20150921.CreateRepository",
        )
        .header("Content-Type", "application/x-amz-json-1.1")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAECRLABSTUDENT001/20250101/us east 1/ecr/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(r#"{"repositoryName":"odd"}"#)
        .send()
        .await
        .expect("CreateRepository");
    assert_eq!(created.status(), 400);
    let body: serde_json::Value = created.json().await.expect("JSON error body");
    assert_eq!(body["__type"], "IncompleteSignatureException");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("'us east 1'"), "{message}");

    do_lab_as_student(&lab.mock, "us-east-1", "my-app", "v1").await;
    let evidence = collect_as_check(lab.mock.endpoint()).await;
    let report = grade(&evidence, CheckOptions::default());
    let names: Vec<&str> = evidence
        .repositories
        .iter()
        .map(|repository| repository.name.as_str())
        .collect();
    assert_eq!(names, ["my-app"]);
    assert_all_passed(&report);
    lab.mock.shutdown().await;
}
