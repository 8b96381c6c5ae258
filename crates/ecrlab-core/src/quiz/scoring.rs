//! Scoring settings of a quiz: how many attempts count, what a retry costs, and which partly
//! correct answers earn partial credit.
//!
//! A lab file sets them quiz-wide in a `[quiz]` table and per question in its `[[questions]]`
//! table; a question's own setting wins. Every key is optional:
//!
//! ```toml
//! [quiz]
//! attempts = 2          # tries that count; default 1
//! retry_penalty = 0.25  # credit lost per retry; default 0
//!
//! [[questions]]
//! # ...
//! partial_credit = { concepts = true }  # text: credit for the share of concepts named
//! ```

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{Question, QuestionKind};

/// Scoring keys as a lab file states them, with their source positions. The `[quiz]` table
/// deserializes into this type; a question's keys of the same names fill one too.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringSpec {
    pub attempts: Option<Spanned<i64>>,
    pub retry_penalty: Option<Spanned<f64>>,
    pub partial_credit: Option<Spanned<PartialCreditSpec>>,
}

/// The `partial_credit` table: which partly correct answers earn credit, and how much.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialCreditSpec {
    /// For `text` questions: an answer that names some key concepts earns the share it names.
    pub concepts: Option<Spanned<bool>>,
    /// For `url` questions: the credit of an answer whose registry host is right but whose
    /// scheme, port or path is wrong.
    pub host: Option<Spanned<f64>>,
}

/// Validated scoring settings of one question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scoring {
    /// How many readable answers count, at least 1.
    pub attempts: u32,
    /// The share of the credit lost for each retry, from 0.0 to 1.0: the n-th retry's score is
    /// multiplied by `1 - n * retry_penalty`, and never drops below 0.
    pub retry_penalty: f64,
    /// Whether a `text` answer that names some of the key concepts earns the share it names.
    pub concept_credit: bool,
    /// The credit of a `url` answer whose registry host is right but whose scheme, port or path
    /// is wrong; `None` gives no credit.
    pub host_credit: Option<f64>,
}

impl Default for Scoring {
    /// Returns one attempt, no retry penalty and no partial credit: each answer is right or
    /// wrong.
    fn default() -> Scoring {
        Scoring {
            attempts: 1,
            retry_penalty: 0.0,
            concept_credit: false,
            host_credit: None,
        }
    }
}

/// One problem in scoring keys; the message ends with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringProblem {
    /// The key's path inside its table, such as `attempts` or `partial_credit.host`.
    pub field: &'static str,
    /// The byte range of the offending value in the lab file.
    pub span: Range<usize>,
    pub message: String,
}

impl Scoring {
    /// Validates quiz-wide scoring keys into the defaults of every question. A kind-specific
    /// key, such as `partial_credit.concepts`, applies only to questions of its kind.
    pub fn from_quiz_spec(spec: &ScoringSpec) -> Result<Scoring, Vec<ScoringProblem>> {
        let mut problems = Vec::new();
        let scoring = overlay(&Scoring::default(), spec, &mut problems);
        check_penalty_has_retries(spec, scoring.attempts, &mut problems);
        if problems.is_empty() {
            Ok(scoring)
        } else {
            Err(problems)
        }
    }

    /// Returns the multiplier of the answer given on try `try_number` (1 for the first).
    pub fn retry_weight(&self, try_number: u32) -> f64 {
        let retries = f64::from(try_number.saturating_sub(1));
        (1.0 - retries * self.retry_penalty).max(0.0)
    }
}

impl Question {
    /// Sets this question's scoring: its own keys in `spec` over the quiz-wide `defaults`.
    /// Returns every problem with the question's keys, such as a key of another kind.
    pub fn with_scoring(
        mut self,
        spec: &ScoringSpec,
        defaults: &Scoring,
    ) -> Result<Question, Vec<ScoringProblem>> {
        let mut problems = Vec::new();
        let scoring = overlay(defaults, spec, &mut problems);
        check_penalty_has_retries(spec, scoring.attempts, &mut problems);
        check_partial_credit_fits(spec, self.kind, &mut problems);
        if problems.is_empty() {
            self.scoring = scoring;
            Ok(self)
        } else {
            Err(problems)
        }
    }

