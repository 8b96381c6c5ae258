//! The registry core: ECR's rules, written once for both front ends.
//!
//! `docker push` (through `registry`) and the ECR API (through `ecr_api`) call the same
//! functions here to create repositories, issue and check tokens, store manifests, move tags,
//! enforce tag immutability and the tags-per-image limit. This module uses no HTTP types.

mod account_settings;
mod downloads;
mod images;
mod journal;
mod lifecycle;
mod policies;
mod read_cache;
mod repositories;
mod resource_tags;
mod scans;
mod tokens;
mod uploads;

pub use account_settings::BLOB_MOUNTING;
pub use downloads::{DOWNLOAD_URL_LIFETIME, DownloadError, GrantedLayer};
pub use images::{PutImageRejection, Referrer};
pub use lifecycle::{
    ExpiredImage, LIFECYCLE_EVALUATION_INTERVAL, LifecyclePolicyView, LifecyclePreview,
    MAX_LIFECYCLE_POLICY_LENGTH, MIN_LIFECYCLE_POLICY_LENGTH, PreviewResult,
};
pub use uploads::{LAYER_PART_SIZE, MIN_LAYER_PART_BYTES, UploadError};

pub use policies::{MAX_POLICY_LENGTH, RepositoryPolicy};
pub use repositories::{MAX_EXCLUSION_FILTERS, tag_is_immutable, wildcard_matches};
pub use resource_tags::{MAX_RESOURCE_TAGS, ResourceTag};
pub use scans::{
    ImageScan, MAX_SCANNING_FILTERS, MAX_SCANNING_RULES, RepositoryScanning, SCAN_QUOTA_INTERVAL,
    ScanStatus, ScanningConfiguration, ScanningRule, scanning_filter_matches,
};

use std::collections::HashMap;
use std::sync::Arc;

use sha2::Sha256;
use time::{Duration, OffsetDateTime};

use crate::clock::{Clock, rfc3339, unix_millis};
use crate::digest::Digest;
use crate::error::CoreError;
use crate::names::validate_tag;
use crate::store::db::{self, ImageRow, JournalRow, RepositoryRow, Scope};
use crate::store::{BlobStore, Database};

/// How long an authorization token is valid: 12 hours (Amazon ECR User Guide, "Private
/// registry authentication"; GetAuthorizationToken `expiresAt`).
pub const TOKEN_LIFETIME: Duration = Duration::hours(12);

/// The maximum number of tags on one image (Amazon ECR User Guide, "Pushing a Docker image"; ECR's
/// own rejection names "the maximum allowed number of tags per image which is '1000'").
pub const MAX_TAGS_PER_IMAGE: usize = 1000;

pub const MUTABLE: &str = "MUTABLE";
pub const IMMUTABLE: &str = "IMMUTABLE";
/// Every tag is immutable except those that match an exclusion filter.
pub const IMMUTABLE_WITH_EXCLUSION: &str = "IMMUTABLE_WITH_EXCLUSION";
/// Every tag is mutable except those that match an exclusion filter.
pub const MUTABLE_WITH_EXCLUSION: &str = "MUTABLE_WITH_EXCLUSION";

/// The front end that received a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    EcrApi,
    Registry,
    /// The mock itself, applying a lifecycle policy.
    Lifecycle,
    /// The admin API under `/_ecrlab/`, such as a request that moves the mock's clock.
    Admin,
    /// The mock itself, scanning an image.
    Scanner,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::EcrApi => "ecr-api",
            Self::Registry => "registry",
            Self::Lifecycle => "lifecycle",
            Self::Admin => "admin",
            Self::Scanner => "scanner",
        }
    }
}

/// The client that made a request, as the journal records it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub scope: Scope,
    pub source: Source,
    pub user_agent: Option<String>,
    pub host: Option<String>,
}

/// A journal entry before the database assigns its sequence number and time.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub action: String,
    pub repository: Option<String>,
    pub reference: Option<String>,
    pub digest: Option<String>,
    /// `None` for success, else the wire error code (ECR exception name or OCI code) and message.
    pub error: Option<(String, String)>,
}

/// Settings of a new repository (CreateRepository's parameters).
#[derive(Debug, Clone)]
pub struct NewRepository {
    pub name: String,
    pub tag_mutability: String,
    /// Wildcard filters (`imageTagMutabilityExclusionFilters`) of tags exempt from
    /// `tag_mutability`; required by the `*_WITH_EXCLUSION` settings, rejected otherwise.
    pub tag_mutability_exclusions: Vec<String>,
    pub scan_on_push: bool,
    pub encryption_type: String,
    pub kms_key: Option<String>,
    /// Resource tags to set on the new repository.
    pub tags: Vec<ResourceTag>,
}

