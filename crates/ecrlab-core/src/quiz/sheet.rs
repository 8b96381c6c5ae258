//! Answers files and quiz results.
//!
//! An answers file is TOML with one key per question id:
//!
//! ```toml
//! token-validity = "12 hours"
//! tags-per-image = 1000
//! ```
//!
//! Values are strings, integers or floats. Questions left out are graded as unanswered.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;
use toml::Spanned;

use super::{Grade, Question};

/// A student's answers, keyed by question id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerSheet {
    origin: String,
    /// Each answer with the 1-based line it is on.
    answers: BTreeMap<String, (String, usize)>,
}

/// A problem with an answers file. Each message names the file, the line and the fix.
#[derive(Debug, Error)]
pub enum AnswerSheetError {
    #[error("failed to read answers file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{origin}:{line}: {message}; an answers file has lines of the form question-id = \"answer\""
    )]
    Syntax {
        origin: String,
        line: usize,
        message: String,
    },
    #[error(
        "{origin}:{line}: the answer to {id:?} is {found}; write it as a string, for example {id} = \"...\""
    )]
    UnsupportedValue {
        origin: String,
        line: usize,
        id: String,
        found: &'static str,
    },
    #[error("{origin}:{line}: no question has the id {id:?}; the lab's question ids are: {known}")]
    UnknownQuestion {
        origin: String,
        line: usize,
        id: String,
        known: String,
    },
}

/// The grades of a whole quiz, in question order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuizReport {
    pub grades: Vec<Grade>,
}

impl QuizReport {
    pub fn correct_count(&self) -> usize {
        self.grades
            .iter()
            .filter(|grade| grade.is_correct())
            .count()
    }

    /// Returns the sum of the grades' scores.
    pub fn score(&self) -> f64 {
        self.grades.iter().map(|grade| grade.score).sum()
    }

    /// Whether every answer is correct.
    pub fn passed(&self) -> bool {
        self.grades.iter().all(Grade::is_correct)
    }
}

impl AnswerSheet {
    pub fn from_path(path: &Path) -> Result<AnswerSheet, AnswerSheetError> {
        let text = std::fs::read_to_string(path).map_err(|source| AnswerSheetError::Read {
            path: path.to_owned(),
            source,
        })?;
        AnswerSheet::parse(&text, &path.display().to_string())
    }

    /// Parses the text of an answers file; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<AnswerSheet, AnswerSheetError> {
        let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
            toml::from_str(text).map_err(|error| AnswerSheetError::Syntax {
                origin: origin.to_owned(),
                line: error.span().map_or(1, |span| line_of(text, span.start)),
                message: error.message().to_owned(),
            })?;

        let mut answers = BTreeMap::new();
        for (id, value) in table {
            let line = line_of(text, value.span().start);
            let answer = match value.into_inner() {
                toml::Value::String(text) => text,
                toml::Value::Integer(number) => number.to_string(),
                toml::Value::Float(number) => number.to_string(),
                other => {
                    return Err(AnswerSheetError::UnsupportedValue {
                        origin: origin.to_owned(),
                        line,
                        id: id.into_inner(),
                        found: other.type_str(),
                    });
                }
            };
            answers.insert(id.into_inner(), (answer, line));
        }
        Ok(AnswerSheet {
            origin: origin.to_owned(),
            answers,
        })
    }

    pub fn answer(&self, question_id: &str) -> Option<&str> {
        self.answers
            .get(question_id)
            .map(|(answer, _)| answer.as_str())
    }

    /// Grades every question. Unreadable answers and missing ones grade as incorrect, with a
    /// note. An id that names no question is an error, since it is most likely a typo that
    /// would otherwise lose a correct answer.
    pub fn grade(&self, questions: &[Question]) -> Result<QuizReport, AnswerSheetError> {
        for (id, (_, line)) in &self.answers {
            if !questions.iter().any(|question| question.id() == id) {
                let known: Vec<&str> = questions.iter().map(Question::id).collect();
                return Err(AnswerSheetError::UnknownQuestion {
                    origin: self.origin.clone(),
                    line: *line,
                    id: id.clone(),
                    known: known.join(", "),
                });
            }
        }

        let grades = questions
            .iter()
            .map(|question| match self.answer(question.id()) {
                None => question.grade_unanswered(),
                Some(answer) => question
                    .grade(answer)
                    .unwrap_or_else(|error| question.grade_unreadable(answer, &error)),
            })
            .collect();
        Ok(QuizReport { grades })
    }
}

/// Returns the 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|byte| **byte == b'\n')
        .count()
        + 1
}
