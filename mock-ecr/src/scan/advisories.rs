//! The advisory data file: which package versions of which distribution a CVE affects.

use std::path::Path;

use time::OffsetDateTime;

use super::{Finding, OperatingSystem, Package};

/// A parsed and validated advisory data file.
#[derive(Debug, Clone, PartialEq)]
pub struct Advisories {
    origin: String,
    description: String,
    updated: OffsetDateTime,
    entries: Vec<Advisory>,
}

/// One entry of an advisory file: a CVE in one source package of one distribution release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    pub id: String,
    pub package: String,
    pub distribution: String,
    pub fixed_version: Option<String>,
}

/// Why an advisory file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AdvisoryError {
    #[error("cannot read the advisory file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

impl Advisories {
    /// Returns the advisory file shipped with mock-ecr, parsed on first use.
    pub fn bundled() -> &'static Advisories {
        todo!("interface only")
    }

    /// Reads and validates an advisory file.
    pub fn load(path: &Path) -> Result<Advisories, AdvisoryError> {
        let _ = path;
        todo!("interface only")
    }

    /// Parses and validates advisory TOML; `origin` names the text's source in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Advisories, AdvisoryError> {
        let _ = (text, origin);
        todo!("interface only")
    }

    /// Returns the file's `updated` date, which ECR reports as `vulnerabilitySourceUpdatedAt`.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.updated
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn match_packages(
        &self,
        os: &OperatingSystem,
        packages: &[Package],
    ) -> Vec<Finding> {
        let _ = (os, packages, &self.origin, &self.description);
        todo!("interface only")
    }
}
