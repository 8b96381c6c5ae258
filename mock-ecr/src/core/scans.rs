//! Basic image scanning: scan on push, StartImageScan, the findings of each image, and the
//! registry scanning configuration.
//!
//! A scan is a row in `image_scans` that starts `IN_PROGRESS` in the transaction that stores
//! the image (scan on push) or in StartImageScan's transaction, and a job for the scan worker
//! ([`Registry::run_scans`]). The worker reads the image's layers from the blob store, runs
//! [`crate::scan::scan_layers`] with the mock's advisory data, and stores the result. A scan
//! that a stop interrupted is still `IN_PROGRESS` in the database, and the worker runs it
//! again after the next start.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Caller, Event, Registry, Source};
use crate::clock::{from_unix_millis, rfc3339, unix_millis};
use crate::digest::Digest;
use crate::error::CoreError;
use crate::manifest::{Descriptor, Manifest, ManifestKind};
use crate::scan::{Advisories, Finding, Layer, ScanFailure, scan_layers};
use crate::store::db::{self, RepositoryRow, ScanRow, Scope};

/// How often StartImageScan may scan one image: "A basic image scan can only be started once
/// per 24 hours on an individual image. This limit includes if an image was scanned on initial
/// push." (ECR API Reference, StartImageScan).
pub const SCAN_QUOTA_INTERVAL: Duration = Duration::hours(24);

/// The maximum number of rules in a registry scanning configuration (ECR API Reference,
/// PutRegistryScanningConfiguration: `rules`, 0 to 2 items).
pub const MAX_SCANNING_RULES: usize = 2;

/// The maximum number of repository filters in one scanning rule (ECR API Reference,
/// RegistryScanningRule: `repositoryFilters`, 0 to 100 items).
pub const MAX_SCANNING_FILTERS: usize = 100;

/// The description of a completed scan, as ECR words it.
const COMPLETE_DESCRIPTION: &str = "The scan was completed successfully.";

/// The start of the description of an image that basic scanning does not support, as ECR
/// words it; the mock adds the reason.
const UNSUPPORTED_DESCRIPTION: &str =
    "UnsupportedImageError: The operating system and/or package manager are not supported.";

/// Config media types of container images. An image manifest with any other config is an
/// artifact (a Helm chart, a signature, an SBOM), which basic scanning does not read.
const IMAGE_CONFIG_TYPES: [&str; 2] = [
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.config.v1+json",
];

/// ECR's `imageScanStatus.status` values that the mock produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanStatus {
    InProgress,
    Complete,
    Failed,
    UnsupportedImage,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Complete => "COMPLETE",
            Self::Failed => "FAILED",
            Self::UnsupportedImage => "UNSUPPORTED_IMAGE",
        }
    }

    fn parse(text: &str) -> Result<Self, CoreError> {
        match text {
            "IN_PROGRESS" => Ok(Self::InProgress),
            "COMPLETE" => Ok(Self::Complete),
            "FAILED" => Ok(Self::Failed),
            "UNSUPPORTED_IMAGE" => Ok(Self::UnsupportedImage),
            other => Err(CoreError::Storage(format!(
                "the database has an image scan with unknown status '{other}'"
            ))),
        }
    }
}

/// The last scan of an image, as DescribeImageScanFindings and DescribeImages report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageScan {
    pub status: ScanStatus,
    /// Empty while the scan is in progress.
    pub description: String,
    pub started_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
    /// The `updated` time of the advisory data that the scan matched against.
    pub source_updated_at: Option<OffsetDateTime>,
    /// Sorted most severe first; empty unless the scan completed.
    pub findings: Vec<Finding>,
}

impl ImageScan {
    fn from_row(row: ScanRow) -> Result<Self, CoreError> {
        let findings = match &row.findings {
            Some(text) => serde_json::from_str(text).map_err(|error| {
                CoreError::Storage(format!(
                    "the database has image scan findings that cannot be read: {error}"
                ))
            })?,
            None => Vec::new(),
        };
        Ok(Self {
            status: ScanStatus::parse(&row.status)?,
            description: row.description,
            started_at: from_unix_millis(row.started_at),
            completed_at: row.completed_at.map(from_unix_millis),
            source_updated_at: row.source_updated_at.map(from_unix_millis),
            findings,
        })
    }
}

