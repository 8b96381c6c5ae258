//! The advisory data file: which versions of a distribution's packages each CVE affects.
//!
//! The format is TOML, described field by field in `docs/scanning.md`. A file has a
//! `description`, an `updated` date and `[[advisory]]` entries. Each entry names a CVE, the
//! source package as the distribution's security tracker names it, the release
//! (`debian:12`) and the first fixed version, if any.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::os_release::SUPPORTED_IDS;
use super::version::{VersionError, apk, dpkg};
use super::{Cvss, CvssVersion, Finding, OperatingSystem, Package, Severity};

/// The advisory file shipped with mock-ecr.
const BUNDLED_TEXT: &str = include_str!("../../advisories/bundled.toml");
const BUNDLED_ORIGIN: &str = "mock-ecr/advisories/bundled.toml";

/// The largest advisory file [`Advisories::load`] reads.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A parsed and validated advisory data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisories {
    origin: String,
    description: String,
    updated: OffsetDateTime,
    entries: Vec<Advisory>,
    /// Entry indexes by distribution key, such as "debian:12".
    by_distribution: BTreeMap<String, Vec<usize>>,
}

/// One entry of an advisory file: a CVE in one source package of one distribution release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    /// The CVE id, such as "CVE-2023-5678".
    pub id: String,
    /// The source package as the distribution's tracker names it, such as "openssl".
    pub package: String,
    /// The release, such as "debian:12", "ubuntu:22.04" or "alpine:3.19".
    pub distribution: String,
    /// The first version that fixes the CVE; `None` when no fix is released.
    pub fixed_version: Option<String>,
    pub severity: Severity,
    pub cvss: Option<Cvss>,
    pub description: String,
    pub uri: String,
    /// The pages the entry's facts come from.
    pub sources: Vec<String>,
}

/// An error loading an advisory file.
#[derive(Debug, thiserror::Error)]
pub enum AdvisoryError {
    #[error("cannot read the advisory file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },

    #[error(
        "the advisory file {path} is larger than {} MiB; split it or remove entries",
        MAX_FILE_BYTES / (1024 * 1024)
    )]
    TooLarge { path: String },

    /// The text is not valid TOML, has an unknown field or a value of the wrong type. The
    /// message contains the line and column.
    #[error(
        "the advisory file {origin} is not in the expected format (see docs/scanning.md): {message}"
    )]
    Syntax { origin: String, message: String },

    /// Entries or file fields that break the format's rules, one message each.
    #[error("the advisory file {origin} has {} problem(s):\n{}", problems.len(), Problems(problems))]
    Invalid {
        origin: String,
        problems: Vec<String>,
    },
}

struct Problems<'a>(&'a [String]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str("\n")?;
            }
            write!(formatter, "  - {problem}")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    description: String,
    updated: toml::value::Datetime,
    #[serde(default, rename = "advisory")]
    advisories: Vec<RawAdvisory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdvisory {
    id: String,
    package: String,
    distribution: String,
    fixed_version: Option<String>,
    severity: String,
    cvss_score: Option<RawScore>,
    cvss_vector: Option<String>,
    cvss_version: Option<i64>,
    description: String,
    uri: String,
    source: Option<RawSources>,
}

/// A CVSS score written as a string ("7.5", kept as written) or a TOML float (7.5).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawScore {
    Text(String),
    Number(f64),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawSources {
    One(String),
    Many(Vec<String>),
}

