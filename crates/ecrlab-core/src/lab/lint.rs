//! Linting of lab files: every error and warning, each with its line and column, for authors
//! and for CI.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::catalog::LAB_FILE_NAME;
use super::{Lab, LabError, LabProblem, Severity, analyze, line_and_column};

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
///
/// A file named `lab.toml` also gets a warning when the lab's `id` differs from the name of
/// its folder, because `ecrlab lab show ID` finds a lab by its id while `ecrlab lab list`
/// shows the folders.
pub fn lint_path(path: &Path) -> Result<LintReport, LabError> {
    let text = std::fs::read_to_string(path).map_err(|source| LabError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut report = lint(&text, &path.display().to_string());
    if let Some(problem) = folder_name_problem(&text, path) {
        report.problems.push(problem);
        report
            .problems
            .sort_by_key(|problem| (problem.line, problem.column, problem.severity));
    }
    Ok(report)
}

/// The part of a lab file that the folder name check reads.
#[derive(Deserialize)]
struct IdOnly {
    id: Spanned<String>,
}

/// Returns a warning when `path` is a `lab.toml` whose folder is not named after the lab's
/// `id`. Files with other names, and files whose `id` cannot be read, get none.
fn folder_name_problem(text: &str, path: &Path) -> Option<LabProblem> {
    if path.file_name()? != LAB_FILE_NAME {
        return None;
    }
    // `lab.toml` and `./lab.toml` name no folder, so the folder comes from the absolute path.
    let absolute = std::fs::canonicalize(path).ok()?;
    let folder = absolute.parent()?.file_name()?.to_str()?;
    let id = toml::from_str::<IdOnly>(text).ok()?.id;
    if id.get_ref() == folder {
        return None;
    }
    let (line, column) = line_and_column(text, id.span().start);
    Some(LabProblem::warning(
        line,
        column,
        "id",
        format!(
            "the lab's id {:?} differs from its folder name {folder:?}; rename the folder or \
             the id so that they match, as `ecrlab lab show ID` finds labs by id",
            id.get_ref()
        ),
    ))
}

#[cfg(test)]
mod tests;
