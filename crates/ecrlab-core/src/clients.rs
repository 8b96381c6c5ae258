//! Clients of the mock ECR: the ECR API through aws-sdk-ecr, the mock's admin API through
//! reqwest, evidence collection for grading, and the `ecrlab env` text.
//!
//! The ECR client is built without aws-config, from [`EcrSettings`] alone, so the same code
//! reaches the mock (with an endpoint URL) and real AWS (without one).

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use aws_sdk_ecr::config::{AppName, BehaviorVersion, Credentials, Region};
use aws_sdk_ecr::error::DisplayErrorContext;
use aws_sdk_ecr::primitives::DateTimeFormat;
use aws_sdk_ecr::types::{
    ImageDetail, ImageIdentifier, ImageScanFinding, ImageScanFindings, Repository,
};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::evidence::{
    Evidence, ImageScan, ImageState, JournalEvent, RepositoryState, SCAN_COMPLETE, ScanFinding,
};

/// The access key ID that the mock accepts by default. It is not an AWS credential.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIAECRLABSTUDENT001";
/// The secret access key that the mock accepts by default. It is not an AWS credential.
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "ecrlab-local-secret-not-for-aws";
/// The region that the mock serves by default.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The `User-Agent` of ecrlab's own HTTP requests, which the mock records in its journal.
pub const USER_AGENT: &str = concat!("ecrlab/", env!("CARGO_PKG_VERSION"));

const ENDPOINT_EXAMPLE: &str = "http://127.0.0.1:5000";
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A failure to reach or understand the mock or the ECR API.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid endpoint URL `{url}`: {problem}")]
    InvalidEndpoint { url: String, problem: String },
    #[error(
        "these settings have no endpoint URL, so there is no mock admin API to call; pass the \
         mock's URL, such as {ENDPOINT_EXAMPLE}"
    )]
    NoEndpoint,
    #[error("creating an HTTP client failed")]
    HttpClient(#[source] reqwest::Error),
    #[error(
        "GET {url} failed; check that the server is running and reachable at that URL (start \
         the mock with `ecrlab serve`)"
    )]
    Request {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("GET {url} returned HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("GET {url} returned a body that is not the expected JSON")]
    Decode {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "POST {url} failed; check that the mock is running and reachable at that URL (start \
         it with `ecrlab serve`)"
    )]
    PostRequest {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("POST {url} returned HTTP {status}: {message}")]
    PostStatus {
        url: String,
        status: u16,
        message: String,
    },
    #[error("POST {url} returned a body that is not the expected JSON")]
    PostDecode {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the mock at {url} reports status `{status}` instead of `ok`")]
    Unhealthy { url: String, status: String },
    #[error("ECR {operation} failed: {}", DisplayErrorContext(error.as_ref()))]
    Ecr {
        operation: &'static str,
        error: Box<aws_sdk_ecr::Error>,
    },
    #[error("ECR {operation} in region {region} failed: {}", DisplayErrorContext(error.as_ref()))]
    EcrInRegion {
        region: String,
        operation: &'static str,
        error: Box<aws_sdk_ecr::Error>,
    },
    #[error("ECR {operation} returned a {item} without `{field}`")]
    MissingField {
        operation: &'static str,
        item: &'static str,
        field: &'static str,
    },
}

impl ClientError {
    /// Wraps an SDK error of `operation`, such as `DescribeImages`.
    pub fn ecr(operation: &'static str, error: impl Into<aws_sdk_ecr::Error>) -> Self {
        ClientError::Ecr {
            operation,
            error: Box::new(error.into()),
        }
    }

    /// Wraps an SDK error of `operation` signed for `region`.
    pub fn ecr_in(
        region: &str,
        operation: &'static str,
        error: impl Into<aws_sdk_ecr::Error>,
    ) -> Self {
        ClientError::EcrInRegion {
            region: region.to_owned(),
            operation,
            error: Box::new(error.into()),
        }
    }
}

/// Connection settings for the ECR API: its endpoint, and the region and credentials that sign
/// requests.
#[derive(Clone, PartialEq, Eq)]
pub struct EcrSettings {
    /// The mock's base URL, such as `http://127.0.0.1:5000`; `None` selects AWS's own endpoint
    /// for the region.
    pub endpoint_url: Option<Url>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl EcrSettings {
    /// Builds settings for the mock at `endpoint_url` with the mock's default credentials and
    /// region.
    pub fn for_mock(endpoint_url: &str) -> Result<Self, ClientError> {
        Ok(EcrSettings {
            endpoint_url: Some(parse_endpoint_url(endpoint_url)?),
            region: DEFAULT_REGION.to_owned(),
            access_key_id: DEFAULT_ACCESS_KEY_ID.to_owned(),
            secret_access_key: DEFAULT_SECRET_ACCESS_KEY.to_owned(),
        })
    }

    /// Builds settings for the mock at `endpoint_url` with the mock's default credentials and
    /// the region that the mock reports in `GET /_ecrlab/health`, and returns that response.
    pub async fn for_running_mock(endpoint_url: &str) -> Result<(Self, Health), ClientError> {
        let mut settings = EcrSettings::for_mock(endpoint_url)?;
        let health = settings.admin_client()?.health().await?;
        settings.region = health.region.clone();
        Ok((settings, health))
    }

    /// Builds settings for real AWS in `region` with static access keys.
    pub fn for_aws(region: &str, access_key_id: &str, secret_access_key: &str) -> Self {
        EcrSettings {
            endpoint_url: None,
            region: region.to_owned(),
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
        }
    }

    /// Returns the endpoint URL without a trailing `/`, as the AWS CLI and SDKs expect it.
    pub fn endpoint_base(&self) -> Option<&str> {
        self.endpoint_url
            .as_ref()
            .map(|url| url.as_str().trim_end_matches('/'))
    }

    /// Starts an aws-sdk-ecr configuration from these settings, without reading the
    /// environment or `~/.aws`. Callers may add to it (tests add a mock HTTP client).
    pub fn ecr_config(&self) -> aws_sdk_ecr::config::Builder {
        let credentials = Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            None,
            None,
            "ecrlab-settings",
        );
        let mut builder = aws_sdk_ecr::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .credentials_provider(credentials);
        if let Ok(app_name) = AppName::new("ecrlab") {
            builder = builder.app_name(app_name);
        }
        if let Some(endpoint) = self.endpoint_base() {
            builder = builder.endpoint_url(endpoint);
        }
        builder
    }

    /// Builds an ECR API client from these settings.
    pub fn ecr_client(&self) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::from_conf(self.ecr_config().build())
    }

    /// Builds a client of the mock's admin API, which needs an endpoint URL.
    pub fn admin_client(&self) -> Result<AdminClient, ClientError> {
        let endpoint = self.endpoint_url.as_ref().ok_or(ClientError::NoEndpoint)?;
        AdminClient::new(endpoint)
    }
}

