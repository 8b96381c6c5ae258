//! The images a student pushed, with the journal rows of their scans and of the student's
//! reads of the findings.
//!
//! The check of the scanning step and the quiz questions about findings both start from
//! [`pushed_images`], so they judge the same images.
//!
//! The mock journals a scan's start and end as `ImageScanStarted` and `ImageScanCompleted`
//! rows of the source `scanner`. The start row is written when the mock's scan worker begins
//! the scan, shortly after the push or the StartImageScan call that queued it. That request's
//! own row can land just before or just after the start row, so [`ScanTrigger`] is read from
//! the nearest such row.

use super::{Evidence, ImageState, JournalEvent, Outcome, RepositoryState, SCAN_COMPLETE, Source};

/// The journal action of the scanner's row for a started scan.
pub const SCAN_STARTED: &str = "ImageScanStarted";

/// The journal action of the scanner's row for a finished scan, whatever its status.
pub const SCAN_COMPLETED: &str = "ImageScanCompleted";

/// The SDK app name token in the `User-Agent` of ecrlab's own ECR API calls, such as the
/// DescribeImageScanFindings calls that collect evidence.
pub const GRADER_APP_NAME_TOKEN: &str = "app/ecrlab";

/// The cause of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanTrigger {
    /// The push of the image, because the repository's `scanOnPush` or a registry scanning
    /// rule was on at that moment.
    Push,
    /// A StartImageScan call.
    StartImageScan,
}

/// A scan start and the request that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanStart<'a> {
    /// The scanner's `ImageScanStarted` row.
    pub event: &'a JournalEvent,
    pub trigger: ScanTrigger,
}

/// An image in the registry that a container client pushed, with its scan's journal rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage<'a> {
    pub repository: &'a RepositoryState,
    pub image: &'a ImageState,
    /// The newest successful registry manifest push of the image.
    pub push: &'a JournalEvent,
    /// The start of the newest scan; `None` when the journal has no scan start for the image.
    pub start: Option<ScanStart<'a>>,
    /// The start of the scan that the push of the image triggered, when one did. It differs
    /// from `start` when StartImageScan scanned the image again later.
    pub push_scan: Option<&'a JournalEvent>,
    /// The scanner's row for the end of the newest scan, when it has ended.
    pub completion: Option<&'a JournalEvent>,
    /// Successful DescribeImageScanFindings calls for the image by the student's tools after
    /// the newest scan ended, oldest first. ecrlab's own calls are left out.
    pub reads: Vec<&'a JournalEvent>,
    /// Such calls made while the newest scan was still running, which returned no findings.
    pub early_reads: Vec<&'a JournalEvent>,
}

impl PushedImage<'_> {
    /// Returns whether the newest scan finished with status `COMPLETE`.
    pub fn is_complete(&self) -> bool {
        self.image
            .scan
            .as_ref()
            .is_some_and(|scan| scan.status == SCAN_COMPLETE)
    }
}

impl JournalEvent {
    /// Returns whether ecrlab's own grading clients made the request: their ECR API calls
    /// carry the SDK app name `ecrlab`, and their other requests the user agent
    /// `ecrlab/<version>`. `ecrlab demo`'s clients are not grading clients.
    pub fn is_from_grader(&self) -> bool {
        let Some(agent) = self.user_agent.as_deref() else {
            return false;
        };
        let own_agent = crate::clients::USER_AGENT;
        agent == own_agent
            || agent.starts_with(&format!("{own_agent} "))
            || agent
                .split_whitespace()
                .any(|token| token == GRADER_APP_NAME_TOKEN)
    }

    /// Returns whether the event names `repository`: the same region and the same name.
    fn names(&self, repository: &RepositoryState) -> bool {
        self.region == repository.region
            && self.repository.as_deref() == Some(repository.name.as_str())
    }

    /// Returns whether the event is about the image `digest`, or names no image at all.
    fn may_name_image(&self, digest: &str) -> bool {
        self.digest.as_deref().is_none_or(|named| named == digest)
    }
}

