//! The in-process mock driven by the project's own clients: aws-sdk-ecr for the ECR API,
//! oci-client for the registry, and the `ecrlab check` binary for grading.

#[path = "support/ecr_scans.rs"]
mod ecr_scans;
#[path = "support/ecr_sdk.rs"]
mod ecr_sdk;

use std::process::Output;

use aws_sdk_ecr::config::AppName;
use aws_sdk_ecr::types::{ImageIdentifier, ImageTagMutability};
use ecrlab_core::clients::EcrSettings;
use ecrlab_core::demo::SampleImage;
use mock_ecr::{Config, MockEcr};
use oci_client::client::{ClientConfig, ClientProtocol, Config as ImageConfig, ImageLayer};
use oci_client::manifest::{IMAGE_LAYER_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::Value;

struct Fixture {
    _data: tempfile::TempDir,
    mock: MockEcr,
    ecr: aws_sdk_ecr::Client,
}

async fn start() -> Fixture {
    let data = tempfile::tempdir().expect("temporary folder");
    let mock = MockEcr::start(Config::new(data.path()))
        .await
        .expect("mock starts");
    let ecr = EcrSettings::for_mock(mock.endpoint())
        .expect("endpoint")
        .ecr_client();
    Fixture {
        _data: data,
        mock,
        ecr,
    }
}

impl Fixture {
    async fn create_repository(&self, name: &str, mutability: ImageTagMutability) {
        ecr_sdk::create_repository(&self.ecr, name, Some(mutability)).await;
    }

    /// Returns the registry login from GetAuthorizationToken.
    async fn login(&self) -> RegistryAuth {
        let (user, password) = ecr_sdk::registry_credentials(&self.ecr).await;
        RegistryAuth::Basic(user, password)
    }

    fn reference(&self, repository: &str, tag: &str) -> Reference {
        Reference::with_tag(
            self.mock.registry_host().to_owned(),
            repository.to_owned(),
            tag.to_owned(),
        )
    }

    fn registry_client(&self) -> Client {
        Client::new(ClientConfig {
            protocol: ClientProtocol::HttpsExcept(vec![self.mock.registry_host().to_owned()]),
            ..ClientConfig::default()
        })
    }

    /// Pushes a one-layer image whose layer contains `content`.
    async fn push(
        &self,
        auth: &RegistryAuth,
        repository: &str,
        tag: &str,
        content: &str,
    ) -> Result<String, oci_client::errors::OciDistributionError> {
        let layer = ImageLayer::new(
            content.as_bytes().to_vec(),
            IMAGE_LAYER_MEDIA_TYPE.to_owned(),
            None,
        );
        let config =
            ImageConfig::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
        let layers = vec![layer];
        let manifest = OciImageManifest::build(&layers, &config, None);
        let response = self
            .registry_client()
            .push(
                &self.reference(repository, tag),
                &layers,
                config,
                auth,
                Some(manifest),
            )
            .await?;
        Ok(response.manifest_url)
    }

    /// Does the lab's scanning step as a student: turns on scan on push for `my-app`, pushes
    /// the scan sample as `my-app:scan`, waits for its scan and reads the findings. The ECR API
    /// calls carry an SDK app name of their own, because the check leaves out the calls of
    /// ecrlab's grading clients, whose app name is `ecrlab`.
    async fn do_scanning_step(&self, auth: &RegistryAuth) {
        let settings = EcrSettings::for_mock(self.mock.endpoint()).expect("endpoint");
        let app_name = AppName::new("lab-student").expect("valid app name");
        let ecr = aws_sdk_ecr::Client::from_conf(settings.ecr_config().app_name(app_name).build());
        ecr_scans::turn_on_scan_on_push(&ecr, "my-app").await;

        let sample = SampleImage::build_scan_sample().expect("scan sample");
        let layers = vec![ImageLayer::new(
            sample.layer,
            "application/vnd.oci.image.layer.v1.tar".to_owned(),
            None,
        )];
        let config = ImageConfig::oci_v1(sample.config, None);
        self.registry_client()
            .push(
                &self.reference("my-app", "scan"),
                &layers,
                config,
                auth,
                None,
            )
            .await
            .expect("push the scan sample");
        ecr_scans::wait_for_scan_findings(&ecr, "my-app", "scan").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_sees_ecr_exceptions() {
    let fixture = start().await;
    fixture
        .create_repository("my-app", ImageTagMutability::Immutable)
        .await;

    let duplicate = fixture
        .ecr
        .create_repository()
        .repository_name("my-app")
        .send()
        .await
        .expect_err("duplicate")
        .into_service_error();
    assert!(
        duplicate.is_repository_already_exists_exception(),
        "{duplicate:?}"
    );

    let invalid = fixture
        .ecr
        .create_repository()
        .repository_name("My App")
        .send()
        .await
        .expect_err("invalid name")
        .into_service_error();
    assert!(invalid.is_invalid_parameter_exception(), "{invalid:?}");

    let missing = fixture
        .ecr
        .describe_repositories()
        .repository_names("ghost")
        .send()
        .await
        .expect_err("missing")
        .into_service_error();
    assert!(missing.is_repository_not_found_exception(), "{missing:?}");

    let no_image = fixture
        .ecr
        .describe_images()
        .repository_name("my-app")
        .image_ids(ImageIdentifier::builder().image_tag("nope").build())
        .send()
        .await
        .expect_err("missing image")
        .into_service_error();
    assert!(no_image.is_image_not_found_exception(), "{no_image:?}");
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oci_client_pushes_and_pulls() {
    let fixture = start().await;
    fixture
        .create_repository("team/my-app", ImageTagMutability::Mutable)
        .await;
    let auth = fixture.login().await;

    fixture
        .push(&auth, "team/my-app", "v1", "hello from oci-client")
        .await
        .expect("push");
    let pulled = fixture
        .registry_client()
        .pull(
            &fixture.reference("team/my-app", "v1"),
            &auth,
            vec![IMAGE_LAYER_MEDIA_TYPE],
        )
        .await
        .expect("pull");
    assert_eq!(pulled.layers[0].data.as_ref(), b"hello from oci-client");

    let images = fixture
        .ecr
        .describe_images()
        .repository_name("team/my-app")
        .send()
        .await
        .expect("describe images");
    let detail = &images.image_details()[0];
    assert_eq!(detail.image_tags(), ["v1"]);
    assert_eq!(
        detail.image_size_in_bytes(),
        Some("hello from oci-client".len() as i64)
    );
    assert_eq!(detail.image_digest(), pulled.digest.as_deref());
    assert!(detail.image_pushed_at().is_some());

    let second = fixture
        .ecr
        .delete_repository()
        .repository_name("team/my-app")
        .send()
        .await;
    let second = second.expect_err("not empty").into_service_error();
    assert!(second.is_repository_not_empty_exception(), "{second:?}");
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oci_client_sees_ecr_push_errors() {
    let fixture = start().await;
    fixture
        .create_repository("locked", ImageTagMutability::Immutable)
        .await;
    let auth = fixture.login().await;

    let missing = fixture
        .push(&auth, "nowhere", "v1", "x")
        .await
        .expect_err("missing repository");
    assert!(
        missing.to_string().contains("NAME_UNKNOWN")
            || format!("{missing:?}").contains("NameUnknown"),
        "{missing:?}"
    );

    fixture
        .push(&auth, "locked", "v1", "first")
        .await
        .expect("first push");
    let overwrite = fixture
        .push(&auth, "locked", "v1", "second")
        .await
        .expect_err("immutable");
    let text = format!("{overwrite} {overwrite:?}");
    assert!(
        text.contains("cannot be overwritten because the repository is immutable"),
        "{text}"
    );

    let anonymous = fixture
        .push(&RegistryAuth::Anonymous, "locked", "v2", "y")
        .await;
    assert!(anonymous.is_err(), "a push without login is rejected");

    fixture
        .mock
        .registry()
        .clock()
        .advance(time::Duration::hours(13));
    let expired = fixture
        .push(&auth, "locked", "v3", "late")
        .await
        .expect_err("expired");
    let text = format!("{expired} {expired:?}");
    assert!(
        text.contains("Your authorization token has expired"),
        "{text}"
    );
    fixture.mock.shutdown().await;
}

async fn ecrlab(arguments: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args(arguments)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("ecrlab runs")
}

fn steps_passed(output: &Output) -> Vec<(String, bool)> {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|step| {
            (
                step["id"].as_str().unwrap().to_owned(),
                step["passed"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_fails_on_fresh_mock_and_passes_after_lab() {
    let fixture = start().await;
    let endpoint = fixture.mock.endpoint().to_owned();

    let fresh = ecrlab(&["check", "--endpoint", &endpoint, "--format", "json"]).await;
    assert_eq!(
        fresh.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    let steps = steps_passed(&fresh);
    assert_eq!(steps.len(), 5);
    for (id, passed) in &steps {
        assert!(!passed, "{id} must not pass on a fresh mock");
    }

    // The lab's steps as a student's own clients perform them; `ecrlab demo`'s events do not
    // count for a student.
    fixture
        .create_repository("my-app", ImageTagMutability::Immutable)
        .await;
    let auth = fixture.login().await;
    let reference = fixture.reference("my-app", "v1");
    let client = fixture.registry_client();
    client
        .auth(&reference, &auth, oci_client::RegistryOperation::Push)
        .await
        .expect("ping");
    fixture
        .push(&auth, "my-app", "v1", "hello from a student")
        .await
        .expect("push");
    fixture.do_scanning_step(&auth).await;

    let done = ecrlab(&["check", "--endpoint", &endpoint, "--format", "json"]).await;
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stdout)
    );
    let ids: Vec<String> = steps_passed(&done)
        .into_iter()
        .map(|(id, passed)| {
            assert!(passed, "{id} passes after the lab");
            id
        })
        .collect();
    assert_eq!(
        ids,
        [
            "create-repository",
            "authenticate",
            "tag",
            "push",
            "scan-image"
        ]
    );

    let text = ecrlab(&["check", "--endpoint", &endpoint]).await;
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("PASS push"), "{text}");
    fixture.mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn check_names_unreachable_endpoint() {
    let output = ecrlab(&["check", "--endpoint", "http://127.0.0.1:9"]).await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("http://127.0.0.1:9"), "{stderr}");
    assert!(stderr.contains("ecrlab serve"), "{stderr}");
}