/// One rule of the registry scanning configuration: a frequency and the repositories it
/// applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanningRule {
    /// `SCAN_ON_PUSH`, `CONTINUOUS_SCAN` or `MANUAL`.
    pub scan_frequency: String,
    /// Repository filters of type `WILDCARD`: without `*` a filter matches every repository
    /// whose name contains it, with `*` the whole name must match (ECR User Guide, "Filters to
    /// choose which repositories are scanned in Amazon ECR").
    pub filters: Vec<String>,
}

/// The registry scanning configuration (PutRegistryScanningConfiguration's parameters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanningConfiguration {
    /// `BASIC` or `ENHANCED`; only `BASIC` is emulated.
    pub scan_type: String,
    pub rules: Vec<ScanningRule>,
}

impl Default for ScanningConfiguration {
    /// ECR's configuration before any was set: basic scanning with no rules.
    fn default() -> Self {
        Self {
            scan_type: "BASIC".to_owned(),
            rules: Vec::new(),
        }
    }
}

/// The scanning settings of one repository, as BatchGetRepositoryScanningConfiguration
/// reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryScanning {
    pub repository: super::Repository,
    /// Whether a pushed image is scanned, by the repository's `scanOnPush` or a registry rule.
    pub scan_on_push: bool,
    /// `SCAN_ON_PUSH` or `MANUAL`.
    pub scan_frequency: &'static str,
    /// The filters of the registry rules that match the repository.
    pub applied_filters: Vec<String>,
}

/// Returns whether a scanning filter matches a repository name.
pub fn scanning_filter_matches(filter: &str, repository: &str) -> bool {
    if filter.contains('*') {
        super::wildcard_matches(filter, repository)
    } else {
        repository.contains(filter)
    }
}

/// A scan for the worker to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ScanJob {
    scope: Scope,
    repository: String,
    digest: String,
    started_at: i64,
}

/// The queue between the requests that start scans and the scan worker.
#[derive(Debug)]
pub(super) struct ScanQueue {
    sender: tokio::sync::mpsc::UnboundedSender<ScanJob>,
    receiver: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<ScanJob>>>,
}

impl ScanQueue {
    pub(super) fn new() -> Self {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        Self {
            sender,
            receiver: std::sync::Mutex::new(Some(receiver)),
        }
    }

    fn push(&self, job: ScanJob) {
        // Sending fails only once the scan worker has stopped. The job then stays IN_PROGRESS
        // in the database and runs after the next start.
        let _ = self.sender.send(job);
    }
}

impl Registry {
    /// Replaces the advisory data that scans match packages against (by default, the data
    /// that ships with mock-ecr).
    pub fn with_advisories(mut self, advisories: Arc<Advisories>) -> Self {
        self.advisories = advisories;
        self
    }

    /// Returns the advisory data that scans use.
    pub fn advisories(&self) -> &Advisories {
        &self.advisories
    }

    /// Starts a scan of an image on demand (StartImageScan) and returns the image's digest
    /// and the new scan.
    pub fn start_image_scan(
        &self,
        scope: &Scope,
        repository: &str,
        digest: Option<&str>,
        tag: Option<&str>,
    ) -> Result<(String, ImageScan), CoreError> {
        let image = self
            .find_image(scope, repository, digest, tag)?
            .ok_or_else(|| image_not_found(scope, repository, digest, tag))?;
        let digest = image.row.digest.clone();
        if let Err(reason) = scannable_layers(&image.row.manifest, &image.row.media_type) {
            return Err(CoreError::UnsupportedImageType { reason });
        }
        let now = self.clock.now();
        let job = self.db.transaction(|tx| {
            if let Some(last) = db::scan(tx, scope, repository, &digest)? {
                let next = from_unix_millis(last.started_at) + SCAN_QUOTA_INTERVAL;
                if now < next {
                    return Err(CoreError::ScanLimitExceeded {
                        next_allowed: rfc3339(next),
                    });
                }
            }
            start_scan_row(tx, scope, repository, &digest, unix_millis(now))
        })?;
        self.log_scan_queued("StartImageScan", &job);
        let scan = ImageScan {
            status: ScanStatus::InProgress,
            description: String::new(),
            started_at: from_unix_millis(job.started_at),
            completed_at: None,
            source_updated_at: None,
            findings: Vec::new(),
        };
        self.scans.push(job);
        Ok((digest, scan))
    }

