use super::*;
use crate::evidence::scans::{SCAN_COMPLETED, SCAN_STARTED};
use crate::evidence::{
    ImageScan, ImageState, JournalEvent, Outcome, RepositoryState, SCAN_COMPLETE, ScanFinding,
    Source,
};

const HOST: &str = "localhost:5000";
const AWS_CLI: &str = "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.9 md/command#ecr.create-repository";
const DOCKER: &str = "docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.8.0 os/linux arch/amd64 UpstreamClient(Docker-Client/27.3.1 \\(linux\\))";
const PODMAN: &str = "containers/5.32.2 (github.com/containers/image)";
const DIGEST: &str = "sha256:6f1b2e3c4d5a69788796a5b4c3d2e1f001122334455667788990aabbccddeeff";
const SCAN_DIGEST: &str = "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

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
        region: "us-east-1".to_owned(),
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
        scan: None,
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

/// Builds the journal and state after a student also did the scanning step: pushed the scan
/// sample image to a repository that scans on push, and read its findings after the scan.
fn scanned_lab() -> Evidence {
    let mut evidence = completed_lab();
    let mut journal = Journal {
        events: std::mem::take(&mut evidence.events),
    };
    journal
        .registry("BlobUpload", Some("my-app"), None, Outcome::Ok)
        .digest = Some("sha256:bbbb".to_owned());
    let started = journal.push(Source::Scanner, SCAN_STARTED, Outcome::Ok);
    started.repository = Some("my-app".to_owned());
    started.digest = Some(SCAN_DIGEST.to_owned());
    journal
        .registry("ManifestPut", Some("my-app"), Some("scan"), Outcome::Ok)
        .digest = Some(SCAN_DIGEST.to_owned());
    let completed = journal.push(Source::Scanner, SCAN_COMPLETED, Outcome::Ok);
    completed.repository = Some("my-app".to_owned());
    completed.digest = Some(SCAN_DIGEST.to_owned());
    journal
        .api("DescribeImageScanFindings", Some("my-app"), Outcome::Ok)
        .digest = Some(SCAN_DIGEST.to_owned());
    evidence.events = journal.events;

    let finding = |name: &str, severity: &str, package: &str, version: &str| ScanFinding {
        name: name.to_owned(),
        severity: severity.to_owned(),
        package_name: Some(package.to_owned()),
        package_version: Some(version.to_owned()),
    };
    let mut scanned = image(&["scan"]);
    scanned.digest = SCAN_DIGEST.to_owned();
    scanned.size_bytes = 6_144;
    scanned.scan = Some(ImageScan {
        status: SCAN_COMPLETE.to_owned(),
        description: None,
        completed_at: Some("2025-03-01T10:10:00Z".to_owned()),
        findings: vec![
            finding("CVE-2026-28388", "HIGH", "libssl3", "3.0.11-1~deb12u2"),
            finding("CVE-2026-4438", "LOW", "libc6", "2.36-9+deb12u4"),
        ],
    });
    evidence.repositories[0].images.push(scanned);
    evidence
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
    let report = check_lab(&lab(), &Evidence::default(), CheckOptions::default());
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
fn hint_text_ends_with_given_hint_command() {
    let lab = lab();
    let report = check_lab(&lab, &Evidence::default(), CheckOptions::default());
    let mut progress = Progress::new(&lab);
    progress.set_hint_level("create-repository", 2);
    let text = report.render_text_with_hints(&lab, &progress, "ecrlab hint --lab my-lab.toml");
    assert!(text.contains("\n     hint 2 of 3: "), "{text}");
    assert!(
        text.ends_with(
            "\nRun `ecrlab hint --lab my-lab.toml` for hint 3 of 3 on step create-repository.\n"
        ),
        "{text}"
    );
}

#[test]
fn empty_evidence_report_snapshots() {
    let report = check_lab(&lab(), &Evidence::default(), CheckOptions::default());
    insta::assert_json_snapshot!("empty_evidence_json", report);
    insta::assert_snapshot!("empty_evidence_text", report.render_text());
}

#[test]
fn completed_lab_passes_every_step() {
    let report = check_lab(&lab(), &scanned_lab(), CheckOptions::default());
    assert!(report.passed);
    for step in &report.steps {
        assert!(step.passed, "step {} failed: {:?}", step.id, step.evidence);
        assert_eq!(step.hint, None);
    }
}

#[test]
fn completed_lab_report_snapshots() {
    let report = check_lab(&lab(), &scanned_lab(), CheckOptions::default());
    insta::assert_json_snapshot!("completed_lab_json", report);
    insta::assert_snapshot!("completed_lab_text", report.render_text());
}

#[test]
fn report_json_has_exact_top_level_keys() {
    let report = check_lab(&lab(), &scanned_lab(), CheckOptions::default());
    let value = serde_json::to_value(&report).expect("a report serializes");
    let object = value.as_object().expect("a JSON object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["lab", "passed", "steps"]);
    assert_eq!(value["lab"]["id"], "push-to-ecr");
    assert_eq!(value["lab"]["version"], "1.5.0");
    assert_eq!(value["steps"][0]["id"], "create-repository");
    assert_eq!(value["steps"][0]["passed"], true);
    assert!(value["steps"][0].get("hint").is_none());
}

#[test]
fn partial_progress_reports_failures_only_where_due() {
    let mut evidence = scanned_lab();
    evidence.events.truncate(4);
    evidence.repositories[0].images.clear();
    let report = check_lab(&lab(), &evidence, CheckOptions::default());
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
            ("scan-image", false),
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
        "repository my-app exists in us-east-1 with URI localhost:5000/my-app",
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
        "repository my-app exists in us-east-1, but the journal has no successful CreateRepository for it",
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
        "created repository my-app in us-east-1 with CreateRepository at 2025-03-01T10:01:00Z, but it no longer exists",
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
            "aws-cli/2.17.0 got an authorization token for us-east-1 with GetAuthorizationToken at 2025-03-01T10:02:00Z".to_owned(),
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
        "the registry at localhost:5000 rejected a login from docker/27.3.1 at 2025-03-01T10:02:00Z with DENIED; log in again",
    );
}

#[test]
fn registry_login_names_rejected_access_in_plain_words() {
    let mut journal = Journal::default();
    journal.api("GetAuthorizationToken", None, Outcome::Ok);
    journal
        .registry("Access", Some("my-app"), None, Outcome::Error)
        .error_code = Some("DENIED".to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: Vec::new(),
    };
    let finding = run(CheckKind::RegistryLogin, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "the registry at localhost:5000 rejected a registry request from docker/27.3.1 at 2025-03-01T10:02:00Z with DENIED;",
    );
    for sentence in &finding.evidence {
        assert!(!sentence.contains("Access"), "{sentence}");
    }
}

#[test]
fn request_names_are_plain_words() {
    let cases = [
        (Source::Registry, "Login", "a login"),
        (Source::Registry, "BlobUpload", "a layer upload"),
        (Source::Registry, "ManifestPut", "a manifest push"),
        (Source::Registry, "ManifestDelete", "a manifest delete"),
        (Source::Registry, "Access", "a registry request"),
        (Source::EcrApi, "PutImage", "a PutImage call"),
        (
            Source::Lifecycle,
            "LifecycleExpire",
            "a lifecycle policy expiry",
        ),
        (Source::Other, "Unknown", "a request"),
    ];
    for (source, action, expected) in cases {
        let mut journal = Journal::default();
        let event = journal.push(source, action, Outcome::Ok);
        assert_eq!(rules::request_name(event), expected, "{source:?} {action}");
    }
}

#[test]
fn registry_login_accepts_authenticated_push() {
    let mut evidence = completed_lab();
    evidence.events.retain(|event| event.action != "Login");
    let finding = run(CheckKind::RegistryLogin, &evidence);
    assert!(finding.passed);
    assert_evidence_mentions(
        &finding,
        "docker/27.3.1 sent a manifest push to localhost:5000/my-app",
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
            "docker/27.3.1 pushed localhost:5000/my-app:v1 at 2025-03-01T10:06:00Z, naming repository my-app in us-east-1 by the host name localhost of its URI localhost:5000/my-app"
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
        "but no repository named myapp exists in us-east-1 (existing repositories: localhost:5000/my-app)",
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

/// Moves every event and repository of `evidence` to `region`.
fn in_region(mut evidence: Evidence, region: &str) -> Evidence {
    for event in &mut evidence.events {
        event.region = region.to_owned();
    }
    for repository in &mut evidence.repositories {
        repository.region = region.to_owned();
    }
    evidence
}

#[test]
fn lab_done_in_other_region_passes() {
    let evidence = in_region(scanned_lab(), "eu-west-1");
    let report = check_lab(&lab(), &evidence, CheckOptions::default());
    for step in &report.steps {
        assert!(step.passed, "step {} failed: {:?}", step.id, step.evidence);
    }
    assert!(report.steps[0].evidence[0].contains("exists in eu-west-1"));
    assert!(report.steps[1].evidence[0].contains("token for eu-west-1"));
}

#[test]
fn repository_created_matches_region() {
    let mut journal = Journal::default();
    journal.api("CreateRepository", Some("my-app"), Outcome::Ok);
    let mut repository = repository("my-app", Vec::new());
    repository.region = "eu-west-1".to_owned();
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository],
    };
    let finding = run(CheckKind::RepositoryCreated, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "created repository my-app in us-east-1 with CreateRepository at 2025-03-01T10:01:00Z, but it no longer exists",
    );
    assert_evidence_mentions(
        &finding,
        "repository my-app exists in eu-west-1, but the journal has no successful CreateRepository",
    );
}

#[test]
fn repository_created_names_other_regions() {
    let mut journal = Journal::default();
    journal.api("CreateRepository", Some("my-app"), Outcome::Ok);
    journal
        .api("CreateRepository", Some("my-app"), Outcome::Ok)
        .region = "eu-west-1".to_owned();
    let mut copy = repository("my-app", Vec::new());
    copy.region = "eu-west-1".to_owned();
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new()), copy],
    };
    let finding = run(CheckKind::RepositoryCreated, &evidence);
    assert!(finding.passed);
    assert!(finding.evidence[0].starts_with("repository my-app exists in us-east-1"));
    assert_evidence_mentions(&finding, "also created: my-app in eu-west-1");
}

