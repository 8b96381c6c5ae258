use super::*;
use crate::check::{CheckKind, CheckOptions, check_lab};
use crate::lab::Lab;

const HOST: &str = "localhost:5000";
const AWS_CLI: &str = "aws-cli/2.17.0 md/command#ecr.get-login-password";
const DOCKER: &str = "docker/27.3.1 go/go1.22.7 os/linux arch/amd64";
const FIRST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const SECOND: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const EXPIRED: &str = "Your authorization token has expired. Reauthenticate and try again.";
const DRILLS_LAB: &str = include_str!("../../../../../../labs/ecr-drills/lab.toml");

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
            time: format!("2026-03-01T10:{seq:02}:00.000Z"),
            account: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            source,
            action: action.to_owned(),
            repository: None,
            reference: None,
            digest: None,
            host: Some(HOST.to_owned()),
            user_agent: Some(DOCKER.to_owned()),
            outcome,
            error_code: None,
            message: None,
        });
        self.events.last_mut().expect("an event was just pushed")
    }

    fn api(&mut self, action: &str, repository: Option<&str>, outcome: Outcome) {
        let event = self.push(Source::EcrApi, action, outcome);
        event.repository = repository.map(str::to_owned);
        event.host = Some("127.0.0.1:5000".to_owned());
        event.user_agent = Some(AWS_CLI.to_owned());
    }

    fn api_error(&mut self, action: &str, repository: &str, code: &str, message: &str) {
        self.api(action, Some(repository), Outcome::Error);
        self.fail(code, message);
    }

    fn login(&mut self) {
        self.api("GetAuthorizationToken", None, Outcome::Ok);
        self.push(Source::Registry, "Login", Outcome::Ok);
    }

    fn manifest(&mut self, repository: &str, tag: &str, digest: &str) -> &mut JournalEvent {
        let event = self.push(Source::Registry, "ManifestPut", Outcome::Ok);
        event.repository = Some(repository.to_owned());
        event.reference = Some(tag.to_owned());
        event.digest = Some(digest.to_owned());
        event
    }

    fn rejected_manifest(&mut self, repository: &str, tag: &str, digest: &str, code: &str) {
        let message = match code {
            "TAG_INVALID" => format!(
                "The image tag '{tag}' already exists in the '{repository}' repository and cannot be overwritten because the repository is immutable."
            ),
            _ => format!(
                "Adding tag '{tag}' to an image in the repository with name '{repository}' in registry with id '123456789012' exceeds the maximum allowed number of tags per image which is '1000'"
            ),
        };
        self.manifest(repository, tag, digest);
        self.fail(code, &message);
    }

    fn denied(&mut self, action: &str, message: &str) {
        let event = self.push(Source::Registry, action, Outcome::Error);
        event.repository = Some("drills/expiry".to_owned());
        self.fail("DENIED", message);
    }

    fn clock_advance(&mut self, by: &str) {
        let event = self.push(Source::Other, "ClockAdvance", Outcome::Ok);
        event.reference = Some(by.to_owned());
        event.host = None;
        event.user_agent = None;
    }

    fn fail(&mut self, code: &str, message: &str) {
        let event = self.events.last_mut().expect("an event");
        event.outcome = Outcome::Error;
        event.error_code = Some(code.to_owned());
        event.message = Some(message.to_owned());
    }

    fn evidence(self, repositories: Vec<RepositoryState>) -> Evidence {
        Evidence {
            events: self.events,
            repositories,
        }
    }
}

fn repository(name: &str, mutability: &str, images: Vec<ImageState>) -> RepositoryState {
    RepositoryState {
        region: "us-east-1".to_owned(),
        name: name.to_owned(),
        uri: format!("{HOST}/{name}"),
        tag_mutability: mutability.to_owned(),
        scan_on_push: false,
        images,
    }
}

