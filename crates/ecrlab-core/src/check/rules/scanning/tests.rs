use super::*;
use crate::evidence::scans::{SCAN_COMPLETED, SCAN_STARTED};
use crate::evidence::{
    ImageScan, ImageState, JournalEvent, Outcome, RepositoryState, ScanFinding, Source,
};

const HOST: &str = "localhost:5000";
const AWS_CLI: &str = "aws-cli/2.17.0 md/command#ecr.describe-image-scan-findings";
const GRADER: &str = "aws-sdk-rust/1.3.9 ua/2.1 api/ecr/1.138.0 app/ecrlab";
const DOCKER: &str = "docker/27.3.1 go/go1.22.7 os/linux arch/amd64";
const HELLO: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const VULNERABLE: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// Builds journal events with increasing sequence numbers and times.
#[derive(Default)]
struct Journal {
    events: Vec<JournalEvent>,
}

impl Journal {
    fn push(&mut self, source: Source, action: &str, digest: Option<&str>) -> &mut JournalEvent {
        let seq = self.events.len() as u64 + 1;
        let (host, user_agent) = match source {
            Source::Registry => (Some(HOST), Some(DOCKER)),
            Source::EcrApi => (Some("127.0.0.1:5000"), Some(AWS_CLI)),
            _ => (None, None),
        };
        self.events.push(JournalEvent {
            seq,
            time: format!("2026-03-01T10:{seq:02}:00.000Z"),
            account: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            source,
            action: action.to_owned(),
            repository: Some("my-app".to_owned()),
            reference: None,
            digest: digest.map(str::to_owned),
            host: host.map(str::to_owned),
            user_agent: user_agent.map(str::to_owned),
            outcome: Outcome::Ok,
            error_code: None,
            message: None,
        });
        self.events.last_mut().expect("an event was just pushed")
    }

    fn manifest(&mut self, tag: &str, digest: &str) {
        self.push(Source::Registry, "ManifestPut", Some(digest))
            .reference = Some(tag.to_owned());
    }

    /// Journals a push to a repository that scans on push: the push, then the scanner's start
    /// row, which the mock's scan worker writes when it begins the scan.
    fn push_scanned(&mut self, tag: &str, digest: &str) {
        self.manifest(tag, digest);
        self.push(Source::Scanner, SCAN_STARTED, Some(digest));
    }

    fn scan_completed(&mut self, digest: &str) {
        self.push(Source::Scanner, SCAN_COMPLETED, Some(digest));
    }

    fn read_findings(&mut self, digest: Option<&str>) -> &mut JournalEvent {
        self.push(Source::EcrApi, "DescribeImageScanFindings", digest)
    }

    fn evidence(self, scan_on_push: bool, images: Vec<ImageState>) -> Evidence {
        Evidence {
            events: self.events,
            repositories: vec![RepositoryState {
                region: "us-east-1".to_owned(),
                name: "my-app".to_owned(),
                uri: format!("{HOST}/my-app"),
                tag_mutability: "IMMUTABLE".to_owned(),
                scan_on_push,
                images,
            }],
        }
    }
}

fn finding(name: &str, severity: &str, package: &str) -> ScanFinding {
    ScanFinding {
        name: name.to_owned(),
        severity: severity.to_owned(),
        package_name: Some(package.to_owned()),
        package_version: Some("1.0-1".to_owned()),
    }
}

fn image(tag: &str, digest: &str, status: &str, findings: Vec<ScanFinding>) -> ImageState {
    ImageState {
        digest: digest.to_owned(),
        tags: vec![tag.to_owned()],
        size_bytes: 4_096,
        manifest_media_type: Some("application/vnd.oci.image.manifest.v1+json".to_owned()),
        pushed_at: Some("2026-03-01T10:02:00.000Z".to_owned()),
        scan: Some(ImageScan {
            status: status.to_owned(),
            description: (status == "UNSUPPORTED_IMAGE").then(|| {
                "UnsupportedImageError: The operating system and/or package manager are not supported.".to_owned()
            }),
            completed_at: None,
            findings,
        }),
    }
}

