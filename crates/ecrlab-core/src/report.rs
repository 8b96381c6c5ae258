//! Submissions: a student's lab results with the evidence they were graded from, and the
//! re-grading of a folder of submissions by an instructor.
//!
//! A [`Submission`] carries the step verdicts of [`check_lab`], the quiz answers, the mock's
//! journal and the repository state it was graded from. Each journal entry carries a chain
//! hash, `sha256(previous hash || canonical JSON of the event)`, and the submission carries
//! the last one, so an edited, removed or reordered event no longer matches. Anyone can
//! recompute the hashes after an edit, so only the optional HMAC-SHA256 signature, made with
//! an instructor key, shows that nothing was changed after the report was written.
//!
//! [`regrade`] never trusts the stored verdicts: it grades the stored events and repository
//! state again and flags every difference.

mod class_output;
mod integrity;
mod regrade;
mod render;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::check::{CheckOptions, check_lab, graded_evidence};
use crate::evidence::{Evidence, JournalEvent, RepositoryState};
use crate::lab::Lab;
use crate::quiz::{AttemptResult, Grade, Question, Verdict};

pub use integrity::{
    GENESIS_HASH, InstructorKey, KeyError, MIN_KEY_BYTES, SIGNATURE_ALGORITHM, canonical_json,
    chain_hash, chain_hashes, value_hash,
};
pub use regrade::{
    ClassReport, ClassSummary, Flag, FlagKind, GradedSubmission, RegradedStep, SignatureStatus,
    StepSummary, SubmissionError, grade_class, regrade,
};

/// The `format` of submissions this code writes and reads.
pub const SUBMISSION_FORMAT: &str = "ecrlab-submission/1";

/// A student's submission, as `ecrlab report --format json` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    /// Always [`SUBMISSION_FORMAT`].
    pub format: String,
    pub lab: SubmittedLab,
    pub student: String,
    /// When the report was written, RFC 3339 in UTC.
    pub created_at: String,
    /// The version of ecrlab that wrote the report.
    pub ecrlab_version: String,
    pub mock: MockIdentity,
    /// Whether every step passed when the report was written.
    pub passed: bool,
    pub steps: Vec<SubmittedStep>,
    pub quiz: SubmittedQuiz,
    /// The mock's whole journal, in the order it recorded the events.
    pub journal: Vec<JournalEntry>,
    /// The chain hash of the last journal entry, [`GENESIS_HASH`] for an empty journal.
    pub journal_hash: String,
    /// The repositories and images the steps were graded from.
    pub repositories: Vec<RepositoryState>,
    /// SHA-256 of the canonical JSON of `repositories`.
    pub repositories_hash: String,
    /// Present when the report was written with an instructor key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
}

/// The lab a submission is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmittedLab {
    pub id: String,
    pub version: String,
    pub title: String,
}

/// The mock that recorded the evidence, from its `GET /_ecrlab/health` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MockIdentity {
    /// The endpoint the report was collected from, such as `http://127.0.0.1:5000`.
    pub endpoint: String,
    pub account_id: String,
    pub region: String,
    pub registry_host: String,
}

/// A step's verdict when the report was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmittedStep {
    pub id: String,
    pub title: String,
    pub passed: bool,
    /// Sentences naming what was found, or what is missing.
    pub evidence: Vec<String>,
}

/// The quiz answers and their grades when the report was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmittedQuiz {
    /// The sum of the answers' scores.
    pub score: f64,
    /// The highest possible score: one point per question.
    pub max_score: f64,
    pub answers: Vec<SubmittedAnswer>,
}