fn image(digest: &str, tags: &[&str]) -> ImageState {
    ImageState {
        digest: digest.to_owned(),
        tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
        size_bytes: 1_234,
        manifest_media_type: Some("application/vnd.oci.image.manifest.v1+json".to_owned()),
        pushed_at: Some("2026-03-01T10:00:00.000Z".to_owned()),
        scan: None,
    }
}

/// Tags `t1` to `tN`, as the tag-limit drill's loop names them.
fn numbered_tags(count: usize) -> Vec<String> {
    (1..=count).map(|number| format!("t{number}")).collect()
}

fn image_with_tags(digest: &str, count: usize) -> ImageState {
    let tags = numbered_tags(count);
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    image(digest, &tags)
}

fn assert_mentions(finding: &Finding, expected: &str) {
    assert!(
        finding.evidence.iter().any(|line| line.contains(expected)),
        "no evidence line contains {expected:?}: {:#?}",
        finding.evidence
    );
}

// Tag immutability.

fn immutable_drill() -> Journal {
    let mut journal = Journal::default();
    journal.api("CreateRepository", Some("drills/immutable"), Outcome::Ok);
    journal.login();
    journal.manifest("drills/immutable", "v1", FIRST);
    journal.rejected_manifest("drills/immutable", "v1", SECOND, "TAG_INVALID");
    journal
}

#[test]
fn immutable_rejection_passes() {
    let evidence = immutable_drill().evidence(vec![repository(
        "drills/immutable",
        "IMMUTABLE",
        vec![image(FIRST, &["v1"])],
    )]);
    let finding = immutable_tag_rejected(&evidence);
    assert!(finding.passed, "{:#?}", finding.evidence);
    assert_eq!(
        finding.evidence,
        [
            format!(
                "docker/27.3.1 pushed localhost:5000/drills/immutable:v1 ({FIRST}) at 2026-03-01T10:04:00.000Z"
            ),
            format!(
                "docker/27.3.1 pushed another image ({SECOND}) to the same tag at 2026-03-01T10:05:00.000Z, and the registry rejected it with TAG_INVALID (The image tag 'v1' already exists in the 'drills/immutable' repository and cannot be overwritten because the repository is immutable.), because repository drills/immutable in us-east-1 has tag mutability IMMUTABLE"
            ),
        ]
    );
}

#[test]
fn immutable_needs_earlier_push_of_tag() {
    let mut journal = Journal::default();
    journal.login();
    journal.manifest("drills/immutable", "v1", FIRST);
    journal.rejected_manifest("drills/immutable", "v2", SECOND, "TAG_INVALID");
    let evidence = journal.evidence(vec![repository(
        "drills/immutable",
        "IMMUTABLE",
        vec![image(FIRST, &["v1"])],
    )]);
    let finding = immutable_tag_rejected(&evidence);
    assert!(!finding.passed);
    assert_mentions(&finding, "but no earlier push of that tag succeeded");
}

#[test]
fn immutable_needs_immutable_repository() {
    let evidence = immutable_drill().evidence(vec![repository(
        "drills/immutable",
        "MUTABLE",
        vec![image(FIRST, &["v1"])],
    )]);
    let finding = immutable_tag_rejected(&evidence);
    assert!(!finding.passed);
    assert_mentions(&finding, "now has tag mutability MUTABLE");
}

#[test]
fn immutable_rejection_in_deleted_repository() {
    let finding = immutable_tag_rejected(&immutable_drill().evidence(Vec::new()));
    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "repository drills/immutable no longer exists in us-east-1",
    );
}

#[test]
fn immutable_before_second_push() {
    let mut journal = Journal::default();
    journal.login();
    journal.manifest("drills/immutable", "v1", FIRST);
    journal.manifest("drills/immutable", "v1", FIRST);
    let evidence = journal.evidence(vec![repository(
        "drills/immutable",
        "IMMUTABLE",
        vec![image(FIRST, &["v1"])],
    )]);
    let finding = immutable_tag_rejected(&evidence);
    assert!(!finding.passed);
    assert_eq!(
        finding.evidence,
        [
            "docker/27.3.1 pushed localhost:5000/drills/immutable:v1 at 2026-03-01T10:04:00.000Z, and no push to that tag has been rejected yet; build a different image and push it to the same tag, because pushing the same image again succeeds: the tag already names it"
        ]
    );
}

