//! The available labs: the built-in push-to-ECR lab and the `*/lab.toml` files of a labs
//! folder, and the lookup of a lab by id or path.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{
    BUILTIN_PUSH_TO_ECR, BUILTIN_PUSH_TO_ECR_ORIGIN, Lab, LabError, LintReport, lint, lint_path,
};

/// The name of the lab file inside each lab's folder.
pub const LAB_FILE_NAME: &str = "lab.toml";

/// The source of a lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabSource {
    /// Compiled into ecrlab.
    BuiltIn,
    /// Compiled into ecrlab, and identical to this file of the labs folder, which the catalog
    /// therefore lists once.
    BuiltInSameAs(PathBuf),
    File(PathBuf),
}

impl LabSource {
    /// Returns the source as listings print it: `built-in`, `built-in, same as PATH` or the
    /// file's path.
    pub fn describe(&self) -> String {
        match self {
            LabSource::BuiltIn => "built-in".to_owned(),
            LabSource::BuiltInSameAs(path) => format!("built-in, same as {}", path.display()),
            LabSource::File(path) => path.display().to_string(),
        }
    }
}

/// One lab of a catalog, valid or not.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub source: LabSource,
    /// The lint result, which contains the lab when the file has no errors.
    pub report: LintReport,
}

/// A catalog that cannot be read, or a lab that cannot be found in it.
#[derive(Debug, Error)]
pub enum CatalogError {
    #[error("failed to read the labs folder {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Lab(#[from] super::LabError),
    #[error(
        "no lab has id {id:?}; `ecrlab lab list` shows the known labs, or give the path of a lab file"
    )]
    NotFound { id: String },
    #[error("{}", format_invalid(report))]
    Invalid { report: Box<LintReport> },
}

fn format_invalid(report: &LintReport) -> String {
    let errors: Vec<String> = report
        .problems
        .iter()
        .filter(|problem| problem.is_error())
        .map(|problem| problem.display_at(&report.origin))
        .collect();
    format!(
        "{} is invalid; `ecrlab lab lint {}` lists every problem:\n  {}",
        report.origin,
        report.origin,
        errors.join("\n  ")
    )
}

/// The available labs, the built-in lab first and then the folder's labs by path.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub entries: Vec<CatalogEntry>,
}

impl Catalog {
    /// Builds the catalog of the built-in lab and every `*/lab.toml` directly under `folder`.
    /// A lab file that does not load is kept, with its problems, so listings can show it. A
    /// file whose text equals the built-in lab's, as in a checkout of ecrlab's own `labs`
    /// folder, is not listed again, because the built-in entry names it.
    pub fn discover(folder: Option<&Path>) -> Result<Catalog, CatalogError> {
        let mut builtin = builtin_entry();
        let mut entries = Vec::new();
        if let Some(folder) = folder {
            for path in lab_files(folder)? {
                let text = std::fs::read_to_string(&path).map_err(|source| LabError::Read {
                    path: path.clone(),
                    source,
                })?;
                if builtin.source == LabSource::BuiltIn && is_builtin_text(&text) {
                    builtin.source = LabSource::BuiltInSameAs(path);
                    continue;
                }
                entries.push(CatalogEntry {
                    report: lint(&text, &path.display().to_string()),
                    source: LabSource::File(path),
                });
            }
        }
        entries.insert(0, builtin);
        Ok(Catalog { entries })
    }

    /// Returns the valid labs with this id and their sources, in catalog order.
    pub fn with_id(&self, id: &str) -> Vec<(&LabSource, &Lab)> {
        self.entries
            .iter()
            .filter_map(|entry| Some((&entry.source, entry.report.lab.as_ref()?)))
            .filter(|(_, lab)| lab.id == id)
            .collect()
    }
}

fn builtin_entry() -> CatalogEntry {
    CatalogEntry {
        source: LabSource::BuiltIn,
        report: lint(BUILTIN_PUSH_TO_ECR, BUILTIN_PUSH_TO_ECR_ORIGIN),
    }
}

/// Returns whether `text` is the built-in lab's file, ignoring the difference between CRLF and
/// LF line endings that a checkout can introduce.
fn is_builtin_text(text: &str) -> bool {
    text.replace("\r\n", "\n") == BUILTIN_PUSH_TO_ECR.replace("\r\n", "\n")
}

/// Returns the paths of `folder/*/lab.toml`, sorted.
pub fn lab_files(folder: &Path) -> Result<Vec<PathBuf>, CatalogError> {
    let folder_error = |source| CatalogError::Folder {
        path: folder.to_owned(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(folder_error)? {
        let path = entry.map_err(folder_error)?.path().join(LAB_FILE_NAME);
        if path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The outcome of looking a lab up by id or path.
#[derive(Debug)]
pub struct Found {
    pub lab: Lab,
    pub source: LabSource,
    /// The sources of the other valid labs with the same id, when the lookup was by id.
    pub shadowed: Vec<LabSource>,
}

/// Finds a lab by path, when `reference` names an existing file or folder, or else by id in
/// the catalog of `folder`. Of several labs with one id, the first in catalog order is
/// returned, so the built-in lab wins over a folder's changed copy of it.
pub fn find(reference: &str, folder: Option<&Path>) -> Result<Found, CatalogError> {
    let path = Path::new(reference);
    if path.exists() {
        let file = if path.is_dir() {
            path.join(LAB_FILE_NAME)
        } else {
            path.to_owned()
        };
        let report = lint_path(&file)?;
        return match report.lab {
            Some(lab) => Ok(Found {
                lab,
                source: LabSource::File(file),
                shadowed: Vec::new(),
            }),
            None => Err(CatalogError::Invalid {
                report: Box::new(report),
            }),
        };
    }

    let catalog = Catalog::discover(folder)?;
    let mut matches = catalog.with_id(reference).into_iter();
    let Some((source, lab)) = matches.next() else {
        return Err(CatalogError::NotFound {
            id: reference.to_owned(),
        });
    };
    Ok(Found {
        lab: lab.clone(),
        source: source.clone(),
        shadowed: matches.map(|(other, _)| other.clone()).collect(),
    })
}
