use super::*;
use crate::evidence::{ImageState, JournalEvent, Outcome, RepositoryState, Source};

const HOST: &str = "localhost:5000";
const AWS_CLI: &str = "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.9 md/command#ecr.create-repository";
const DOCKER: &str = "docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.8.0 os/linux arch/amd64 UpstreamClient(Docker-Client/27.3.1 \\(linux\\))";
const PODMAN: &str = "containers/5.32.2 (github.com/containers/image)";
const DIGEST: &str = "sha256:6f1b2e3c4d5a69788796a5b4c3d2e1f001122334455667788990aabbccddeeff";

/// Builds journal events with increasing sequence numbers and times.
#[derive(Default)]
struct Journal {
    events: Vec<JournalEvent>,
}

impl Journal {
    fn push(&mut self, source: Source, action: &str, outcome: Outcome) -> &mut JournalEvent {
        let seq = self.events.len() as u64 + 1;
        self.events.push(JournalEvent {
            seq,
            time: format!("2025-03-01T10:{:02}:00Z", seq),
            account: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            source,
            action: action.to_owned(),
            repository: None,
            reference: None,
            digest: None,
            host: None,
            user_agent: None,
            outcome,
            error_code: None,
            message: None,
        });
        self.events.last_mut().expect("an event was just pushed")
    }

    fn api(
        &mut self,
        action: &str,
        repository: Option<&str>,
        outcome: Outcome,
    ) -> &mut JournalEvent {
        let event = self.push(Source::EcrApi, action, outcome);
        event.repository = repository.map(str::to_owned);
        event.host = Some("127.0.0.1:5000".to_owned());
        event.user_agent = Some(AWS_CLI.to_owned());
        event
    }

    fn registry(
        &mut self,
        action: &str,
        repository: Option<&str>,
        reference: Option<&str>,
        outcome: Outcome,
    ) -> &mut JournalEvent {
        let event = self.push(Source::Registry, action, outcome);
        event.repository = repository.map(str::to_owned);
        event.reference = reference.map(str::to_owned);
        event.host = Some(HOST.to_owned());
        event.user_agent = Some(DOCKER.to_owned());
        event
    }
}

fn repository(name: &str, images: Vec<ImageState>) -> RepositoryState {
    RepositoryState {
        name: name.to_owned(),
        uri: format!("{HOST}/{name}"),
        tag_mutability: "IMMUTABLE".to_owned(),
        scan_on_push: true,
        images,
    }
}

fn image(tags: &[&str]) -> ImageState {
    ImageState {
        digest: DIGEST.to_owned(),
        tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
        size_bytes: 2_795_610,
        manifest_media_type: Some("application/vnd.oci.image.manifest.v1+json".to_owned()),
        pushed_at: Some("2025-03-01T10:09:00Z".to_owned()),
    }
}

/// Builds the journal and state after a student ran every command of the lab with docker.
fn completed_lab() -> Evidence {
    let mut journal = Journal::default();
    journal.api("CreateRepository", Some("my-app"), Outcome::Ok);
    journal.api("GetAuthorizationToken", None, Outcome::Ok);
    let probe = journal.registry("Login", None, None, Outcome::Error);
    probe.error_code = Some("DENIED".to_owned());
    journal.registry("Login", None, None, Outcome::Ok);
    journal
        .registry("BlobUpload", Some("my-app"), None, Outcome::Ok)
        .digest = Some("sha256:aaaa".to_owned());
    journal
        .registry("ManifestPut", Some("my-app"), Some("v1"), Outcome::Ok)
        .digest = Some(DIGEST.to_owned());
    Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", vec![image(&["v1"])])],
    }
}

fn lab() -> Lab {
    Lab::builtin_push_to_ecr()
}

fn step(report: &CheckReport, id: &str) -> StepResult {
    report
        .steps
        .iter()
        .find(|step| step.id == id)
        .unwrap_or_else(|| panic!("the report has no step {id}"))
        .clone()
}

fn run(kind: CheckKind, evidence: &Evidence) -> Finding {
    run_check(kind, evidence)
}

fn assert_evidence_mentions(finding: &Finding, needle: &str) {
    assert!(
        finding.evidence.iter().any(|line| line.contains(needle)),
        "evidence {:#?} does not mention {needle:?}",
        finding.evidence
    );
}

#[test]
fn empty_evidence_fails_every_step_with_hint() {
    let report = check_lab(&lab(), &Evidence::default());
    assert!(!report.passed);
    for step in &report.steps {
        assert!(!step.passed, "step {} passed", step.id);
        assert!(
            !step.evidence.is_empty(),
            "step {} has no evidence",
            step.id
        );
        let expected_hint = lab().step(&step.id).expect("step").hints[0].clone();
        assert_eq!(step.hint.as_deref(), Some(expected_hint.as_str()));
    }
}