#[test]
fn immutable_without_immutable_repository() {
    let mut journal = Journal::default();
    journal.login();
    journal.manifest("drills/mutable", "v1", FIRST);
    journal.manifest("drills/mutable", "v1", SECOND);
    let evidence = journal.evidence(vec![repository(
        "drills/mutable",
        "MUTABLE",
        vec![image(SECOND, &["v1"])],
    )]);
    let finding = immutable_tag_rejected(&evidence);
    assert!(!finding.passed);
    assert_eq!(
        finding.evidence,
        [
            "no repository has tag mutability IMMUTABLE; create one with aws ecr create-repository --image-tag-mutability IMMUTABLE"
        ]
    );
}

#[test]
fn immutable_put_image_rejection_explained() {
    let mut journal = Journal::default();
    journal.api_error(
        "PutImage",
        "drills/immutable",
        "ImageTagAlreadyExistsException",
        "The image tag 'v1' already exists",
    );
    let evidence = journal.evidence(vec![repository(
        "drills/immutable",
        "IMMUTABLE",
        Vec::new(),
    )]);
    let finding = immutable_tag_rejected(&evidence);
    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "this drill asks for a registry push (docker push)",
    );
}

// Token expiry.

fn expiry_drill() -> Journal {
    let mut journal = Journal::default();
    journal.login();
    journal.clock_advance("13h");
    journal.denied("BlobUpload", EXPIRED);
    journal.login();
    journal.manifest("drills/expiry", "v1", FIRST);
    journal
}

#[test]
fn expired_token_renewal_passes() {
    let finding = expired_token_renewed(&expiry_drill().evidence(Vec::new()));
    assert!(finding.passed, "{:#?}", finding.evidence);
    assert_eq!(
        finding.evidence,
        [
            "docker/27.3.1 logged in to localhost:5000 at 2026-03-01T10:02:00.000Z",
            "the mock's clock was moved forward 13h, to 2026-03-01T10:03:00.000Z",
            "the registry rejected a layer upload from docker/27.3.1 at 2026-03-01T10:04:00.000Z with DENIED (Your authorization token has expired. Reauthenticate and try again.)",
            "aws-cli/2.17.0 got a new token with GetAuthorizationToken at 2026-03-01T10:05:00.000Z",
            "docker/27.3.1 logged in again to localhost:5000 at 2026-03-01T10:06:00.000Z",
            "docker/27.3.1 then pushed localhost:5000/drills/expiry:v1 at 2026-03-01T10:07:00.000Z",
        ]
    );
}

#[test]
fn expiry_without_login() {
    let finding = expired_token_renewed(&Journal::default().evidence(Vec::new()));
    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "no container client has logged in to the registry yet",
    );
}

#[test]
fn expiry_before_clock_moves() {
    let mut journal = Journal::default();
    journal.login();
    let finding = expired_token_renewed(&journal.evidence(Vec::new()));
    assert!(!finding.passed);
    assert_eq!(
        finding.evidence,
        [
            "docker/27.3.1 logged in to localhost:5000 at 2026-03-01T10:02:00.000Z, but no registry request has been rejected for an expired token yet; run ecrlab clock advance 13h, then push without logging in again"
        ]
    );
}

#[test]
fn expiry_after_short_advance() {
    let mut journal = Journal::default();
    journal.login();
    journal.clock_advance("2h");
    journal.manifest("drills/expiry", "v1", FIRST);
    let finding = expired_token_renewed(&journal.evidence(Vec::new()));
    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "moved forward 2h at 2026-03-01T10:03:00.000Z, but no registry request has been rejected for an expired token since",
    );
}

