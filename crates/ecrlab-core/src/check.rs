//! Grading of lab steps from the evidence the registry holds.
//!
//! [`check_lab`] is a pure function of a [`Lab`], an [`Evidence`] value and [`CheckOptions`]: it
//! reads the journal of requests and the current state of the repositories, never the student's
//! claims, and returns a [`CheckReport`] with one verdict per step. Each verdict carries
//! sentences naming what was found (which repository, which call, which client, when), so a
//! student or an instructor can see why it passed or failed.

mod rules;

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Serialize;

use crate::evidence::{Evidence, JournalEvent};
use crate::lab::Lab;
use crate::progress::Progress;

/// The text that every `User-Agent` of `ecrlab demo`'s clients contains: its registry client
/// sends `ecrlab-demo/<version>`, and its ECR API calls carry the SDK app name `ecrlab-demo`.
pub const DEMO_CLIENT_MARKER: &str = "ecrlab-demo";

/// The check that verifies a step. Lab files name it in each step's `check` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// A repository exists and the journal has the successful CreateRepository that made it.
    RepositoryCreated,
    /// A token was issued by GetAuthorizationToken and a container client logged in to the
    /// registry (or pushed with valid credentials after the token was issued).
    RegistryLogin,
    /// A push named an existing repository by the host of its URI, with a tag.
    ImageTagged,
    /// A tagged image is in a repository, and a container client pushed its manifest through
    /// the registry API.
    ImagePushed,
    /// A registry manifest push was rejected with TAG_INVALID because it would have moved a tag
    /// of an IMMUTABLE repository that an earlier push had set.
    ImmutableTagRejected,
    /// A registry request was rejected because its token had expired, then the student got a
    /// new token, logged in again and pushed a manifest.
    ExpiredTokenRenewed,
    /// A push that would have given an image more than 1,000 tags was rejected: a registry
    /// manifest push with DENIED, or PutImage with LimitExceededException.
    TagLimitReached,
    /// A pushed image was scanned on push, its scan is COMPLETE with findings, and the student
    /// read them with DescribeImageScanFindings after the scan ended.
    ScanFindingsRead,
}

impl CheckKind {
    pub const ALL: [CheckKind; 8] = [
        CheckKind::RepositoryCreated,
        CheckKind::RegistryLogin,
        CheckKind::ImageTagged,
        CheckKind::ImagePushed,
        CheckKind::ImmutableTagRejected,
        CheckKind::ExpiredTokenRenewed,
        CheckKind::TagLimitReached,
        CheckKind::ScanFindingsRead,
    ];

    /// Returns the name used in lab files.
    pub fn name(self) -> &'static str {
        match self {
            CheckKind::RepositoryCreated => "repository-created",
            CheckKind::RegistryLogin => "registry-login",
            CheckKind::ImageTagged => "image-tagged",
            CheckKind::ImagePushed => "image-pushed",
            CheckKind::ImmutableTagRejected => "immutable-tag-rejected",
            CheckKind::ExpiredTokenRenewed => "expired-token-renewed",
            CheckKind::TagLimitReached => "tag-limit-reached",
            CheckKind::ScanFindingsRead => "scan-findings-read",
        }
    }

    pub fn from_name(name: &str) -> Option<CheckKind> {
        CheckKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Returns the journal actions that this check reads.
    fn actions(self) -> &'static [&'static str] {
        match self {
            CheckKind::RepositoryCreated => &["CreateRepository"],
            CheckKind::RegistryLogin => &[
                "GetAuthorizationToken",
                "Login",
                "BlobUpload",
                "ManifestPut",
            ],
            CheckKind::ImageTagged => &["BlobUpload", "ManifestPut"],
            CheckKind::ImagePushed => &["ManifestPut"],
            CheckKind::ImmutableTagRejected => &["ManifestPut"],
            CheckKind::ExpiredTokenRenewed => &[
                "GetAuthorizationToken",
                "Login",
                "Access",
                "BlobUpload",
                "ManifestPut",
                "ManifestDelete",
            ],
            CheckKind::TagLimitReached => &["ManifestPut", "PutImage"],
            CheckKind::ScanFindingsRead => {
                &["ManifestPut", "StartImageScan", "DescribeImageScanFindings"]
            }
        }
    }
}