/// One question's answers and grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmittedAnswer {
    pub question_id: String,
    pub prompt: String,
    /// Every answer the student gave, in order; empty when the question was not answered.
    /// `ecrlab grade` grades these again.
    pub attempts: Vec<String>,
    /// Each of `attempts` graded, with whether it counted toward the score. `ecrlab grade`
    /// computes this again from `attempts` and does not read the stored copy.
    #[serde(default)]
    pub graded_attempts: Vec<GradedAttempt>,
    /// The tries that count toward the score, from the lab's quiz settings.
    #[serde(default)]
    pub attempts_allowed: u32,
    /// The grade's verdict as the quiz names it, such as `correct` or `incorrect`.
    pub verdict: String,
    /// Credit from 0.0 to 1.0.
    pub score: f64,
    pub correct_answer: String,
    /// The lab's explanation of the correct answer.
    #[serde(default)]
    pub explanation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misconception: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One answer to a question, graded on its own, and whether it counted toward the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GradedAttempt {
    pub answer: String,
    /// The answer's verdict on its own, before any retry penalty.
    pub verdict: String,
    /// The try the answer used, counting from 1. An answer that could not be read uses no try
    /// and has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub try_number: Option<u32>,
    pub status: AttemptStatus,
    /// The answer's credit after the retry penalty, or 0 when it did not count.
    pub score: f64,
}

/// Whether an answer counted toward its question's score, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptStatus {
    /// The answer was graded for credit. The question's score is that of its best counted
    /// answer.
    Counted,
    /// The answer could not be read for the question's kind, so it used no try.
    Unreadable,
    /// An earlier answer was correct, which ends the question.
    AfterCorrectAnswer,
    /// The answer used a try beyond the tries the question allows.
    BeyondAllowedTries,
}

/// A journal event with its chain hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// `sha256(previous entry's hash || canonical JSON of event)` in lowercase hex.
    pub hash: String,
    pub event: JournalEvent,
}

/// An HMAC-SHA256 over the canonical JSON of the submission without its `signature` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
    /// Always [`SIGNATURE_ALGORITHM`].
    pub algorithm: String,
    /// The [`InstructorKey::id`] of the key that signed.
    pub key_id: String,
    /// The HMAC in lowercase hex.
    pub value: String,
}

/// Everything a report is built from, gathered by the caller so that tests can fix the clock.
#[derive(Debug, Clone)]
pub struct ReportInputs<'a> {
    pub lab: &'a Lab,
    pub student: String,
    pub created_at: OffsetDateTime,
    pub mock: MockIdentity,
    pub evidence: &'a Evidence,
    /// The answers per question id, in the order they were given, as progress stores them.
    pub quiz_attempts: &'a BTreeMap<String, Vec<String>>,
}

/// The formats `ecrlab report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Junit,
    Markdown,
}

/// Grades the lab and builds a submission, signed when `key` is given.
pub fn build_submission(inputs: &ReportInputs<'_>, key: Option<&InstructorKey>) -> Submission {
    let report = check_lab(inputs.lab, inputs.evidence, CheckOptions::default());
    let questions = questions_for(inputs.lab, inputs.evidence);
    let steps = report
        .steps
        .into_iter()
        .map(|step| SubmittedStep {
            id: step.id,
            title: step.title,
            passed: step.passed,
            evidence: step.evidence,
        })
        .collect();

    let mut submission = Submission {
        format: SUBMISSION_FORMAT.to_owned(),
        lab: SubmittedLab {
            id: inputs.lab.id.clone(),
            version: inputs.lab.version.clone(),
            title: inputs.lab.title.clone(),
        },
        student: inputs.student.clone(),
        created_at: format_utc(inputs.created_at),
        ecrlab_version: env!("CARGO_PKG_VERSION").to_owned(),
        mock: inputs.mock.clone(),
        passed: report.passed,
        steps,
        quiz: grade_quiz(&questions, inputs.quiz_attempts),
        journal: chain_journal(&inputs.evidence.events),
        journal_hash: String::new(),
        repositories: inputs.evidence.repositories.clone(),
        repositories_hash: value_hash(&to_value(&inputs.evidence.repositories)),
        signature: None,
    };
    submission.journal_hash = submission
        .journal
        .last()
        .map_or_else(|| GENESIS_HASH.to_owned(), |entry| entry.hash.clone());
    if let Some(key) = key {
        submission.sign(key);
    }
    submission
}