#[test]
fn expiry_ignores_other_denials() {
    let mut journal = Journal::default();
    journal.login();
    journal.denied("BlobUpload", "Not Authorized");
    journal.login();
    journal.manifest("drills/expiry", "v1", FIRST);
    let finding = expired_token_renewed(&journal.evidence(Vec::new()));
    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "no registry request has been rejected for an expired token",
    );
}

#[test]
fn expiry_needs_new_token() {
    let mut journal = Journal::default();
    journal.login();
    journal.clock_advance("13h");
    journal.denied("BlobUpload", EXPIRED);
    let finding = expired_token_renewed(&journal.evidence(Vec::new()));
    assert!(!finding.passed);
    assert_eq!(finding.evidence.len(), 2, "{:#?}", finding.evidence);
    assert_mentions(
        &finding,
        "with DENIED (Your authorization token has expired.",
    );
    assert_mentions(&finding, "no new token has been issued since");
}

#[test]
fn expiry_needs_login_with_new_token() {
    let mut journal = Journal::default();
    journal.login();
    journal.denied("ManifestPut", EXPIRED);
    journal.api("GetAuthorizationToken", None, Outcome::Ok);
    let finding = expired_token_renewed(&journal.evidence(Vec::new()));
    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "aws-cli/2.17.0 got a new token at 2026-03-01T10:04:00.000Z, but no container client has logged in with it",
    );
}

#[test]
fn expiry_needs_push_after_login() {
    let mut journal = Journal::default();
    journal.login();
    journal.manifest("drills/expiry", "v1", FIRST);
    journal.denied("BlobUpload", EXPIRED);
    journal.login();
    let finding = expired_token_renewed(&journal.evidence(Vec::new()));
    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "logged in again at 2026-03-01T10:06:00.000Z, but no manifest push has succeeded since",
    );
}

#[test]
fn expiry_push_before_new_login_does_not_count() {
    let mut journal = Journal::default();
    journal.login();
    journal.denied("BlobUpload", EXPIRED);
    journal.api("GetAuthorizationToken", None, Outcome::Ok);
    journal.manifest("drills/expiry", "v1", FIRST);
    let finding = expired_token_renewed(&journal.evidence(Vec::new()));
    assert!(!finding.passed);
    assert_mentions(&finding, "no container client has logged in with it");
}

// Tags-per-image limit.

#[test]
fn tag_limit_registry_rejection_passes() {
    let mut journal = Journal::default();
    journal.login();
    journal.manifest("drills/tags", "t1", FIRST);
    journal.rejected_manifest("drills/tags", "t1001", FIRST, "DENIED");
    let evidence = journal.evidence(vec![repository(
        "drills/tags",
        "MUTABLE",
        vec![image_with_tags(FIRST, 1000)],
    )]);
    let finding = tag_limit_reached(&evidence);
    assert!(finding.passed, "{:#?}", finding.evidence);
    assert_mentions(
        &finding,
        "the registry rejected the push of localhost:5000/drills/tags:t1001 from docker/27.3.1 at 2026-03-01T10:04:00.000Z with DENIED (Adding tag 't1001'",
    );
    assert_mentions(
        &finding,
        &format!("image {FIRST} in repository drills/tags (us-east-1) has 1,000 tags"),
    );
}

#[test]
fn tag_limit_put_image_rejection_passes() {
    let mut journal = Journal::default();
    journal.api_error(
        "PutImage",
        "drills/tags",
        "LimitExceededException",
        "Adding tag 't1001' to an image in the repository with name 'drills/tags' in registry with id '123456789012' exceeds the maximum allowed number of tags per image which is '1000'",
    );
    let evidence = journal.evidence(vec![repository(
        "drills/tags",
        "MUTABLE",
        vec![image_with_tags(FIRST, 1000)],
    )]);
    let finding = tag_limit_reached(&evidence);
    assert!(finding.passed, "{:#?}", finding.evidence);
    assert_mentions(
        &finding,
        "PutImage from aws-cli/2.17.0 for repository drills/tags was rejected at 2026-03-01T10:01:00.000Z with LimitExceededException",
    );
}

