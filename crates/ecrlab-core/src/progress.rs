//! A student's progress in one lab, kept between runs: the hint level reached for each step and
//! every graded quiz answer.
//!
//! Progress is stored as JSON in `<state dir>/progress/<lab-id>.json`. The state directory is
//! `$ECRLAB_STATE_DIR` when set, else `$XDG_STATE_HOME/ecrlab`, else `~/.local/state/ecrlab`
//! (the XDG Base Directory Specification's default for `$XDG_STATE_HOME`). A save writes a
//! temporary file in the same folder and renames it over the old one, so an interrupted save
//! leaves the previous file intact.
//!
//! Progress records what the student asked for, never whether a step passed: verdicts always
//! come from a fresh check against the registry's evidence.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::lab::Lab;

/// The variable that overrides the state directory.
pub const STATE_DIR_VARIABLE: &str = "ECRLAB_STATE_DIR";

/// A student's progress in one lab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub lab_id: String,
    /// The lab's version when the progress was last saved.
    pub lab_version: String,
    /// How many of each step's hints the student has been shown, by step id. A step that is
    /// missing has level 0: no hint requested yet.
    #[serde(default)]
    pub hint_levels: BTreeMap<String, usize>,
    /// Every graded answer to each question, by question id, oldest first.
    #[serde(default)]
    pub quiz_attempts: BTreeMap<String, Vec<String>>,
}

/// A progress file that cannot be read, written or removed.
#[derive(Debug, Error)]
pub enum ProgressError {
    #[error(
        "cannot find a folder for progress files: none of {STATE_DIR_VARIABLE}, XDG_STATE_HOME \
         and HOME is set; set {STATE_DIR_VARIABLE} to a writable folder"
    )]
    NoStateDir,
    #[error("failed to read progress file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file exists but is not progress JSON, or belongs to another lab. It is left as it
    /// is, so that nothing the student might want to recover is overwritten.
    #[error(
        "progress file {} is invalid: {problem}; fix the file, or delete it with `ecrlab \
         progress reset` to start the lab's hints and quiz record afresh",
        path.display()
    )]
    Invalid { path: PathBuf, problem: String },
    #[error("failed to write progress file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to delete progress file {}: {source}", path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl Progress {
    /// Returns empty progress for `lab`.
    pub fn new(lab: &Lab) -> Progress {
        Progress {
            lab_id: lab.id.clone(),
            lab_version: lab.version.clone(),
            hint_levels: BTreeMap::new(),
            quiz_attempts: BTreeMap::new(),
        }
    }

    /// Loads the saved progress of `lab` from the state directory, or returns empty progress
    /// when none was saved.
    pub fn load(lab: &Lab) -> Result<Progress, ProgressError> {
        Progress::load_from(&progress_path(&lab.id)?, lab)
    }

    /// Loads the progress of `lab` from `path`, or returns empty progress when the file does
    /// not exist. Progress saved by another version of the lab is kept and takes the lab's
    /// current version.
    pub fn load_from(path: &Path, lab: &Lab) -> Result<Progress, ProgressError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(Progress::new(lab));
            }
            Err(source) => {
                return Err(ProgressError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let invalid = |problem: String| ProgressError::Invalid {
            path: path.to_owned(),
            problem,
        };
        let mut progress: Progress =
            serde_json::from_str(&text).map_err(|error| invalid(error.to_string()))?;
        if progress.lab_id != lab.id {
            return Err(invalid(format!(
                "it records lab {:?}, not {:?}",
                progress.lab_id, lab.id
            )));
        }
        progress.lab_version.clone_from(&lab.version);
        Ok(progress)
    }

    /// Saves the progress to the state directory, creating the folders it needs.
    pub fn save(&self) -> Result<(), ProgressError> {
        self.save_to(&progress_path(&self.lab_id)?)
    }

    /// Saves the progress to `path` by writing a temporary file next to it and renaming it.
    pub fn save_to(&self, path: &Path) -> Result<(), ProgressError> {
        let write_failed = |source| ProgressError::Write {
            path: path.to_owned(),
            source,
        };
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(write_failed)?;
        }
        let mut text = serde_json::to_string_pretty(self)
            .expect("progress contains only strings, numbers and maps with string keys");
        text.push('\n');

        let mut temporary = path.as_os_str().to_owned();
        temporary.push(format!(".tmp-{}", std::process::id()));
        let temporary = PathBuf::from(temporary);
        std::fs::write(&temporary, text).map_err(write_failed)?;
        std::fs::rename(&temporary, path).map_err(|source| {
            let _ = std::fs::remove_file(&temporary);
            write_failed(source)
        })
    }

    /// Returns the hint level reached for `step_id`: how many of its hints were shown.
    pub fn hint_level(&self, step_id: &str) -> usize {
        self.hint_levels.get(step_id).copied().unwrap_or(0)
    }

    pub fn set_hint_level(&mut self, step_id: &str, level: usize) {
        self.hint_levels.insert(step_id.to_owned(), level);
    }

    /// Appends a graded answer to the attempts at `question_id`.
    pub fn record_quiz_attempt(&mut self, question_id: &str, answer: &str) {
        self.quiz_attempts
            .entry(question_id.to_owned())
            .or_default()
            .push(answer.to_owned());
    }
}

/// Deletes the saved progress of the lab `lab_id`. Returns the path and whether a file existed.
pub fn reset(lab_id: &str) -> Result<(PathBuf, bool), ProgressError> {
    let path = progress_path(lab_id)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok((path, true)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok((path, false)),
        Err(source) => Err(ProgressError::Remove { path, source }),
    }
}

/// Returns the path of the progress file of the lab `lab_id`. Lab ids are lowercase
/// kebab-case (the lab validator rejects others), so they are safe as file names.
pub fn progress_path(lab_id: &str) -> Result<PathBuf, ProgressError> {
    Ok(state_dir()?.join("progress").join(format!("{lab_id}.json")))
}

/// Returns the state directory from the environment, as the module documentation describes.
/// An empty variable counts as unset, as the XDG Base Directory Specification requires for
/// `XDG_STATE_HOME`.
fn state_dir() -> Result<PathBuf, ProgressError> {
    let variable = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(folder) = variable(STATE_DIR_VARIABLE) {
        return Ok(PathBuf::from(folder));
    }
    if let Some(folder) = variable("XDG_STATE_HOME") {
        return Ok(PathBuf::from(folder).join("ecrlab"));
    }
    match variable("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".local/state/ecrlab")),
        None => Err(ProgressError::NoStateDir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_loads_empty_progress() {
        let folder = std::env::temp_dir().join(format!("ecrlab-progress-{}", std::process::id()));
        let lab = Lab::builtin_push_to_ecr();
        let progress = Progress::load_from(&folder.join("absent.json"), &lab).unwrap();
        assert_eq!(progress, Progress::new(&lab));
        assert_eq!(progress.hint_level("tag"), 0);
    }

    #[test]
    fn attempts_are_kept_in_order() {
        let mut progress = Progress::new(&Lab::builtin_push_to_ecr());
        progress.record_quiz_attempt("token-validity", "30 minutes");
        progress.record_quiz_attempt("token-validity", "12 hours");
        assert_eq!(
            progress.quiz_attempts["token-validity"],
            ["30 minutes", "12 hours"]
        );
    }
}