impl Advisories {
    /// Returns the advisory file shipped with mock-ecr, parsed on first use.
    pub fn bundled() -> &'static Advisories {
        static BUNDLED: OnceLock<Advisories> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            // A test parses the same text, so this cannot fail in a tested build.
            Advisories::parse(BUNDLED_TEXT, BUNDLED_ORIGIN)
                .unwrap_or_else(|error| panic!("the bundled advisory file is invalid: {error}"))
        })
    }

    /// Reads and validates an advisory file, such as the one given with `--advisories`.
    pub fn load(path: &Path) -> Result<Advisories, AdvisoryError> {
        let display = path.display().to_string();
        let read_error = |source| AdvisoryError::Read {
            path: display.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read_error)?.len();
        if size > MAX_FILE_BYTES {
            return Err(AdvisoryError::TooLarge { path: display });
        }
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        Self::parse(&text, &display)
    }

    /// Parses and validates advisory TOML. `origin` names the text in error messages, such as
    /// its path.
    pub fn parse(text: &str, origin: &str) -> Result<Advisories, AdvisoryError> {
        let raw: RawFile = toml::from_str(text).map_err(|error| AdvisoryError::Syntax {
            origin: origin.to_owned(),
            message: error.to_string().trim_end().to_owned(),
        })?;

        let mut problems = Vec::new();
        if raw.description.trim().is_empty() {
            problems.push("description: the file's description is empty; say what the file covers and where its data comes from".to_owned());
        }
        let updated = convert_datetime(&raw.updated).unwrap_or_else(|reason| {
            problems.push(format!("updated: {reason}"));
            OffsetDateTime::UNIX_EPOCH
        });

        let mut entries = Vec::with_capacity(raw.advisories.len());
        let mut seen = HashSet::new();
        for (index, raw_entry) in raw.advisories.into_iter().enumerate() {
            let label = format!("advisory {} ({})", index + 1, raw_entry.id);
            match validate_entry(raw_entry) {
                Ok(entry) => {
                    let key = (
                        entry.id.clone(),
                        entry.package.clone(),
                        entry.distribution.clone(),
                    );
                    if seen.insert(key) {
                        entries.push(entry);
                    } else {
                        problems.push(format!(
                            "{label}: duplicate of an earlier entry for package '{}' in '{}'; merge the two entries",
                            entry.package, entry.distribution
                        ));
                    }
                }
                Err(entry_problems) => problems.extend(
                    entry_problems
                        .into_iter()
                        .map(|problem| format!("{label}: {problem}")),
                ),
            }
        }
        if !problems.is_empty() {
            return Err(AdvisoryError::Invalid {
                origin: origin.to_owned(),
                problems,
            });
        }

        let mut by_distribution: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, entry) in entries.iter().enumerate() {
            by_distribution
                .entry(entry.distribution.clone())
                .or_default()
                .push(index);
        }
        Ok(Advisories {
            origin: origin.to_owned(),
            description: raw.description,
            updated,
            entries,
            by_distribution,
        })
    }

    /// Returns the file's `updated` date, which ECR reports as `vulnerabilitySourceUpdatedAt`.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.updated
    }

    /// Returns the path or name the file was loaded from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Returns the file's `description`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Returns the entries in file order.
    pub fn entries(&self) -> &[Advisory] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the findings for `packages` of the release `os`, sorted most severe first, then
    /// by CVE id and package name, with each (CVE, package) pair once.
    ///
    /// An entry applies to a package whose source name, or else own name, equals the entry's
    /// `package`. The package is affected when the entry has no fixed version, or when its
    /// version sorts before the fixed version in the distribution's ordering. The version
    /// compared is dpkg's source version when the status file records one (it does only when
    /// it differs from the binary version) and the binary version otherwise.
    pub fn match_packages(&self, os: &OperatingSystem, packages: &[Package]) -> Vec<Finding> {
        let Some(indexes) = self.by_distribution.get(&os.distribution()) else {
            return Vec::new();
        };
        let mut findings = Vec::new();
        for package in packages {
            let source_name = package.source_name.as_deref().unwrap_or(&package.name);
            let compared_version = package
                .source_version
                .as_deref()
                .unwrap_or(&package.version);
            for entry in indexes.iter().map(|&index| &self.entries[index]) {
                if entry.package != source_name && entry.package != package.name {
                    continue;
                }
                let affected = entry
                    .fixed_version
                    .as_deref()
                    .is_none_or(|fixed| compare_versions(&os.id, compared_version, fixed).is_lt());
                if affected {
                    findings.push(entry.finding_for(package));
                }
            }
        }
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.package_name.cmp(&b.package_name))
        });
        findings.dedup_by(|a, b| a.name == b.name && a.package_name == b.package_name);
        findings
    }
}

