//! The demo against a real mock: `run_demo` performs the lab's four steps on an in-process
//! mock-ecr, and the evidence that ecrlab's clients collect afterwards shows each of them.

use ecrlab_core::clients::{self, AdminClient, EcrSettings};
use ecrlab_core::demo::{self, DEMO_USER_AGENT, DemoOutcome, SampleImage};
use ecrlab_core::evidence::{Evidence, JournalEvent, Outcome, Source};

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
        "Step 1/4",
        "Step 2/4",
        "Step 3/4",
        "Step 4/4",
        "Login Succeeded",
    ] {
        assert!(output.contains(step), "output lacks {step}:\n{output}");
    }
    assert!(
        output.contains(&format!("$ docker push {registry_host}/my-app:latest")),
        "output:\n{output}"
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
    assert_eq!(repository.images.len(), 1, "{:?}", repository.images);
    let image = &repository.images[0];
    assert_eq!(image.digest, sample.manifest_digest);
    assert_eq!(image.tags, ["latest"]);
    assert_eq!(image.size_bytes, sample.layer.len() as i64);
    assert_eq!(
        image.manifest_media_type.as_deref(),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert!(image.pushed_at.is_some(), "image: {image:?}");
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
    assert_eq!(manifests.len(), 1, "{manifests:?}");
    assert_eq!(manifests[0].outcome, Outcome::Ok);
    assert_eq!(manifests[0].repository.as_deref(), Some("my-app"));
    assert_eq!(manifests[0].reference.as_deref(), Some("latest"));
    assert_eq!(
        manifests[0].digest.as_deref(),
        Some(outcome.manifest_digest.as_str())
    );
    assert_eq!(manifests[0].user_agent.as_deref(), Some(DEMO_USER_AGENT));
    lab.mock.shutdown().await;
}

#[tokio::test]
async fn demo_reuses_existing_repository() {
    let lab = RunningMock::start().await;
    let ecr = lab.settings.ecr_client();
    ecr.create_repository()
        .repository_name("my-app")
        .send()
        .await
        .expect("create my-app before the demo");

    let (outcome, output) = lab.run_demo().await;

    assert!(
        output.contains("my-app already exists, so the demo uses it"),
        "output:\n{output}"
    );
    assert!(
        output.contains("tag mutability MUTABLE"),
        "output:\n{output}"
    );
    let evidence = lab.evidence().await;
    let repository = &evidence.repositories[0];
    assert_eq!(repository.tag_mutability, "MUTABLE");
    assert_eq!(repository.images[0].digest, outcome.manifest_digest);
    lab.mock.shutdown().await;
}

#[tokio::test]
async fn env_script_names_running_mock() {
    let lab = RunningMock::start().await;

    let health = lab.admin().health().await.expect("health");
    let script = clients::fetch_env_script(&lab.settings)
        .await
        .expect("env script");

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
    lab.mock.shutdown().await;
}

#[tokio::test]
async fn journal_since_skips_earlier_events() {
    let lab = RunningMock::start().await;
    let ecr = lab.settings.ecr_client();
    for name in ["first", "second", "third"] {
        ecr.create_repository()
            .repository_name(name)
            .send()
            .await
            .expect("create repository");
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