fn vulnerable_image() -> ImageState {
    image(
        "scan",
        VULNERABLE,
        SCAN_COMPLETE,
        vec![
            finding("CVE-2024-5535", "CRITICAL", "libssl3"),
            finding("CVE-2023-50495", "MEDIUM", "libtinfo6"),
        ],
    )
}

fn assert_mentions(finding: &Finding, expected: &str) {
    assert!(
        finding.evidence.iter().any(|line| line.contains(expected)),
        "no evidence line contains {expected:?}: {:#?}",
        finding.evidence
    );
}

#[test]
fn scanned_and_read_image_passes() {
    let mut journal = Journal::default();
    journal.push_scanned("scan", VULNERABLE);
    journal.scan_completed(VULNERABLE);
    journal.read_findings(Some(VULNERABLE));
    let evidence = journal.evidence(true, vec![vulnerable_image()]);

    let finding = scan_findings_read(&evidence);

    assert!(finding.passed, "{:#?}", finding.evidence);
    assert_eq!(
        finding.evidence,
        [
            format!("docker/27.3.1 pushed my-app:scan ({VULNERABLE}) at 2026-03-01T10:01:00.000Z"),
            "the mock started its scan on push at 2026-03-01T10:02:00.000Z: repository my-app has scan on push turned on".to_owned(),
            "its scan is COMPLETE since 2026-03-01T10:03:00.000Z, with 2 findings (1 CRITICAL, 1 MEDIUM)".to_owned(),
            "aws-cli/2.17.0 read its findings with DescribeImageScanFindings at 2026-03-01T10:04:00.000Z".to_owned(),
        ]
    );
}

#[test]
fn push_before_scan_on_push_fails() {
    let mut journal = Journal::default();
    journal.manifest("scan", VULNERABLE);
    journal.push(Source::EcrApi, "PutImageScanningConfiguration", None);
    journal.push(Source::Scanner, SCAN_STARTED, Some(VULNERABLE));
    journal.push(Source::EcrApi, "StartImageScan", Some(VULNERABLE));
    journal.scan_completed(VULNERABLE);
    journal.read_findings(Some(VULNERABLE));
    let evidence = journal.evidence(true, vec![vulnerable_image()]);

    let finding = scan_findings_read(&evidence);

    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "StartImageScan started its scan at 2026-03-01T10:03:00.000Z, not the push, so scan on push was off when it was pushed",
    );
    assert_mentions(
        &finding,
        "aws ecr put-image-scanning-configuration --repository-name my-app --image-scanning-configuration scanOnPush=true",
    );
}

#[test]
fn unscanned_push_fails() {
    let mut journal = Journal::default();
    journal.manifest("scan", VULNERABLE);
    let mut unscanned = vulnerable_image();
    unscanned.scan = None;
    let evidence = journal.evidence(false, vec![unscanned]);

    let finding = scan_findings_read(&evidence);

    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "the mock did not scan it on push, because repository my-app had scan on push turned off",
    );
}

#[test]
fn running_scan_asks_to_wait() {
    let mut journal = Journal::default();
    journal.push_scanned("scan", VULNERABLE);
    journal.read_findings(Some(VULNERABLE));
    let evidence = journal.evidence(true, vec![image("scan", VULNERABLE, "IN_PROGRESS", vec![])]);

    let finding = scan_findings_read(&evidence);

    assert!(!finding.passed);
    assert_mentions(
        &finding,
        &format!(
            "its scan is still running; wait for it with aws ecr wait image-scan-complete --repository-name my-app --image-id imageDigest={VULNERABLE}"
        ),
    );
}

#[test]
fn unsupported_image_names_sample_image() {
    let mut journal = Journal::default();
    journal.push_scanned("v1", HELLO);
    journal.scan_completed(HELLO);
    journal.read_findings(Some(HELLO));
    let evidence = journal.evidence(true, vec![image("v1", HELLO, "UNSUPPORTED_IMAGE", vec![])]);

    let finding = scan_findings_read(&evidence);

    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "its scan ended with status UNSUPPORTED_IMAGE (UnsupportedImageError: The operating system and/or package manager are not supported.), so it has no findings; build the sample image in labs/push-to-ecr/scan-image",
    );
}