impl Advisory {
    fn finding_for(&self, package: &Package) -> Finding {
        Finding {
            name: self.id.clone(),
            description: self.description.clone(),
            uri: self.uri.clone(),
            severity: self.severity,
            package_name: package.name.clone(),
            package_version: package.version.clone(),
            cvss: self.cvss.clone(),
            fixed_version: self.fixed_version.clone(),
        }
    }
}

/// Compares two versions with the ordering of the distribution `os_id`.
fn compare_versions(os_id: &str, a: &str, b: &str) -> std::cmp::Ordering {
    if os_id == "alpine" {
        apk::compare(a, b)
    } else {
        dpkg::compare(a, b)
    }
}

fn validate_version(os_id: &str, version: &str) -> Result<(), VersionError> {
    if os_id == "alpine" {
        apk::validate(version)
    } else {
        dpkg::validate(version)
    }
}

/// Converts TOML's `updated` value: a date (midnight UTC) or a date-time with an offset.
fn convert_datetime(value: &toml::value::Datetime) -> Result<OffsetDateTime, String> {
    let invalid = |reason: &str| format!("'{value}' {reason}; write a date such as 2024-05-01");
    let date = value.date.ok_or_else(|| invalid("has no date"))?;
    let month = Month::try_from(date.month).map_err(|_| invalid("has an invalid month"))?;
    let date = Date::from_calendar_date(i32::from(date.year), month, date.day)
        .map_err(|_| invalid("is not a valid date"))?;
    let time = match value.time {
        Some(time) => Time::from_hms_nano(time.hour, time.minute, time.second, time.nanosecond)
            .map_err(|_| invalid("has an invalid time"))?,
        None => Time::MIDNIGHT,
    };
    let offset = match value.offset {
        None | Some(toml::value::Offset::Z) => UtcOffset::UTC,
        Some(toml::value::Offset::Custom { minutes }) => {
            UtcOffset::from_whole_seconds(i32::from(minutes) * 60)
                .map_err(|_| invalid("has an invalid offset"))?
        }
    };
    if value.time.is_some() && value.offset.is_none() {
        return Err(invalid("is a local date-time without an offset"));
    }
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// Checks one entry and converts it, or returns every problem found.
fn validate_entry(raw: RawAdvisory) -> Result<Advisory, Vec<String>> {
    let mut problems = Vec::new();

    if !is_cve_id(&raw.id) {
        problems.push(format!(
            "id '{}' is not a CVE id; write it as CVE-YYYY-NNNN (four or more digits after the year)",
            raw.id
        ));
    }
    if raw.package.is_empty() || raw.package.contains(char::is_whitespace) {
        problems.push(format!(
            "package '{}' must be a source package name without spaces, such as 'openssl'",
            raw.package
        ));
    }
    let os_id = match check_distribution(&raw.distribution) {
        Ok(os_id) => Some(os_id),
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    if let (Some(os_id), Some(fixed)) = (os_id, raw.fixed_version.as_deref()) {
        if let Err(error) = validate_version(os_id, fixed) {
            problems.push(format!(
                "fixed_version: {error}; write the version exactly as the distribution's tracker gives it, or omit the field when no fix is released"
            ));
        }
    }
    let severity = Severity::parse(&raw.severity);
    if severity.is_none() {
        problems.push(format!(
            "severity '{}' is not one of ECR's severities; use one of {}",
            raw.severity,
            Severity::ALL.map(Severity::as_str).join(", ")
        ));
    }
    let cvss =
        check_cvss(raw.cvss_score, raw.cvss_vector, raw.cvss_version).unwrap_or_else(|problem| {
            problems.push(problem);
            None
        });
    if raw.description.trim().is_empty() {
        problems.push("description is empty; give a one-sentence summary of the CVE".to_owned());
    }
    if !(raw.uri.starts_with("https://") || raw.uri.starts_with("http://")) {
        problems.push(format!(
            "uri '{}' must be an http(s) URL, such as https://security-tracker.debian.org/tracker/{}",
            raw.uri, raw.id
        ));
    }
    let sources = match raw.source {
        None => Vec::new(),
        Some(RawSources::One(source)) => vec![source],
        Some(RawSources::Many(sources)) => sources,
    };
    if sources.iter().any(|source| source.trim().is_empty()) {
        problems.push(
            "source contains an empty string; name the page(s) the facts come from".to_owned(),
        );
    }

    match severity {
        Some(severity) if problems.is_empty() => Ok(Advisory {
            id: raw.id,
            package: raw.package,
            distribution: raw.distribution,
            fixed_version: raw.fixed_version,
            severity,
            cvss,
            description: raw.description.trim().to_owned(),
            uri: raw.uri,
            sources,
        }),
        _ => Err(problems),
    }
}

fn is_cve_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    let all_digits = |text: &str| text.bytes().all(|byte| byte.is_ascii_digit());
    year.len() == 4 && all_digits(year) && number.len() >= 4 && all_digits(number)
}

/// Checks a distribution key such as "debian:12" and returns its os-release `ID`.
fn check_distribution(distribution: &str) -> Result<&'static str, String> {
    let examples = "debian:12, ubuntu:22.04 or alpine:3.19";
    let Some((id, release)) = distribution.split_once(':') else {
        return Err(format!(
            "distribution '{distribution}' must be ID:RELEASE, such as {examples}"
        ));
    };
    let Some(os_id) = SUPPORTED_IDS.into_iter().find(|supported| *supported == id) else {
        return Err(format!(
            "distribution '{distribution}' names '{id}', which the scanner does not support; use {}",
            SUPPORTED_IDS.join(", ")
        ));
    };
    let numbers: Vec<&str> = release.split('.').collect();
    let all_numbers = numbers
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()));
    let expected_parts = match os_id {
        "debian" => 1,
        _ => 2,
    };
    if !all_numbers || numbers.len() != expected_parts {
        let form = match os_id {
            "debian" => "the major release, such as debian:12",
            "ubuntu" => "YY.MM, such as ubuntu:22.04",
            _ => "the major.minor branch, such as alpine:3.19",
        };
        return Err(format!(
            "distribution '{distribution}' has an invalid release; write {form}"
        ));
    }
    Ok(os_id)
}

