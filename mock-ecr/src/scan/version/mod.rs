//! Version ordering of the package managers the scanner supports.

pub mod apk;
pub mod dpkg;

/// Why a version string is invalid for a package manager's ordering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {format} version '{version}': {reason}")]
pub struct VersionError {
    pub format: &'static str,
    pub version: String,
    pub reason: String,
}