#[test]
fn empty_evidence_report_snapshots() {
    let report = check_lab(&lab(), &Evidence::default());
    insta::assert_json_snapshot!("empty_evidence_json", report);
    insta::assert_snapshot!("empty_evidence_text", report.render_text());
}

#[test]
fn completed_lab_passes_every_step() {
    let report = check_lab(&lab(), &completed_lab());
    assert!(report.passed);
    for step in &report.steps {
        assert!(step.passed, "step {} failed: {:?}", step.id, step.evidence);
        assert_eq!(step.hint, None);
    }
}

#[test]
fn completed_lab_report_snapshots() {
    let report = check_lab(&lab(), &completed_lab());
    insta::assert_json_snapshot!("completed_lab_json", report);
    insta::assert_snapshot!("completed_lab_text", report.render_text());
}

#[test]
fn report_json_has_exact_top_level_keys() {
    let report = check_lab(&lab(), &completed_lab());
    let value = serde_json::to_value(&report).expect("a report serializes");
    let object = value.as_object().expect("a JSON object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["lab", "passed", "steps"]);
    assert_eq!(value["lab"]["id"], "push-to-ecr");
    assert_eq!(value["lab"]["version"], "1.0.0");
    assert_eq!(value["steps"][0]["id"], "create-repository");
    assert_eq!(value["steps"][0]["passed"], true);
    assert!(value["steps"][0].get("hint").is_none());
}

#[test]
fn partial_progress_reports_failures_only_where_due() {
    let mut evidence = completed_lab();
    evidence.events.truncate(4);
    evidence.repositories[0].images.clear();
    let report = check_lab(&lab(), &evidence);
    let verdicts: Vec<(&str, bool)> = report
        .steps
        .iter()
        .map(|step| (step.id.as_str(), step.passed))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("create-repository", true),
            ("authenticate", true),
            ("tag", false),
            ("push", false),
        ]
    );
    assert!(!report.passed);
    assert!(step(&report, "tag").hint.is_some());
    insta::assert_snapshot!("partial_progress_text", report.render_text());
}

#[test]
fn repository_created_names_client_and_settings() {
    let finding = run(CheckKind::RepositoryCreated, &completed_lab());
    assert!(finding.passed);
    assert_evidence_mentions(
        &finding,
        "repository my-app exists with URI localhost:5000/my-app",
    );
    assert_evidence_mentions(&finding, "tag mutability IMMUTABLE, scan on push on");
    assert_evidence_mentions(
        &finding,
        "aws-cli/2.17.0 created it with CreateRepository at 2025-03-01T10:01:00Z",
    );
}

#[test]
fn repository_created_accepts_other_names() {
    let mut journal = Journal::default();
    journal.api("CreateRepository", Some("team/web"), Outcome::Ok);
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("team/web", Vec::new())],
    };
    let finding = run(CheckKind::RepositoryCreated, &evidence);
    assert!(finding.passed);
    assert_evidence_mentions(&finding, "repository team/web exists");
    assert_evidence_mentions(
        &finding,
        "the instructions use my-app, but any repository name passes",
    );
}

#[test]
fn repository_created_prefers_my_app() {
    let mut journal = Journal::default();
    journal.api("CreateRepository", Some("other"), Outcome::Ok);
    journal.api("CreateRepository", Some("my-app"), Outcome::Ok);
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![
            repository("other", Vec::new()),
            repository("my-app", Vec::new()),
        ],
    };
    let finding = run(CheckKind::RepositoryCreated, &evidence);
    assert!(finding.passed);
    assert!(finding.evidence[0].starts_with("repository my-app exists"));
    assert_evidence_mentions(&finding, "also created: other");
}

#[test]
fn repository_created_fails_without_journal_entry() {
    let evidence = Evidence {
        events: Vec::new(),
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::RepositoryCreated, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "repository my-app exists, but the journal has no successful CreateRepository for it",
    );
}

#[test]
fn repository_created_fails_after_deletion() {
    let mut journal = Journal::default();
    journal.api("CreateRepository", Some("my-app"), Outcome::Ok);
    journal.api("DeleteRepository", Some("my-app"), Outcome::Ok);
    let evidence = Evidence {
        events: journal.events,
        repositories: Vec::new(),
    };
    let finding = run(CheckKind::RepositoryCreated, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "created repository my-app with CreateRepository at 2025-03-01T10:01:00Z, but it no longer exists",
    );
}

