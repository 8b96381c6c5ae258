use std::cmp::Ordering;

use super::VersionError;

/// Compares two versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let _ = (a, b);
    todo!("interface only")
}

/// Checks that a version is valid.
pub fn validate(version: &str) -> Result<(), VersionError> {
    let _ = version;
    todo!("interface only")
}