/// A repository as the front ends report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub registry_id: String,
    pub region: String,
    pub name: String,
    pub uri: String,
    pub created_at: OffsetDateTime,
    pub tag_mutability: String,
    pub tag_mutability_exclusions: Vec<String>,
    pub scan_on_push: bool,
    pub encryption_type: String,
    pub kms_key: Option<String>,
}

impl Repository {
    /// The repository's ARN, `arn:aws:ecr:<region>:<account>:repository/<name>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:ecr:{}:{}:repository/{}",
            self.region, self.registry_id, self.name
        )
    }
}

/// An image with its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub row: ImageRow,
    pub tags: Vec<String>,
}

/// An image id that BatchDeleteImage removed: the image's digest, with the tag when a tag was
/// removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedImageId {
    pub digest: String,
    pub tag: Option<String>,
}

/// The reason BatchDeleteImage could not delete one image id, named after ECR's failure codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteFailure {
    ImageNotFound,
    MissingDigestAndTag,
    TagDoesNotMatchDigest,
    ReferencedByManifestList,
}

impl DeleteFailure {
    /// ECR's `failureCode` and `failureReason`.
    pub fn code_and_reason(self) -> (&'static str, &'static str) {
        match self {
            Self::ImageNotFound => ("ImageNotFound", "Requested image not found"),
            Self::MissingDigestAndTag => ("MissingDigestAndTag", "Missing image digest and tag"),
            Self::TagDoesNotMatchDigest => (
                "ImageTagDoesNotMatchDigest",
                "Image tag does not match digest",
            ),
            Self::ReferencedByManifestList => (
                "ImageReferencedByManifestList",
                "Requested image is referenced by an image index or manifest list",
            ),
        }
    }
}

/// A freshly issued authorization token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// `base64("AWS:<password>")`, as GetAuthorizationToken returns it.
    pub authorization_token: String,
    pub expires_at: OffsetDateTime,
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag(String),
    Digest(Digest),
}

impl Reference {
    /// Parses a tag or digest as it appears in `/v2/<name>/manifests/<reference>`.
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        if text.contains(':') {
            Digest::parse(text).map(Self::Digest)
        } else {
            validate_tag(text)?;
            Ok(Self::Tag(text.to_owned()))
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tag(tag) => formatter.write_str(tag),
            Self::Digest(digest) => write!(formatter, "{digest}"),
        }
    }
}

/// Static settings of one mock.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The account used where a request names none.
    pub default_account: String,
    /// The region used where a request names none.
    pub default_region: String,
    /// `host:port` that clients use to reach the registry, used in `repositoryUri` and
    /// `proxyEndpoint`.
    pub registry_host: String,
}

/// An upload in progress: the running hash of the bytes received so far.
#[derive(Default)]
struct UploadState {
    hasher: Option<Sha256>,
    /// Sizes of the parts received through UploadLayerPart, in order, for the minimum part
    /// size check of CompleteLayerUpload. Registry chunks (PATCH) are not recorded.
    part_sizes: Vec<u64>,
}

/// The registry core. Cheap to share behind an `Arc`.
pub struct Registry {
    db: Arc<Database>,
    blobs: BlobStore,
    clock: Clock,
    settings: Settings,
    uploads: tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<UploadState>>>>,
    download_grants: downloads::DownloadGrants,
    /// Random key, new for every mock, that signs the ECR API's `nextToken`s.
    page_token_key: [u8; 32],
    /// The earliest `next_evaluation_at` of any lifecycle policy (`i64::MAX` when there is
    /// none), or `None` when it must be read again. It spares every request a database query
    /// for due policies.
    lifecycle_due: std::sync::Mutex<Option<i64>>,
    /// Images that manifest GETs read, by scope, repository and reference, while the database
    /// is unchanged.
    manifest_reads: read_cache::ReadCache<(Scope, String, String), ImageRow>,
    /// Every repository of a scope as DescribeRepositories lists them, while the database is
    /// unchanged.
    repository_lists: read_cache::ReadCache<Scope, Vec<Repository>>,
    /// Signs registry tokens; kept in the data folder (see [`tokens::load_token_key`]).
    token_key: [u8; 32],
    /// Held by CompleteLayerUpload from its check that the layer is new until the layer is
    /// stored.
    layer_commits: tokio::sync::Mutex<()>,
    /// Journal rows waiting to be written, many per transaction.
    journal: journal::JournalBuffer,
    /// The advisory data that image scans match packages against.
    advisories: Arc<crate::scan::Advisories>,
    /// Scans waiting for the scan worker.
    scans: scans::ScanQueue,
}