    /// Returns the digest of an image and its last scan, `None` when it was never scanned.
    pub fn image_scan(
        &self,
        scope: &Scope,
        repository: &str,
        digest: Option<&str>,
        tag: Option<&str>,
    ) -> Result<(String, Option<ImageScan>), CoreError> {
        let image = self
            .find_image(scope, repository, digest, tag)?
            .ok_or_else(|| image_not_found(scope, repository, digest, tag))?;
        let digest = image.row.digest;
        let row = self
            .db
            .transaction(|tx| db::scan(tx, scope, repository, &digest))?;
        let scan = row.map(ImageScan::from_row).transpose()?;
        Ok((digest, scan))
    }

    /// Returns the last scan of every scanned image in a repository, by digest.
    pub fn image_scans(
        &self,
        scope: &Scope,
        repository: &str,
    ) -> Result<HashMap<String, ImageScan>, CoreError> {
        let rows = self
            .db
            .transaction(|tx| db::scans_of_repository(tx, scope, repository))?;
        rows.into_iter()
            .map(|(digest, row)| Ok((digest, ImageScan::from_row(row)?)))
            .collect()
    }

    /// Returns the registry scanning configuration (GetRegistryScanningConfiguration).
    pub fn scanning_configuration(
        &self,
        scope: &Scope,
    ) -> Result<ScanningConfiguration, CoreError> {
        self.db
            .transaction(|tx| stored_scanning_configuration(tx, scope))
    }

    /// Replaces the registry scanning configuration (PutRegistryScanningConfiguration). The
    /// front end has checked the values against the API's constraints.
    pub fn put_scanning_configuration(
        &self,
        scope: &Scope,
        configuration: ScanningConfiguration,
    ) -> Result<ScanningConfiguration, CoreError> {
        let rules = serde_json::to_string(&configuration.rules)
            .map_err(|error| CoreError::Storage(format!("cannot store scanning rules: {error}")))?;
        self.db.transaction(|tx| {
            db::set_registry_scanning(tx, scope, &configuration.scan_type, &rules)
        })?;
        Ok(configuration)
    }

    /// Reports how each named repository is scanned (BatchGetRepositoryScanningConfiguration).
    /// A repository that does not exist gives `Err` with its name.
    pub fn repository_scanning(
        &self,
        scope: &Scope,
        names: &[String],
    ) -> Result<Vec<Result<RepositoryScanning, String>>, CoreError> {
        let (configuration, rows) = self.db.transaction(|tx| {
            let configuration = stored_scanning_configuration(tx, scope)?;
            let mut rows = Vec::with_capacity(names.len());
            for name in names {
                rows.push((name.clone(), db::repository(tx, scope, name)?));
            }
            Ok((configuration, rows))
        })?;
        Ok(rows
            .into_iter()
            .map(|(name, row)| {
                let row = row.ok_or(name)?;
                let applied_filters = push_filters(&configuration, &row.name);
                let scan_on_push = row.scan_on_push || !applied_filters.is_empty();
                Ok(RepositoryScanning {
                    repository: self.repository_view(scope, row),
                    scan_on_push,
                    scan_frequency: if scan_on_push {
                        "SCAN_ON_PUSH"
                    } else {
                        "MANUAL"
                    },
                    applied_filters,
                })
            })
            .collect())
    }

    /// Starts the scan of a newly stored image when the repository scans on push, in the
    /// transaction that stores it. The caller hands the returned job to
    /// [`Registry::queue_scan_on_push`] after the transaction commits.
    pub(super) fn scan_on_push(
        &self,
        conn: &rusqlite::Connection,
        scope: &Scope,
        repository: &RepositoryRow,
        digest: &str,
        now: i64,
    ) -> Result<Option<ScanJob>, CoreError> {
        let by_rule = || -> Result<bool, CoreError> {
            let configuration = stored_scanning_configuration(conn, scope)?;
            Ok(!push_filters(&configuration, &repository.name).is_empty())
        };
        if !repository.scan_on_push && !by_rule()? {
            return Ok(None);
        }
        start_scan_row(conn, scope, &repository.name, digest, now).map(Some)
    }

    /// Hands the scan of a pushed image to the worker, once the push has committed.
    pub(super) fn queue_scan_on_push(&self, job: ScanJob) {
        self.log_scan_queued("push", &job);
        self.scans.push(job);
    }

