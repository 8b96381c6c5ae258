//! Linting of lab files: every error and warning, each with its line and column, for authors
//! and for CI.

use std::path::Path;

use super::{Lab, LabError, LabProblem, Severity, analyze};

/// The result of linting one lab file.
#[derive(Debug, Clone)]
pub struct LintReport {
    /// Path or name of the file, as messages print it.
    pub origin: String,
    /// The lab, when the file has no errors.
    pub lab: Option<Lab>,
    /// Errors and warnings in the order of their position in the file.
    pub problems: Vec<LabProblem>,
}

impl LintReport {
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    /// Returns `true` when the file has no errors; warnings do not count.
    pub fn is_valid(&self) -> bool {
        self.lab.is_some()
    }

    fn count(&self, severity: Severity) -> usize {
        self.problems
            .iter()
            .filter(|problem| problem.severity == severity)
            .count()
    }
}

/// Lints the text of a lab file; `origin` names it in messages.
pub fn lint(text: &str, origin: &str) -> LintReport {
    let (lab, problems) = analyze(text, origin);
    LintReport {
        origin: origin.to_owned(),
        lab,
        problems,
    }
}

/// Reads and lints a lab file. Fails only when the file cannot be read.
pub fn lint_path(path: &Path) -> Result<LintReport, LabError> {
    let text = std::fs::read_to_string(path).map_err(|source| LabError::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(lint(&text, &path.display().to_string()))
}

#[cfg(test)]
mod tests;