impl fmt::Debug for EcrSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcrSettings")
            .field("endpoint_url", &self.endpoint_base())
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

/// Shortens an error body for a message: the mock answers in JSON, so an HTML page means that
/// another server answered, which the message says instead of printing the page.
fn describe_error_body(body: &str) -> String {
    let start = body
        .trim_start()
        .get(..15)
        .unwrap_or("")
        .to_ascii_lowercase();
    if start.starts_with("<!doctype html") || start.starts_with("<html") {
        return "an HTML page, so the server at this address is not ecrlab's mock".to_owned();
    }
    truncate(body.lines().next().unwrap_or(""), 300)
}

/// Parses the mock's base URL: `http` or `https`, a host, an optional port and no path.
pub fn parse_endpoint_url(text: &str) -> Result<Url, ClientError> {
    let invalid = |problem: String| ClientError::InvalidEndpoint {
        url: text.to_owned(),
        problem,
    };
    if text.trim().is_empty() {
        return Err(invalid(format!(
            "the URL is empty; use a URL such as {ENDPOINT_EXAMPLE}"
        )));
    }
    if !text.contains("://") {
        return Err(invalid(format!(
            "the URL has no scheme; write it as http://{text}"
        )));
    }
    let url = Url::parse(text)
        .map_err(|error| invalid(format!("{error}; use a URL such as {ENDPOINT_EXAMPLE}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "the scheme `{}` is not http or https; use a URL such as {ENDPOINT_EXAMPLE}",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!(
            "the URL names no host; use a URL such as {ENDPOINT_EXAMPLE}"
        )));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "the mock serves everything from its root, so remove the path, query or fragment, \
             as in {ENDPOINT_EXAMPLE}"
        )));
    }
    Ok(url)
}

/// Builds a reqwest client. `loopback` skips proxies, because reqwest otherwise sends even
/// `127.0.0.1` requests through `HTTP_PROXY`.
pub(crate) fn http_client(
    loopback: bool,
    user_agent: &str,
) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .user_agent(user_agent);
    if loopback {
        builder = builder.no_proxy();
    }
    builder.build().map_err(ClientError::HttpClient)
}

fn is_loopback_name(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|address| address.is_loopback())
}

/// The response body of `GET /_ecrlab/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok` when the mock is serving.
    pub status: String,
    pub account_id: String,
    pub region: String,
    /// The host in repository URIs, such as `localhost:5000`.
    pub registry_host: String,
    /// The ECR API endpoint, such as `http://127.0.0.1:5000`.
    pub endpoint: String,
}

/// The response body of `GET /_ecrlab/clock` and `POST /_ecrlab/clock/advance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockState {
    /// The mock's current time, RFC 3339 in UTC.
    pub now: String,
    /// How far the mock's clock has been moved forward in total, such as `13h` or `1h30m`.
    pub offset: String,
    /// The same offset in seconds.
    pub offset_seconds: i64,
    /// The duration of the advance that returned this state; absent when only read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_by: Option<String>,
}

#[derive(Debug, Deserialize)]
struct JournalPage {
    events: Vec<JournalEvent>,
}

/// A client of the mock's admin API under `/_ecrlab/`.
#[derive(Debug, Clone)]
pub struct AdminClient {
    http: reqwest::Client,
    base_url: String,
}

impl AdminClient {
    /// Builds a client of the mock at `endpoint`, such as `http://127.0.0.1:5000`.
    pub fn new(endpoint: &Url) -> Result<Self, ClientError> {
        Ok(AdminClient {
            http: http_client(
                endpoint.host_str().is_some_and(is_loopback_name),
                USER_AGENT,
            )?,
            base_url: endpoint.as_str().trim_end_matches('/').to_owned(),
        })
    }

    /// Fetches `GET /_ecrlab/health` and checks that the mock reports `ok`.
    pub async fn health(&self) -> Result<Health, ClientError> {
        let url = format!("{}/_ecrlab/health", self.base_url);
        let health: Health = self.get_json(&url).await?;
        if health.status != "ok" {
            return Err(ClientError::Unhealthy {
                url,
                status: health.status,
            });
        }
        Ok(health)
    }

    /// Fetches one page of `GET /_ecrlab/journal?after=<after>`: events whose `seq` is greater
    /// than `after`, in order. The mock limits how many events one response contains.
    pub async fn journal(&self, after: u64) -> Result<Vec<JournalEvent>, ClientError> {
        let url = format!("{}/_ecrlab/journal?after={after}", self.base_url);
        let page: JournalPage = self.get_json(&url).await?;
        Ok(page.events)
    }

    /// Fetches every journal event after `after`, asking again from the last `seq` received
    /// until the mock returns no newer event.
    pub async fn journal_since(&self, after: u64) -> Result<Vec<JournalEvent>, ClientError> {
        let mut events = Vec::new();
        let mut cursor = after;
        loop {
            let newer: Vec<JournalEvent> = self
                .journal(cursor)
                .await?
                .into_iter()
                .filter(|event| event.seq > cursor)
                .collect();
            let Some(last_seq) = newer.iter().map(|event| event.seq).max() else {
                return Ok(events);
            };
            cursor = last_seq;
            events.extend(newer);
        }
    }

    /// Fetches `GET /_ecrlab/clock`: the mock's time and how far its clock has been moved.
    pub async fn clock(&self) -> Result<ClockState, ClientError> {
        let url = format!("{}/_ecrlab/clock", self.base_url);
        self.get_json(&url).await
    }

    /// Moves the mock's clock forward with `POST /_ecrlab/clock/advance?by=<by>`, where `by` is a
    /// duration such as `13h`, `90m`, `1d`, `45s` or `1h30m`. The mock validates `by` and its
    /// rejection message names the value.
    pub async fn advance_clock(&self, by: &str) -> Result<ClockState, ClientError> {
        let url = format!("{}/_ecrlab/clock/advance", self.base_url);
        let request_failed = |source| ClientError::PostRequest {
            url: url.clone(),
            source,
        };
        let response = self
            .http
            .post(&url)
            .query(&[("by", by)])
            .send()
            .await
            .map_err(request_failed)?;
        let status = response.status();
        let body = response.text().await.map_err(request_failed)?;
        if !status.is_success() {
            return Err(ClientError::PostStatus {
                url,
                status: status.as_u16(),
                message: admin_error_message(&body),
            });
        }
        serde_json::from_str(&body).map_err(|source| ClientError::PostDecode { url, source })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, ClientError> {
        let request_failed = |source| ClientError::Request {
            url: url.to_owned(),
            source,
        };
        let response = self.http.get(url).send().await.map_err(request_failed)?;
        let status = response.status();
        let body = response.text().await.map_err(request_failed)?;
        if !status.is_success() {
            return Err(ClientError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
                body: describe_error_body(&body),
            });
        }
        serde_json::from_str(&body).map_err(|source| ClientError::Decode {
            url: url.to_owned(),
            source,
        })
    }
}

