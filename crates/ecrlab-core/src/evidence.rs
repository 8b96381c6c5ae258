//! Evidence for grading: what the registry recorded and what it contains now.
//!
//! The journal comes from the mock's admin API (`GET /_ecrlab/journal`), the state from the ECR
//! API (DescribeRepositories and DescribeImages). Checks are pure functions of this value.

pub mod scans;

use serde::{Deserialize, Serialize};

/// Everything a check may look at, collected at one moment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Journal events in the order the mock recorded them.
    pub events: Vec<JournalEvent>,
    /// Repositories with their images, from every region the journal names and from the mock's
    /// default region.
    pub repositories: Vec<RepositoryState>,
}

/// The part of the mock that produced an event: a front end, or the mock itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The ECR JSON API (`POST /` with `X-Amz-Target`), used by the AWS CLI and SDKs.
    EcrApi,
    /// The OCI/Docker Registry v2 API under `/v2/`, used by docker, podman, skopeo and oras.
    Registry,
    /// The mock itself, applying a lifecycle policy.
    Lifecycle,
    /// The mock itself, starting or finishing an image scan (`ImageScanStarted`,
    /// `ImageScanCompleted`).
    Scanner,
    /// A source this version of ecrlab does not know, from a newer mock; checks ignore it.
    #[serde(other)]
    Other,
}

/// Whether the request that produced an event succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Error,
}

/// One journal entry, as `GET /_ecrlab/journal` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEvent {
    /// Position in the journal, starting at 1 and increasing by 1.
    pub seq: u64,
    /// When the mock's clock recorded it, RFC 3339 in UTC.
    pub time: String,
    pub account: String,
    /// The region of the request: the region of the SigV4 credential scope for the ECR API,
    /// the region the token was issued for on the registry, and the mock's default region for
    /// a registry request rejected for its credentials.
    pub region: String,
    pub source: Source,
    /// An ECR operation name (`CreateRepository`, `GetAuthorizationToken`, ...) for the ECR API.
    /// For the registry: `Login`, `BlobUpload`, `ManifestPut`, `ManifestDelete`, or `Access` for
    /// a pull or listing rejected for its credentials.
    pub action: String,
    pub repository: Option<String>,
    /// The tag or digest a registry request named.
    pub reference: Option<String>,
    /// The digest of the blob or manifest involved.
    pub digest: Option<String>,
    /// The `Host` header of the request, for example `localhost:5000`.
    pub host: Option<String>,
    /// The client's `User-Agent` header.
    pub user_agent: Option<String>,
    pub outcome: Outcome,
    /// The ECR exception name or OCI error code when `outcome` is `error`.
    pub error_code: Option<String>,
    pub message: Option<String>,
}

/// A repository and its images, from DescribeRepositories and DescribeImages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryState {
    /// The AWS region the repository belongs to. The mock keeps one set of repositories per
    /// region, so a name is unique only within its region.
    pub region: String,
    pub name: String,
    /// `<registry host>/<name>`, as `repositoryUri` in the ECR API.
    pub uri: String,
    /// `MUTABLE` or `IMMUTABLE`.
    pub tag_mutability: String,
    pub scan_on_push: bool,
    pub images: Vec<ImageState>,
}

/// One image (one manifest digest) in a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageState {
    pub digest: String,
    pub tags: Vec<String>,
    /// Sum of the compressed sizes of the layers, in bytes.
    pub size_bytes: i64,
    pub manifest_media_type: Option<String>,
    /// RFC 3339 in UTC.
    pub pushed_at: Option<String>,
    /// The image's basic scan; `None` when the image was never scanned. Submissions written
    /// before scanning existed have no such member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<ImageScan>,
}

/// The newest basic scan of an image: `imageScanStatus` from DescribeImages, and the findings
/// from DescribeImageScanFindings once the scan is `COMPLETE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageScan {
    /// ECR's `ScanStatus`: `IN_PROGRESS`, `COMPLETE`, `FAILED`, `UNSUPPORTED_IMAGE` and others.
    pub status: String,
    /// `imageScanStatus.description`, such as the reason for `UNSUPPORTED_IMAGE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `imageScanCompletedAt`, RFC 3339 in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Every finding of a `COMPLETE` scan, in the order DescribeImageScanFindings returned
    /// them; empty for other statuses.
    #[serde(default)]
    pub findings: Vec<ScanFinding>,
}

