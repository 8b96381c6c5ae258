//! Re-grading of submissions from their stored evidence, and the class summary.
//!
//! Nothing a submission states about itself is trusted: the steps are graded again from its
//! journal and repository state, and the quiz from its stored answers and, for questions about
//! scan findings, the stored findings. Every stored verdict, hash and signature is compared
//! with what re-grading computes. Each difference becomes a [`Flag`] with a reason that names
//! the step, event or value involved.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use super::integrity::{
    GENESIS_HASH, InstructorKey, SIGNATURE_ALGORITHM, canonical_json, chain_hashes, value_hash,
};
use super::render::{count_of, points};
use super::{
    SUBMISSION_FORMAT, Submission, SubmittedAnswer, SubmittedLab, grade_quiz, questions_for,
};
use crate::check::{CheckOptions, check_lab};
use crate::evidence::Evidence;
use crate::lab::Lab;

/// The kind of problem that re-grading found in a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagKind {
    /// The submission is for another lab, or another version of it.
    LabMismatch,
    /// Grading used a key, and the submission has no signature.
    SignatureMissing,
    /// The signature does not match the content or was made with another key.
    SignatureInvalid,
    /// A journal entry's hash differs from the chain computed over the events.
    HashChainBroken,
    /// The stored final hash differs from the chain's last hash.
    JournalHashMismatch,
    /// The journal's sequence numbers skip values.
    EventRemoved,
    /// The journal's sequence numbers do not increase.
    EventsOutOfOrder,
    /// An event names another AWS account than the mock's.
    ForeignAccount,
    /// The repository state differs from its stored hash.
    RepositoriesHashMismatch,
    /// A stored step verdict differs from the re-grade.
    VerdictMismatch,
    /// A stored quiz grade or score differs from the re-grade.
    QuizMismatch,
    /// Another submission has the same non-empty journal.
    DuplicateJournal,
}

/// One problem found in a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub reason: String,
}

/// The result of checking a submission's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureStatus {
    /// Signed with the instructor key given to grading, and unchanged since.
    Valid,
    /// Signed, but the signature does not verify with the instructor key given to grading.
    Invalid,
    Unsigned,
    /// Signed, but grading was run without a key.
    NotChecked,
}

impl SignatureStatus {
    pub fn name(self) -> &'static str {
        match self {
            SignatureStatus::Valid => "valid",
            SignatureStatus::Invalid => "invalid",
            SignatureStatus::Unsigned => "unsigned",
            SignatureStatus::NotChecked => "not-checked",
        }
    }
}

/// A step's verdict from re-grading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegradedStep {
    pub id: String,
    pub passed: bool,
    pub evidence: Vec<String>,
}

/// A submission graded again from its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GradedSubmission {
    /// The file name the submission was read from.
    pub file: String,
    pub student: String,
    /// The lab the submission names, which may differ from the lab graded against.
    pub lab: SubmittedLab,
    pub created_at: String,
    /// Whether every step passed the re-grade.
    pub passed: bool,
    pub steps: Vec<RegradedStep>,
    /// Each question graded again from the stored answers, with its feedback.
    pub quiz: Vec<SubmittedAnswer>,
    pub quiz_score: f64,
    pub quiz_max_score: f64,
    pub signature: SignatureStatus,
    pub journal_hash: String,
    pub journal_events: usize,
    pub flags: Vec<Flag>,
}

/// A file that is not a readable submission.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SubmissionError {
    #[error("failed to read {file}: {message}")]
    Read { file: String, message: String },
    #[error(
        "{file} is not valid JSON ({message}); hand in the file that `ecrlab report --format json` writes"
    )]
    Json { file: String, message: String },
    #[error(
        "{file} is not an ecrlab submission ({message}); hand in the file that `ecrlab report --format json` writes"
    )]
    Shape { file: String, message: String },
    #[error(
        "{file} has format {found:?}, but this ecrlab reads {SUBMISSION_FORMAT}; write the report again with this version of ecrlab"
    )]
    Format { file: String, found: String },
}

impl SubmissionError {
    pub fn file(&self) -> &str {
        match self {
            SubmissionError::Read { file, .. }
            | SubmissionError::Json { file, .. }
            | SubmissionError::Shape { file, .. }
            | SubmissionError::Format { file, .. } => file,
        }
    }
}