/// Returns the `error` member of an admin API error body, or a description of another body.
fn admin_error_message(body: &str) -> String {
    let error = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|value| value.get("error")?.as_str().map(str::to_owned));
    error.unwrap_or_else(|| describe_error_body(body))
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// Collects the evidence that grading reads: the whole journal, then every repository with its
/// images in each region that the journal names and in the mock's default region.
///
/// The mock keeps one set of repositories per region, and a student's tools may work in any
/// region, so the ECR client's own region does not limit the collection.
///
/// The journal is read first, so it does not contain this collection's own DescribeRepositories
/// and DescribeImages calls. It does contain those of earlier collections.
pub async fn collect_evidence(
    ecr: &aws_sdk_ecr::Client,
    admin: &AdminClient,
) -> Result<Evidence, ClientError> {
    let health = admin.health().await?;
    let events = admin.journal_since(0).await?;
    let mut repositories = Vec::new();
    for region in regions_to_describe(&health.region, &events) {
        repositories.extend(collect_repositories(ecr, &region).await?);
    }
    Ok(Evidence {
        events,
        repositories,
    })
}

/// Returns `default_region` followed by every other region the events name, sorted and each
/// once, leaving out regions that aws-sdk-ecr cannot sign requests for.
fn regions_to_describe(default_region: &str, events: &[JournalEvent]) -> Vec<String> {
    let others: BTreeSet<&str> = events
        .iter()
        .map(|event| event.region.as_str())
        .filter(|region| *region != default_region)
        .collect();
    std::iter::once(default_region)
        .chain(others)
        .filter(|region| {
            let valid = is_valid_region_name(region);
            if !valid {
                tracing::warn!(
                    region,
                    "the journal names a region that is not a valid host label, so its \
                     repositories are not graded"
                );
            }
            valid
        })
        .map(str::to_owned)
        .collect()
}

/// Returns whether aws-sdk-ecr accepts `region`: its endpoint rules (aws-sdk-ecr 1.138,
/// `endpoint_lib/host.rs`) require a host label, dots allowed, whose parts are 1 to 63 ASCII
/// letters, digits and hyphens and do not start with a hyphen. The mock accepts any text in
/// a credential scope, so a hand-written `Authorization` header can name other regions.
fn is_valid_region_name(region: &str) -> bool {
    region.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// Describes every repository in `region` and its images, following `nextToken` through all
/// pages. The requests are signed for `region`, whatever region `ecr` was built with.
pub async fn collect_repositories(
    ecr: &aws_sdk_ecr::Client,
    region: &str,
) -> Result<Vec<RepositoryState>, ClientError> {
    let config = ecr
        .config()
        .to_builder()
        .region(Region::new(region.to_owned()))
        .build();
    let ecr = aws_sdk_ecr::Client::from_conf(config);
    let repositories: Vec<Repository> = ecr
        .describe_repositories()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|error| ClientError::ecr_in(region, "DescribeRepositories", error))?;

    let mut states = Vec::with_capacity(repositories.len());
    for repository in &repositories {
        let mut state = repository_state(region, repository)?;
        state.images = describe_images(&ecr, region, &state.name).await?;
        for image in &mut state.images {
            let Some(scan) = image
                .scan
                .as_mut()
                .filter(|scan| scan.status == SCAN_COMPLETE)
            else {
                continue;
            };
            let findings = collect_scan_findings(&ecr, region, &state.name, &image.digest).await?;
            scan.completed_at = findings.completed_at.or(scan.completed_at.take());
            scan.findings = findings.findings;
        }
        states.push(state);
    }
    Ok(states)
}

/// The findings of one completed scan, gathered over every page of DescribeImageScanFindings.
pub(crate) struct CollectedFindings {
    /// `imageScanCompletedAt`, RFC 3339 in UTC.
    pub(crate) completed_at: Option<String>,
    pub(crate) findings: Vec<ScanFinding>,
}

/// Reads every finding of the scan of the image `digest`, following `nextToken` through all
/// pages.
pub(crate) async fn collect_scan_findings(
    ecr: &aws_sdk_ecr::Client,
    region: &str,
    repository: &str,
    digest: &str,
) -> Result<CollectedFindings, ClientError> {
    let image = ImageIdentifier::builder().image_digest(digest).build();
    let mut pages = ecr
        .describe_image_scan_findings()
        .repository_name(repository)
        .image_id(image)
        .into_paginator()
        .send();
    let mut collected = CollectedFindings {
        completed_at: None,
        findings: Vec::new(),
    };
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|error| ClientError::ecr_in(region, "DescribeImageScanFindings", error))?;
        let Some(findings) = page.image_scan_findings() else {
            continue;
        };
        if collected.completed_at.is_none() {
            collected.completed_at = completed_at(findings);
        }
        for finding in findings.findings() {
            collected.findings.push(scan_finding(finding)?);
        }
    }
    Ok(collected)
}

fn completed_at(findings: &ImageScanFindings) -> Option<String> {
    findings
        .image_scan_completed_at()
        .and_then(|time| time.fmt(DateTimeFormat::DateTime).ok())
}

fn scan_finding(finding: &ImageScanFinding) -> Result<ScanFinding, ClientError> {
    let name = finding.name().ok_or(ClientError::MissingField {
        operation: "DescribeImageScanFindings",
        item: "finding",
        field: "name",
    })?;
    let attribute = |key: &str| {
        finding
            .attributes()
            .iter()
            .find(|attribute| attribute.key() == key)
            .and_then(|attribute| attribute.value())
            .map(str::to_owned)
    };
    Ok(ScanFinding {
        name: name.to_owned(),
        // ECR's FindingSeverity includes UNDEFINED, which a finding without one is read as.
        severity: finding
            .severity()
            .map_or("UNDEFINED", |severity| severity.as_str())
            .to_owned(),
        package_name: attribute("package_name"),
        package_version: attribute("package_version"),
    })
}