    pub fn scoring(&self) -> &Scoring {
        &self.scoring
    }
}

/// Returns `base` with the keys that `spec` sets and that are valid.
fn overlay(base: &Scoring, spec: &ScoringSpec, problems: &mut Vec<ScoringProblem>) -> Scoring {
    let mut scoring = *base;
    if let Some(attempts) = &spec.attempts {
        match u32::try_from(*attempts.get_ref()) {
            Ok(count) if count >= 1 => scoring.attempts = count,
            _ => problems.push(ScoringProblem {
                field: "attempts",
                span: attempts.span(),
                message: format!(
                    "attempts is {}, but at least one attempt must count; set attempts = 1 for a single try, or more to allow retries",
                    attempts.get_ref()
                ),
            }),
        }
    }
    if let Some(penalty) = &spec.retry_penalty {
        let value = *penalty.get_ref();
        if (0.0..=1.0).contains(&value) {
            scoring.retry_penalty = value;
        } else {
            problems.push(ScoringProblem {
                field: "retry_penalty",
                span: penalty.span(),
                message: format!(
                    "retry_penalty is {value}, but it is the share of the credit lost per retry; write a number from 0 to 1, such as 0.25"
                ),
            });
        }
    }
    if let Some(partial) = &spec.partial_credit {
        overlay_partial_credit(&mut scoring, partial, problems);
    }
    scoring
}

fn overlay_partial_credit(
    scoring: &mut Scoring,
    partial: &Spanned<PartialCreditSpec>,
    problems: &mut Vec<ScoringProblem>,
) {
    let rules = partial.get_ref();
    if rules.concepts.is_none() && rules.host.is_none() {
        problems.push(ScoringProblem {
            field: "partial_credit",
            span: partial.span(),
            message: "partial_credit sets no rule; write { concepts = true } for text questions or { host = 0.5 } for url questions, or remove it".to_owned(),
        });
    }
    if let Some(concepts) = &rules.concepts {
        scoring.concept_credit = *concepts.get_ref();
    }
    if let Some(host) = &rules.host {
        let value = *host.get_ref();
        if value > 0.0 && value < 1.0 {
            scoring.host_credit = Some(value);
        } else {
            problems.push(ScoringProblem {
                field: "partial_credit.host",
                span: host.span(),
                message: format!(
                    "partial_credit.host is {value}, but it is the credit of a partly correct URL; write a number between 0 and 1 (exclusive), such as 0.5, or remove it for no credit"
                ),
            });
        }
    }
}

/// Reports a retry penalty where only one attempt counts, because it has no effect there and
/// most likely means a forgotten `attempts` key.
fn check_penalty_has_retries(
    spec: &ScoringSpec,
    attempts: u32,
    problems: &mut Vec<ScoringProblem>,
) {
    let Some(penalty) = &spec.retry_penalty else {
        return;
    };
    if attempts == 1 && *penalty.get_ref() > 0.0 {
        problems.push(ScoringProblem {
            field: "retry_penalty",
            span: penalty.span(),
            message: "retry_penalty has no effect because only one attempt counts; set attempts to 2 or more, or remove retry_penalty".to_owned(),
        });
    }
}

fn check_partial_credit_fits(
    spec: &ScoringSpec,
    kind: QuestionKind,
    problems: &mut Vec<ScoringProblem>,
) {
    let Some(partial) = &spec.partial_credit else {
        return;
    };
    if let Some(concepts) = &partial.get_ref().concepts {
        if kind != QuestionKind::Text {
            problems.push(ScoringProblem {
                field: "partial_credit.concepts",
                span: concepts.span(),
                message: format!(
                    "partial_credit.concepts only applies to `text` questions, and this one is `{kind}`; remove it"
                ),
            });
        }
    }
    if let Some(host) = &partial.get_ref().host {
        if kind != QuestionKind::Url {
            problems.push(ScoringProblem {
                field: "partial_credit.host",
                span: host.span(),
                message: format!(
                    "partial_credit.host only applies to `url` questions, and this one is `{kind}`; remove it"
                ),
            });
        }
    }
}
