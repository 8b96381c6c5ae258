use super::*;
use crate::evidence::{ImageScan, ScanFinding};

const IMAGE: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const OTHER_IMAGE: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const AWS_CLI: &str = "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0 md/command#ecr.describe-image-scan-findings";
const GRADER: &str =
    "aws-sdk-rust/1.3.9 ua/2.1 api/ecr/1.138.0 os/linux lang/rust/1.89.0 app/ecrlab";

fn event(seq: u64, source: Source, action: &str, digest: Option<&str>) -> JournalEvent {
    JournalEvent {
        seq,
        time: format!("2026-03-01T10:{seq:02}:00Z"),
        account: "123456789012".to_owned(),
        region: "us-east-1".to_owned(),
        source,
        action: action.to_owned(),
        repository: Some("my-app".to_owned()),
        reference: None,
        digest: digest.map(str::to_owned),
        host: None,
        user_agent: match source {
            Source::EcrApi => Some(AWS_CLI.to_owned()),
            Source::Registry => Some("docker/27.3.1".to_owned()),
            _ => None,
        },
        outcome: Outcome::Ok,
        error_code: None,
        message: None,
    }
}

fn push(seq: u64, digest: &str) -> JournalEvent {
    event(seq, Source::Registry, "ManifestPut", Some(digest))
}

fn scanner(seq: u64, action: &str, digest: &str) -> JournalEvent {
    event(seq, Source::Scanner, action, Some(digest))
}

fn api(seq: u64, action: &str, digest: Option<&str>) -> JournalEvent {
    event(seq, Source::EcrApi, action, digest)
}

fn evidence(events: Vec<JournalEvent>, digests: &[&str]) -> Evidence {
    let images = digests
        .iter()
        .map(|digest| ImageState {
            digest: (*digest).to_owned(),
            tags: vec!["scan".to_owned()],
            size_bytes: 1_000,
            manifest_media_type: None,
            pushed_at: None,
            scan: Some(ImageScan {
                status: SCAN_COMPLETE.to_owned(),
                description: None,
                completed_at: None,
                findings: vec![ScanFinding {
                    name: "CVE-2024-5535".to_owned(),
                    severity: "CRITICAL".to_owned(),
                    package_name: Some("libssl3".to_owned()),
                    package_version: Some("3.0.11-1~deb12u2".to_owned()),
                }],
            }),
        })
        .collect();
    Evidence {
        events,
        repositories: vec![RepositoryState {
            region: "us-east-1".to_owned(),
            name: "my-app".to_owned(),
            uri: "localhost:5000/my-app".to_owned(),
            tag_mutability: "IMMUTABLE".to_owned(),
            scan_on_push: true,
            images,
        }],
    }
}

#[test]
fn scan_next_to_push_is_scan_on_push() {
    // The scanner's row may come before or after the push's own row.
    for events in [
        vec![scanner(1, SCAN_STARTED, IMAGE), push(2, IMAGE)],
        vec![push(1, IMAGE), scanner(2, SCAN_STARTED, IMAGE)],
    ] {
        let evidence = evidence(events, &[IMAGE]);
        let images = pushed_images(&evidence);

        assert_eq!(images.len(), 1);
        let start = images[0].start.expect("a scan start");
        assert_eq!(start.trigger, ScanTrigger::Push);
        assert_eq!(images[0].push_scan, Some(start.event));
    }
}

#[test]
fn scan_next_to_start_image_scan_is_manual() {
    let events = vec![
        push(1, IMAGE),
        api(2, "PutImageScanningConfiguration", None),
        scanner(3, SCAN_STARTED, IMAGE),
        api(4, "StartImageScan", Some(IMAGE)),
        scanner(5, SCAN_COMPLETED, IMAGE),
    ];
    let evidence = evidence(events, &[IMAGE]);
    let images = pushed_images(&evidence);

    let start = images[0].start.expect("a scan start");
    assert_eq!(start.trigger, ScanTrigger::StartImageScan);
    assert_eq!(images[0].push_scan, None);
    assert_eq!(images[0].completion.map(|end| end.seq), Some(5));
}

#[test]
fn later_manual_scan_keeps_push_scan() {
    let events = vec![
        push(1, IMAGE),
        scanner(2, SCAN_STARTED, IMAGE),
        scanner(3, SCAN_COMPLETED, IMAGE),
        scanner(4, SCAN_STARTED, IMAGE),
        api(5, "StartImageScan", Some(IMAGE)),
    ];
    let evidence = evidence(events, &[IMAGE]);
    let images = pushed_images(&evidence);

    assert_eq!(images[0].push_scan.map(|start| start.seq), Some(2));
    let newest = images[0].start.expect("a scan start");
    assert_eq!(newest.event.seq, 4);
    assert_eq!(newest.trigger, ScanTrigger::StartImageScan);
    assert_eq!(
        images[0].completion, None,
        "the newest scan is still running"
    );
}

#[test]
fn reads_split_at_scan_completion() {
    let mut grader_read = api(6, "DescribeImageScanFindings", Some(IMAGE));
    grader_read.user_agent = Some(GRADER.to_owned());
    let mut failed_read = api(7, "DescribeImageScanFindings", Some(IMAGE));
    failed_read.outcome = Outcome::Error;
    let events = vec![
        push(1, IMAGE),
        scanner(2, SCAN_STARTED, IMAGE),
        api(3, "DescribeImageScanFindings", Some(IMAGE)),
        scanner(4, SCAN_COMPLETED, IMAGE),
        api(5, "DescribeImageScanFindings", None),
        grader_read,
        failed_read,
        api(8, "DescribeImageScanFindings", Some(OTHER_IMAGE)),
        api(9, "DescribeImageScanFindings", Some(IMAGE)),
    ];
    let evidence = evidence(events, &[IMAGE]);
    let images = pushed_images(&evidence);

    let seqs = |events: &[&JournalEvent]| events.iter().map(|event| event.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&images[0].early_reads), [3]);
    assert_eq!(seqs(&images[0].reads), [5, 9]);
}

#[test]
fn image_without_registry_push_is_left_out() {
    let events = vec![
        api(1, "PutImage", Some(IMAGE)),
        push(2, OTHER_IMAGE),
        scanner(3, SCAN_STARTED, OTHER_IMAGE),
    ];
    let evidence = evidence(events, &[IMAGE, OTHER_IMAGE]);
    let images = pushed_images(&evidence);

    let digests: Vec<&str> = images
        .iter()
        .map(|pushed| pushed.image.digest.as_str())
        .collect();
    assert_eq!(digests, [OTHER_IMAGE]);
}

#[test]
fn grader_agents_are_recognised() {
    let mut event = api(1, "DescribeImages", None);
    for (agent, expected) in [
        (Some(GRADER), true),
        (Some(crate::clients::USER_AGENT), true),
        (
            Some("aws-sdk-rust/1.3.9 ua/2.1 api/ecr/1.138.0 app/ecrlab-demo"),
            false,
        ),
        (Some(AWS_CLI), false),
        (None, false),
    ] {
        event.user_agent = agent.map(str::to_owned);
        assert_eq!(event.is_from_grader(), expected, "user agent {agent:?}");
    }
}