/// Reads the submission in `text` (from the file named `file`) and grades it again against
/// `lab`. With a `key`, a missing or invalid signature is flagged.
pub fn regrade(
    file: &str,
    text: &str,
    lab: &Lab,
    key: Option<&InstructorKey>,
) -> Result<GradedSubmission, SubmissionError> {
    let raw: Value = serde_json::from_str(text).map_err(|error| SubmissionError::Json {
        file: file.to_owned(),
        message: error.to_string(),
    })?;
    match raw.get("format").and_then(Value::as_str) {
        Some(SUBMISSION_FORMAT) => {}
        Some(found) => {
            return Err(SubmissionError::Format {
                file: file.to_owned(),
                found: found.to_owned(),
            });
        }
        None => {
            return Err(SubmissionError::Shape {
                file: file.to_owned(),
                message: "it has no \"format\" member".to_owned(),
            });
        }
    }
    let submission: Submission =
        serde_json::from_value(raw.clone()).map_err(|error| SubmissionError::Shape {
            file: file.to_owned(),
            message: error.to_string(),
        })?;

    let mut flags = Vec::new();
    flags.extend(lab_flags(&submission, lab));
    let signature = check_signature(&raw, &submission, key, &mut flags);
    flags.extend(chain_flags(&raw, &submission));
    flags.extend(sequence_flags(&submission));
    flags.extend(account_flags(&submission));
    if let Some(repositories) = raw.get("repositories") {
        let computed = value_hash(repositories);
        if computed != submission.repositories_hash {
            flags.push(Flag {
                kind: FlagKind::RepositoriesHashMismatch,
                reason: format!(
                    "the repository state hashes to {computed}, but the submission states {}: the repositories or images were edited",
                    submission.repositories_hash
                ),
            });
        }
    }

    let evidence = Evidence {
        events: submission
            .journal
            .iter()
            .map(|entry| entry.event.clone())
            .collect(),
        repositories: submission.repositories.clone(),
    };
    let report = check_lab(lab, &evidence, CheckOptions::default());
    flags.extend(verdict_flags(&submission, &report.steps, report.passed));
    let steps: Vec<RegradedStep> = report
        .steps
        .into_iter()
        .map(|step| RegradedStep {
            id: step.id,
            passed: step.passed,
            evidence: step.evidence,
        })
        .collect();

    let attempts: BTreeMap<String, Vec<String>> = submission
        .quiz
        .answers
        .iter()
        .map(|answer| (answer.question_id.clone(), answer.attempts.clone()))
        .collect();
    let quiz = grade_quiz(&questions_for(lab, &evidence), &attempts);
    flags.extend(quiz_flags(&submission, &quiz));
    let quiz_score = quiz.score;
    let quiz_max_score = quiz.max_score;

    Ok(GradedSubmission {
        file: file.to_owned(),
        student: submission.student,
        lab: submission.lab,
        created_at: submission.created_at,
        passed: report.passed,
        steps,
        quiz: quiz.answers,
        quiz_score,
        quiz_max_score,
        signature,
        journal_hash: submission.journal_hash,
        journal_events: submission.journal.len(),
        flags,
    })
}

/// Flags a submission for another lab, or for a version whose MAJOR or MINOR differs. A PATCH
/// difference changes only wording (docs/lab-format.md, "Versions"), so it is not flagged.
fn lab_flags(submission: &Submission, lab: &Lab) -> Option<Flag> {
    let stated = &submission.lab;
    let major_minor = |version: &str| {
        let mut parts = version.split('.');
        (
            parts.next().map(str::to_owned),
            parts.next().map(str::to_owned),
        )
    };
    if stated.id == lab.id && major_minor(&stated.version) == major_minor(&lab.version) {
        return None;
    }
    Some(Flag {
        kind: FlagKind::LabMismatch,
        reason: format!(
            "the submission is for lab {} {}, but grading uses {} {}; steps and questions may differ",
            stated.id, stated.version, lab.id, lab.version
        ),
    })
}

