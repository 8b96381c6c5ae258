//! Quiz questions and the grading of students' answers.
//!
//! A question has a kind that decides how answers are read and compared:
//!
//! - `duration`: a length of time with units; `12h`, `720 minutes` and `43,200 s` are equal.
//! - `number`: one number; `1000`, `1,000`, `1 000` and `one thousand` are equal.
//! - `url`: an Amazon ECR private registry URL, with placeholders or concrete values.
//! - `text`: free text, correct when it names every key concept of the question.
//! - `choice`: one of a fixed list of choices, by letter or by text.
//! - `finding`: a CVE id or a package name, correct when a finding of an image the student
//!   pushed has it. [`Question::with_evidence`] reads those findings from the evidence.
//!
//! Grading returns a [`Grade`] with the verdict (correct, partly correct or incorrect), the
//! score, the explanation and its source, and the explanation of a known misconception when
//! the answer matches one. An answer that cannot be read as one value (no number where a
//! number is expected, a range, a bound) is an [`AnswerError`], so an interactive quiz can ask
//! again instead of marking it wrong.
//!
//! A question's [`Scoring`] says how many attempts count, what a retry costs and which partly
//! correct answers earn credit; [`Question::grade_attempts`] grades a sequence of answers with
//! it, so stored attempts can be graded again at any time.

mod attempts;
mod feedback;
mod finding;
mod numbers;
mod phrases;
mod registry_url;
mod scoring;
mod sheet;
mod spec;

use std::fmt;

use serde::Serialize;
use thiserror::Error;

use crate::evidence::{Evidence, ScanFinding};
use finding::FindingKey;

use numbers::{format_number, format_seconds, parse_duration, parse_number, same_value};
use phrases::{Phrase, find_hedge, normalize_words};
use registry_url::{AnsweredUrl, HostPattern, RegistryHost, UrlFit};

pub use attempts::{AttemptResult, QuestionResult, QuizResult};
pub use finding::{DEFAULT_MIN_SEVERITY, FindingField};
pub use scoring::{PartialCreditSpec, Scoring, ScoringProblem, ScoringSpec};
pub use sheet::{AnswerSheet, AnswerSheetError, QuizReport};
pub use spec::{ConceptSpec, MisconceptionSpec, QuestionSpec, SpecField, SpecProblem};

/// The kind of a question, which decides how its answers are read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    Duration,
    Number,
    Url,
    Text,
    Choice,
    Finding,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 6] = [
        QuestionKind::Duration,
        QuestionKind::Number,
        QuestionKind::Url,
        QuestionKind::Text,
        QuestionKind::Choice,
        QuestionKind::Finding,
    ];

    /// Returns the name used in lab files.
    pub fn name(self) -> &'static str {
        match self {
            QuestionKind::Duration => "duration",
            QuestionKind::Number => "number",
            QuestionKind::Url => "url",
            QuestionKind::Text => "text",
            QuestionKind::Choice => "choice",
            QuestionKind::Finding => "finding",
        }
    }

    pub fn from_name(name: &str) -> Option<QuestionKind> {
        QuestionKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

impl fmt::Display for QuestionKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// A validated question, ready to grade answers.
#[derive(Debug, Clone)]
pub struct Question {
    id: String,
    kind: QuestionKind,
    prompt: String,
    answer: String,
    explanation: String,
    source: String,
    key: AnswerKey,
    misconceptions: Vec<Misconception>,
    scoring: Scoring,
}

/// The correct answers of a question, in the form that its kind compares.
#[derive(Debug, Clone)]
enum AnswerKey {
    Duration(Vec<f64>),
    Number(Vec<f64>),
    Url(Vec<RegistryHost>),
    Text {
        accepted: Vec<Vec<String>>,
        concepts: Vec<Concept>,
    },
    Choice {
        choices: Vec<String>,
        correct: usize,
    },
    Finding(FindingKey),
}

#[derive(Debug, Clone)]
struct Concept {
    name: String,
    phrases: Vec<Phrase>,
}

impl Concept {
    fn matches(&self, words: &[String]) -> bool {
        self.phrases.iter().any(|phrase| phrase.matches(words))
    }

    /// Whether the answer also states the opposite of one of the concept's negated phrases,
    /// as in "a tag cannot be overwritten, but it can be overwritten".
    fn is_contradicted(&self, words: &[String]) -> bool {
        self.phrases
            .iter()
            .filter_map(Phrase::affirmative)
            .any(|affirmative| affirmative.iter().any(|phrase| phrase.matches(words)))
    }
}

/// A known wrong answer with its own explanation.
#[derive(Debug, Clone)]
pub struct Misconception {
    explanation: String,
    trigger: Trigger,
}

impl Misconception {
    pub fn explanation(&self) -> &str {
        &self.explanation
    }
}

/// The answers a misconception matches: values, hosts, choice indexes or phrases.
#[derive(Debug, Clone)]
enum Trigger {
    Values(Vec<f64>),
    Hosts(Vec<HostPattern>),
    Choices(Vec<usize>),
    Phrases(Vec<Phrase>),
}

/// An answer as read for its question's kind.
#[derive(Debug, Clone)]
enum Reading {
    Value(f64),
    Url(AnsweredUrl),
    Words(Vec<String>),
    Choice(usize),
    /// A CVE id or a package name, as `finding` questions read it.
    Finding(String),
}

/// Whether an answer is right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Correct,
    /// Partly correct, and the question's [`Scoring`] gives credit for it.
    Partial,
    Incorrect,
}

