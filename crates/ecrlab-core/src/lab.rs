//! Lab definitions: steps the student performs, how each is checked, hints and the quiz.
//!
//! Labs are TOML files in the format described in `docs/lab-format.md`. Parsing validates
//! everything a lab author can get wrong and reports every problem at once, each with the file,
//! the line, the field and the fix.

mod validate;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::check::CheckKind;
use crate::quiz::Question;
use validate::{RawLab, Validator};

/// The version of the lab file format this code reads, stored in each file's `format` key.
pub const FORMAT_VERSION: u32 = 1;

const BUILTIN_PUSH_TO_ECR: &str = include_str!("../../../labs/push-to-ecr/lab.toml");
const BUILTIN_PUSH_TO_ECR_ORIGIN: &str = "labs/push-to-ecr/lab.toml";

/// A validated lab.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Stable identifier, such as `push-to-ecr`.
    pub id: String,
    pub title: String,
    /// Version of the lab's content, `MAJOR.MINOR.PATCH`; reports carry it.
    pub version: String,
    pub summary: String,
    pub steps: Vec<Step>,
    pub questions: Vec<Question>,
    /// Path or name of the lab's source, for messages.
    pub origin: String,
}

/// One step the student performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub title: String,
    /// The commands the student runs, with explanations.
    pub instructions: String,
    /// The check that verifies the step from the registry's evidence.
    pub check: CheckKind,
    /// Hints in increasing detail; the last one may give the full command.
    pub hints: Vec<String>,
}

/// A lab file that cannot be used.
#[derive(Debug, Error)]
pub enum LabError {
    #[error("failed to read lab file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a field is missing, unknown or of the wrong type.
    #[error("{origin}:{line}:{column}: {message}; docs/lab-format.md lists every field")]
    Syntax {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}", format_problems(origin, problems))]
    Invalid {
        origin: String,
        problems: Vec<LabProblem>,
    },
}

/// One validation problem in a lab file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabProblem {
    /// 1-based line of the field, or of the table that contains it.
    pub line: usize,
    /// The field's path, such as `steps[2].check` or `questions[0].answer`.
    pub field: String,
    /// Description of the problem, ending with the fix.
    pub message: String,
}

fn format_problems(origin: &str, problems: &[LabProblem]) -> String {
    let located = |problem: &LabProblem| {
        format!(
            "{origin}:{}: {}: {}",
            problem.line, problem.field, problem.message
        )
    };
    if let [problem] = problems {
        return located(problem);
    }
    let mut text = format!("{origin} has {} problems:", problems.len());
    for problem in problems {
        text.push_str("\n  ");
        text.push_str(&located(problem));
    }
    text
}

impl Lab {
    /// Returns the push-to-ECR lab that ships inside the binary.
    pub fn builtin_push_to_ecr() -> Lab {
        // The embedded file is validated by the unit tests, so a failure here is a build of
        // a broken lab file, not a user error.
        Lab::parse(BUILTIN_PUSH_TO_ECR, BUILTIN_PUSH_TO_ECR_ORIGIN)
            .unwrap_or_else(|error| panic!("the built-in lab is invalid: {error}"))
    }

    pub fn from_path(path: &Path) -> Result<Lab, LabError> {
        let text = std::fs::read_to_string(path).map_err(|source| LabError::Read {
            path: path.to_owned(),
            source,
        })?;
        Lab::parse(&text, &path.display().to_string())
    }

    /// Parses and validates the text of a lab file; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Lab, LabError> {
        let raw: RawLab = toml::from_str(text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            let (line, column) = line_and_column(text, offset);
            LabError::Syntax {
                origin: origin.to_owned(),
                line,
                column,
                message: error.message().to_owned(),
            }
        })?;

        let mut validator = Validator::new(text);
        let lab = validator.lab(raw, origin);
        let problems = validator.into_problems();
        if problems.is_empty() {
            Ok(lab)
        } else {
            Err(LabError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|step| step.id == id)
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|question| question.id() == id)
    }
}

/// Returns the 1-based line and column of a byte offset in `text`.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |position| position + 1);
    (line, offset.min(text.len()) - line_start + 1)
}

#[cfg(test)]
mod tests;