/// Returns the lab's questions with the answer keys that `evidence` decides, read as the
/// steps are graded: without the events of `ecrlab demo`'s clients.
pub(crate) fn questions_for(lab: &Lab, evidence: &Evidence) -> Vec<Question> {
    let graded = graded_evidence(evidence, CheckOptions::default());
    crate::quiz::questions_with_evidence(&lab.questions, &graded)
}

/// Grades every question of the lab from the stored attempts.
pub(crate) fn grade_quiz(
    questions: &[Question],
    attempts: &BTreeMap<String, Vec<String>>,
) -> SubmittedQuiz {
    let answers: Vec<SubmittedAnswer> = questions
        .iter()
        .map(|question| {
            let given = attempts.get(question.id()).cloned().unwrap_or_default();
            answer_record(question, given)
        })
        .collect();
    SubmittedQuiz {
        score: answers.iter().map(|answer| answer.score).sum(),
        max_score: questions.len() as f64,
        answers,
    }
}

/// Grades one question's attempts by the lab's rules for tries and retry penalties. The
/// feedback comes from the attempt that scored best, else from the newest answer.
fn answer_record(question: &Question, attempts: Vec<String>) -> SubmittedAnswer {
    let result = question.grade_attempts(&attempts);
    let feedback: &Grade = result
        .best_attempt
        .and_then(|index| result.attempts.get(index))
        .map_or_else(|| result.last_grade(), |attempt| &attempt.grade);
    SubmittedAnswer {
        question_id: question.id().to_owned(),
        prompt: question.prompt().to_owned(),
        graded_attempts: graded_attempts(&attempts, &result.attempts),
        attempts_allowed: result.attempts_allowed,
        verdict: verdict_name(result.verdict),
        score: result.score,
        correct_answer: feedback.correct_answer.clone(),
        explanation: feedback.explanation.clone(),
        misconception: feedback.misconception.clone(),
        notes: feedback.notes.clone(),
        attempts,
    }
}

/// Pairs each answer with its result and says why an uncounted one did not count. An answer
/// after a counted correct one is reported as such even when it is also beyond the allowed
/// tries, because the correct answer is what ended the question.
fn graded_attempts(answers: &[String], results: &[AttemptResult]) -> Vec<GradedAttempt> {
    let mut correct_before = false;
    let mut graded = Vec::with_capacity(results.len());
    for (answer, result) in answers.iter().zip(results) {
        let status = if result.counted {
            AttemptStatus::Counted
        } else if result.try_number.is_none() {
            AttemptStatus::Unreadable
        } else if correct_before {
            AttemptStatus::AfterCorrectAnswer
        } else {
            AttemptStatus::BeyondAllowedTries
        };
        // Only a counted correct answer is the reason: a correct answer that did not count was
        // itself beyond the allowed tries, and so is every readable answer after it.
        correct_before |= result.counted && result.grade.is_correct();
        graded.push(GradedAttempt {
            answer: answer.clone(),
            verdict: verdict_name(result.grade.verdict),
            try_number: result.try_number,
            status,
            score: result.score,
        });
    }
    graded
}

/// Returns a verdict's name as the quiz's JSON writes it, such as `partial`.
fn verdict_name(verdict: Verdict) -> String {
    match to_value(&verdict) {
        Value::String(name) => name,
        other => other.to_string(),
    }
}

/// Pairs each event with its chain hash.
fn chain_journal(events: &[JournalEvent]) -> Vec<JournalEntry> {
    let values: Vec<Value> = events.iter().map(to_value).collect();
    chain_hashes(&values)
        .into_iter()
        .zip(events)
        .map(|(hash, event)| JournalEntry {
            hash,
            event: event.clone(),
        })
        .collect()
}