fn check_signature(
    raw: &Value,
    submission: &Submission,
    key: Option<&InstructorKey>,
    flags: &mut Vec<Flag>,
) -> SignatureStatus {
    let (Some(key), Some(signature)) = (key, &submission.signature) else {
        return match (key, &submission.signature) {
            (Some(_), None) => {
                flags.push(Flag {
                    kind: FlagKind::SignatureMissing,
                    reason: "the submission is not signed, but grading uses an instructor key: it was written without the key configured, or its signature was removed".to_owned(),
                });
                SignatureStatus::Unsigned
            }
            (None, Some(_)) => SignatureStatus::NotChecked,
            _ => SignatureStatus::Unsigned,
        };
    };

    let mut unsigned = raw.clone();
    if let Some(object) = unsigned.as_object_mut() {
        object.remove("signature");
    }
    let message = canonical_json(&unsigned);
    if signature.algorithm == SIGNATURE_ALGORITHM
        && key.verify(message.as_bytes(), &signature.value)
    {
        return SignatureStatus::Valid;
    }
    let reason = if signature.algorithm != SIGNATURE_ALGORITHM {
        format!(
            "the signature uses algorithm {:?}, but only {SIGNATURE_ALGORITHM} is accepted",
            signature.algorithm
        )
    } else if signature.key_id != key.id() {
        format!(
            "the signature was made with instructor key {}, not with the grading key {}",
            signature.key_id,
            key.id()
        )
    } else {
        "the signature does not match the content: the file was edited after it was signed"
            .to_owned()
    };
    flags.push(Flag {
        kind: FlagKind::SignatureInvalid,
        reason,
    });
    SignatureStatus::Invalid
}

/// Recomputes the hash chain over the raw events, as they are in the file, and compares it
/// with the stored hashes.
fn chain_flags(raw: &Value, submission: &Submission) -> Vec<Flag> {
    let events: Vec<&Value> = raw
        .get("journal")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|entry| entry.get("event"))
                .collect()
        })
        .unwrap_or_default();
    let computed = chain_hashes(events);

    let broken = submission
        .journal
        .iter()
        .zip(&computed)
        .enumerate()
        .find(|(_, (entry, hash))| entry.hash != **hash);
    if let Some((index, (entry, hash))) = broken {
        return vec![Flag {
            kind: FlagKind::HashChainBroken,
            reason: format!(
                "journal entry {} (seq {}) stores hash {}, but the chain over the events gives {hash}: this event or one before it was edited, removed or reordered",
                index + 1,
                entry.event.seq,
                entry.hash
            ),
        }];
    }

    let last = computed.last().map_or(GENESIS_HASH, String::as_str);
    if last == submission.journal_hash {
        return Vec::new();
    }
    vec![Flag {
        kind: FlagKind::JournalHashMismatch,
        reason: format!(
            "the chain over the {} journal events ends with {last}, but the submission states journalHash {}: events were removed from the end of the journal, or the hash was edited",
            computed.len(),
            submission.journal_hash
        ),
    }]
}

/// Checks that sequence numbers increase, and that every number from 1 to the highest is
/// present, as the mock assigns them. Order and gaps are separate checks, so reordered events
/// are not reported as removed.
fn sequence_flags(submission: &Submission) -> Vec<Flag> {
    let mut flags = Vec::new();
    let mut previous = 0;
    for entry in &submission.journal {
        let seq = entry.event.seq;
        if seq <= previous {
            flags.push(Flag {
                kind: FlagKind::EventsOutOfOrder,
                reason: format!(
                    "event seq {seq} comes after seq {previous}, but the mock records events in increasing order"
                ),
            });
        }
        previous = previous.max(seq);
    }

    let present: BTreeSet<u64> = submission
        .journal
        .iter()
        .map(|entry| entry.event.seq)
        .collect();
    for (first, last) in missing_ranges(&present) {
        let missing = if first == last {
            format!("seq {first}")
        } else {
            format!("seq {first} to {last}")
        };
        let position = if first == 1 {
            format!("before seq {}", last + 1)
        } else {
            format!("between seq {} and seq {}", first - 1, last + 1)
        };
        flags.push(Flag {
            kind: FlagKind::EventRemoved,
            reason: format!(
                "the journal has no event {missing}, {position}: the mock numbers events from 1 without gaps"
            ),
        });
    }
    flags
}