/// Checks the three CVSS fields, which must be given together or not at all.
fn check_cvss(
    score: Option<RawScore>,
    vector: Option<String>,
    version: Option<i64>,
) -> Result<Option<Cvss>, String> {
    let (score, vector, version) = match (score, vector, version) {
        (None, None, None) => return Ok(None),
        (Some(score), Some(vector), Some(version)) => (score, vector, version),
        _ => {
            return Err(
                "cvss_score, cvss_vector and cvss_version must be given together or not at all"
                    .to_owned(),
            );
        }
    };
    let score = match score {
        RawScore::Text(text) => text,
        RawScore::Number(number) => format!("{number:.1}"),
    };
    let valid_score = score.len() <= 4
        && score
            .parse::<f64>()
            .is_ok_and(|value| (0.0..=10.0).contains(&value));
    if !valid_score {
        return Err(format!(
            "cvss_score '{score}' must be a base score from 0.0 to 10.0, such as \"7.5\""
        ));
    }
    let version = match version {
        2 => CvssVersion::V2,
        3 => CvssVersion::V3,
        other => {
            return Err(format!("cvss_version {other} is not supported; use 2 or 3"));
        }
    };
    let vector_matches = match version {
        CvssVersion::V3 => vector.starts_with("CVSS:3.0/") || vector.starts_with("CVSS:3.1/"),
        CvssVersion::V2 => vector.starts_with("AV:") || vector.starts_with("(AV:"),
    };
    if !vector_matches {
        return Err(format!(
            "cvss_vector '{vector}' does not match cvss_version; a version 3 vector starts with 'CVSS:3.1/' or 'CVSS:3.0/', a version 2 vector with 'AV:'"
        ));
    }
    Ok(Some(Cvss {
        version,
        score,
        vector,
    }))
}

#[cfg(test)]
mod tests;
