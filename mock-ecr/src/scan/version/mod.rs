//! Version ordering of the package managers the scanner supports.

pub mod apk;
pub mod dpkg;

/// An error for a version string that breaks a package manager's version syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {format} version '{version}': {reason}")]
pub struct VersionError {
    pub format: &'static str,
    pub version: String,
    pub reason: String,
}
