//! The check of the scanning step: an image scanned on push, with findings that the student
//! read.
//!
//! Each pushed image is taken as far through the step as its evidence goes: scanned on push,
//! scan `COMPLETE`, findings present, findings read with DescribeImageScanFindings after the
//! scan ended. The step passes on an image that gets through every stage. Otherwise the
//! evidence explains the image that got furthest, with what to do next.

use super::{EXAMPLE_REPOSITORY, client, failed, passed, tagged_name};
use crate::check::Finding;
use crate::evidence::scans::{PushedImage, ScanTrigger, pushed_images};
use crate::evidence::{Evidence, SCAN_COMPLETE};

/// The folder of the lab's sample image, whose packages have known vulnerabilities.
const SAMPLE_IMAGE: &str = "labs/push-to-ecr/scan-image";

/// How far an image got through the scanning step, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    NotScannedOnPush,
    ScanNotComplete,
    NoFindings,
    FindingsNotRead,
    Done,
}

fn stage(image: &PushedImage<'_>) -> Stage {
    if image.push_scan.is_none() {
        return Stage::NotScannedOnPush;
    }
    if image.completion.is_none() || !image.is_complete() {
        return Stage::ScanNotComplete;
    }
    let has_findings = image
        .image
        .scan
        .as_ref()
        .is_some_and(|scan| !scan.findings.is_empty());
    if !has_findings {
        return Stage::NoFindings;
    }
    if image.reads.is_empty() {
        return Stage::FindingsNotRead;
    }
    Stage::Done
}

pub(in crate::check) fn scan_findings_read(evidence: &Evidence) -> Finding {
    let images = pushed_images(evidence);
    // Prefer the furthest stage, then the lab's repository, then the newest push.
    let furthest = images.iter().max_by_key(|image| {
        (
            stage(image),
            image.repository.name == EXAMPLE_REPOSITORY,
            image.push.seq,
        )
    });
    let Some(image) = furthest else {
        return failed(vec![format!(
            "the registry holds no image that a container client pushed; build the sample image in {SAMPLE_IMAGE} and push it to a repository with scan on push turned on"
        )]);
    };

    let name = image_name(image);
    let mut lines = vec![format!(
        "{} pushed {name} ({}) at {}",
        client(image.push),
        image.image.digest,
        image.push.time
    )];
    match stage(image) {
        Stage::Done => {
            lines.extend(done_lines(image));
            passed(lines)
        }
        Stage::NotScannedOnPush => {
            lines.push(not_scanned_on_push_line(image));
            failed(lines)
        }
        Stage::ScanNotComplete => {
            lines.push(scan_on_push_line(image));
            lines.push(incomplete_line(image));
            failed(lines)
        }
        Stage::NoFindings => {
            lines.push(scan_on_push_line(image));
            lines.push(format!(
                "its scan is {SCAN_COMPLETE} without findings, so there is nothing to read; build the sample image in {SAMPLE_IMAGE}, whose packages have known vulnerabilities, and push it under a new tag"
            ));
            failed(lines)
        }
        Stage::FindingsNotRead => {
            lines.push(scan_on_push_line(image));
            lines.push(complete_line(image));
            lines.push(not_read_line(image));
            failed(lines)
        }
    }
}

fn image_name(image: &PushedImage<'_>) -> String {
    let name = &image.repository.name;
    if image.image.tags.is_empty() {
        format!("{name}@{}", image.image.digest)
    } else {
        tagged_name(name, &image.image.tags, image.push.reference.as_deref())
    }
}

fn done_lines(image: &PushedImage<'_>) -> Vec<String> {
    let mut lines = vec![scan_on_push_line(image), complete_line(image)];
    if let Some(read) = image.reads.last() {
        lines.push(format!(
            "{} read its findings with DescribeImageScanFindings at {}",
            client(read),
            read.time
        ));
    }
    lines
}

fn scan_on_push_line(image: &PushedImage<'_>) -> String {
    let started = image
        .push_scan
        .map_or("an unknown time", |event| &event.time);
    let setting = if image.repository.scan_on_push {
        format!(
            "repository {} has scan on push turned on",
            image.repository.name
        )
    } else {
        format!(
            "repository {} has scan on push turned off now, so a registry scanning rule or the setting at that time started it",
            image.repository.name
        )
    };
    format!("the mock started its scan on push at {started}: {setting}")
}

fn complete_line(image: &PushedImage<'_>) -> String {
    let ended = image
        .completion
        .map_or("an unknown time", |event| &event.time);
    let counts = image
        .image
        .scan
        .as_ref()
        .map(|scan| {
            format!(
                "{} findings ({})",
                scan.findings.len(),
                scan.severity_counts()
            )
        })
        .unwrap_or_default();
    format!("its scan is {SCAN_COMPLETE} since {ended}, with {counts}")
}

fn not_scanned_on_push_line(image: &PushedImage<'_>) -> String {
    let repository = &image.repository.name;
    let turn_on = format!(
        "turn it on with aws ecr put-image-scanning-configuration --repository-name {repository} --image-scanning-configuration scanOnPush=true, then push the sample image in {SAMPLE_IMAGE} under a new tag"
    );
    match image.start {
        Some(start) if start.trigger == ScanTrigger::StartImageScan => format!(
            "StartImageScan started its scan at {}, not the push, so scan on push was off when it was pushed; {turn_on}",
            start.event.time
        ),
        _ => format!(
            "the mock did not scan it on push, because repository {repository} had scan on push turned off at that time and no registry scanning rule matched it; {turn_on}"
        ),
    }
}

fn incomplete_line(image: &PushedImage<'_>) -> String {
    let Some(scan) = &image.image.scan else {
        return "the registry reports no scan status for it".to_owned();
    };
    match scan.status.as_str() {
        SCAN_COMPLETE => format!(
            "its scan is {SCAN_COMPLETE}, but the journal has no ImageScanCompleted row after the scan's start, so it does not show when the findings became readable; push the sample image in {SAMPLE_IMAGE} again under a new tag"
        ),
        "IN_PROGRESS" | "PENDING" => format!(
            "its scan is still running; wait for it with aws ecr wait image-scan-complete --repository-name {} --image-id imageDigest={}",
            image.repository.name, image.image.digest
        ),
        status => {
            let reason = scan
                .description
                .as_deref()
                .map(|description| format!(" ({description})"))
                .unwrap_or_default();
            format!(
                "its scan ended with status {status}{reason}, so it has no findings; build the sample image in {SAMPLE_IMAGE}, which has an operating-system package database, and push it under a new tag"
            )
        }
    }
}

fn not_read_line(image: &PushedImage<'_>) -> String {
    let command = format!(
        "aws ecr describe-image-scan-findings --repository-name {} --image-id imageDigest={}",
        image.repository.name, image.image.digest
    );
    match image.early_reads.last() {
        Some(early) => format!(
            "{} called DescribeImageScanFindings at {}, before the scan ended, so it returned no findings; run {command} again",
            client(early),
            early.time
        ),
        None => format!(
            "no one has read its findings with DescribeImageScanFindings since the scan ended; run {command}"
        ),
    }
}

#[cfg(test)]
mod tests;