    fn log_scan_queued(&self, trigger: &str, job: &ScanJob) {
        tracing::info!(repository = %job.repository, digest = %job.digest, trigger, "image scan queued");
    }

    /// Runs queued scans one at a time, first the scans that an earlier run left
    /// `IN_PROGRESS`, until `stop` completes. A scan that is running when `stop` completes
    /// finishes first. [`crate::MockEcr::start`] spawns this worker, and without it scans stay
    /// `IN_PROGRESS`.
    pub async fn run_scans(self: Arc<Self>, stop: impl std::future::Future<Output = ()>) {
        let receiver = self
            .scans
            .receiver
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(mut receiver) = receiver else {
            tracing::error!("the scan worker was started twice; the second one stops");
            return;
        };
        match self.db.transaction(db::unfinished_scans) {
            Ok(unfinished) => {
                for scan in unfinished {
                    tracing::info!(repository = %scan.repository, digest = %scan.digest, "resuming an image scan that a stop interrupted");
                    self.scans.push(ScanJob {
                        scope: scan.scope,
                        repository: scan.repository,
                        digest: scan.digest,
                        started_at: scan.started_at,
                    });
                }
            }
            Err(error) => {
                tracing::error!(%error, "cannot read unfinished image scans; they stay IN_PROGRESS")
            }
        }
        let mut stop = std::pin::pin!(stop);
        loop {
            // The sender is a field of the registry, so `recv` waits for as long as the
            // registry lives, and only `stop` ends the loop.
            let job = tokio::select! {
                biased;
                () = &mut stop => return,
                job = receiver.recv() => job,
            };
            let Some(job) = job else { return };
            let registry = self.clone();
            let finished = tokio::task::spawn_blocking(move || registry.run_scan(job)).await;
            if let Err(error) = finished {
                tracing::error!(%error, "an image scan panicked; its image stays IN_PROGRESS");
            }
        }
    }