/// The status of a scan that finished and has findings to read.
pub const SCAN_COMPLETE: &str = "COMPLETE";

/// One finding of a basic scan, with the fields grading reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanFinding {
    /// The vulnerability's id, such as `CVE-2024-5535`.
    pub name: String,
    /// ECR's `FindingSeverity`: `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFORMATIONAL` or
    /// `UNDEFINED`.
    pub severity: String,
    /// The `package_name` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_name: Option<String>,
    /// The `package_version` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_version: Option<String>,
}

/// ECR's finding severities, most severe first (ECR API Reference, `FindingSeverity`).
pub const SEVERITIES: [&str; 6] = [
    "CRITICAL",
    "HIGH",
    "MEDIUM",
    "LOW",
    "INFORMATIONAL",
    "UNDEFINED",
];

/// Returns the rank of an ECR finding severity: 5 for `CRITICAL` down to 1 for
/// `INFORMATIONAL`, and 0 for `UNDEFINED` and for names that are not severities.
pub fn severity_rank(severity: &str) -> u8 {
    match severity {
        "CRITICAL" => 5,
        "HIGH" => 4,
        "MEDIUM" => 3,
        "LOW" => 2,
        "INFORMATIONAL" => 1,
        _ => 0,
    }
}

impl ImageScan {
    /// Returns the findings whose severity is `min_severity` or more severe.
    pub fn findings_at_or_above<'a>(
        &'a self,
        min_severity: &'a str,
    ) -> impl Iterator<Item = &'a ScanFinding> + 'a {
        let floor = severity_rank(min_severity);
        self.findings
            .iter()
            .filter(move |finding| severity_rank(&finding.severity) >= floor)
    }

    /// Counts the findings per severity, most severe first, leaving out severities without
    /// findings: `1 CRITICAL, 2 HIGH`.
    pub fn severity_counts(&self) -> String {
        let counts: Vec<String> = SEVERITIES
            .iter()
            .filter_map(|severity| {
                let count = self
                    .findings
                    .iter()
                    .filter(|finding| finding.severity == *severity)
                    .count();
                (count > 0).then(|| format!("{count} {severity}"))
            })
            .collect();
        counts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_source_is_read_as_other() {
        let sources: Vec<Source> = serde_json::from_str(
            r#"["ecr-api", "registry", "lifecycle", "scanner", "replication"]"#,
        )
        .unwrap();
        assert_eq!(
            sources,
            [
                Source::EcrApi,
                Source::Registry,
                Source::Lifecycle,
                Source::Scanner,
                Source::Other
            ]
        );
    }

    #[test]
    fn image_without_scan_member_reads_as_unscanned() {
        let json = r#"{"digest": "sha256:aa", "tags": ["v1"], "sizeBytes": 10, "manifestMediaType": null, "pushedAt": null}"#;
        let image: ImageState = serde_json::from_str(json).unwrap();
        assert_eq!(image.scan, None);

        let written = serde_json::to_value(&image).unwrap();
        assert!(written.get("scan").is_none(), "{written}");
    }

    #[test]
    fn severity_counts_list_most_severe_first() {
        let finding = |name: &str, severity: &str| ScanFinding {
            name: name.to_owned(),
            severity: severity.to_owned(),
            package_name: Some("libssl3".to_owned()),
            package_version: None,
        };
        let scan = ImageScan {
            status: SCAN_COMPLETE.to_owned(),
            description: None,
            completed_at: None,
            findings: vec![
                finding("CVE-2023-3", "LOW"),
                finding("CVE-2023-1", "HIGH"),
                finding("CVE-2023-2", "HIGH"),
                finding("CVE-2023-4", "CRITICAL"),
            ],
        };

        assert_eq!(scan.severity_counts(), "1 CRITICAL, 2 HIGH, 1 LOW");
        let serious: Vec<&str> = scan
            .findings_at_or_above("HIGH")
            .map(|finding| finding.name.as_str())
            .collect();
        assert_eq!(serious, ["CVE-2023-1", "CVE-2023-2", "CVE-2023-4"]);
    }
}