#[test]
fn repository_created_reports_failed_call() {
    let mut journal = Journal::default();
    let failure = journal.api("CreateRepository", Some("My_App"), Outcome::Error);
    failure.error_code = Some("InvalidParameterException".to_owned());
    failure.message = Some("Invalid parameter at 'repositoryName'".to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: Vec::new(),
    };
    let finding = run(CheckKind::RepositoryCreated, &evidence);
    assert!(!finding.passed);
    assert_eq!(
        finding.evidence,
        vec![
            "CreateRepository for My_App from aws-cli/2.17.0 failed at 2025-03-01T10:01:00Z with InvalidParameterException (Invalid parameter at 'repositoryName')"
                .to_owned()
        ]
    );
}

#[test]
fn registry_login_names_client_host_and_time() {
    let finding = run(CheckKind::RegistryLogin, &completed_lab());
    assert!(finding.passed);
    assert_eq!(
        finding.evidence,
        vec![
            "aws-cli/2.17.0 got an authorization token with GetAuthorizationToken at 2025-03-01T10:02:00Z".to_owned(),
            "docker/27.3.1 logged in to localhost:5000 at 2025-03-01T10:04:00Z".to_owned(),
        ]
    );
}

#[test]
fn registry_login_names_podman() {
    let mut evidence = completed_lab();
    evidence.events[3].user_agent = Some(PODMAN.to_owned());
    let finding = run(CheckKind::RegistryLogin, &evidence);
    assert!(finding.passed);
    assert_evidence_mentions(
        &finding,
        "containers/5.32.2 (podman, skopeo or buildah) logged in to localhost:5000",
    );
}