/// Returns the runs of numbers from 1 to the highest of `present` that are absent from it, as
/// `(first, last)` pairs in increasing order.
fn missing_ranges(present: &BTreeSet<u64>) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    let mut expected = 1;
    for &seq in present {
        if seq > expected {
            ranges.push((expected, seq - 1));
        }
        expected = seq.saturating_add(1);
    }
    ranges
}

fn account_flags(submission: &Submission) -> Option<Flag> {
    let account = &submission.mock.account_id;
    let foreign: Vec<_> = submission
        .journal
        .iter()
        .filter(|entry| &entry.event.account != account)
        .collect();
    let first = foreign.first()?;
    Some(Flag {
        kind: FlagKind::ForeignAccount,
        reason: format!(
            "{} another account than the mock's {account}, the first seq {} with account {}",
            count_of(foreign.len(), "journal event names", "journal events name"),
            first.event.seq,
            first.event.account
        ),
    })
}

fn verdict_flags(
    submission: &Submission,
    regraded: &[crate::check::StepResult],
    regraded_passed: bool,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    for step in regraded {
        let stated = submission.steps.iter().find(|stated| stated.id == step.id);
        let reason = match stated {
            None => format!("step {} is missing from the submission", step.id),
            Some(stated) if stated.passed != step.passed => format!(
                "step {} is stored as {}, but re-grading its journal and repository state {} it",
                step.id,
                verdict_word(stated.passed),
                if step.passed { "passes" } else { "fails" }
            ),
            Some(_) => continue,
        };
        flags.push(Flag {
            kind: FlagKind::VerdictMismatch,
            reason,
        });
    }
    for stated in &submission.steps {
        if !regraded.iter().any(|step| step.id == stated.id) {
            flags.push(Flag {
                kind: FlagKind::VerdictMismatch,
                reason: format!("step {} is not a step of the graded lab", stated.id),
            });
        }
    }
    if submission.passed != regraded_passed {
        flags.push(Flag {
            kind: FlagKind::VerdictMismatch,
            reason: format!(
                "the submission is stored as {}, but the re-grade {} it",
                verdict_word(submission.passed),
                if regraded_passed { "passes" } else { "fails" }
            ),
        });
    }
    flags
}

fn verdict_word(passed: bool) -> &'static str {
    if passed { "passed" } else { "failed" }
}

fn quiz_flags(submission: &Submission, regraded: &super::SubmittedQuiz) -> Vec<Flag> {
    let mut flags = Vec::new();
    for answer in &regraded.answers {
        let stated = submission
            .quiz
            .answers
            .iter()
            .find(|stated| stated.question_id == answer.question_id);
        // A question missing from the submission is re-graded as unanswered; only the total
        // below can differ then.
        let Some(stated) = stated else {
            continue;
        };
        if stated.verdict != answer.verdict || !same_score(stated.score, answer.score) {
            flags.push(Flag {
                kind: FlagKind::QuizMismatch,
                reason: format!(
                    "question {} is stored as {} ({}), but re-grading the answers gives {} ({})",
                    answer.question_id,
                    stated.verdict,
                    points(stated.score),
                    answer.verdict,
                    points(answer.score)
                ),
            });
        }
    }
    if !same_score(submission.quiz.score, regraded.score) {
        flags.push(Flag {
            kind: FlagKind::QuizMismatch,
            reason: format!(
                "the quiz score is stored as {}, but re-grading the answers gives {}",
                super::render::format_score(submission.quiz.score),
                super::render::format_score(regraded.score)
            ),
        });
    }
    flags
}

fn same_score(left: f64, right: f64) -> bool {
    (left - right).abs() < 1e-9
}

/// The graded submissions of a class with their summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassReport {
    /// The lab the submissions were graded against.
    pub lab: SubmittedLab,
    pub submissions: Vec<GradedSubmission>,
    pub errors: Vec<SubmissionError>,
    pub summary: ClassSummary,
}

/// Counts over every readable submission, flagged ones included.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassSummary {
    pub submissions: usize,
    pub unreadable: usize,
    pub flagged: usize,
    /// Submissions whose every step passed the re-grade.
    pub passed: usize,
    pub steps: Vec<StepSummary>,
    /// The mean quiz score, `None` without submissions.
    pub average_quiz_score: Option<f64>,
    pub quiz_max_score: f64,
}