/// Returns every image in the registry whose manifest a container client pushed successfully,
/// oldest push first, with its scan's journal rows.
pub fn pushed_images(evidence: &Evidence) -> Vec<PushedImage<'_>> {
    let mut images = Vec::new();
    for repository in &evidence.repositories {
        for image in &repository.images {
            let push = evidence.events.iter().rev().find(|event| {
                event.source == Source::Registry
                    && event.action == "ManifestPut"
                    && event.outcome == Outcome::Ok
                    && event.names(repository)
                    && event.digest.as_deref() == Some(image.digest.as_str())
            });
            if let Some(push) = push {
                images.push(scan_rows(evidence, repository, image, push));
            }
        }
    }
    images.sort_by_key(|pushed| pushed.push.seq);
    images
}

fn scan_rows<'a>(
    evidence: &'a Evidence,
    repository: &'a RepositoryState,
    image: &'a ImageState,
    push: &'a JournalEvent,
) -> PushedImage<'a> {
    let digest = image.digest.as_str();
    let scanner_rows = |action: &'static str| {
        evidence.events.iter().filter(move |event| {
            event.source == Source::Scanner
                && event.action == action
                && event.names(repository)
                && event.digest.as_deref() == Some(digest)
        })
    };
    let starts: Vec<ScanStart<'a>> = scanner_rows(SCAN_STARTED)
        .map(|event| ScanStart {
            event,
            trigger: scan_trigger(evidence, repository, digest, event),
        })
        .collect();
    let start = starts.last().copied();
    let start_event = start.map(|start| start.event);
    let push_scan = starts
        .iter()
        .find(|start| start.trigger == ScanTrigger::Push)
        .map(|start| start.event);
    let completion =
        start_event.and_then(|start| scanner_rows(SCAN_COMPLETED).find(|end| end.seq > start.seq));

    let (reads, early_reads) = evidence
        .events
        .iter()
        .filter(|event| {
            event.source == Source::EcrApi
                && event.action == "DescribeImageScanFindings"
                && event.outcome == Outcome::Ok
                && !event.is_from_grader()
                && event.names(repository)
                // NOTE: mock-ecr journals the digest of a successful call. A row without one,
                // from an older mock, is taken to be about this image, so with two images in
                // one repository a read of either counts for both.
                && event.may_name_image(digest)
        })
        .filter(|event| start_event.is_some_and(|start| event.seq > start.seq))
        .partition(|event| completion.is_some_and(|end| event.seq > end.seq));

    PushedImage {
        repository,
        image,
        push,
        start,
        push_scan,
        completion,
        reads,
        early_reads,
    }
}

/// Decides what started the scan whose start row is `start`: the nearest row, by sequence
/// number, that is either a successful registry push of the image or a successful
/// StartImageScan call for it. A push wins a tie.
fn scan_trigger(
    evidence: &Evidence,
    repository: &RepositoryState,
    digest: &str,
    start: &JournalEvent,
) -> ScanTrigger {
    let distance = |event: &JournalEvent| event.seq.abs_diff(start.seq);
    let nearest = |source: Source, action: &str| {
        evidence
            .events
            .iter()
            .filter(|event| {
                event.source == source
                    && event.action == action
                    && event.outcome == Outcome::Ok
                    && event.names(repository)
            })
            .filter(|event| match source {
                Source::Registry => event.digest.as_deref() == Some(digest),
                _ => event.may_name_image(digest),
            })
            .map(distance)
            .min()
    };
    let push = nearest(Source::Registry, "ManifestPut");
    let api = nearest(Source::EcrApi, "StartImageScan");
    match (push, api) {
        (Some(push), Some(api)) if api < push => ScanTrigger::StartImageScan,
        (None, Some(_)) => ScanTrigger::StartImageScan,
        _ => ScanTrigger::Push,
    }
}

#[cfg(test)]
mod tests;
