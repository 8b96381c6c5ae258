//! Lab definitions: steps the student performs, how each is checked, hints and the quiz.
//!
//! Labs are TOML files in the format described in `docs/lab-format.md`. Parsing validates
//! everything a lab author can get wrong and reports every problem at once, each with the file,
//! the line and column, the field and the fix. [`lint`] also returns warnings, and [`catalog`]
//! finds labs by id in a labs folder.

pub mod catalog;
mod lint;
mod schema;
mod validate;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::check::CheckKind;
use crate::quiz::Question;
use validate::{RawLab, Validator};

pub use lint::{LintReport, lint, lint_path};

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
    /// The file is not valid TOML, has unknown, missing or mistyped keys, or fails validation.
    /// `problems` contains errors only, never warnings.
    #[error("{}", format_problems(origin, problems))]
    Invalid {
        origin: String,
        problems: Vec<LabProblem>,
    },
}

/// The severity of a [`LabProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The lab cannot be loaded.
    Error,
    /// The lab loads, but students would be served worse by it, for example a step with one hint.
    Warning,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem in a lab file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabProblem {
    pub severity: Severity,
    /// 1-based line of the key or value, or of the header of the table that lacks a key.
    pub line: usize,
    /// 1-based column, counted in bytes like the `toml` crate's spans.
    pub column: usize,
    /// The field's path, such as `steps[2].check` or `questions[0].answer`, or `document`
    /// for a TOML syntax error outside any key.
    pub field: String,
    /// Description of the problem, ending with the fix.
    pub message: String,
}

impl LabProblem {
    pub fn error(
        line: usize,
        column: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> LabProblem {
        LabProblem {
            severity: Severity::Error,
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn warning(
        line: usize,
        column: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> LabProblem {
        LabProblem {
            severity: Severity::Warning,
            ..LabProblem::error(line, column, field, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Formats the problem in the style of compiler diagnostics:
    /// `ORIGIN:LINE:COLUMN: error: FIELD: MESSAGE`.
    pub fn display_at(&self, origin: &str) -> String {
        format!(
            "{origin}:{}:{}: {}: {}: {}",
            self.line,
            self.column,
            self.severity.name(),
            self.field,
            self.message
        )
    }
}

fn format_problems(origin: &str, problems: &[LabProblem]) -> String {
    if let [problem] = problems {
        return problem.display_at(origin);
    }
    let mut text = format!("{origin} has {} problems:", problems.len());
    for problem in problems {
        text.push_str("\n  ");
        text.push_str(&problem.display_at(origin));
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
    /// Warnings do not fail parsing; [`lint`] returns them.
    pub fn parse(text: &str, origin: &str) -> Result<Lab, LabError> {
        let (lab, problems) = analyze(text, origin);
        let errors: Vec<LabProblem> = problems.into_iter().filter(LabProblem::is_error).collect();
        match lab {
            Some(lab) if errors.is_empty() => Ok(lab),
            _ => Err(LabError::Invalid {
                origin: origin.to_owned(),
                problems: errors,
            }),
        }
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|step| step.id == id)
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|question| question.id() == id)
    }
}

/// Checks a lab file in three passes (TOML syntax, the document's shape, then the values) and
/// returns the lab, when it has no errors, with every problem found, errors and warnings, in
/// the order of their position in the file.
fn analyze(text: &str, origin: &str) -> (Option<Lab>, Vec<LabProblem>) {
    let problems = schema::check(text);
    if !problems.is_empty() {
        return (None, problems);
    }
    let raw: RawLab = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(error) => return (None, vec![schema::deserialize_problem(text, &error)]),
    };

    let mut validator = Validator::new(text);
    let lab = validator.lab(raw, origin);
    let mut problems = validator.into_problems();
    problems.sort_by_key(|problem| (problem.line, problem.column, problem.severity));
    let lab = if problems.iter().any(LabProblem::is_error) {
        None
    } else {
        Some(lab)
    };
    (lab, problems)
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