    /// Scans an image and stores the result.
    ///
    /// The journal's `ImageScanStarted` row is written here, not when the scan is queued, so
    /// it follows the row of the push or StartImageScan call that queued the scan.
    fn run_scan(&self, job: ScanJob) {
        self.record(
            &scanner_caller(&job.scope),
            Event {
                action: "ImageScanStarted".to_owned(),
                repository: Some(job.repository.clone()),
                reference: None,
                digest: Some(job.digest.clone()),
                error: None,
            },
        );
        let image = self
            .db
            .transaction(|tx| db::image(tx, &job.scope, &job.repository, &job.digest));
        let image = match image {
            Ok(Some(image)) => image,
            Ok(None) => {
                tracing::info!(repository = %job.repository, digest = %job.digest, "image deleted before its scan ran");
                return;
            }
            Err(error) => {
                tracing::error!(%error, repository = %job.repository, digest = %job.digest, "cannot read an image to scan; it stays IN_PROGRESS");
                return;
            }
        };
        let outcome = self.scan_manifest(&image.manifest, &image.media_type);
        let completed_at = unix_millis(self.clock.now());
        let (row, error) = match outcome {
            Ok((findings, warnings)) => {
                for warning in &warnings {
                    tracing::warn!(repository = %job.repository, digest = %job.digest, warning, "image scan warning");
                }
                // ECR's description, then what the scanner skipped or guessed: a scan that
                // matched nothing because it could not tell the release must not look clean.
                let description = if warnings.is_empty() {
                    COMPLETE_DESCRIPTION.to_owned()
                } else {
                    format!("{COMPLETE_DESCRIPTION} Warnings: {}", warnings.join("; "))
                };
                let findings = match serde_json::to_string(&findings) {
                    Ok(text) => text,
                    Err(error) => {
                        tracing::error!(%error, repository = %job.repository, digest = %job.digest, "cannot encode scan findings; the image stays IN_PROGRESS");
                        return;
                    }
                };
                let row = ScanRow {
                    status: ScanStatus::Complete.as_str().to_owned(),
                    description,
                    started_at: job.started_at,
                    completed_at: Some(completed_at),
                    source_updated_at: Some(unix_millis(self.advisories.updated_at())),
                    findings: Some(findings),
                };
                (row, None)
            }
            Err(failure) => {
                let (status, description) = match &failure {
                    ScanFailure::UnsupportedImage(reason) => (
                        ScanStatus::UnsupportedImage,
                        format!("{UNSUPPORTED_DESCRIPTION} Reason: {reason}"),
                    ),
                    ScanFailure::Failed(reason) => {
                        (ScanStatus::Failed, format!("ScanFailed: {reason}"))
                    }
                };
                let row = ScanRow {
                    status: status.as_str().to_owned(),
                    description: description.clone(),
                    started_at: job.started_at,
                    completed_at: Some(completed_at),
                    source_updated_at: None,
                    findings: None,
                };
                (row, Some((status.as_str().to_owned(), description)))
            }
        };
        let stored = self
            .db
            .transaction(|tx| db::finish_scan(tx, &job.scope, &job.repository, &job.digest, &row));
        match stored {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(repository = %job.repository, digest = %job.digest, "image deleted or scanned again while its scan ran");
                return;
            }
            Err(error) => {
                tracing::error!(%error, repository = %job.repository, digest = %job.digest, "cannot store an image scan; it stays IN_PROGRESS");
                return;
            }
        }
        match &error {
            None => {
                tracing::info!(repository = %job.repository, digest = %job.digest, status = %row.status, "image scan finished")
            }
            Some((status, description)) => {
                tracing::info!(repository = %job.repository, digest = %job.digest, status, description, "image scan finished without findings")
            }
        }
        self.record(
            &scanner_caller(&job.scope),
            Event {
                action: "ImageScanCompleted".to_owned(),
                repository: Some(job.repository),
                reference: None,
                digest: Some(job.digest),
                error,
            },
        );
    }

    /// Reads an image's layers from the blob store and scans them. Returns the findings and
    /// the scanner's warnings about input it skipped or guessed.
    fn scan_manifest(
        &self,
        manifest: &[u8],
        media_type: &str,
    ) -> Result<(Vec<Finding>, Vec<String>), ScanFailure> {
        let layers =
            scannable_layers(manifest, media_type).map_err(ScanFailure::UnsupportedImage)?;
        let total = layers.len();
        let opened = layers.into_iter().enumerate().map(move |(index, layer)| {
            let file = self.open_layer(&layer.digest).map_err(|reason| {
                ScanFailure::Failed(format!(
                    "layer {} of {total} ({}) cannot be read: {reason}",
                    index + 1,
                    layer.digest
                ))
            })?;
            Ok(Layer::new(layer.media_type, BufReader::new(file)))
        });
        let report = scan_layers(opened, &self.advisories)?;
        Ok((report.findings, report.warnings))
    }

    fn open_layer(&self, digest: &Digest) -> Result<File, String> {
        let path = self.blobs.blob_path(digest);
        File::open(&path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => {
                "the registry does not store it (a foreign or non-distributable layer)".to_owned()
            }
            _ => format!("{}: {error}", path.display()),
        })
    }
}

/// Returns the layers of an image manifest that basic scanning reads, or the reason it does
/// not read the manifest: an index, an artifact, or a manifest that cannot be parsed.
fn scannable_layers(manifest: &[u8], media_type: &str) -> Result<Vec<Descriptor>, String> {
    let manifest = Manifest::parse(manifest, Some(media_type))
        .map_err(|error| format!("the manifest cannot be read: {error}"))?;
    match manifest.kind {
        ManifestKind::Index { .. } => Err(format!(
            "{media_type} is an image index; scan the images it lists, each by its own digest"
        )),
        ManifestKind::Image { config, layers } => {
            if IMAGE_CONFIG_TYPES.contains(&config.media_type.as_str()) {
                Ok(layers)
            } else {
                Err(format!(
                    "the config media type {} is not a container image's; artifacts are not scanned",
                    config.media_type
                ))
            }
        }
    }
}

fn start_scan_row(
    conn: &rusqlite::Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
    now: i64,
) -> Result<ScanJob, CoreError> {
    let row = ScanRow {
        status: ScanStatus::InProgress.as_str().to_owned(),
        description: String::new(),
        started_at: now,
        completed_at: None,
        source_updated_at: None,
        findings: None,
    };
    db::put_scan(conn, scope, repository, digest, &row)?;
    Ok(ScanJob {
        scope: scope.clone(),
        repository: repository.to_owned(),
        digest: digest.to_owned(),
        started_at: now,
    })
}