#[test]
fn tag_limit_ignores_expired_token_denial() {
    let mut journal = Journal::default();
    journal.login();
    journal.manifest("drills/tags", "t1", FIRST);
    journal.fail("DENIED", EXPIRED);
    let evidence = journal.evidence(vec![repository(
        "drills/tags",
        "MUTABLE",
        vec![image_with_tags(FIRST, 999)],
    )]);
    let finding = tag_limit_reached(&evidence);
    assert!(!finding.passed);
    assert_mentions(
        &finding,
        &format!(
            "image {FIRST} in repository drills/tags (us-east-1) has 999 tags; add 1 more, then one more push of a new tag is rejected"
        ),
    );
    assert_mentions(
        &finding,
        "a manifest push for drills/tags from docker/27.3.1 failed",
    );
}

#[test]
fn tag_limit_counts_most_tagged_image() {
    let evidence = Journal::default().evidence(vec![
        repository("drills/few", "MUTABLE", vec![image(SECOND, &["a", "b"])]),
        repository("drills/tags", "MUTABLE", vec![image_with_tags(FIRST, 1000)]),
    ]);
    let finding = tag_limit_reached(&evidence);
    assert!(!finding.passed);
    assert_eq!(
        finding.evidence,
        [format!(
            "image {FIRST} in repository drills/tags (us-east-1) has 1,000 tags; push it once more under a new tag to see the rejection"
        )]
    );
}

#[test]
fn tag_limit_without_images() {
    let finding = tag_limit_reached(&Journal::default().evidence(Vec::new()));
    assert!(!finding.passed);
    assert_eq!(
        finding.evidence,
        [
            "no repository holds a tagged image yet; push one image, then add tags to it as the instructions show"
        ]
    );
}

// The drills lab.

#[test]
fn drills_lab_is_valid() {
    let lab = Lab::parse(DRILLS_LAB, "labs/ecr-drills/lab.toml").unwrap_or_else(|error| {
        panic!("{error}");
    });
    assert_eq!(lab.id, "ecr-drills");
    assert_eq!(lab.version, "1.0.1");
    let checks: Vec<CheckKind> = lab.steps.iter().map(|step| step.check).collect();
    assert_eq!(
        checks,
        [
            CheckKind::ImmutableTagRejected,
            CheckKind::ExpiredTokenRenewed,
            CheckKind::TagLimitReached
        ]
    );
    for step in &lab.steps {
        assert!(
            (2..=3).contains(&step.hints.len()),
            "step {} has {} hints",
            step.id,
            step.hints.len()
        );
    }
}

#[test]
fn drills_lab_passes_on_every_drill() {
    let lab = Lab::parse(DRILLS_LAB, "labs/ecr-drills/lab.toml").expect("valid lab");
    let mut journal = Journal::default();
    journal.events.extend(immutable_drill().events);
    journal.events.extend(expiry_drill().events);
    journal.manifest("drills/tags", "t1", FIRST);
    journal.rejected_manifest("drills/tags", "t1001", FIRST, "DENIED");
    for (position, event) in journal.events.iter_mut().enumerate() {
        event.seq = position as u64 + 1;
    }
    let evidence = journal.evidence(vec![
        repository("drills/immutable", "IMMUTABLE", vec![image(FIRST, &["v1"])]),
        repository("drills/tags", "MUTABLE", vec![image_with_tags(FIRST, 1000)]),
    ]);
    let report = check_lab(&lab, &evidence, CheckOptions::default());
    assert!(report.passed, "{}", report.render_text());
}

#[test]
fn drills_lab_fails_on_fresh_mock() {
    let lab = Lab::parse(DRILLS_LAB, "labs/ecr-drills/lab.toml").expect("valid lab");
    let report = check_lab(&lab, &Evidence::default(), CheckOptions::default());
    assert!(!report.passed);
    for step in &report.steps {
        assert!(!step.passed, "step {} passed", step.id);
        assert!(step.hint.is_some(), "step {} has no hint", step.id);
    }
}