#[test]
fn registry_login_prefers_token_of_login_region() {
    let mut journal = Journal::default();
    journal
        .api("GetAuthorizationToken", None, Outcome::Ok)
        .region = "eu-west-1".to_owned();
    journal.api("GetAuthorizationToken", None, Outcome::Ok);
    journal.registry("Login", None, None, Outcome::Ok).region = "eu-west-1".to_owned();
    let evidence = Evidence {
        events: journal.events,
        repositories: Vec::new(),
    };
    let finding = run(CheckKind::RegistryLogin, &evidence);
    assert!(finding.passed);
    assert_eq!(
        finding.evidence[0],
        "aws-cli/2.17.0 got an authorization token for eu-west-1 with GetAuthorizationToken at 2025-03-01T10:01:00Z"
    );
}

#[test]
fn image_tagged_explains_token_of_other_region() {
    let mut journal = Journal::default();
    let push = journal.registry("BlobUpload", Some("my-app"), None, Outcome::Error);
    push.error_code = Some("NAME_UNKNOWN".to_owned());
    let mut repository = repository("my-app", Vec::new());
    repository.region = "eu-west-1".to_owned();
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository],
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "pushed localhost:5000/my-app at 2025-03-01T10:01:00Z with a token for us-east-1, but repository my-app exists only in eu-west-1",
    );
    assert_evidence_mentions(
        &finding,
        "run aws ecr get-login-password --region eu-west-1 and log in again",
    );
}