fn stored_scanning_configuration(
    conn: &rusqlite::Connection,
    scope: &Scope,
) -> Result<ScanningConfiguration, CoreError> {
    let Some((scan_type, rules)) = db::registry_scanning(conn, scope)? else {
        return Ok(ScanningConfiguration::default());
    };
    let rules = serde_json::from_str(&rules).map_err(|error| {
        CoreError::Storage(format!(
            "the database has scanning rules that cannot be read: {error}"
        ))
    })?;
    Ok(ScanningConfiguration { scan_type, rules })
}

/// Returns the filters of the configuration's scan-on-push rules that match `repository`.
/// Enhanced scanning is not emulated, so only a `BASIC` configuration's rules apply.
fn push_filters(configuration: &ScanningConfiguration, repository: &str) -> Vec<String> {
    if configuration.scan_type != "BASIC" {
        return Vec::new();
    }
    configuration
        .rules
        .iter()
        .filter(|rule| rule.scan_frequency == "SCAN_ON_PUSH")
        .flat_map(|rule| rule.filters.iter())
        .filter(|filter| scanning_filter_matches(filter, repository))
        .cloned()
        .collect()
}

fn scanner_caller(scope: &Scope) -> Caller {
    Caller {
        scope: scope.clone(),
        source: Source::Scanner,
        user_agent: None,
        host: None,
    }
}

fn image_not_found(
    scope: &Scope,
    repository: &str,
    digest: Option<&str>,
    tag: Option<&str>,
) -> CoreError {
    CoreError::ImageNotFound {
        image: super::describe_image_id(digest, tag),
        repository: repository.to_owned(),
        registry_id: scope.account.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_without_wildcard_match_substrings() {
        // The table of ECR User Guide, "Filters to choose which repositories are scanned".
        let names = [
            "prod",
            "repo-prod",
            "prod-repo",
            "repo-prod-repo",
            "prodrepo",
        ];
        let table = [
            ("prod", [true, true, true, true, true]),
            ("*prod", [true, true, false, false, false]),
            ("prod*", [true, false, true, false, true]),
            ("*prod*", [true, true, true, true, true]),
            ("prod*repo", [false, false, true, false, true]),
        ];
        for (filter, expected) in table {
            for (name, expected) in names.iter().zip(expected) {
                assert_eq!(
                    scanning_filter_matches(filter, name),
                    expected,
                    "filter {filter} on {name}"
                );
            }
        }
    }

    #[test]
    fn push_filters_apply_to_basic_only() {
        let mut configuration = ScanningConfiguration {
            scan_type: "BASIC".to_owned(),
            rules: vec![
                ScanningRule {
                    scan_frequency: "SCAN_ON_PUSH".to_owned(),
                    filters: vec!["web-*".to_owned(), "api".to_owned()],
                },
                ScanningRule {
                    scan_frequency: "MANUAL".to_owned(),
                    filters: vec!["*".to_owned()],
                },
            ],
        };
        assert_eq!(push_filters(&configuration, "web-front"), ["web-*"]);
        assert_eq!(push_filters(&configuration, "team/api-v2"), ["api"]);
        assert!(push_filters(&configuration, "batch").is_empty());
        configuration.scan_type = "ENHANCED".to_owned();
        assert!(push_filters(&configuration, "web-front").is_empty());
    }

    #[test]
    fn artifacts_and_indexes_not_scanned() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let image = |config_type: &str| {
            format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"{config_type}","digest":"{digest}","size":2}},"layers":[]}}"#
            )
        };
        let oci = crate::manifest::OCI_MANIFEST;
        assert_eq!(
            scannable_layers(
                image("application/vnd.oci.image.config.v1+json").as_bytes(),
                oci
            ),
            Ok(Vec::new())
        );
        let chart = scannable_layers(
            image("application/vnd.cncf.helm.config.v1+json").as_bytes(),
            oci,
        )
        .expect_err("a Helm chart is not scanned");
        assert!(chart.contains("helm"), "{chart}");
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"{oci}","digest":"{digest}","size":2}}]}}"#
        );
        let reason = scannable_layers(index.as_bytes(), crate::manifest::OCI_INDEX)
            .expect_err("an index is not scanned");
        assert!(reason.contains("image index"), "{reason}");
    }
}
