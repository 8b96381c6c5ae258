//! `ecrlab scan`: scans an image on disk for known vulnerabilities of its operating-system
//! packages, without a server, with the scanner that mock-ecr runs for basic scanning.
//!
//! Exit status:
//!
//! - 0: the scan finished and, with `--fail-on`, found nothing at or above that severity;
//! - 1: the scan found a finding at or above the `--fail-on` severity;
//! - 2: the arguments are invalid;
//! - 3: the image could not be scanned, because the source or the advisory file cannot be read
//!   or the scan ended as `UNSUPPORTED_IMAGE` or `FAILED`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use mock_ecr::scan::ecr_json::{finding_json, severity_counts_json};
use mock_ecr::scan::source::{ImageFormat, ImageSource, read_image_source};
use mock_ecr::scan::{Advisories, CvssVersion, Finding, ScanFailure, ScanReport, Severity};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The exit status when a finding at or above `--fail-on` exists.
pub const EXIT_FINDINGS: u8 = 1;

/// The exit status when the image could not be scanned.
pub const EXIT_NOT_SCANNED: u8 = 3;

#[derive(clap::Args)]
#[command(
    after_help = "Exit status: 0 when the scan finished (and found nothing at or above \
    --fail-on), 1 when it found a finding at or above --fail-on, 2 for invalid arguments, 3 when \
    the image could not be scanned."
)]
pub struct ScanArguments {
    /// The image: an OCI image layout directory, a tar of one (`skopeo copy ... oci-archive:`),
    /// or a `docker save` or `podman save --format docker-archive` archive.
    #[arg(value_name = "IMAGE_SOURCE")]
    source: PathBuf,
    /// Advisory data file to match packages against (TOML, described in docs/scanning.md);
    /// the data bundled with ecrlab when omitted.
    #[arg(long, value_name = "FILE")]
    advisories: Option<PathBuf>,
    /// The image to scan when the source contains several: os/architecture[/variant], such as
    /// linux/arm64. Without it, the only image, or else the linux/amd64 one.
    #[arg(long, value_name = "OS/ARCH", value_parser = parse_platform)]
    platform: Option<String>,
    /// Output format: text (a summary and a table of findings) or json (the imageScanFindings
    /// member of ECR's DescribeImageScanFindings output).
    #[arg(long, value_enum, default_value = "text")]
    format: ScanFormat,
    /// Exit with status 1 when a finding of this severity or a more severe one exists: CRITICAL,
    /// HIGH, MEDIUM, LOW, INFORMATIONAL or UNDEFINED (which counts every finding).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ScanFormat {
    Text,
    Json,
}

/// Parses `--fail-on`, in any case.
fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(&text.to_ascii_uppercase()).ok_or_else(|| {
        let names: Vec<&str> = Severity::ALL
            .iter()
            .map(|severity| severity.as_str())
            .collect();
        format!("invalid severity {text:?}; use one of {}", names.join(", "))
    })
}

/// Checks that `--platform` has the form os/architecture[/variant], so a malformed value is
/// an invalid argument (exit status 2), not an image without that platform.
fn parse_platform(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split('/').collect();
    if (2..=3).contains(&parts.len()) && parts.iter().all(|part| !part.is_empty()) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "invalid platform {text:?}; write os/architecture[/variant], such as linux/amd64 or linux/arm64/v8"
        ))
    }
}

/// A scan that could not produce a report, with the message for standard error.
struct NotScanned(String);

/// Scans the image and prints the report to `out`. Problems that prevent the scan are printed
/// to `err` and end with [`EXIT_NOT_SCANNED`].
pub fn run(
    arguments: &ScanArguments,
    completed_at: OffsetDateTime,
    out: &mut impl Write,
    err: &mut impl Write,
) -> std::io::Result<ExitCode> {
    let (source, advisories, report) = match scan(arguments) {
        Ok(scanned) => scanned,
        Err(NotScanned(message)) => {
            writeln!(err, "ecrlab: error: {message}")?;
            return Ok(ExitCode::from(EXIT_NOT_SCANNED));
        }
    };

    match arguments.format {
        ScanFormat::Text => write!(out, "{}", render_text(&source, &advisories, &report))?,
        ScanFormat::Json => {
            let json = findings_json(&report.findings, &advisories, completed_at);
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        }
    }
    for warning in &report.warnings {
        writeln!(err, "ecrlab: warning: {warning}")?;
    }

    let Some(threshold) = arguments.fail_on else {
        return Ok(ExitCode::SUCCESS);
    };
    let failing = report
        .findings
        .iter()
        .filter(|finding| finding.severity >= threshold)
        .count();
    if failing == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        err,
        "ecrlab: {failing} findings of severity {threshold} or above (--fail-on {threshold})"
    )?;
    Ok(ExitCode::from(EXIT_FINDINGS))
}

/// The advisory data of a scan: the bundled file or one the user loaded.
enum AdvisoryData {
    Bundled(&'static Advisories),
    Loaded(Advisories),
}

impl std::ops::Deref for AdvisoryData {
    type Target = Advisories;