async fn describe_images(
    ecr: &aws_sdk_ecr::Client,
    region: &str,
    repository: &str,
) -> Result<Vec<ImageState>, ClientError> {
    let details: Vec<ImageDetail> = ecr
        .describe_images()
        .repository_name(repository)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|error| ClientError::ecr_in(region, "DescribeImages", error))?;
    details.iter().map(image_state).collect()
}

/// Converts a repository of `region` without its images, which `collect_repositories` adds.
fn repository_state(region: &str, repository: &Repository) -> Result<RepositoryState, ClientError> {
    let missing = |field| ClientError::MissingField {
        operation: "DescribeRepositories",
        item: "repository",
        field,
    };
    let name = repository
        .repository_name()
        .ok_or_else(|| missing("repositoryName"))?;
    let uri = repository
        .repository_uri()
        .ok_or_else(|| missing("repositoryUri"))?;
    let tag_mutability = repository
        .image_tag_mutability()
        .ok_or_else(|| missing("imageTagMutability"))?;
    // ECR reports scanOnPush false when the repository has no scanning configuration.
    let scan_on_push = repository
        .image_scanning_configuration()
        .is_some_and(|configuration| configuration.scan_on_push());

    Ok(RepositoryState {
        region: region.to_owned(),
        name: name.to_owned(),
        uri: uri.to_owned(),
        tag_mutability: tag_mutability.as_str().to_owned(),
        scan_on_push,
        images: Vec::new(),
    })
}

fn image_state(detail: &ImageDetail) -> Result<ImageState, ClientError> {
    let digest = detail.image_digest().ok_or(ClientError::MissingField {
        operation: "DescribeImages",
        item: "image",
        field: "imageDigest",
    })?;
    let pushed_at = detail
        .image_pushed_at()
        .and_then(|time| time.fmt(DateTimeFormat::DateTime).ok());

    // The findings of a COMPLETE scan are added by `collect_repositories`, from
    // DescribeImageScanFindings.
    let scan = detail.image_scan_status().and_then(|status| {
        Some(ImageScan {
            status: status.status()?.as_str().to_owned(),
            description: status.description().map(str::to_owned),
            completed_at: None,
            findings: Vec::new(),
        })
    });

    Ok(ImageState {
        digest: digest.to_owned(),
        tags: detail.image_tags().to_vec(),
        // NOTE: an image without imageSizeInBytes is recorded with size 0.
        size_bytes: detail.image_size_in_bytes().unwrap_or(0),
        manifest_media_type: detail.image_manifest_media_type().map(str::to_owned),
        pushed_at,
        scan,
    })
}

/// The output of `ecrlab env`.
#[derive(Debug)]
pub struct EnvExports {
    /// `export` lines for a POSIX shell, one variable a line.
    pub script: String,
    /// Advice for AWS CLI versions that ignore `AWS_ENDPOINT_URL`, one sentence without a
    /// comment marker. `eval` drops comments, so the caller decides where it goes.
    pub endpoint_note: String,
    /// How clients reach the mock by an ECR-shaped host name, when the mock answered.
    pub host_mapping: Option<crate::hosts::HostMapping>,
    /// Why the mock's settings could not be read. `script` then contains only the values
    /// derived from the endpoint URL, so that the shell points at the endpoint that did not
    /// respond instead of at AWS.
    pub error: Option<ClientError>,
}

/// Fetches the mock's health and formats the `ecrlab env` exports for it, or the exports that
/// the endpoint alone determines when the mock does not respond.
pub async fn fetch_env_exports(settings: &EcrSettings) -> Result<EnvExports, ClientError> {
    let admin = settings.admin_client()?;
    let (script, host_mapping, error) = match admin.health().await {
        Ok(health) => {
            let mapping = crate::hosts::check_registry_host(
                &health.registry_host,
                &health.account_id,
                &health.region,
            )
            .await;
            (env_script(settings, &health), Some(mapping), None)
        }
        Err(error) => (offline_env_script(settings)?, None, Some(error)),
    };
    Ok(EnvExports {
        script,
        endpoint_note: endpoint_note(settings),
        host_mapping,
        error,
    })
}

/// Formats `export` lines that point the AWS CLI, the SDKs, container tools and ecrlab itself at
/// the mock.
///
/// The endpoint is the URL in `settings` that reached the mock (the mock's own `endpoint` when
/// `settings` has none). The region and registry host come from the mock's health response.
pub fn env_script(settings: &EcrSettings, health: &Health) -> String {
    let endpoint = settings.endpoint_base().unwrap_or(&health.endpoint);
    export_lines(settings, endpoint, &health.region, &health.registry_host)
}

/// Formats the `export` lines of [`env_script`] from the endpoint URL alone, for a mock that
/// does not respond. The region is [`DEFAULT_REGION`], and the registry host is the mock's
/// default `localhost:<port>` for a loopback endpoint and the endpoint's own `host:port`
/// otherwise.
pub fn offline_env_script(settings: &EcrSettings) -> Result<String, ClientError> {
    let url = settings
        .endpoint_url
        .as_ref()
        .ok_or(ClientError::NoEndpoint)?;
    let endpoint = settings.endpoint_base().ok_or(ClientError::NoEndpoint)?;
    let invalid = |problem: &str| ClientError::InvalidEndpoint {
        url: endpoint.to_owned(),
        problem: format!("{problem}; use a URL such as {ENDPOINT_EXAMPLE}"),
    };
    let host = url
        .host_str()
        .ok_or_else(|| invalid("the URL names no host"))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| invalid("the URL names no port"))?;
    let registry_host = if is_loopback_name(host) {
        format!("localhost:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok(export_lines(
        settings,
        endpoint,
        DEFAULT_REGION,
        &registry_host,
    ))
}

fn export_lines(settings: &EcrSettings, endpoint: &str, region: &str, registry: &str) -> String {
    let variables = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", settings.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", settings.secret_access_key.as_str()),
        ("AWS_REGION", region),
        ("AWS_DEFAULT_REGION", region),
        ("ECR_REGISTRY", registry),
        // `ecrlab check` reads this, so it grades the mock that the other variables name.
        ("ECRLAB_ENDPOINT", endpoint),
    ];
    // Each of these would send AWS commands elsewhere or sign them differently, whatever the
    // exports below say: a service-specific endpoint, an instruction to ignore endpoint
    // variables, a session token that belongs with other keys, or a profile's settings.
    let mut script = String::from(
        "unset AWS_ENDPOINT_URL_ECR AWS_IGNORE_CONFIGURED_ENDPOINT_URLS AWS_SESSION_TOKEN AWS_PROFILE\n",
    );
    for (name, value) in variables {
        script.push_str(&format!("export {name}={}\n", shell_quote(value)));
    }
    script
}