#[test]
fn registry_login_fails_without_token() {
    let mut journal = Journal::default();
    journal.registry("Login", None, None, Outcome::Ok);
    let failure = journal.api("GetAuthorizationToken", None, Outcome::Error);
    failure.error_code = Some("UnrecognizedClientException".to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: Vec::new(),
    };
    let finding = run(CheckKind::RegistryLogin, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(&finding, "no successful GetAuthorizationToken call");
    assert_evidence_mentions(
        &finding,
        "failed at 2025-03-01T10:02:00Z with UnrecognizedClientException",
    );
}

#[test]
fn registry_login_fails_without_login() {
    let mut journal = Journal::default();
    journal.api("GetAuthorizationToken", None, Outcome::Ok);
    let evidence = Evidence {
        events: journal.events,
        repositories: Vec::new(),
    };
    let finding = run(CheckKind::RegistryLogin, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "no container client has logged in to the registry",
    );
}

#[test]
fn registry_login_reports_denied_logins() {
    let mut journal = Journal::default();
    journal.api("GetAuthorizationToken", None, Outcome::Ok);
    journal
        .registry("Login", None, None, Outcome::Error)
        .error_code = Some("DENIED".to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: Vec::new(),
    };
    let finding = run(CheckKind::RegistryLogin, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "the registry at localhost:5000 rejected a Login request from docker/27.3.1 at 2025-03-01T10:02:00Z with DENIED; log in again",
    );
}

#[test]
fn registry_login_accepts_authenticated_push() {
    let mut evidence = completed_lab();
    evidence.events.retain(|event| event.action != "Login");
    let finding = run(CheckKind::RegistryLogin, &evidence);
    assert!(finding.passed);
    assert_evidence_mentions(
        &finding,
        "docker/27.3.1 made an authenticated ManifestPut request to localhost:5000/my-app",
    );
}

#[test]
fn registry_login_ignores_push_before_token() {
    let mut journal = Journal::default();
    journal.registry("BlobUpload", Some("my-app"), None, Outcome::Ok);
    journal.api("GetAuthorizationToken", None, Outcome::Ok);
    let evidence = Evidence {
        events: journal.events,
        repositories: Vec::new(),
    };
    assert!(!run(CheckKind::RegistryLogin, &evidence).passed);
}

#[test]
fn image_tagged_names_host_repository_and_tag() {
    let finding = run(CheckKind::ImageTagged, &completed_lab());
    assert!(finding.passed);
    assert_eq!(
        finding.evidence,
        vec![
            "docker/27.3.1 pushed localhost:5000/my-app:v1 at 2025-03-01T10:06:00Z, naming repository my-app by its URI localhost:5000/my-app"
                .to_owned()
        ]
    );
}

#[test]
fn image_tagged_accepts_rejected_manifest() {
    let mut journal = Journal::default();
    let rejected = journal.registry("ManifestPut", Some("my-app"), Some("v1"), Outcome::Error);
    rejected.error_code = Some("TAG_INVALID".to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(finding.passed);
    assert_evidence_mentions(&finding, "that push failed with TAG_INVALID");
}

#[test]
fn image_tagged_accepts_blob_upload_alone() {
    let mut journal = Journal::default();
    journal.registry("BlobUpload", Some("my-app"), None, Outcome::Ok);
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(finding.passed);
    assert_evidence_mentions(&finding, "uploaded a layer to localhost:5000/my-app");
}

#[test]
fn image_tagged_rejects_other_host() {
    let mut evidence = completed_lab();
    for event in &mut evidence.events {
        if event.source == Source::Registry {
            event.host = Some("127.0.0.1:5000".to_owned());
        }
    }
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "docker/27.3.1 pushed 127.0.0.1:5000/my-app:v1 at 2025-03-01T10:06:00Z, but the repository's URI is localhost:5000/my-app; tag the image with that host",
    );
}

#[test]
fn image_tagged_rejects_unknown_repository() {
    let mut journal = Journal::default();
    let push = journal.registry("BlobUpload", Some("myapp"), None, Outcome::Error);
    push.error_code = Some("NAME_UNKNOWN".to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "but no repository named myapp exists (existing repositories: localhost:5000/my-app)",
    );
}

#[test]
fn image_tagged_rejects_digest_reference() {
    let mut journal = Journal::default();
    journal.registry("ManifestPut", Some("my-app"), Some(DIGEST), Outcome::Ok);
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(&finding, "by digest, without a tag");
}

#[test]
fn image_pushed_names_tag_digest_size_and_client() {
    let finding = run(CheckKind::ImagePushed, &completed_lab());
    assert!(finding.passed);
    assert_eq!(
        finding.evidence,
        vec![
            format!(
                "my-app:v1 is in the registry with digest {DIGEST} and size 2.8 MB (2,795,610 bytes)"
            ),
            "docker/27.3.1 pushed its manifest to localhost:5000/my-app:v1 at 2025-03-01T10:06:00Z"
                .to_owned(),
        ]
    );
}

#[test]
fn image_pushed_rejects_api_only_image() {
    let mut journal = Journal::default();
    journal.api("PutImage", Some("my-app"), Outcome::Ok).digest = Some(DIGEST.to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", vec![image(&["v1"])])],
    };
    let finding = run(CheckKind::ImagePushed, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(&finding, "no successful registry manifest PUT for it");
}

#[test]
fn image_pushed_rejects_untagged_image() {
    let mut evidence = completed_lab();
    evidence.repositories[0].images[0].tags.clear();
    let finding = run(CheckKind::ImagePushed, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "but no repository holds that image with a tag now",
    );
}

#[test]
fn image_pushed_explains_failed_push() {
    let mut journal = Journal::default();
    let rejected = journal.registry("ManifestPut", Some("my-app"), Some("v1"), Outcome::Error);
    rejected.error_code = Some("TAG_INVALID".to_owned());
    rejected.message = Some("tag v1 already exists".to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::ImagePushed, &evidence);
    assert!(!finding.passed);
    assert_eq!(
        finding.evidence,
        vec![
            "a push of localhost:5000/my-app:v1 from docker/27.3.1 at 2025-03-01T10:01:00Z failed with TAG_INVALID (tag v1 already exists): the repository has immutable tags and this tag already names another image, so push under a new tag"
                .to_owned()
        ]
    );
}

#[test]
fn failures_list_at_most_three_newest_events() {
    let mut journal = Journal::default();
    for _ in 0..5 {
        journal
            .registry("ManifestPut", Some("my-app"), Some("v1"), Outcome::Error)
            .error_code = Some("DENIED".to_owned());
    }
    let evidence = Evidence {
        events: journal.events,
        repositories: Vec::new(),
    };
    let finding = run(CheckKind::ImagePushed, &evidence);
    assert_eq!(finding.evidence.len(), 3);
    assert!(
        finding.evidence[0].contains("10:05:00Z"),
        "{:?}",
        finding.evidence
    );
}

#[test]
fn missing_user_agent_is_named() {
    let mut evidence = completed_lab();
    evidence.events[3].user_agent = None;
    let finding = run(CheckKind::RegistryLogin, &evidence);
    assert_evidence_mentions(&finding, "a client without a User-Agent header logged in");
}

#[test]
fn format_size_uses_decimal_megabytes() {
    assert_eq!(rules::format_size(512), "512 bytes");
    assert_eq!(rules::format_size(2_795_610), "2.8 MB (2,795,610 bytes)");
    assert_eq!(rules::format_size(1_000_000), "1.0 MB (1,000,000 bytes)");
}