impl Verdict {
    /// Returns the verdict as feedback states it: `correct`, `partly correct` or `incorrect`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::Partial => "partly correct",
            Verdict::Incorrect => "incorrect",
        }
    }
}

/// How well an answer fits the answer key, before misconceptions and scoring.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fit {
    Full,
    /// The share of a text answer's key concepts that it names, above 0 and below 1.
    Concepts(f64),
    /// A URL whose registry host is right but whose scheme, port or path is wrong.
    HostOnly,
    None,
}

/// The result of grading one answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grade {
    pub question_id: String,
    /// The student's answer, `None` when the question was not answered.
    pub answer: Option<String>,
    pub verdict: Verdict,
    /// The credit for this answer alone, from 0.0 to 1.0, before any retry penalty.
    pub score: f64,
    pub correct_answer: String,
    pub explanation: String,
    pub source: String,
    /// The explanation of the misconception the answer matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub misconception: Option<String>,
    /// Feedback specific to this answer: how it was read, which concepts it misses, why a URL
    /// does not fit.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Grade {
    pub fn is_correct(&self) -> bool {
        self.verdict == Verdict::Correct
    }
}

/// An answer that cannot be read for its question's kind. The message names the answer and
/// says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AnswerError {
    #[error("the answer is empty; type an answer")]
    Empty,
    #[error("found no number in {answer:?}; answer with a number such as 25 or twenty-five")]
    NoNumber { answer: String },
    #[error("{answer:?} contains several numbers ({}); answer with one number", values.join(", "))]
    SeveralNumbers { answer: String, values: Vec<String> },
    #[error(
        "found no duration in {answer:?}; answer with a number and a unit, for example 90 minutes"
    )]
    NoDuration { answer: String },
    #[error(
        "the number {number} in {answer:?} has no unit; add one: seconds, minutes, hours or days"
    )]
    MissingUnit { answer: String, number: String },
    #[error("{answer:?} contains several durations ({}); answer with one duration", values.join(", "))]
    SeveralDurations { answer: String, values: Vec<String> },
    #[error(
        "{answer:?} reads as {duration}, but a length of time cannot be negative; answer with a duration such as 90 minutes"
    )]
    NegativeDuration { answer: String, duration: String },
    #[error(
        "{answer:?} names a moment in the past, not a length of time; answer with a duration such as 90 minutes, without \"ago\""
    )]
    PastMoment { answer: String },
    #[error("{answer:?} gives a bound ({bound}), not one value; answer with the exact value")]
    Bound { answer: String, bound: String },
    #[error(
        "{literal:?} in {answer:?} is ambiguous: it reads as {decimal} with a decimal point, or as {thousands} with a European thousands separator; write {thousands} or {decimal}"
    )]
    AmbiguousNumber {
        answer: String,
        literal: String,
        decimal: String,
        thousands: String,
    },
    #[error(
        "{literal:?} in {answer:?} is not a number, because its separator does not split the digits into groups of three; write {whole} for a whole number or {decimal} with a decimal point"
    )]
    UngroupedNumber {
        answer: String,
        literal: String,
        whole: String,
        decimal: String,
    },
    #[error(
        "the number {literal} in {answer:?} is too large to read; answer with a number of at most 15 digits"
    )]
    NumberTooLarge { answer: String, literal: String },
    #[error("found no URL in {answer:?}; answer with a URL such as https://registry.example.com")]
    NoUrl { answer: String },
    #[error("{answer:?} contains several URLs ({}); answer with one", urls.join(", "))]
    SeveralUrls { answer: String, urls: Vec<String> },
    #[error(
        "{answer:?} is not one of the choices; answer with a letter from a to {last_letter} or with the text of a choice"
    )]
    UnknownChoice { answer: String, last_letter: char },
    #[error(
        "this question is graded from the scan findings of the images you pushed, which were not read from the mock; start the mock with `ecrlab serve` and answer again"
    )]
    NoScanEvidence,
    #[error(
        "no image you pushed has a COMPLETE scan with a finding of severity {severities} yet, so this question cannot be graded; push the sample image in labs/push-to-ecr/scan-image with scan on push on, read its findings and answer again"
    )]
    NoCompletedScan { severities: String },
    #[error(
        "found no {field} of a finding in {answer:?}; answer with the {field} value of one finding, as aws ecr describe-image-scan-findings prints it"
    )]
    NoFindingValue { answer: String, field: &'static str },
    #[error("{answer:?} gives several values of {field} ({}); answer with one", values.join(", "))]
    SeveralFindingValues {
        answer: String,
        field: &'static str,
        values: Vec<String>,
    },
}

