//! The three drills of `labs/ecr-drills/lab.toml`, performed against an in-process mock with
//! aws-sdk-ecr, oci-client and raw registry requests and graded after each stage. Every step
//! fails with a line that names the next action until its drill is done, then passes.

#[path = "support/ecr_sdk.rs"]
mod ecr_sdk;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_sdk_ecr::types::ImageTagMutability;
use ecrlab_core::check::{CheckOptions, CheckReport, StepResult, check_lab};
use ecrlab_core::clients::{AdminClient, EcrSettings, collect_evidence};
use ecrlab_core::lab::Lab;
use mock_ecr::{Config, MockEcr};
use oci_client::client::{ClientConfig, ClientProtocol, Config as ImageConfig, ImageLayer};
use oci_client::manifest::{IMAGE_LAYER_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

/// The `User-Agent` of this test's raw registry requests, as the journal records it.
const USER_AGENT: &str = "drills-test/1.0";

/// Registry credentials from one GetAuthorizationToken call.
#[derive(Clone)]
struct Login {
    user: String,
    password: String,
}

impl Login {
    fn auth(&self) -> RegistryAuth {
        RegistryAuth::Basic(self.user.clone(), self.password.clone())
    }
}

/// A registry response with its body read.
struct Reply {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Fixture {
    data: tempfile::TempDir,
    mock: MockEcr,
    ecr: aws_sdk_ecr::Client,
    admin: AdminClient,
    http: reqwest::Client,
    lab: Lab,
}

fn lab_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../labs/ecr-drills/lab.toml")
}

async fn start() -> Fixture {
    let data = tempfile::tempdir().expect("temporary folder");
    let mock = MockEcr::start(Config::new(data.path()))
        .await
        .expect("mock starts");
    let settings = EcrSettings::for_mock(mock.endpoint()).expect("endpoint");
    let http = reqwest::Client::builder()
        .no_proxy()
        .user_agent(USER_AGENT)
        .build()
        .expect("HTTP client");
    Fixture {
        ecr: settings.ecr_client(),
        admin: settings.admin_client().expect("admin client"),
        http,
        lab: Lab::from_path(&lab_path()).expect("the drills lab is valid"),
        data,
        mock,
    }
}

impl Fixture {
    async fn grade(&self) -> CheckReport {
        let evidence = collect_evidence(&self.ecr, &self.admin)
            .await
            .expect("evidence");
        check_lab(&self.lab, &evidence, CheckOptions::default())
    }

    async fn step(&self, id: &str) -> StepResult {
        let report = self.grade().await;
        report
            .steps
            .into_iter()
            .find(|step| step.id == id)
            .unwrap_or_else(|| panic!("the report has no step {id}"))
    }

    async fn create_repository(&self, name: &str, mutability: ImageTagMutability) {
        ecr_sdk::create_repository(&self.ecr, name, Some(mutability)).await;
    }

    /// Gets a token with GetAuthorizationToken and logs in with it, as `docker login` does
    /// with `GET /v2/`.
    async fn login(&self) -> Login {
        let (user, password) = ecr_sdk::registry_credentials(&self.ecr).await;
        let login = Login { user, password };
        let reply = self
            .registry(reqwest::Method::GET, "/v2/", &login, None)
            .await;
        assert_eq!(reply.status, 200, "login: {}", reply.text());
        login
    }

    /// Sends a registry request to the registry host of repository URIs, with Basic
    /// authentication and an optional manifest body.
    async fn registry(
        &self,
        method: reqwest::Method,
        path: &str,
        login: &Login,
        manifest: Option<(&str, &[u8])>,
    ) -> Reply {
        let url = format!("http://{}{path}", self.mock.registry_host());
        let mut request = self
            .http
            .request(method, &url)
            .basic_auth(&login.user, Some(&login.password))
            .header(
                "accept",
                "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
            );
        if let Some((content_type, body)) = manifest {
            request = request
                .header("content-type", content_type)
                .body(body.to_vec());
        }
        let response = request.send().await.unwrap_or_else(|error| {
            panic!("{url}: {error}");
        });
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await.expect("body").to_vec();
        Reply {
            status,
            content_type,
            body,
        }
    }

    /// Pushes a one-layer image with oci-client; `variant` makes its digest differ from others.
    async fn push(
        &self,
        login: &Login,
        repository: &str,
        tag: &str,
        variant: &str,
    ) -> Result<String, oci_client::errors::OciDistributionError> {
        let layer = ImageLayer::new(
            format!("drill image, variant {variant}").into_bytes(),
            IMAGE_LAYER_MEDIA_TYPE.to_owned(),
            None,
        );
        let config =
            ImageConfig::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
        let layers = vec![layer];
        let manifest = OciImageManifest::build(&layers, &config, None);
        let reference = Reference::with_tag(
            self.mock.registry_host().to_owned(),
            repository.to_owned(),
            tag.to_owned(),
        );
        let client = Client::new(ClientConfig {
            protocol: ClientProtocol::HttpsExcept(vec![self.mock.registry_host().to_owned()]),
            ..ClientConfig::default()
        });
        let response = client
            .push(&reference, &layers, config, &login.auth(), Some(manifest))
            .await?;
        Ok(response.manifest_url)
    }

    /// Runs the `ecrlab` binary against the mock, with its state in the fixture's folder.
    fn ecrlab(&self, arguments: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ecrlab"))
            .args(arguments)
            .args(["--endpoint", self.mock.endpoint()])
            .env("ECRLAB_STATE_DIR", self.data.path().join("state"))
            .env("NO_COLOR", "1")
            .output()
            .expect("ecrlab runs")
    }
}

fn assert_evidence(step: &StepResult, passed: bool, expected: &str) {
    assert_eq!(
        step.passed, passed,
        "step {}: {:#?}",
        step.id, step.evidence
    );
    assert!(
        step.evidence.iter().any(|line| line.contains(expected)),
        "no evidence line of step {} contains {expected:?}: {:#?}",
        step.id,
        step.evidence
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fresh_mock_fails_every_drill() {
    let fixture = start().await;
    let report = fixture.grade().await;
    assert!(!report.passed);
    let lines: Vec<(&str, bool, &str)> = report
        .steps
        .iter()
        .map(|step| (step.id.as_str(), step.passed, step.evidence[0].as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "immutable-tag",
                false,
                "no repository has tag mutability IMMUTABLE; create one with aws ecr create-repository --image-tag-mutability IMMUTABLE"
            ),
            (
                "token-expiry",
                false,
                "no container client has logged in to the registry yet; start with aws ecr get-login-password | docker login --username AWS --password-stdin <registry>"
            ),
            (
                "tag-limit",
                false,
                "no repository holds a tagged image yet; push one image, then add tags to it as the instructions show"
            ),
        ]
    );
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn immutable_tag_drill() {
    let fixture = start().await;
    fixture
        .create_repository("drills/immutable", ImageTagMutability::Immutable)
        .await;
    let login = fixture.login().await;
    fixture
        .push(&login, "drills/immutable", "v1", "one")
        .await
        .expect("first push of v1");
    let step = fixture.step("immutable-tag").await;
    assert_evidence(
        &step,
        false,
        "and no push to that tag has been rejected yet; build a different image and push it to the same tag",
    );

    let error = fixture
        .push(&login, "drills/immutable", "v1", "two")
        .await
        .expect_err("an IMMUTABLE tag cannot move");
    let error = error.to_string();
    assert!(
        error.contains("TAG_INVALID") || error.contains("already exists"),
        "{error}"
    );

    let step = fixture.step("immutable-tag").await;
    assert_evidence(
        &step,
        true,
        "and the registry rejected it with TAG_INVALID (The image tag 'v1' already exists in the 'drills/immutable' repository and cannot be overwritten because the repository is immutable.), because repository drills/immutable in us-east-1 has tag mutability IMMUTABLE",
    );
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn token_expiry_drill() {
    let fixture = start().await;
    fixture
        .create_repository("drills/expiry", ImageTagMutability::Mutable)
        .await;
    let old_login = fixture.login().await;
    let step = fixture.step("token-expiry").await;
    assert_evidence(&step, false, "run ecrlab clock advance 13h");

    let advanced = fixture.ecrlab(&["clock", "advance", "13h"]);
    let stdout = String::from_utf8_lossy(&advanced.stdout);
    assert!(
        advanced.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&advanced.stderr)
    );
    assert!(
        stdout.starts_with("Moved the mock's clock forward 13h"),
        "{stdout}"
    );
    let show_output = fixture.ecrlab(&["clock", "show"]);
    let stdout = String::from_utf8_lossy(&show_output.stdout);
    assert!(stdout.contains("moved forward 13h in total"), "{stdout}");

    let error = fixture
        .push(&old_login, "drills/expiry", "v1", "one")
        .await
        .expect_err("the old token has expired");
    let error = error.to_string();
    assert!(error.contains("authorization token has expired"), "{error}");
    let step = fixture.step("token-expiry").await;
    assert_evidence(&step, false, "no new token has been issued since");
    assert_evidence(&step, false, "authorization token has expired");

    let new_login = fixture.login().await;
    let step = fixture.step("token-expiry").await;
    assert_evidence(
        &step,
        false,
        "but no manifest push has succeeded since; push the image again",
    );

    fixture
        .push(&new_login, "drills/expiry", "v1", "one")
        .await
        .expect("the new token works");
    let step = fixture.step("token-expiry").await;
    assert_evidence(&step, true, "the mock's clock was moved forward 13h");
    assert_evidence(&step, true, "then pushed");
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tag_limit_drill() {
    let fixture = start().await;
    fixture
        .create_repository("drills/tags", ImageTagMutability::Mutable)
        .await;
    let login = fixture.login().await;
    fixture
        .push(&login, "drills/tags", "t1", "one")
        .await
        .expect("push of t1");
    let manifest = fixture
        .registry(
            reqwest::Method::GET,
            "/v2/drills/tags/manifests/t1",
            &login,
            None,
        )
        .await;
    assert_eq!(manifest.status, 200, "{}", manifest.text());
    let content_type = manifest.content_type.clone().expect("content type");
    let step = fixture.step("tag-limit").await;
    assert_evidence(&step, false, "has 1 tag; add 999 more");

    for number in 2..=1000 {
        let path = format!("/v2/drills/tags/manifests/t{number}");
        let body = Some((content_type.as_str(), manifest.body.as_slice()));
        let reply = fixture
            .registry(reqwest::Method::PUT, &path, &login, body)
            .await;
        assert_eq!(reply.status, 201, "t{number}: {}", reply.text());
    }
    let step = fixture.step("tag-limit").await;
    assert_evidence(
        &step,
        false,
        "has 1,000 tags; push it once more under a new tag",
    );

    let rejected = fixture
        .registry(
            reqwest::Method::PUT,
            "/v2/drills/tags/manifests/t1001",
            &login,
            Some((content_type.as_str(), manifest.body.as_slice())),
        )
        .await;
    assert_eq!(rejected.status, 403, "{}", rejected.text());
    assert!(rejected.text().contains("DENIED"), "{}", rejected.text());
    let step = fixture.step("tag-limit").await;
    assert_evidence(&step, true, "/drills/tags:t1001 from drills-test/1.0");
    assert_evidence(&step, true, "with DENIED (Adding tag 't1001'");
    assert_evidence(
        &step,
        true,
        "in repository drills/tags (us-east-1) has 1,000 tags",
    );

    // The ECR API rejects the same tag with LimitExceededException, which also passes.
    let error = fixture
        .ecr
        .put_image()
        .repository_name("drills/tags")
        .image_tag("t1001")
        .image_manifest(String::from_utf8(manifest.body.clone()).expect("UTF-8 manifest"))
        .image_manifest_media_type(&content_type)
        .send()
        .await
        .expect_err("tag 1,001 is over the limit");
    let service_error = error.into_service_error();
    assert!(
        service_error.is_limit_exceeded_exception(),
        "{service_error:?}"
    );
    let step = fixture.step("tag-limit").await;
    assert_evidence(&step, true, "PutImage from aws-sdk-rust");
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn drills_lab_passes_after_all_drills() {
    let fixture = start().await;
    fixture
        .create_repository("drills/immutable", ImageTagMutability::Immutable)
        .await;
    let login = fixture.login().await;
    fixture
        .push(&login, "drills/immutable", "v1", "one")
        .await
        .expect("first push");
    fixture
        .push(&login, "drills/immutable", "v1", "two")
        .await
        .expect_err("second push to v1");

    fixture
        .admin
        .advance_clock("13h")
        .await
        .expect("clock advanced");
    fixture
        .push(&login, "drills/immutable", "v2", "two")
        .await
        .expect_err("expired token");
    let login = fixture.login().await;
    fixture
        .push(&login, "drills/immutable", "v2", "two")
        .await
        .expect("push after the new login");

    let manifest = fixture
        .registry(
            reqwest::Method::GET,
            "/v2/drills/immutable/manifests/v2",
            &login,
            None,
        )
        .await;
    let content_type = manifest.content_type.clone().expect("content type");
    // The image is tagged v2, so v3 to v1001 bring it to 1,000 tags and v1002 is rejected.
    for number in 3..=1002 {
        let path = format!("/v2/drills/immutable/manifests/v{number}");
        let body = Some((content_type.as_str(), manifest.body.as_slice()));
        let reply = fixture
            .registry(reqwest::Method::PUT, &path, &login, body)
            .await;
        let expected = if number <= 1001 { 201 } else { 403 };
        assert_eq!(reply.status, expected, "v{number}: {}", reply.text());
    }

    let report = fixture.grade().await;
    assert!(report.passed, "{}", report.render_text());

    let checked = fixture.ecrlab(&["check", "--lab", lab_path().to_str().expect("UTF-8 path")]);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(stdout.contains("3 of 3 steps passed"), "{stdout}");
    fixture.mock.shutdown().await;
}