impl Submission {
    /// Signs the canonical JSON of this submission without its signature, replacing any
    /// earlier signature.
    pub fn sign(&mut self, key: &InstructorKey) {
        self.signature = None;
        let message = canonical_json(&to_value(&*self));
        self.signature = Some(Signature {
            algorithm: SIGNATURE_ALGORITHM.to_owned(),
            key_id: key.id().to_owned(),
            value: key.sign(message.as_bytes()),
        });
    }

    /// Renders the submission in `format`. JSON is the form that `ecrlab grade` reads.
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Json => {
                let mut json =
                    serde_json::to_string_pretty(self).expect("a submission serializes to JSON");
                json.push('\n');
                json
            }
            ReportFormat::Text => render::text(self),
            ReportFormat::Markdown => render::markdown(self),
            ReportFormat::Junit => render::junit(self),
        }
    }
}

/// Serializes a value that has no maps with non-string keys, which cannot fail.
fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("report types serialize to JSON")
}

/// Formats a time as RFC 3339 in UTC with whole seconds, such as `2026-01-02T03:04:05Z`.
fn format_utc(at: OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-step lab whose duration question allows two tries, each retry costing a quarter.
    const LAB: &str = r#"
format = 1
id = "retry-lab"
title = "Retries"
version = "1.0.0"
summary = "A question with two tries."

[quiz]
attempts = 2
retry_penalty = 0.25

[[steps]]
id = "create-repository"
title = "Create a repository"
check = "repository-created"
instructions = "Run aws ecr create-repository --repository-name my-app."
hints = ["Use aws ecr create-repository."]

[[questions]]
id = "token-validity"
kind = "duration"
prompt = "How long is an ECR authorization token valid?"
answer = "12 hours"
explanation = "An ECR authorization token is valid for 12 hours."
source = "ECR API Reference, GetAuthorizationToken"
"#;

    fn lab() -> Lab {
        Lab::parse(LAB, "report.rs").expect("the test lab is valid")
    }

    fn submission_with(answers: &[&str]) -> Submission {
        let lab = lab();
        let attempts = BTreeMap::from([(
            "token-validity".to_owned(),
            answers.iter().map(|answer| (*answer).to_owned()).collect(),
        )]);
        let inputs = ReportInputs {
            lab: &lab,
            student: "Ada".to_owned(),
            created_at: time::macros::datetime!(2026-01-05 10:00:00 UTC),
            mock: MockIdentity {
                endpoint: "http://127.0.0.1:5000".to_owned(),
                account_id: "123456789012".to_owned(),
                region: "us-east-1".to_owned(),
                registry_host: "localhost:5000".to_owned(),
            },
            evidence: &Evidence::default(),
            quiz_attempts: &attempts,
        };
        build_submission(&inputs, None)
    }

    fn statuses(answer: &SubmittedAnswer) -> Vec<AttemptStatus> {
        answer
            .graded_attempts
            .iter()
            .map(|attempt| attempt.status)
            .collect()
    }

    #[test]
    fn attempts_after_correct_answer_not_counted() {
        let submission = submission_with(&["12", "1 day", "12 hours", "13 hours"]);
        let answer = &submission.quiz.answers[0];

        assert_eq!(
            statuses(answer),
            [
                AttemptStatus::Unreadable,
                AttemptStatus::Counted,
                AttemptStatus::Counted,
                AttemptStatus::AfterCorrectAnswer,
            ]
        );
        let tries: Vec<Option<u32>> = answer
            .graded_attempts
            .iter()
            .map(|attempt| attempt.try_number)
            .collect();
        assert_eq!(tries, [None, Some(1), Some(2), Some(3)]);
        assert_eq!(answer.graded_attempts[2].verdict, "correct");
        assert_eq!(answer.graded_attempts[2].score, 0.75);
        assert_eq!(answer.score, 0.75);
        assert_eq!(answer.attempts_allowed, 2);
    }

    #[test]
    fn attempts_beyond_allowed_tries_not_counted() {
        let submission = submission_with(&["1 day", "2 days", "12 hours", "13 hours"]);
        let answer = &submission.quiz.answers[0];

        assert_eq!(
            statuses(answer),
            [
                AttemptStatus::Counted,
                AttemptStatus::Counted,
                AttemptStatus::BeyondAllowedTries,
                AttemptStatus::BeyondAllowedTries,
            ]
        );
        assert_eq!(answer.graded_attempts[2].verdict, "correct");
        assert_eq!(answer.graded_attempts[2].score, 0.0);
        assert_eq!(answer.verdict, "incorrect");
        assert_eq!(answer.score, 0.0);
    }

    #[test]
    fn every_format_marks_counted_attempts() {
        let submission = submission_with(&["1 day", "2 days", "12 hours"]);

        let text = submission.render(ReportFormat::Text);
        assert!(
            text.contains("     - \"1 day\": incorrect, counted for 0 points\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "     - \"12 hours\": correct, not counted because the question allows only 2 tries\n"
            ),
            "{text}"
        );

        let markdown = submission.render(ReportFormat::Markdown);
        assert!(
            markdown.contains(
                "\"2 days\": incorrect, counted for 0 points; \"12 hours\": correct, not counted because the question allows only 2 tries"
            ),
            "{markdown}"
        );

        let json: Value =
            serde_json::from_str(&submission.render(ReportFormat::Json)).expect("JSON");
        let graded = &json["quiz"]["answers"][0]["gradedAttempts"];
        assert_eq!(graded[0]["status"], "counted");
        assert_eq!(graded[2]["status"], "beyond-allowed-tries");
        assert_eq!(graded[2]["tryNumber"], 3);
        assert_eq!(json["quiz"]["answers"][0]["attemptsAllowed"], 2);
    }

    #[test]
    fn unreadable_attempt_uses_no_try() {
        let submission = submission_with(&["12"]);
        let text = submission.render(ReportFormat::Text);
        assert!(
            text.contains("\"12\": not counted because it could not be read, so it used no try"),
            "{text}"
        );
        assert!(
            text.contains("incorrect token-validity (0 points)"),
            "{text}"
        );
    }

    /// A one-step lab with one question about the scan findings of the pushed images.
    const FINDING_LAB: &str = r#"
format = 1
id = "finding-lab"
title = "Findings"
version = "1.0.0"
summary = "A question about scan findings."

[[steps]]
id = "scan-image"
title = "Scan an image"
check = "scan-findings-read"
instructions = "Push an image to a repository that scans on push and read its findings."
hints = ["Use aws ecr describe-image-scan-findings."]

[[questions]]
id = "scan-finding"
kind = "finding"
finding_field = "package_name"
prompt = "Which package has a HIGH or CRITICAL finding?"
answer = "the package_name of a HIGH or CRITICAL finding of your image"
explanation = "DescribeImageScanFindings lists the findings."
source = "ECR API Reference, DescribeImageScanFindings"
"#;

    /// Returns the evidence of one image pushed as `my-app:scan` and scanned on push, with a
    /// HIGH finding in `package` that the student read.
    fn scanned_evidence(package: &str) -> Evidence {
        use crate::evidence::{
            ImageScan, ImageState, Outcome, RepositoryState, ScanFinding, Source,
        };
        const DIGEST: &str =
            "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        let event = |seq: u64, source: Source, action: &str| JournalEvent {
            seq,
            time: format!("2026-01-05T09:0{seq}:00Z"),
            account: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            source,
            action: action.to_owned(),
            repository: Some("my-app".to_owned()),
            reference: None,
            digest: Some(DIGEST.to_owned()),
            host: Some("localhost:5000".to_owned()),
            user_agent: Some("docker/27.3.1".to_owned()),
            outcome: Outcome::Ok,
            error_code: None,
            message: None,
        };
        Evidence {
            events: vec![
                event(1, Source::Scanner, "ImageScanStarted"),
                event(2, Source::Registry, "ManifestPut"),
                event(3, Source::Scanner, "ImageScanCompleted"),
                event(4, Source::EcrApi, "DescribeImageScanFindings"),
            ],
            repositories: vec![RepositoryState {
                region: "us-east-1".to_owned(),
                name: "my-app".to_owned(),
                uri: "localhost:5000/my-app".to_owned(),
                tag_mutability: "IMMUTABLE".to_owned(),
                scan_on_push: true,
                images: vec![ImageState {
                    digest: DIGEST.to_owned(),
                    tags: vec!["scan".to_owned()],
                    size_bytes: 6_144,
                    manifest_media_type: None,
                    pushed_at: None,
                    scan: Some(ImageScan {
                        status: "COMPLETE".to_owned(),
                        description: None,
                        completed_at: None,
                        findings: vec![ScanFinding {
                            name: "CVE-2026-28388".to_owned(),
                            severity: "HIGH".to_owned(),
                            package_name: Some(package.to_owned()),
                            package_version: None,
                        }],
                    }),
                }],
            }],
        }
    }

    fn finding_submission(evidence: &Evidence, answer: &str) -> Submission {
        let lab = Lab::parse(FINDING_LAB, "finding.toml").expect("the test lab is valid");
        let attempts = BTreeMap::from([("scan-finding".to_owned(), vec![answer.to_owned()])]);
        let inputs = ReportInputs {
            lab: &lab,
            student: "Ada".to_owned(),
            created_at: time::macros::datetime!(2026-01-05 10:00:00 UTC),
            mock: MockIdentity {
                endpoint: "http://127.0.0.1:5000".to_owned(),
                account_id: "123456789012".to_owned(),
                region: "us-east-1".to_owned(),
                registry_host: "localhost:5000".to_owned(),
            },
            evidence,
            quiz_attempts: &attempts,
        };
        build_submission(&inputs, None)
    }

    #[test]
    fn finding_answer_graded_from_evidence() {
        let submission = finding_submission(&scanned_evidence("libssl3"), "libssl3");

        assert!(submission.passed, "{:?}", submission.steps);
        let answer = &submission.quiz.answers[0];
        assert_eq!(answer.verdict, "correct");
        assert_eq!(answer.score, 1.0);
        assert_eq!(
            answer.correct_answer,
            "libssl3 (HIGH CVE-2026-28388 in my-app:scan)"
        );

        let other = finding_submission(&scanned_evidence("libc6"), "libssl3");
        assert_eq!(other.quiz.answers[0].verdict, "incorrect");
    }

    #[test]
    fn finding_answer_without_scan_uses_no_try() {
        let submission = finding_submission(&Evidence::default(), "libssl3");
        let answer = &submission.quiz.answers[0];

        assert_eq!(answer.verdict, "incorrect");
        assert_eq!(answer.graded_attempts[0].status, AttemptStatus::Unreadable);
        assert_eq!(
            answer.correct_answer,
            "the package_name of a HIGH or CRITICAL finding of your image"
        );
    }

    #[test]
    fn regrade_reads_stored_findings() {
        let lab = Lab::parse(FINDING_LAB, "finding.toml").expect("the test lab is valid");
        let submission = finding_submission(&scanned_evidence("libssl3"), "libssl3");
        let json = submission.render(ReportFormat::Json);

        let graded = regrade("ada.json", &json, &lab, None).expect("a valid submission");
        assert_eq!(graded.flags, Vec::new());
        assert_eq!(graded.quiz[0].verdict, "correct");

        // Editing the stored findings changes the grade and breaks the repositories hash.
        let stored = "\"packageName\": \"libssl3\"";
        assert!(json.contains(stored), "{json}");
        let edited = json.replace(stored, "\"packageName\": \"libc6\"");
        let graded = regrade("ada.json", &edited, &lab, None).expect("a valid submission");
        let kinds: Vec<FlagKind> = graded.flags.iter().map(|flag| flag.kind).collect();
        assert!(
            kinds.contains(&FlagKind::RepositoriesHashMismatch),
            "{kinds:?}"
        );
        assert!(kinds.contains(&FlagKind::QuizMismatch), "{kinds:?}");
    }
}