/// How many submissions passed one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepSummary {
    pub id: String,
    pub title: String,
    pub passed: usize,
}

/// Grades every `(file name, text)` against `lab`, flags submissions that share a journal,
/// and summarizes the class. Unreadable files become [`ClassReport::errors`].
pub fn grade_class(
    lab: &Lab,
    files: &[(String, String)],
    key: Option<&InstructorKey>,
) -> ClassReport {
    let mut submissions = Vec::new();
    let mut errors = Vec::new();
    for (file, text) in files {
        match regrade(file, text, lab, key) {
            Ok(graded) => submissions.push(graded),
            Err(error) => errors.push(error),
        }
    }
    flag_duplicate_journals(&mut submissions);
    ClassReport::new(lab, submissions, errors)
}

/// Flags submissions whose journals are identical, which happens when one student hands in
/// a copy of another's report under their own name.
fn flag_duplicate_journals(submissions: &mut [GradedSubmission]) {
    let mut by_hash: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, submission) in submissions.iter().enumerate() {
        if submission.journal_events > 0 {
            by_hash
                .entry(submission.journal_hash.clone())
                .or_default()
                .push(index);
        }
    }
    for indexes in by_hash.values().filter(|indexes| indexes.len() > 1) {
        for &index in indexes {
            let others: Vec<String> = indexes
                .iter()
                .filter(|other| **other != index)
                .map(|other| {
                    format!(
                        "{} ({})",
                        submissions[*other].file, submissions[*other].student
                    )
                })
                .collect();
            submissions[index].flags.push(Flag {
                kind: FlagKind::DuplicateJournal,
                reason: format!(
                    "the journal is identical to that of {}: each student's mock records its own events",
                    others.join(", ")
                ),
            });
        }
    }
}

impl ClassReport {
    /// Builds a report and its summary; `errors` may include files that could not be read.
    pub fn new(
        lab: &Lab,
        submissions: Vec<GradedSubmission>,
        errors: Vec<SubmissionError>,
    ) -> ClassReport {
        let steps = lab
            .steps
            .iter()
            .map(|step| StepSummary {
                id: step.id.clone(),
                title: step.title.clone(),
                passed: submissions
                    .iter()
                    .filter(|submission| {
                        submission
                            .steps
                            .iter()
                            .any(|graded| graded.id == step.id && graded.passed)
                    })
                    .count(),
            })
            .collect();
        let average_quiz_score = (!submissions.is_empty()).then(|| {
            submissions
                .iter()
                .map(|submission| submission.quiz_score)
                .sum::<f64>()
                / submissions.len() as f64
        });
        let summary = ClassSummary {
            submissions: submissions.len(),
            unreadable: errors.len(),
            flagged: submissions
                .iter()
                .filter(|submission| !submission.flags.is_empty())
                .count(),
            passed: submissions
                .iter()
                .filter(|submission| submission.passed)
                .count(),
            steps,
            average_quiz_score,
            quiz_max_score: lab.questions.len() as f64,
        };
        ClassReport {
            lab: SubmittedLab {
                id: lab.id.clone(),
                version: lab.version.clone(),
                title: lab.title.clone(),
            },
            submissions,
            errors,
            summary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequence numbers in a journal, and the missing runs expected.
    type RangesCase = (&'static [u64], &'static [(u64, u64)]);

    #[test]
    fn missing_ranges_name_absent_numbers_only() {
        let cases: &[RangesCase] = &[
            (&[], &[]),
            (&[1, 2, 3], &[]),
            (&[1, 2, 3, 5, 4, 6], &[]),
            (&[1, 2, 4], &[(3, 3)]),
            (&[2, 3], &[(1, 1)]),
            (&[1, 5, 6, 9], &[(2, 4), (7, 8)]),
            (&[1, 1, 3], &[(2, 2)]),
            (&[0, 2], &[(1, 1)]),
        ];
        for (seqs, expected) in cases {
            let present: BTreeSet<u64> = seqs.iter().copied().collect();
            assert_eq!(missing_ranges(&present), *expected, "seqs {seqs:?}");
        }
    }
}