    fn deref(&self) -> &Advisories {
        match self {
            AdvisoryData::Bundled(advisories) => advisories,
            AdvisoryData::Loaded(advisories) => advisories,
        }
    }
}

fn scan(arguments: &ScanArguments) -> Result<(ImageSource, AdvisoryData, ScanReport), NotScanned> {
    let advisories = match &arguments.advisories {
        None => AdvisoryData::Bundled(Advisories::bundled()),
        Some(path) => Advisories::load(path)
            .map(AdvisoryData::Loaded)
            .map_err(|error| NotScanned(error.to_string()))?,
    };
    let source = read_image_source(&arguments.source, arguments.platform.as_deref())
        .map_err(|error| NotScanned(error.to_string()))?;
    let report = mock_ecr::scan::scan_layers(source.layers(), &advisories).map_err(|failure| {
        let path = arguments.source.display();
        NotScanned(match failure {
            ScanFailure::UnsupportedImage(reason) => format!(
                "scan status UNSUPPORTED_IMAGE for {path}: {reason}. The scanner reads the dpkg and apk package databases of Debian, Ubuntu and Alpine images (docs/scanning.md)"
            ),
            ScanFailure::Failed(reason) => format!("scan status FAILED for {path}: {reason}"),
        })
    })?;
    Ok((source, advisories, report))
}

/// Renders the report for a terminal: the image, its operating system, the package count, the
/// count of findings per severity, and a table of the findings.
fn render_text(source: &ImageSource, advisories: &Advisories, report: &ScanReport) -> String {
    let os = &report.os;
    let os_name = match (&os.pretty_name, os.version.is_empty()) {
        (Some(name), _) => name.clone(),
        (None, true) => os.id.clone(),
        (None, false) => format!("{} {}", os.id, os.version),
    };
    // Without a release, no advisory entry can match (see the scan's warnings).
    let matched = if os.version.is_empty() {
        "no release, so no advisory can match".to_owned()
    } else {
        format!("matched as {}", os.distribution())
    };
    let mut text = format!(
        "Image: {}\nOS: {os_name}, {matched}\nPackages: {}\n",
        describe_source(source),
        report.packages.len()
    );
    text.push_str(&format!(
        "Advisories: {} ({} entries, updated {})\n",
        advisories.origin(),
        advisories.len(),
        advisories.updated_at().date()
    ));
    text.push_str(&format!(
        "Findings: {} ({})\n",
        report.findings.len(),
        severity_counts(&report.findings)
    ));

    if !report.findings.is_empty() {
        text.push('\n');
        text.push_str(&findings_table(&report.findings));
    }
    text
}

/// Names the image source with its format and, when known, its platform:
/// `scan.tar (docker archive, linux/amd64)`.
fn describe_source(source: &ImageSource) -> String {
    let format = match source.format() {
        ImageFormat::OciLayout => "OCI image layout",
        ImageFormat::OciArchive => "OCI archive",
        ImageFormat::DockerArchive => "docker archive",
    };
    let platform = source
        .platform()
        .map(|platform| format!(", {platform}"))
        .unwrap_or_default();
    format!("{} ({format}{platform})", source.path().display())
}

/// Counts the findings of every severity, most severe first: `0 CRITICAL, 1 HIGH, ...`.
fn severity_counts(findings: &[Finding]) -> String {
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|severity| {
            let count = findings
                .iter()
                .filter(|finding| finding.severity == *severity)
                .count();
            format!("{count} {severity}")
        })
        .collect();
    counts.join(", ")
}

/// Formats the findings as a table with a header row, columns padded to their widest cell.
fn findings_table(findings: &[Finding]) -> String {
    let header = ["SEVERITY", "CVE", "PACKAGE", "INSTALLED", "FIXED", "CVSS"].map(str::to_owned);
    let rows: Vec<[String; 6]> = findings
        .iter()
        .map(|finding| {
            [
                finding.severity.as_str().to_owned(),
                finding.name.clone(),
                finding.package_name.clone(),
                finding.package_version.clone(),
                finding
                    .fixed_version
                    .clone()
                    .unwrap_or_else(|| "not fixed".to_owned()),
                finding
                    .cvss
                    .as_ref()
                    .map(|cvss| format!("{} ({})", cvss.score, cvss_name(cvss.version)))
                    .unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|cell| cell.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut table = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        table.push_str(cells.join("  ").trim_end());
        table.push('\n');
    }
    table
}

fn cvss_name(version: CvssVersion) -> &'static str {
    match version {
        CvssVersion::V2 => "CVSS2",
        CvssVersion::V3 => "CVSS3",
    }
}

/// Builds the `imageScanFindings` member of DescribeImageScanFindings (ECR API Reference,
/// `ImageScanFindings` and `ImageScanFinding`), with times formatted as the AWS CLI v2 prints
/// them. `findingSeverityCounts` lists only severities that have findings.
fn findings_json(
    findings: &[Finding],
    advisories: &Advisories,
    completed_at: OffsetDateTime,
) -> Value {
    let counts = severity_counts_json(findings);
    let findings: Vec<Value> = findings.iter().map(finding_json).collect();
    json!({
        "imageScanCompletedAt": cli_time(completed_at),
        "vulnerabilitySourceUpdatedAt": cli_time(advisories.updated_at()),
        "findingSeverityCounts": counts,
        "findings": findings,
    })
}

/// Formats a time as the AWS CLI v2 prints timestamps: ISO 8601 with the offset `+00:00`.
fn cli_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    let text = utc
        .replace_nanosecond(0)
        .unwrap_or(utc)
        .format(&Rfc3339)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string());
    match text.strip_suffix('Z') {
        Some(base) => format!("{base}+00:00"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_names_read_in_any_case() {
        assert_eq!(parse_severity("high"), Ok(Severity::High));
        assert_eq!(parse_severity("Critical"), Ok(Severity::Critical));
        let error = parse_severity("severe").unwrap_err();
        assert_eq!(
            error,
            "invalid severity \"severe\"; use one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED"
        );
    }

    #[test]
    fn cli_time_has_utc_offset() {
        let at = time::macros::datetime!(2026-12-05 10:11:12.5 +02:00);
        assert_eq!(cli_time(at), "2026-12-05T08:11:12+00:00");
    }
}