/// Returns the advice for AWS CLI versions that ignore `AWS_ENDPOINT_URL`.
pub fn endpoint_note(settings: &EcrSettings) -> String {
    // AWS_ENDPOINT_URL arrived in AWS CLI 1.29.0 and 2.13.0 (aws-cli CHANGELOG, "Configure the
    // endpoint URL in the shared configuration file or via an environment variable").
    format!(
        "AWS CLI versions before 1.29.0 (v1) and 2.13.0 (v2) ignore AWS_ENDPOINT_URL: add \
         --endpoint-url {} to each aws command.",
        shell_quote(settings.endpoint_base().unwrap_or(ENDPOINT_EXAMPLE))
    )
}

/// Reads the output of `aws --version` (`aws-cli/2.9.19 Python/3.11.2 ...`) and returns the
/// version when it is one that ignores `AWS_ENDPOINT_URL`: v1 before 1.29.0 and v2 before
/// 2.13.0 (aws-cli CHANGELOG). Such a CLI sends a student's commands to real AWS.
pub fn aws_cli_ignoring_endpoint_env(version_output: &str) -> Option<String> {
    let version = version_output
        .split_whitespace()
        .find_map(|word| word.strip_prefix("aws-cli/"))?;
    let numbers: Vec<u32> = version
        .split('.')
        .take(2)
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    let [major, minor] = numbers[..] else {
        return None;
    };
    let ignores = match major {
        1 => minor < 29,
        2 => minor < 13,
        _ => false,
    };
    ignores.then(|| version.to_owned())
}