impl Question {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn kind(&self) -> QuestionKind {
        self.kind
    }

    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Returns the correct answer as the lab states it.
    pub fn answer(&self) -> &str {
        &self.answer
    }

    pub fn explanation(&self) -> &str {
        &self.explanation
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Returns the choices of a `choice` question, empty for other kinds.
    pub fn choices(&self) -> &[String] {
        match &self.key {
            AnswerKey::Choice { choices, .. } => choices,
            _ => &[],
        }
    }

    pub fn misconceptions(&self) -> &[Misconception] {
        &self.misconceptions
    }

    /// Returns whether the answer key comes from the evidence, as for `finding` questions.
    pub fn needs_evidence(&self) -> bool {
        matches!(self.key, AnswerKey::Finding(_))
    }

    /// Returns a copy of the question whose answer key reads `evidence`: a `finding` question
    /// gets the findings of the pushed images. Other questions are returned unchanged.
    pub fn with_evidence(&self, evidence: &Evidence) -> Question {
        let mut question = self.clone();
        if let AnswerKey::Finding(key) = &self.key {
            question.key = AnswerKey::Finding(key.with_evidence(evidence));
        }
        question
    }

    /// Returns an answer that a `finding` question grades as correct when its evidence
    /// contains `findings`: the requested field of the first finding that counts. `None` for other kinds,
    /// and when no finding counts. `ecrlab demo` answers with it from the findings it read.
    pub fn answer_from_findings<'a>(&self, findings: &'a [ScanFinding]) -> Option<&'a str> {
        match &self.key {
            AnswerKey::Finding(key) => key.answer_from(findings),
            _ => None,
        }
    }

    /// Returns why no answer to this question can be graded now, such as a `finding` question
    /// without evidence, or `None` when answers can be graded.
    pub fn grading_unavailable(&self) -> Option<AnswerError> {
        match &self.key {
            AnswerKey::Finding(key) => key.unavailable(),
            _ => None,
        }
    }

    /// Grades one answer on its own, ignoring attempts and retry penalties. Returns an error
    /// when the answer cannot be read for this kind.
    pub fn grade(&self, answer: &str) -> Result<Grade, AnswerError> {
        let reading = self.read(answer)?;
        let (fit, mut notes) = self.judge(&reading);
        let misconception = self
            .misconceptions
            .iter()
            .find(|misconception| misconception.trigger.matches(&reading))
            .map(|misconception| misconception.explanation.clone());
        // A matched misconception explains why the whole answer is wrong, so other notes are
        // dropped. A text answer keeps the notes that list the concepts it misses.
        if misconception.is_some() && self.kind != QuestionKind::Text {
            notes.clear();
        }
        let (verdict, score) = match (fit, &misconception) {
            (_, Some(_)) => (Verdict::Incorrect, 0.0),
            (Fit::Full, None) => (Verdict::Correct, 1.0),
            (Fit::Concepts(share), None) if self.scoring.concept_credit => {
                (Verdict::Partial, share)
            }
            (Fit::HostOnly, None) => match self.scoring.host_credit {
                Some(credit) => (Verdict::Partial, credit),
                None => (Verdict::Incorrect, 0.0),
            },
            _ => (Verdict::Incorrect, 0.0),
        };
        let mut grade = self.grade_with(Some(answer.trim()), verdict, misconception, notes);
        grade.score = score;
        Ok(grade)
    }

    /// Grades an answer that could not be read as incorrect, with the reading error as a note.
    /// Used where the student cannot be asked again, such as an answers file.
    pub fn grade_unreadable(&self, answer: &str, error: &AnswerError) -> Grade {
        self.grade_with(
            Some(answer.trim()),
            Verdict::Incorrect,
            None,
            vec![error.to_string()],
        )
    }

    /// Grades a question the student skipped or left out.
    pub fn grade_unanswered(&self) -> Grade {
        self.grade_with(
            None,
            Verdict::Incorrect,
            None,
            vec!["no answer was given".to_owned()],
        )
    }

    fn grade_with(
        &self,
        answer: Option<&str>,
        verdict: Verdict,
        misconception: Option<String>,
        notes: Vec<String>,
    ) -> Grade {
        let correct_answer = match &self.key {
            AnswerKey::Finding(key) => key.correct_answer(),
            _ => None,
        };
        Grade {
            question_id: self.id.clone(),
            answer: answer.map(str::to_owned),
            verdict,
            score: 0.0,
            correct_answer: correct_answer.unwrap_or_else(|| self.answer.clone()),
            explanation: self.explanation.clone(),
            source: self.source.clone(),
            misconception,
            notes,
        }
    }

    fn read(&self, answer: &str) -> Result<Reading, AnswerError> {
        let answer = answer.trim();
        if answer.is_empty() {
            return Err(AnswerError::Empty);
        }
        match &self.key {
            AnswerKey::Duration(_) => parse_duration(answer).map(Reading::Value),
            AnswerKey::Number(_) => parse_number(answer).map(Reading::Value),
            AnswerKey::Url(_) => registry_url::parse(answer).map(Reading::Url),
            AnswerKey::Text { .. } => Ok(Reading::Words(normalize_words(answer))),
            AnswerKey::Choice { choices, .. } => read_choice(answer, choices).map(Reading::Choice),
            AnswerKey::Finding(key) => key.read(answer).map(Reading::Finding),
        }
    }

    /// Compares a reading with the answer key and returns how well it fits, with notes for
    /// the student.
    fn judge(&self, reading: &Reading) -> (Fit, Vec<String>) {
        match (&self.key, reading) {
            (AnswerKey::Duration(accepted), Reading::Value(seconds)) => {
                if accepted.iter().any(|key| same_value(*key, *seconds)) {
                    return (Fit::Full, Vec::new());
                }
                let note = format!("your answer reads as {}", format_seconds(*seconds));
                (Fit::None, vec![note])
            }
            (AnswerKey::Number(accepted), Reading::Value(value)) => {
                if accepted.iter().any(|key| same_value(*key, *value)) {
                    return (Fit::Full, Vec::new());
                }
                let note = format!("your answer reads as {}", format_number(*value));
                (Fit::None, vec![note])
            }
            (AnswerKey::Url(accepted), Reading::Url(url)) => {
                let (fit, notes) = registry_url::judge(accepted, url);
                let fit = match fit {
                    UrlFit::Exact => Fit::Full,
                    UrlFit::HostOnly => Fit::HostOnly,
                    UrlFit::Wrong => Fit::None,
                };
                (fit, notes)
            }
            (AnswerKey::Text { accepted, concepts }, Reading::Words(words)) => {
                if accepted.contains(words) {
                    return (Fit::Full, Vec::new());
                }
                judge_text(concepts, words)
            }
            (AnswerKey::Choice { correct, .. }, Reading::Choice(chosen)) => {
                let fit = if chosen == correct {
                    Fit::Full
                } else {
                    Fit::None
                };
                (fit, Vec::new())
            }
            (AnswerKey::Finding(key), Reading::Finding(value)) => {
                let (correct, notes) = key.judge(value);
                (if correct { Fit::Full } else { Fit::None }, notes)
            }
            // `read` produces the reading that matches the key's kind.
            _ => (Fit::None, Vec::new()),
        }
    }

    /// Formats the prompt followed by lettered choices, one per line, for `choice` questions.
    pub fn prompt_with_choices(&self) -> String {
        let mut text = self.prompt.clone();
        for (index, choice) in self.choices().iter().enumerate() {
            text.push_str(&format!("\n  {}) {choice}", choice_letter(index)));
        }
        text
    }
}