#[test]
fn complete_scan_without_findings_fails() {
    let mut journal = Journal::default();
    journal.push_scanned("v1", HELLO);
    journal.scan_completed(HELLO);
    journal.read_findings(Some(HELLO));
    let evidence = journal.evidence(true, vec![image("v1", HELLO, SCAN_COMPLETE, vec![])]);

    let finding = scan_findings_read(&evidence);

    assert!(!finding.passed);
    assert_mentions(&finding, "its scan is COMPLETE without findings");
}

#[test]
fn read_before_scan_ended_fails() {
    let mut journal = Journal::default();
    journal.push_scanned("scan", VULNERABLE);
    journal.read_findings(Some(VULNERABLE));
    journal.scan_completed(VULNERABLE);
    let evidence = journal.evidence(true, vec![vulnerable_image()]);

    let finding = scan_findings_read(&evidence);

    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "aws-cli/2.17.0 called DescribeImageScanFindings at 2026-03-01T10:03:00.000Z, before the scan ended, so it returned no findings",
    );
}

#[test]
fn grader_reads_do_not_count() {
    let mut journal = Journal::default();
    journal.push_scanned("scan", VULNERABLE);
    journal.scan_completed(VULNERABLE);
    journal.read_findings(Some(VULNERABLE)).user_agent = Some(GRADER.to_owned());
    let evidence = journal.evidence(true, vec![vulnerable_image()]);

    let finding = scan_findings_read(&evidence);

    assert!(!finding.passed);
    assert_mentions(
        &finding,
        &format!(
            "no one has read its findings with DescribeImageScanFindings since the scan ended; run aws ecr describe-image-scan-findings --repository-name my-app --image-id imageDigest={VULNERABLE}"
        ),
    );
}

#[test]
fn read_of_other_image_does_not_count() {
    let mut journal = Journal::default();
    journal.push_scanned("v1", HELLO);
    journal.scan_completed(HELLO);
    journal.push_scanned("scan", VULNERABLE);
    journal.scan_completed(VULNERABLE);
    journal.read_findings(Some(HELLO));
    let evidence = journal.evidence(
        true,
        vec![
            image("v1", HELLO, "UNSUPPORTED_IMAGE", vec![]),
            vulnerable_image(),
        ],
    );

    let finding = scan_findings_read(&evidence);

    assert!(!finding.passed);
    assert_mentions(&finding, "pushed my-app:scan");
    assert_mentions(&finding, "no one has read its findings");
}

#[test]
fn furthest_image_is_explained() {
    let mut journal = Journal::default();
    journal.push_scanned("v1", HELLO);
    journal.scan_completed(HELLO);
    journal.push_scanned("scan", VULNERABLE);
    journal.scan_completed(VULNERABLE);
    journal.read_findings(Some(VULNERABLE));
    let evidence = journal.evidence(
        true,
        vec![
            image("v1", HELLO, "UNSUPPORTED_IMAGE", vec![]),
            vulnerable_image(),
        ],
    );

    let finding = scan_findings_read(&evidence);

    assert!(finding.passed, "{:#?}", finding.evidence);
    assert_mentions(&finding, "pushed my-app:scan");
}

#[test]
fn no_pushed_image_fails() {
    let finding = scan_findings_read(&Evidence::default());

    assert!(!finding.passed);
    assert_mentions(
        &finding,
        "the registry holds no image that a container client pushed",
    );
}

#[test]
fn registry_rule_scan_passes_with_setting_off() {
    let mut journal = Journal::default();
    journal.push(Source::EcrApi, "PutRegistryScanningConfiguration", None);
    journal.push_scanned("scan", VULNERABLE);
    journal.scan_completed(VULNERABLE);
    journal.read_findings(None);
    let evidence = journal.evidence(false, vec![vulnerable_image()]);

    let finding = scan_findings_read(&evidence);

    assert!(finding.passed, "{:#?}", finding.evidence);
    assert_mentions(
        &finding,
        "repository my-app has scan on push turned off now, so a registry scanning rule or the setting at that time started it",
    );
}