/// Choices that change what counts as evidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// Count journal events of `ecrlab demo`'s own clients (user agents containing
    /// [`DEMO_CLIENT_MARKER`]). Off by default, so the demo's work on a data folder does not
    /// pass a student's steps; `ecrlab demo` turns it on to grade itself.
    pub accept_demo_events: bool,
}

/// The verdicts for every step of a lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub lab: LabVersion,
    /// Whether every step passed.
    pub passed: bool,
    pub steps: Vec<StepResult>,
}

/// The lab a report is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabVersion {
    pub id: String,
    pub version: String,
}

/// The verdict for one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepResult {
    pub id: String,
    pub title: String,
    pub passed: bool,
    /// Sentences naming what was found, or what is missing.
    pub evidence: Vec<String>,
    /// The step's first hint, present only when the step failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The conclusion of one check, before it is attached to a step.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    passed: bool,
    evidence: Vec<String>,
}

/// Checks every step of `lab` against `evidence`.
///
/// Unless `options` accepts them, the events of `ecrlab demo`'s clients are left out, and each
/// step that would have read some of them notes this in its evidence.
pub fn check_lab(lab: &Lab, evidence: &Evidence, options: CheckOptions) -> CheckReport {
    let (graded, ignored) = split_demo_events(evidence, options);
    let steps: Vec<StepResult> = lab
        .steps
        .iter()
        .map(|step| {
            let mut finding = run_check(step.check, &graded);
            finding
                .evidence
                .extend(ignored_events_line(step.check, &ignored));
            StepResult {
                id: step.id.clone(),
                title: step.title.clone(),
                passed: finding.passed,
                evidence: finding.evidence,
                hint: if finding.passed {
                    None
                } else {
                    step.hints.first().cloned()
                },
            }
        })
        .collect();

    CheckReport {
        lab: LabVersion {
            id: lab.id.clone(),
            version: lab.version.clone(),
        },
        passed: steps.iter().all(|step| step.passed),
        steps,
    }
}

/// Returns the evidence that grading under `options` reads: without the events of `ecrlab
/// demo`'s clients, unless the options accept them. Quiz questions whose answers come from the
/// evidence read the same evidence as the steps.
pub fn graded_evidence(evidence: &Evidence, options: CheckOptions) -> Cow<'_, Evidence> {
    split_demo_events(evidence, options).0
}

fn split_demo_events(
    evidence: &Evidence,
    options: CheckOptions,
) -> (Cow<'_, Evidence>, Vec<JournalEvent>) {
    if options.accept_demo_events {
        (Cow::Borrowed(evidence), Vec::new())
    } else {
        let (graded, ignored) = without_demo_events(evidence);
        (Cow::Owned(graded), ignored)
    }
}

/// Splits the demo's events off `evidence`, returning the rest of the evidence and the demo's
/// events.
fn without_demo_events(evidence: &Evidence) -> (Evidence, Vec<JournalEvent>) {
    let (demo, student): (Vec<JournalEvent>, Vec<JournalEvent>) =
        evidence.events.iter().cloned().partition(is_demo_event);
    let graded = Evidence {
        events: student,
        repositories: evidence.repositories.clone(),
    };
    (graded, demo)
}

fn is_demo_event(event: &JournalEvent) -> bool {
    event
        .user_agent
        .as_deref()
        .is_some_and(|agent| agent.contains(DEMO_CLIENT_MARKER))
}