/// Returns the questions with answer keys that read `evidence`, as
/// [`Question::with_evidence`] makes them.
pub fn questions_with_evidence(questions: &[Question], evidence: &Evidence) -> Vec<Question> {
    questions
        .iter()
        .map(|question| question.with_evidence(evidence))
        .collect()
}

/// Grades a free-text answer on its key concepts. A hedged answer ("maybe", "I think") and an
/// answer that states a concept and its opposite earn nothing, whatever concepts they name,
/// because keyword matching cannot tell which of their statements the student means.
fn judge_text(concepts: &[Concept], words: &[String]) -> (Fit, Vec<String>) {
    if let Some(hedge) = find_hedge(words) {
        let note = format!(
            "your answer hedges with \"{hedge}\", and a hedged answer earns no credit; state the answer without it"
        );
        return (Fit::None, vec![note]);
    }
    let contradicted: Vec<String> = concepts
        .iter()
        .filter(|concept| concept.matches(words) && concept.is_contradicted(words))
        .map(|concept| {
            format!(
                "your answer says both that {} and the opposite, and a contradictory answer earns no credit",
                concept.name
            )
        })
        .collect();
    if !contradicted.is_empty() {
        return (Fit::None, contradicted);
    }

    let missing: Vec<String> = concepts
        .iter()
        .filter(|concept| !concept.matches(words))
        .map(|concept| format!("your answer does not say that {}", concept.name))
        .collect();
    let named = concepts.len() - missing.len();
    let fit = match named {
        0 => Fit::None,
        _ if missing.is_empty() => Fit::Full,
        _ => Fit::Concepts(named as f64 / concepts.len() as f64),
    };
    (fit, missing)
}

