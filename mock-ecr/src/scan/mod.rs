//! An offline scanner for the operating-system packages of container images, in the spirit of
//! ECR's basic scanning.
//!
//! [`scan_layers`] reads an image's layers in order, applies the OCI whiteouts, keeps only the
//! files it needs (os-release and the dpkg or apk package database), and matches the installed
//! packages against an [`Advisories`] file. `docs/scanning.md` describes the steps, the
//! advisory file format and the limits.
//!
//! ```no_run
//! # fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use mock_ecr::scan::{Advisories, scan_layers, source::read_image_source};
//!
//! let image = read_image_source(std::path::Path::new("image.tar"), None)?;
//! let report = scan_layers(image.layers(), Advisories::bundled())?;
//! for finding in &report.findings {
//!     println!("{} {} {}", finding.severity.as_str(), finding.name, finding.package_name);
//! }
//! # Ok(())
//! # }
//! ```

mod advisories;
mod database;
pub mod ecr_json;
mod filesystem;
mod os_release;
pub mod source;
pub mod version;

use std::cmp::Ordering;
use std::fmt;
use std::io::Read;

use serde::{Deserialize, Serialize};

pub use advisories::{Advisories, Advisory, AdvisoryError};

/// One layer of an image: its media type and a reader over its blob.
pub struct Layer<'a> {
    /// The descriptor's media type, which determines whether the tar stream is compressed.
    pub media_type: String,
    /// The layer blob: a tar stream, gzip-compressed or plain as `media_type` specifies.
    pub reader: Box<dyn Read + 'a>,
}

impl<'a> Layer<'a> {
    /// Creates a layer from its media type and a reader over its blob.
    pub fn new(media_type: impl Into<String>, reader: impl Read + 'a) -> Self {
        Self {
            media_type: media_type.into(),
            reader: Box::new(reader),
        }
    }
}

impl fmt::Debug for Layer<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Layer")
            .field("media_type", &self.media_type)
            .finish_non_exhaustive()
    }
}

/// The result of a scan that could read the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanReport {
    pub os: OperatingSystem,
    /// The installed packages, sorted by name.
    pub packages: Vec<Package>,
    /// Sorted by severity (most severe first), then CVE id, then package name. No (CVE,
    /// package) pair occurs twice.
    pub findings: Vec<Finding>,
    /// Remarks on input that the scan skipped or guessed, such as malformed database entries
    /// or an operating system inferred without an os-release file.
    pub warnings: Vec<String>,
}

/// The image's operating system, from os-release (see os-release(5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatingSystem {
    /// The os-release `ID`, such as "debian", "ubuntu" or "alpine".
    pub id: String,
    /// The release used for matching: `VERSION_ID` for Debian ("12") and Ubuntu ("22.04"),
    /// major.minor for Alpine ("3.19" for 3.19.1). Empty when it could not be determined.
    pub version: String,
    /// The os-release `PRETTY_NAME`, such as "Debian GNU/Linux 12 (bookworm)".
    pub pretty_name: Option<String>,
}

impl OperatingSystem {
    /// Returns the key that advisory entries use for this release, such as "debian:12".
    pub fn distribution(&self) -> String {
        format!("{}:{}", self.id, self.version)
    }
}

/// The package manager whose database lists a package, which also fixes its version ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageFormat {
    Dpkg,
    Apk,
}

/// An installed binary package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// The source package it was built from: dpkg's `Source` field (absent when it equals the
    /// binary name) or apk's origin (`o:`).
    pub source_name: Option<String>,
    /// The source version when dpkg's `Source` field gives one in parentheses, because it
    /// differs from the binary version (binNMUs, for example).
    pub source_version: Option<String>,
    pub format: PackageFormat,
}

/// A vulnerability of an installed package, shaped like an ECR basic-scanning finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The CVE id, such as "CVE-2023-5678".
    pub name: String,
    pub description: String,
    pub uri: String,
    pub severity: Severity,
    /// The installed binary package.
    pub package_name: String,
    /// The installed version of `package_name`.
    pub package_version: String,
    pub cvss: Option<Cvss>,
    /// The first version that fixes the vulnerability, or `None` when no fix is released.
    #[serde(default)]
    pub fixed_version: Option<String>,
}

/// A CVSS base score and vector, as the advisory file gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cvss {
    pub version: CvssVersion,
    /// The base score as written in the advisory file, such as "7.5".
    pub score: String,
    /// The vector string, such as "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H".
    pub vector: String,
}

/// The CVSS version of a score, which ECR reports as `CVSS2_SCORE` or `CVSS3_SCORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CvssVersion {
    V2,
    V3,
}

/// A finding's severity, with ECR's names (`FindingSeverity` in the ECR API reference).
///
/// The order is by rank: `Undefined` < `Informational` < `Low` < `Medium` < `High` <
/// `Critical`, so sorting in descending order puts the most severe first and undefined last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
    Undefined,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 6] = [
        Self::Critical,
        Self::High,
        Self::Medium,
        Self::Low,
        Self::Informational,
        Self::Undefined,
    ];

    /// Returns ECR's name for the severity, such as "HIGH".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "INFORMATIONAL",
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
            Self::Undefined => "UNDEFINED",
        }
    }

    /// Parses ECR's name for a severity; the match is exact, in upper case.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|severity| severity.as_str() == name)
    }

    fn rank(self) -> u8 {
        match self {
            Self::Undefined => 0,
            Self::Informational => 1,
            Self::Low => 2,
            Self::Medium => 3,
            Self::High => 4,
            Self::Critical => 5,
        }
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The reason a scan produced no report. The variants match ECR's scan statuses
/// `UNSUPPORTED_IMAGE` and `FAILED`, and the string is the text for the status description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanFailure {
    /// The image was read, but it has no operating system or package database the scanner
    /// supports.
    #[error("unsupported image: {0}")]
    UnsupportedImage(String),
    /// The image could not be read: a corrupt or unsupported layer, or a file over the size
    /// limit.
    #[error("scan failed: {0}")]
    Failed(String),
}

impl ScanFailure {
    /// Returns the human-readable reason without the status prefix.
    pub fn reason(&self) -> &str {
        match self {
            Self::UnsupportedImage(reason) | Self::Failed(reason) => reason,
        }
    }
}

/// Scans an image's layers, given in manifest order (base layer first), and matches the
/// installed packages against `advisories`.
///
/// Returns the first error that the iterator yields. Returns `Failed` when a layer is not a
/// valid tar stream of a supported media type, or when a needed file exceeds the size limit.
/// Returns `UnsupportedImage` when the image has no supported package database, or when its
/// os-release names an unsupported distribution.
pub fn scan_layers<'a>(
    layers: impl IntoIterator<Item = Result<Layer<'a>, ScanFailure>>,
    advisories: &Advisories,
) -> Result<ScanReport, ScanFailure> {
    let files = filesystem::collect_files(layers)?;
    let mut warnings = files.warnings.clone();
    let release = os_release::read_os_release(&files);
    let installed = database::read_installed(&files, release.as_ref(), &mut warnings)?;
    let os = os_release::identify(&files, release, installed.format, &mut warnings)?;
    let findings = advisories.match_packages(&os, &installed.packages);
    Ok(ScanReport {
        os,
        packages: installed.packages,
        findings,
        warnings,
    })
}

#[cfg(test)]
pub(super) mod tests;