/// Says how many of the demo's events that `kind` would read were left out, naming the newest.
fn ignored_events_line(kind: CheckKind, ignored: &[JournalEvent]) -> Option<String> {
    let relevant: Vec<&JournalEvent> = ignored
        .iter()
        .filter(|event| kind.actions().contains(&event.action.as_str()))
        .collect();
    let newest = relevant.last()?;
    let count = match relevant.len() {
        1 => "1 journal event".to_owned(),
        many => format!("{many} journal events"),
    };
    Some(format!(
        "ignored {count} of ecrlab demo's own clients (user agent containing {DEMO_CLIENT_MARKER}), the newest {} at {}: work done by the demo does not count for a student",
        rules::request_name(newest),
        newest.time
    ))
}

fn run_check(kind: CheckKind, evidence: &Evidence) -> Finding {
    match kind {
        CheckKind::RepositoryCreated => rules::repository_created(evidence),
        CheckKind::RegistryLogin => rules::registry_login(evidence),
        CheckKind::ImageTagged => rules::image_tagged(evidence),
        CheckKind::ImagePushed => rules::image_pushed(evidence),
        CheckKind::ImmutableTagRejected => rules::immutable_tag_rejected(evidence),
        CheckKind::ExpiredTokenRenewed => rules::expired_token_renewed(evidence),
        CheckKind::TagLimitReached => rules::tag_limit_reached(evidence),
        CheckKind::ScanFindingsRead => rules::scan_findings_read(evidence),
    }
}

impl CheckReport {
    /// Renders the report for a terminal: a summary line, then one line per step with PASS or
    /// FAIL, its evidence indented below it and, for a failed step, its hint.
    pub fn render_text(&self) -> String {
        self.render(|step| step.hint.as_ref().map(|hint| format!("hint: {hint}")))
    }

    /// Renders the report like [`CheckReport::render_text`], but shows each failed step's hint
    /// at the level that `progress` has reached (the first hint when none was requested), as
    /// "hint N of M". When the first failed step has more hints, the text ends with
    /// `hint_command`, the command line that shows the next one.
    pub fn render_text_with_hints(
        &self,
        lab: &Lab,
        progress: &Progress,
        hint_command: &str,
    ) -> String {
        let shown_hint = |step: &StepResult| {
            let hints = &lab.step(&step.id)?.hints;
            if hints.is_empty() {
                return None;
            }
            let level = progress.hint_level(&step.id).clamp(1, hints.len());
            Some((level, hints))
        };
        let mut text = self.render(|step| {
            if step.passed {
                return None;
            }
            let (level, hints) = shown_hint(step)?;
            let hint = &hints[level - 1];
            Some(format!("hint {level} of {}: {hint}", hints.len()))
        });

        let first_failed = self.steps.iter().find(|step| !step.passed);
        if let Some((step, (level, hints))) =
            first_failed.and_then(|step| Some((step, shown_hint(step)?)))
        {
            if level < hints.len() {
                let _ = writeln!(
                    text,
                    "Run `{hint_command}` for hint {} of {} on step {}.",
                    level + 1,
                    hints.len(),
                    step.id
                );
            }
        }
        text
    }

    fn render(&self, hint_line: impl Fn(&StepResult) -> Option<String>) -> String {
        let passed_count = self.steps.iter().filter(|step| step.passed).count();
        let mut text = format!(
            "{} {}: {} of {} steps passed\n",
            self.lab.id,
            self.lab.version,
            passed_count,
            self.steps.len()
        );
        for step in &self.steps {
            let verdict = if step.passed { "PASS" } else { "FAIL" };
            // Writing to a String cannot fail.
            let _ = writeln!(text, "{verdict} {}: {}", step.id, step.title);
            for sentence in &step.evidence {
                let _ = writeln!(text, "     - {sentence}");
            }
            if let Some(line) = hint_line(step) {
                let _ = writeln!(text, "     {line}");
            }
        }
        text
    }
}

#[cfg(test)]
mod tests;