impl Trigger {
    fn matches(&self, reading: &Reading) -> bool {
        match (self, reading) {
            (Trigger::Values(values), Reading::Value(value)) => {
                values.iter().any(|known| same_value(*known, *value))
            }
            (Trigger::Hosts(patterns), Reading::Url(url)) => {
                patterns.iter().any(|pattern| pattern.matches(url))
            }
            (Trigger::Choices(choices), Reading::Choice(chosen)) => choices.contains(chosen),
            (Trigger::Phrases(phrases), Reading::Words(words)) => {
                phrases.iter().any(|phrase| phrase.matches(words))
            }
            _ => false,
        }
    }
}

/// Reads a choice by its text (compared as normalised words) or by its letter (`b`, `b)`,
/// `(b)`, `B.`). Text wins, so a choice that is itself a single letter stays reachable.
fn read_choice(answer: &str, choices: &[String]) -> Result<usize, AnswerError> {
    let words = normalize_words(answer);
    if let Some(index) = choices
        .iter()
        .position(|choice| normalize_words(choice) == words)
    {
        return Ok(index);
    }
    if let [word] = words.as_slice() {
        if let [letter @ b'a'..=b'z'] = word.as_bytes() {
            let index = usize::from(letter - b'a');
            if index < choices.len() {
                return Ok(index);
            }
        }
    }
    Err(AnswerError::UnknownChoice {
        answer: answer.to_owned(),
        last_letter: choice_letter(choices.len().saturating_sub(1)),
    })
}

fn choice_letter(index: usize) -> char {
    // Choices are limited to 26, so the index fits a letter.
    char::from(b'a' + u8::try_from(index.min(25)).unwrap_or(25))
}

#[cfg(test)]
mod tests;