impl Registry {
    pub fn new(db: Database, blobs: BlobStore, clock: Clock, settings: Settings) -> Self {
        let db = Arc::new(db);
        let journal = journal::JournalBuffer::start(db.clone());
        let token_key = tokens::load_token_key(&db);
        Self {
            db,
            blobs,
            clock,
            settings,
            uploads: tokio::sync::Mutex::new(HashMap::new()),
            download_grants: downloads::DownloadGrants::default(),
            page_token_key: random_key(),
            lifecycle_due: std::sync::Mutex::new(None),
            manifest_reads: read_cache::ReadCache::new(images::MANIFEST_READS_CAPACITY),
            repository_lists: read_cache::ReadCache::new(repositories::REPOSITORY_LISTS_CAPACITY),
            advisories: Arc::new(crate::scan::Advisories::bundled().clone()),
            scans: scans::ScanQueue::new(),
            token_key,
            layer_commits: tokio::sync::Mutex::new(()),
            journal,
        }
    }

    /// The key that signs pagination tokens, so a token is only accepted by the mock that
    /// issued it.
    pub fn page_token_key(&self) -> &[u8; 32] {
        &self.page_token_key
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The scope used where a request names no account or region.
    pub fn default_scope(&self) -> Scope {
        Scope {
            account: self.settings.default_account.clone(),
            region: self.settings.default_region.clone(),
        }
    }

    fn now_millis(&self) -> i64 {
        unix_millis(self.clock.now())
    }

    fn repository_view(&self, scope: &Scope, row: RepositoryRow) -> Repository {
        Repository {
            registry_id: scope.account.clone(),
            region: scope.region.clone(),
            uri: format!("{}/{}", self.settings.registry_host, row.name),
            name: row.name,
            created_at: crate::clock::from_unix_millis(row.created_at),
            tag_mutability: row.tag_mutability,
            tag_mutability_exclusions: row.tag_mutability_exclusions,
            scan_on_push: row.scan_on_push,
            encryption_type: row.encryption_type,
            kms_key: row.kms_key,
        }
    }

    fn require_repository(
        &self,
        conn: &rusqlite::Connection,
        scope: &Scope,
        name: &str,
    ) -> Result<RepositoryRow, CoreError> {
        db::repository(conn, scope, name)?.ok_or_else(|| CoreError::RepositoryNotFound {
            name: name.to_owned(),
            registry_id: scope.account.clone(),
        })
    }

    // Journal.

    /// Appends an event to the journal. The row is written in the background (see
    /// [`journal`]); [`Registry::journal`] reads it. A journal failure is logged, never
    /// returned, because the response to the request it describes has already been sent or
    /// is about to be.
    pub fn record(&self, caller: &Caller, event: Event) {
        let (outcome, error_code, message) = match event.error {
            None => ("ok", None, None),
            Some((code, message)) => ("error", Some(code), Some(message)),
        };
        let row = JournalRow {
            seq: 0,
            time: rfc3339(self.clock.now()),
            account: caller.scope.account.clone(),
            region: caller.scope.region.clone(),
            source: caller.source.as_str().to_owned(),
            action: event.action,
            repository: event.repository,
            reference: event.reference,
            digest: event.digest,
            host: caller.host.clone(),
            user_agent: caller.user_agent.clone(),
            outcome: outcome.to_owned(),
            error_code,
            message,
        };
        self.journal.append(row);
    }

    /// Waits until every event recorded so far is in the database.
    pub fn flush_journal(&self) {
        self.journal.flush();
    }

    /// Reads journal rows after sequence number `after`, at most `limit` of them.
    pub fn journal(&self, after: i64, limit: i64) -> Result<Vec<JournalRow>, CoreError> {
        self.journal.flush();
        self.db
            .transaction(|tx| db::journal_after(tx, after, limit))
    }
}

/// Returns an image id as ECR's ImageNotFoundException names it, such as
/// `imageDigest=sha256:..., imageTag=v1`.
pub fn describe_image_id(digest: Option<&str>, tag: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(digest) = digest {
        parts.push(format!("imageDigest={digest}"));
    }
    if let Some(tag) = tag {
        parts.push(format!("imageTag={tag}"));
    }
    parts.join(", ")
}

/// Returns a 32-byte key from two version 4 UUIDs: 244 bits from the operating system's
/// random generator.
fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key
}