/// Quotes `value` for a POSIX shell, leaving it bare when it contains only safe characters.
fn shell_quote(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:@%+=,".contains(&b));
    if safe {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn old_aws_clis_are_recognised() {
        let cases = [
            (
                "aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12",
                Some("2.9.19"),
            ),
            (
                "aws-cli/1.27.0 Python/3.11.7 Linux/6.18 botocore/1.29.0",
                Some("1.27.0"),
            ),
            (
                "aws-cli/1.45.11 Python/3.11.7 Linux/6.18 botocore/1.43.11",
                None,
            ),
            ("aws-cli/2.13.0 Python/3.11.4", None),
            ("aws-cli/2.31.5 Python/3.13.7", None),
            ("command not found", None),
        ];
        for (output, expected) in cases {
            assert_eq!(
                aws_cli_ignoring_endpoint_env(output).as_deref(),
                expected,
                "{output}"
            );
        }
    }

    #[test]
    fn error_body_of_another_server_is_named_not_printed() {
        let page = "<!DOCTYPE HTML>\n<html lang=\"en\"><head><title>Error</title></head></html>";
        let described = describe_error_body(page);
        assert!(described.contains("not ecrlab's mock"), "{described}");
        assert!(!described.contains("<title>"), "{described}");
        assert_eq!(
            describe_error_body("database is locked\nmore"),
            "database is locked"
        );
    }

    use std::sync::{Arc, Mutex};

    use aws_sdk_ecr::Client;
    use aws_sdk_ecr::operation::describe_images::{DescribeImagesError, DescribeImagesOutput};
    use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
    use aws_sdk_ecr::primitives::DateTime;
    use aws_sdk_ecr::types::error::RepositoryNotFoundException;
    use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability};
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const DIGEST_A: &str =
        "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const DIGEST_B: &str =
        "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn mocked_ecr(rules: &[&Rule]) -> Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let settings = EcrSettings::for_mock("http://127.0.0.1:5000").unwrap();
        let config = settings
            .ecr_config()
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .build();
        Client::from_conf(config)
    }

    fn repository(name: &str, mutability: ImageTagMutability, scan_on_push: bool) -> Repository {
        Repository::builder()
            .repository_name(name)
            .repository_uri(format!("localhost:5000/{name}"))
            .image_tag_mutability(mutability)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(scan_on_push)
                    .build(),
            )
            .build()
    }

    fn image(digest: &str, tags: &[&str], size: i64) -> ImageDetail {
        let mut builder = ImageDetail::builder()
            .image_digest(digest)
            .image_size_in_bytes(size)
            .image_manifest_media_type("application/vnd.oci.image.manifest.v1+json")
            .image_pushed_at(DateTime::from_secs(1_700_000_000));
        for tag in tags {
            builder = builder.image_tags(*tag);
        }
        builder.build()
    }

    #[tokio::test]
    async fn collect_repositories_follows_next_tokens() {
        let first_page = mock!(Client::describe_repositories)
            .match_requests(|request| request.next_token().is_none())
            .then_output(|| {
                DescribeRepositoriesOutput::builder()
                    .repositories(repository("my-app", ImageTagMutability::Immutable, true))
                    .next_token("repositories-2")
                    .build()
            });
        let second_page = mock!(Client::describe_repositories)
            .match_requests(|request| request.next_token() == Some("repositories-2"))
            .then_output(|| {
                DescribeRepositoriesOutput::builder()
                    .repositories(repository("team/empty", ImageTagMutability::Mutable, false))
                    .build()
            });
        let my_app_first = mock!(Client::describe_images)
            .match_requests(|request| {
                request.repository_name() == Some("my-app") && request.next_token().is_none()
            })
            .then_output(|| {
                DescribeImagesOutput::builder()
                    .image_details(image(DIGEST_A, &["latest", "v1"], 1234))
                    .next_token("images-2")
                    .build()
            });
        let my_app_second = mock!(Client::describe_images)
            .match_requests(|request| {
                request.repository_name() == Some("my-app")
                    && request.next_token() == Some("images-2")
            })
            .then_output(|| {
                DescribeImagesOutput::builder()
                    .image_details(image(DIGEST_B, &[], 99))
                    .build()
            });
        let empty_images = mock!(Client::describe_images)
            .match_requests(|request| request.repository_name() == Some("team/empty"))
            .then_output(|| DescribeImagesOutput::builder().build());
        let ecr = mocked_ecr(&[
            &first_page,
            &second_page,
            &my_app_first,
            &my_app_second,
            &empty_images,
        ]);

        let states = collect_repositories(&ecr, "eu-west-1").await.unwrap();

        assert_eq!(first_page.num_calls(), 1);
        assert_eq!(second_page.num_calls(), 1);
        assert_eq!(my_app_first.num_calls(), 1);
        assert_eq!(my_app_second.num_calls(), 1);
        assert_eq!(empty_images.num_calls(), 1);
        let expected = vec![
            RepositoryState {
                region: "eu-west-1".to_owned(),
                name: "my-app".to_owned(),
                uri: "localhost:5000/my-app".to_owned(),
                tag_mutability: "IMMUTABLE".to_owned(),
                scan_on_push: true,
                images: vec![
                    ImageState {
                        digest: DIGEST_A.to_owned(),
                        tags: vec!["latest".to_owned(), "v1".to_owned()],
                        size_bytes: 1234,
                        manifest_media_type: Some(
                            "application/vnd.oci.image.manifest.v1+json".to_owned(),
                        ),
                        pushed_at: Some("2023-11-14T22:13:20Z".to_owned()),
                        scan: None,
                    },
                    ImageState {
                        digest: DIGEST_B.to_owned(),
                        tags: vec![],
                        size_bytes: 99,
                        manifest_media_type: Some(
                            "application/vnd.oci.image.manifest.v1+json".to_owned(),
                        ),
                        pushed_at: Some("2023-11-14T22:13:20Z".to_owned()),
                        scan: None,
                    },
                ],
            },
            RepositoryState {
                region: "eu-west-1".to_owned(),
                name: "team/empty".to_owned(),
                uri: "localhost:5000/team/empty".to_owned(),
                tag_mutability: "MUTABLE".to_owned(),
                scan_on_push: false,
                images: vec![],
            },
        ];
        assert_eq!(states, expected);
    }

    #[tokio::test]
    async fn collect_repositories_names_failed_operation() {
        let repositories = mock!(Client::describe_repositories).then_output(|| {
            DescribeRepositoriesOutput::builder()
                .repositories(repository("my-app", ImageTagMutability::Mutable, false))
                .build()
        });
        let images = mock!(Client::describe_images).then_error(|| {
            DescribeImagesError::RepositoryNotFoundException(
                RepositoryNotFoundException::builder()
                    .message("The repository with name 'my-app' does not exist")
                    .build(),
            )
        });
        let ecr = mocked_ecr(&[&repositories, &images]);

        let error = collect_repositories(&ecr, "eu-west-1").await.unwrap_err();

        let message = error.to_string();
        assert!(
            message.starts_with("ECR DescribeImages in region eu-west-1 failed"),
            "message: {message}"
        );
        assert!(message.contains("does not exist"), "message: {message}");
        assert!(matches!(
            error,
            ClientError::EcrInRegion {
                operation: "DescribeImages",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn collect_repositories_rejects_missing_uri() {
        let repositories = mock!(Client::describe_repositories).then_output(|| {
            DescribeRepositoriesOutput::builder()
                .repositories(
                    Repository::builder()
                        .repository_name("my-app")
                        .image_tag_mutability(ImageTagMutability::Mutable)
                        .build(),
                )
                .build()
        });
        let ecr = mocked_ecr(&[&repositories]);

        let error = collect_repositories(&ecr, "us-east-1").await.unwrap_err();

        assert_eq!(
            error.to_string(),
            "ECR DescribeRepositories returned a repository without `repositoryUri`"
        );
    }

    #[test]
    fn endpoint_url_accepts_base_urls() {
        let cases = [
            ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
            ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
            ("http://localhost:5000", "http://localhost:5000"),
            ("https://ecr.lab.example.com", "https://ecr.lab.example.com"),
        ];
        for (text, base) in cases {
            let settings = EcrSettings::for_mock(text).unwrap();
            assert_eq!(settings.endpoint_base(), Some(base), "endpoint {text}");
        }
    }

    #[test]
    fn endpoint_url_rejects_invalid_urls() {
        let cases = [
            (
                "127.0.0.1:5000",
                "no scheme; write it as http://127.0.0.1:5000",
            ),
            (
                "localhost:5000",
                "no scheme; write it as http://localhost:5000",
            ),
            ("http://[::1", "invalid IPv6 address"),
            (
                "ftp://127.0.0.1:5000",
                "the scheme `ftp` is not http or https",
            ),
            ("http://127.0.0.1:5000/v2/", "remove the path"),
            ("http://127.0.0.1:5000?x=1", "remove the path"),
            ("http://", "empty host"),
        ];
        for (text, problem) in cases {
            let error = EcrSettings::for_mock(text).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("invalid endpoint URL `{text}`")),
                "error for {text}: {error}"
            );
            assert!(error.contains(problem), "error for {text}: {error}");
        }
    }

    #[test]
    fn settings_debug_redacts_secret() {
        let settings = EcrSettings::for_mock("http://127.0.0.1:5000").unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains(DEFAULT_SECRET_ACCESS_KEY), "debug: {debug}");
        assert!(debug.contains(DEFAULT_ACCESS_KEY_ID), "debug: {debug}");
    }

    #[test]
    fn settings_for_aws_have_no_admin_api() {
        let settings = EcrSettings::for_aws("eu-west-1", "AKIAEXAMPLE", "secret");
        assert_eq!(settings.endpoint_base(), None);
        let error = settings.admin_client().unwrap_err();
        assert!(matches!(error, ClientError::NoEndpoint));
        let config = settings.ecr_config().build();
        assert_eq!(config.region().map(Region::as_ref), Some("eu-west-1"));
    }

    fn health(region: &str, registry_host: &str) -> Health {
        Health {
            status: "ok".to_owned(),
            account_id: "123456789012".to_owned(),
            region: region.to_owned(),
            registry_host: registry_host.to_owned(),
            endpoint: "http://127.0.0.1:5000".to_owned(),
        }
    }

    #[test]
    fn env_script_exports_mock_settings() {
        let settings = EcrSettings::for_mock("http://127.0.0.1:5000/").unwrap();
        let script = env_script(&settings, &health("us-east-1", "localhost:5000"));
        let expected = "\
unset AWS_ENDPOINT_URL_ECR AWS_IGNORE_CONFIGURED_ENDPOINT_URLS AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ENDPOINT_URL=http://127.0.0.1:5000
export AWS_ACCESS_KEY_ID=AKIAECRLABSTUDENT001
export AWS_SECRET_ACCESS_KEY=ecrlab-local-secret-not-for-aws
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export ECR_REGISTRY=localhost:5000
export ECRLAB_ENDPOINT=http://127.0.0.1:5000
";
        assert_eq!(script, expected);
    }

    #[test]
    fn endpoint_note_names_endpoint() {
        let settings = EcrSettings::for_mock("http://127.0.0.1:5000/").unwrap();
        assert_eq!(
            endpoint_note(&settings),
            "AWS CLI versions before 1.29.0 (v1) and 2.13.0 (v2) ignore AWS_ENDPOINT_URL: add \
             --endpoint-url http://127.0.0.1:5000 to each aws command."
        );
    }

    #[test]
    fn offline_env_script_uses_endpoint_alone() {
        let settings = EcrSettings::for_mock("http://127.0.0.1:5103").unwrap();
        let script = offline_env_script(&settings).unwrap();
        let expected = "\
unset AWS_ENDPOINT_URL_ECR AWS_IGNORE_CONFIGURED_ENDPOINT_URLS AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ENDPOINT_URL=http://127.0.0.1:5103
export AWS_ACCESS_KEY_ID=AKIAECRLABSTUDENT001
export AWS_SECRET_ACCESS_KEY=ecrlab-local-secret-not-for-aws
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export ECR_REGISTRY=localhost:5103
export ECRLAB_ENDPOINT=http://127.0.0.1:5103
";
        assert_eq!(script, expected);
    }

    #[test]
    fn offline_env_script_registry_hosts() {
        let cases = [
            ("http://localhost:5000", "localhost:5000"),
            ("http://[::1]:5001", "localhost:5001"),
            ("http://127.0.0.1", "localhost:80"),
            ("https://ecr.lab.example.com", "ecr.lab.example.com:443"),
            ("http://10.0.0.7:5000", "10.0.0.7:5000"),
        ];
        for (endpoint, registry) in cases {
            let settings = EcrSettings::for_mock(endpoint).unwrap();
            let script = offline_env_script(&settings).unwrap();
            assert!(
                script.contains(&format!("export ECR_REGISTRY={registry}\n")),
                "endpoint {endpoint}: {script}"
            );
        }
    }

    #[test]
    fn offline_env_script_needs_endpoint() {
        let settings = EcrSettings::for_aws("eu-west-1", "AKIAEXAMPLE", "secret");
        let error = offline_env_script(&settings).unwrap_err();
        assert!(matches!(error, ClientError::NoEndpoint));
    }

    fn event_in(region: &str) -> JournalEvent {
        let mut event: JournalEvent =
            serde_json::from_value(journal_event(1, "CreateRepository")).unwrap();
        event.region = region.to_owned();
        event
    }

    #[test]
    fn regions_to_describe_puts_default_first() {
        let events = [
            event_in("us-east-1"),
            event_in("eu-west-1"),
            event_in("ap-south-1"),
            event_in("eu-west-1"),
        ];
        assert_eq!(
            regions_to_describe("us-east-1", &events),
            ["us-east-1", "ap-south-1", "eu-west-1"]
        );
        assert_eq!(
            regions_to_describe("eu-west-1", &events),
            ["eu-west-1", "ap-south-1", "us-east-1"]
        );
        assert_eq!(regions_to_describe("eu-west-1", &[]), ["eu-west-1"]);
    }

    #[test]
    fn regions_to_describe_skips_invalid_names() {
        let events = [
            event_in("us east 1"),
            event_in("a;b"),
            event_in("-west-1"),
            event_in("eu-west-1"),
            event_in(""),
        ];
        assert_eq!(
            regions_to_describe("us-east-1", &events),
            ["us-east-1", "eu-west-1"]
        );
    }

    #[test]
    fn region_names_follow_host_label_rules() {
        let cases = [
            ("us-east-1", true),
            ("cn-north-1", true),
            ("local.test", true),
            (&"a".repeat(63), true),
            (&"a".repeat(64), false),
            ("", false),
            ("us east 1", false),
            ("us_east_1", false),
            ("-east", false),
            ("eu..west", false),
            ("ü", false),
        ];
        for (region, valid) in cases {
            assert_eq!(is_valid_region_name(region), valid, "region {region:?}");
        }
    }

    #[test]
    fn env_script_quotes_unsafe_values() {
        let mut settings = EcrSettings::for_mock("http://localhost:5000").unwrap();
        settings.secret_access_key = "it's $(secret)".to_owned();
        let script = env_script(&settings, &health("eu-west-2", "localhost:5000"));
        assert!(script.contains("export AWS_SECRET_ACCESS_KEY='it'\\''s $(secret)'\n"));
        assert!(script.contains("export AWS_ENDPOINT_URL=http://localhost:5000\n"));
        assert!(script.contains("export AWS_REGION=eu-west-2\n"));
    }

    #[test]
    fn shell_quote_cases() {
        let cases = [
            ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
            ("", "''"),
            ("a b", "'a b'"),
            ("it's", r"'it'\''s'"),
            ("$HOME", "'$HOME'"),
        ];
        for (value, quoted) in cases {
            assert_eq!(shell_quote(value), quoted, "quoting {value:?}");
        }
    }

    /// A canned HTTP/1.1 server on 127.0.0.1 that responds to each request with `respond(path)` and
    /// records the request targets it received.
    type Responder = fn(&str) -> (u16, String);

    struct CannedServer {
        url: Url,
        requests: Arc<Mutex<Vec<String>>>,
    }

    impl CannedServer {
        async fn start(respond: Responder) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let requests = Arc::new(Mutex::new(Vec::new()));
            let recorded = Arc::clone(&requests);
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let target = read_request_target(&mut stream).await;
                    recorded.lock().unwrap().push(target.clone());
                    let (status, body) = respond(&target);
                    let response = format!(
                        "HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    stream.write_all(response.as_bytes()).await.unwrap();
                    stream.shutdown().await.unwrap();
                }
            });
            CannedServer {
                url: Url::parse(&format!("http://{address}")).unwrap(),
                requests,
            }
        }

        fn requests(&self) -> Vec<String> {
            self.requests.lock().unwrap().clone()
        }
    }

    async fn read_request_target(stream: &mut tokio::net::TcpStream) -> String {
        let mut received = Vec::new();
        let mut buffer = [0u8; 1024];
        while !received.windows(4).any(|w| w == b"\r\n\r\n") {
            let read = stream.read(&mut buffer).await.unwrap();
            if read == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..read]);
        }
        let head = String::from_utf8_lossy(&received);
        let request_line = head.lines().next().unwrap_or_default();
        request_line
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    }

    fn journal_event(seq: u64, action: &str) -> serde_json::Value {
        serde_json::json!({
            "seq": seq,
            "time": "2026-01-01T00:00:00Z",
            "account": "123456789012",
            "region": "us-east-1",
            "source": "ecr-api",
            "action": action,
            "repository": null,
            "reference": null,
            "digest": null,
            "host": "127.0.0.1:5000",
            "userAgent": "aws-cli/2.15.0",
            "outcome": "ok",
            "errorCode": null,
            "message": null,
        })
    }

    /// Serves the journal two events at a time, as the mock does when it limits each response.
    fn paged_journal(target: &str) -> (u16, String) {
        let actions = [
            "CreateRepository",
            "GetAuthorizationToken",
            "DescribeRepositories",
        ];
        let after: u64 = target
            .strip_prefix("/_ecrlab/journal?after=")
            .and_then(|after| after.parse().ok())
            .unwrap_or(u64::MAX);
        let events: Vec<serde_json::Value> = (1..=actions.len() as u64)
            .filter(|seq| *seq > after)
            .take(2)
            .map(|seq| journal_event(seq, actions[seq as usize - 1]))
            .collect();
        (200, serde_json::json!({ "events": events }).to_string())
    }

    #[tokio::test]
    async fn journal_since_follows_pages() {
        let server = CannedServer::start(paged_journal).await;
        let admin = AdminClient::new(&server.url).unwrap();

        let events = admin.journal_since(0).await.unwrap();

        let seqs: Vec<u64> = events.iter().map(|event| event.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(events[1].action, "GetAuthorizationToken");
        assert_eq!(
            server.requests(),
            [
                "/_ecrlab/journal?after=0",
                "/_ecrlab/journal?after=2",
                "/_ecrlab/journal?after=3",
            ]
        );
    }

    /// Ignores `after` and returns the whole journal every time.
    fn unpaged_journal(_target: &str) -> (u16, String) {
        let events = [
            journal_event(1, "CreateRepository"),
            journal_event(2, "ListImages"),
        ];
        (200, serde_json::json!({ "events": events }).to_string())
    }

    #[tokio::test]
    async fn journal_since_stops_without_newer_events() {
        let server = CannedServer::start(unpaged_journal).await;
        let admin = AdminClient::new(&server.url).unwrap();

        let events = admin.journal_since(1).await.unwrap();

        let seqs: Vec<u64> = events.iter().map(|event| event.seq).collect();
        assert_eq!(seqs, [2]);
        assert_eq!(server.requests().len(), 2);
    }

    fn health_responses(target: &str) -> (u16, String) {
        match target {
            "/_ecrlab/health" => (
                200,
                r#"{"status":"ok","accountId":"123456789012","region":"us-east-1",
                   "registryHost":"localhost:5000","endpoint":"http://127.0.0.1:5000"}"#
                    .to_owned(),
            ),
            _ => (404, "no such page".to_owned()),
        }
    }

    #[tokio::test]
    async fn health_reads_mock_response() {
        let server = CannedServer::start(health_responses).await;
        let settings = EcrSettings::for_mock(server.url.as_str()).unwrap();

        let health = settings.admin_client().unwrap().health().await.unwrap();
        let exports = fetch_env_exports(&settings).await.unwrap();

        assert_eq!(health, self::health("us-east-1", "localhost:5000"));
        assert!(exports.error.is_none(), "error: {:?}", exports.error);
        let endpoint = server.url.as_str().trim_end_matches('/');
        let script = exports.script;
        assert!(script.contains("export ECR_REGISTRY=localhost:5000\n"));
        assert!(script.contains(&format!("export AWS_ENDPOINT_URL={endpoint}\n")));
        assert!(script.contains(&format!("export ECRLAB_ENDPOINT={endpoint}\n")));
        assert!(
            exports
                .endpoint_note
                .contains(&format!("--endpoint-url {endpoint} "))
        );
    }

    fn health_in_eu_west_1(target: &str) -> (u16, String) {
        match target {
            "/_ecrlab/health" => (
                200,
                r#"{"status":"ok","accountId":"123456789012","region":"eu-west-1",
                   "registryHost":"localhost:5000","endpoint":"http://127.0.0.1:5000"}"#
                    .to_owned(),
            ),
            _ => (404, "no such page".to_owned()),
        }
    }

    #[tokio::test]
    async fn settings_for_running_mock_take_region_from_health() {
        let server = CannedServer::start(health_in_eu_west_1).await;

        let (settings, health) = EcrSettings::for_running_mock(server.url.as_str())
            .await
            .unwrap();

        assert_eq!(health.region, "eu-west-1");
        assert_eq!(settings.region, "eu-west-1");
        let config = settings.ecr_config().build();
        assert_eq!(config.region().map(Region::as_ref), Some("eu-west-1"));
        assert_eq!(settings.access_key_id, DEFAULT_ACCESS_KEY_ID);
    }

    #[tokio::test]
    async fn env_exports_fall_back_when_mock_is_down() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let endpoint = format!("http://127.0.0.1:{port}");
        let settings = EcrSettings::for_mock(&endpoint).unwrap();

        let exports = fetch_env_exports(&settings).await.unwrap();

        let error = exports.error.expect("an unreachable mock is an error");
        assert!(matches!(error, ClientError::Request { .. }), "{error}");
        assert_eq!(exports.script, offline_env_script(&settings).unwrap());
        assert!(
            exports
                .script
                .contains(&format!("export ECRLAB_ENDPOINT={endpoint}\n"))
        );
        assert!(
            exports
                .script
                .contains(&format!("export ECR_REGISTRY=localhost:{port}\n"))
        );
    }

    #[tokio::test]
    async fn health_rejects_bad_responses() {
        fn unhealthy(_: &str) -> (u16, String) {
            (
                200,
                r#"{"status":"starting","accountId":"1","region":"r","registryHost":"h","endpoint":"e"}"#
                    .to_owned(),
            )
        }
        fn not_json(_: &str) -> (u16, String) {
            (200, "<html>proxy login</html>".to_owned())
        }
        fn server_error(_: &str) -> (u16, String) {
            (500, "database is locked".to_owned())
        }

        let cases: [(Responder, &str); 3] = [
            (unhealthy, "reports status `starting` instead of `ok`"),
            (not_json, "returned a body that is not the expected JSON"),
            (server_error, "returned HTTP 500: database is locked"),
        ];
        for (respond, problem) in cases {
            let server = CannedServer::start(respond).await;
            let admin = AdminClient::new(&server.url).unwrap();
            let error = admin.health().await.unwrap_err().to_string();
            assert!(error.contains("/_ecrlab/health"), "error: {error}");
            assert!(error.contains(problem), "error: {error}");
        }
    }

    #[tokio::test]
    async fn health_reports_unreachable_mock() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        drop(listener);
        let admin = AdminClient::new(&url).unwrap();

        let error = admin.health().await.unwrap_err();

        assert!(matches!(error, ClientError::Request { .. }));
        assert!(
            error
                .to_string()
                .contains("check that the server is running"),
            "error: {error}"
        );
    }
}
