//! Evidence for grading: what the registry recorded and what it contains now.
//!
//! The journal comes from the mock's admin API (`GET /_ecrlab/journal`), the state from the ECR
//! API (DescribeRepositories and DescribeImages). Checks are pure functions of this value.

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_source_is_read_as_other() {
        let sources: Vec<Source> =
            serde_json::from_str(r#"["ecr-api", "registry", "lifecycle", "replication"]"#).unwrap();
        assert_eq!(
            sources,
            [
                Source::EcrApi,
                Source::Registry,
                Source::Lifecycle,
                Source::Other
            ]
        );
    }
}