#[test]
fn image_tagged_lists_few_existing_repositories() {
    let mut journal = Journal::default();
    journal
        .registry("BlobUpload", Some("missing"), None, Outcome::Error)
        .error_code = Some("NAME_UNKNOWN".to_owned());
    let repositories = (0..50)
        .map(|number| repository(&format!("app-{number:02}"), Vec::new()))
        .collect();
    let evidence = Evidence {
        events: journal.events,
        repositories,
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert_eq!(finding.evidence.len(), 1);
    assert!(
        finding.evidence[0].ends_with(
            "(existing repositories: localhost:5000/app-00, localhost:5000/app-01, localhost:5000/app-02 and 47 more)"
        ),
        "{}",
        finding.evidence[0]
    );
}

#[test]
fn image_pushed_matches_region() {
    let mut evidence = completed_lab();
    let mut copy = evidence.repositories[0].clone();
    copy.region = "eu-west-1".to_owned();
    evidence.repositories = vec![copy];
    let finding = run(CheckKind::ImagePushed, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(&finding, "no successful registry manifest PUT for it");
}

#[test]
fn image_tagged_ignores_port() {
    let mut evidence = completed_lab();
    evidence.repositories[0].uri = "localhost:5001/my-app".to_owned();
    for event in &mut evidence.events {
        if event.source == Source::Registry {
            event.host = Some("LOCALHOST:5000".to_owned());
        }
    }
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(finding.passed, "{:?}", finding.evidence);
    assert_eq!(
        finding.evidence,
        vec![
            "docker/27.3.1 pushed LOCALHOST:5000/my-app:v1 at 2025-03-01T10:06:00Z, naming repository my-app in us-east-1 by the host name localhost of its URI localhost:5001/my-app".to_owned(),
            "the push went to port 5000 and the URI now names port 5001; ports are not compared, because every request in this mock's journal reached this mock".to_owned(),
        ]
    );
}

#[test]
fn image_tagged_blob_upload_ignores_port() {
    let mut journal = Journal::default();
    journal.registry("BlobUpload", Some("my-app"), None, Outcome::Ok);
    let mut repository = repository("my-app", Vec::new());
    repository.uri = "localhost:5001/my-app".to_owned();
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository],
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(finding.passed, "{:?}", finding.evidence);
    assert_evidence_mentions(&finding, "ports are not compared");
}

#[test]
fn host_names_compare_without_ports() {
    let cases = [
        ("localhost:5000", "localhost:5001", true),
        ("localhost", "localhost:5000", true),
        ("LocalHost:5000", "localhost:5000", true),
        ("[::1]:5000", "[::1]:5001", true),
        ("[::1]", "[::1]:5000", true),
        ("127.0.0.1:5000", "localhost:5000", false),
        ("localhost.localdomain:5000", "localhost:5000", false),
        ("[::1]:5000", "localhost:5000", false),
    ];
    for (left, right, same) in cases {
        assert_eq!(
            rules::same_host_name(left, right),
            same,
            "{left} and {right}"
        );
    }
}

#[test]
fn image_tagged_rejects_unauthenticated_manifest() {
    let mut journal = Journal::default();
    let rejected = journal.registry("ManifestPut", Some("my-app"), Some("v1"), Outcome::Error);
    rejected.error_code = Some("DENIED".to_owned());
    rejected.message = Some("Not Authorized".to_owned());
    rejected.user_agent = Some("curl/8.5.0".to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(!finding.passed, "{:?}", finding.evidence);
    assert_eq!(
        finding.evidence,
        vec![
            "curl/8.5.0 pushed localhost:5000/my-app:v1 at 2025-03-01T10:01:00Z, but the registry rejected it with DENIED (Not Authorized), so it does not show how the image was tagged; log in with a fresh token and push again"
                .to_owned()
        ]
    );
}

#[test]
fn image_tagged_accepts_authenticated_errors() {
    for code in ["TAG_INVALID", "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID"] {
        let mut journal = Journal::default();
        journal
            .registry("ManifestPut", Some("my-app"), Some("v1"), Outcome::Error)
            .error_code = Some(code.to_owned());
        let evidence = Evidence {
            events: journal.events,
            repositories: vec![repository("my-app", Vec::new())],
        };
        let finding = run(CheckKind::ImageTagged, &evidence);
        assert!(finding.passed, "{code}: {:?}", finding.evidence);
        assert_evidence_mentions(&finding, &format!("that push failed with {code}"));
    }
}

#[test]
fn image_tagged_explains_server_error() {
    let mut journal = Journal::default();
    journal
        .registry("ManifestPut", Some("my-app"), Some("v1"), Outcome::Error)
        .error_code = Some("UNKNOWN".to_owned());
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        "pushed localhost:5000/my-app:v1 at 2025-03-01T10:01:00Z, but it failed with UNKNOWN",
    );
}

/// Marks every event of `evidence` as sent by `ecrlab demo`'s clients.
fn done_by_demo(mut evidence: Evidence) -> Evidence {
    for event in &mut evidence.events {
        event.user_agent = match event.source {
            Source::EcrApi => Some(
                "aws-sdk-rust/1.3.9 ua/2.1 api/ecr/1.138.0 os/linux lang/rust/1.89.0 app/ecrlab-demo"
                    .to_owned(),
            ),
            Source::Registry | Source::Lifecycle | Source::Other => {
                Some(crate::demo::DEMO_USER_AGENT.to_owned())
            }
            // The mock's scanner journals its rows without a client.
            Source::Scanner => None,
        };
    }
    evidence
}

#[test]
fn demo_events_do_not_count_by_default() {
    let evidence = done_by_demo(scanned_lab());
    let report = check_lab(&lab(), &evidence, CheckOptions::default());
    assert!(!report.passed);
    for step in &report.steps {
        assert!(!step.passed, "step {} passed: {:?}", step.id, step.evidence);
        let last = step.evidence.last().expect("evidence");
        assert!(
            last.starts_with("ignored ") && last.contains("ecrlab-demo"),
            "step {}: {:?}",
            step.id,
            step.evidence
        );
    }
    assert_eq!(
        step(&report, "create-repository").evidence.last().unwrap(),
        "ignored 1 journal event of ecrlab demo's own clients (user agent containing ecrlab-demo), the newest a CreateRepository call at 2025-03-01T10:01:00Z: work done by the demo does not count for a student"
    );
    assert!(
        step(&report, "push")
            .evidence
            .last()
            .unwrap()
            .contains("the newest a manifest push at 2025-03-01T10:09:00Z")
    );
}

#[test]
fn demo_events_count_when_accepted() {
    let evidence = done_by_demo(scanned_lab());
    let options = CheckOptions {
        accept_demo_events: true,
    };
    let report = check_lab(&lab(), &evidence, options);
    assert!(report.passed);
    for step in &report.steps {
        assert!(
            step.evidence
                .iter()
                .all(|line| !line.starts_with("ignored ")),
            "step {}: {:?}",
            step.id,
            step.evidence
        );
    }
}

#[test]
fn demo_events_are_named_beside_student_work() {
    let mut evidence = scanned_lab();
    // The mock scans an image only when it first stores it, so the demo's second push of the
    // same images has no scanner rows.
    let demo_events = done_by_demo(scanned_lab())
        .events
        .into_iter()
        .filter(|event| event.source != Source::Scanner);
    let offset = evidence.events.len() as u64;
    evidence.events.extend(demo_events.map(|mut event| {
        event.seq += offset;
        event
    }));

    let report = check_lab(&lab(), &evidence, CheckOptions::default());

    assert!(report.passed);
    let create = step(&report, "create-repository");
    assert!(
        create.evidence[1].starts_with("aws-cli/2.17.0 created it"),
        "{:?}",
        create.evidence
    );
    assert!(
        create
            .evidence
            .last()
            .unwrap()
            .starts_with("ignored 1 journal event")
    );

    // The demo's token, its two logins (the probe and the login), and the layer upload and
    // manifest push of each of its two images.
    let authenticate = step(&report, "authenticate");
    assert!(
        authenticate
            .evidence
            .last()
            .unwrap()
            .starts_with("ignored 7 journal events"),
        "{:?}",
        authenticate.evidence
    );
}

#[test]
fn demo_marker_is_in_demo_user_agent() {
    assert!(crate::demo::DEMO_USER_AGENT.contains(DEMO_CLIENT_MARKER));
}

fn many_tags(count: usize) -> Vec<String> {
    (1..=count).map(|number| format!("v{number}")).collect()
}

#[test]
fn image_pushed_lists_few_tags() {
    let mut evidence = completed_lab();
    let tags = many_tags(1000);
    evidence.repositories[0].images[0].tags = tags;
    let finding = run(CheckKind::ImagePushed, &evidence);
    assert!(finding.passed);
    assert_eq!(
        finding.evidence[0],
        format!(
            "my-app:v1 (also tagged v2, v3, v4 and 996 more) is in the registry with digest {DIGEST} and size 2.8 MB (2,795,610 bytes)"
        )
    );
}

#[test]
fn push_failure_lists_few_tags() {
    let mut evidence = completed_lab();
    evidence
        .events
        .retain(|event| event.action != "ManifestPut");
    evidence.repositories[0].images[0].tags = many_tags(1000);
    let finding = run(CheckKind::ImagePushed, &evidence);
    assert!(!finding.passed);
    assert!(
        finding.evidence[0].starts_with("my-app:v1 (also tagged v2, v3, v4 and 996 more) ("),
        "{}",
        finding.evidence[0]
    );
    for line in &finding.evidence {
        assert!(line.len() < 400, "line of {} bytes: {line}", line.len());
    }
}

#[test]
fn tagged_name_prefers_pushed_tag() {
    let tags: Vec<String> = ["latest", "v1", "v2"].map(str::to_owned).to_vec();
    assert_eq!(
        rules::tagged_name("my-app", &tags, Some("v2")),
        "my-app:v2 (also tagged latest, v1)"
    );
    assert_eq!(
        rules::tagged_name("my-app", &tags, Some("sha256:abc")),
        "my-app:latest (also tagged v1, v2)"
    );
    assert_eq!(
        rules::tagged_name("my-app", &tags[..1], None),
        "my-app:latest"
    );
}

#[test]
fn list_items_counts_the_rest() {
    let items = |count: usize| many_tags(count);
    assert_eq!(rules::list_items(&items(1)), "v1");
    assert_eq!(rules::list_items(&items(3)), "v1, v2, v3");
    assert_eq!(rules::list_items(&items(4)), "v1, v2, v3 and 1 more");
    assert_eq!(rules::list_items(&items(5000)), "v1, v2, v3 and 4,997 more");
}

#[test]
fn image_pushed_names_later_delete() {
    let mut journal = Journal::default();
    journal
        .registry("ManifestPut", Some("my-app"), Some("v1"), Outcome::Ok)
        .digest = Some(DIGEST.to_owned());
    journal.api("BatchDeleteImage", Some("my-app"), Outcome::Ok);
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::ImagePushed, &evidence);
    assert!(!finding.passed);
    assert_evidence_mentions(
        &finding,
        &format!(
            "docker/27.3.1 pushed localhost:5000/my-app:v1 ({DIGEST}) at 2025-03-01T10:01:00Z, but a BatchDeleteImage call from aws-cli/2.17.0 at 2025-03-01T10:02:00Z removed images from that repository afterwards; push the image again"
        ),
    );
}

#[test]
fn image_tagged_lists_manifest_not_layers() {
    let mut journal = Journal::default();
    for action in ["BlobUpload", "BlobUpload", "ManifestPut"] {
        let reference = (action == "ManifestPut").then_some("v1");
        journal
            .registry(action, Some("my-app"), reference, Outcome::Ok)
            .host = Some("127.0.0.1:5000".to_owned());
    }
    let evidence = Evidence {
        events: journal.events,
        repositories: vec![repository("my-app", Vec::new())],
    };
    let finding = run(CheckKind::ImageTagged, &evidence);
    assert!(!finding.passed);
    assert_eq!(finding.evidence.len(), 1, "{:?}", finding.evidence);
    assert_evidence_mentions(&finding, "pushed 127.0.0.1:5000/my-app:v1 at");
}
