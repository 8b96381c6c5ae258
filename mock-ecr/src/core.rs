//! The registry core: ECR's rules, written once for both front ends.
//!
//! `docker push` (through `registry`) and the ECR API (through `ecr_api`) call the same
//! functions here to create repositories, issue and check tokens, store manifests, move tags,
//! enforce tag immutability and the tags-per-image limit. This module uses no HTTP types.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use futures_util::Stream;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::clock::{Clock, rfc3339, unix_millis};
use crate::digest::Digest;
use crate::error::CoreError;
use crate::manifest::{Manifest, ManifestKind};
use crate::names::{validate_repository_name, validate_tag};
use crate::store::db::{self, ImageRow, JournalRow, RepositoryRow, Scope, TokenRow};
use crate::store::{BlobStore, Database};

/// How long an authorization token is valid: 12 hours (Amazon ECR User Guide, "Private
/// registry authentication"; GetAuthorizationToken `expiresAt`).
pub const TOKEN_LIFETIME: Duration = Duration::hours(12);

/// The maximum number of tags on one image (Amazon ECR User Guide, "Pushing a Docker image"; ECR's
/// own rejection names "the maximum allowed number of tags per image which is '1000'").
pub const MAX_TAGS_PER_IMAGE: usize = 1000;

pub const MUTABLE: &str = "MUTABLE";
pub const IMMUTABLE: &str = "IMMUTABLE";

/// The front end that received a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    EcrApi,
    Registry,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::EcrApi => "ecr-api",
            Self::Registry => "registry",
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
    pub scan_on_push: bool,
    pub encryption_type: String,
    pub kms_key: Option<String>,
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
}

/// The registry core. Cheap to share behind an `Arc`.
pub struct Registry {
    db: Database,
    blobs: BlobStore,
    clock: Clock,
    settings: Settings,
    uploads: tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<UploadState>>>>,
}

impl Registry {
    pub fn new(db: Database, blobs: BlobStore, clock: Clock, settings: Settings) -> Self {
        Self {
            db,
            blobs,
            clock,
            settings,
            uploads: tokio::sync::Mutex::new(HashMap::new()),
        }
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

    /// Appends an event to the journal. A journal failure is logged, never returned, because
    /// the request it describes has already been answered or is about to be.
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
        if let Err(error) = self.db.transaction(|tx| db::append_journal(tx, &row)) {
            tracing::error!(%error, action = %row.action, "failed to append to the journal");
        }
    }

    /// Reads journal rows after sequence number `after`, at most `limit` of them.
    pub fn journal(&self, after: i64, limit: i64) -> Result<Vec<JournalRow>, CoreError> {
        self.db
            .transaction(|tx| db::journal_after(tx, after, limit))
    }

    // Repositories.

    pub fn create_repository(
        &self,
        scope: &Scope,
        new: NewRepository,
    ) -> Result<Repository, CoreError> {
        validate_repository_name(&new.name)?;
        validate_mutability(&new.tag_mutability)?;
        let row = RepositoryRow {
            name: new.name,
            created_at: self.now_millis(),
            tag_mutability: new.tag_mutability,
            scan_on_push: new.scan_on_push,
            encryption_type: new.encryption_type,
            kms_key: new.kms_key,
        };
        self.db.transaction(|tx| {
            if db::repository(tx, scope, &row.name)?.is_some() {
                return Err(CoreError::RepositoryAlreadyExists {
                    name: row.name.clone(),
                    registry_id: scope.account.clone(),
                });
            }
            db::insert_repository(tx, scope, &row)
        })?;
        Ok(self.repository_view(scope, row))
    }

    /// Lists repositories: all of them, or those named (every name must exist).
    pub fn describe_repositories(
        &self,
        scope: &Scope,
        names: Option<&[String]>,
    ) -> Result<Vec<Repository>, CoreError> {
        let rows = self.db.transaction(|tx| match names {
            None => db::repositories(tx, scope),
            Some(names) => names
                .iter()
                .map(|name| self.require_repository(tx, scope, name))
                .collect(),
        })?;
        Ok(rows
            .into_iter()
            .map(|row| self.repository_view(scope, row))
            .collect())
    }

    /// Returns one repository, or RepositoryNotFound.
    pub fn repository(&self, scope: &Scope, name: &str) -> Result<Repository, CoreError> {
        let row = self
            .db
            .transaction(|tx| self.require_repository(tx, scope, name))?;
        Ok(self.repository_view(scope, row))
    }

    /// Deletes a repository; one that holds images needs `force`, as in ECR.
    pub fn delete_repository(
        &self,
        scope: &Scope,
        name: &str,
        force: bool,
    ) -> Result<Repository, CoreError> {
        let row = self.db.transaction(|tx| {
            let row = self.require_repository(tx, scope, name)?;
            if !force && db::image_count(tx, scope, name)? > 0 {
                return Err(CoreError::RepositoryNotEmpty {
                    name: name.to_owned(),
                    registry_id: scope.account.clone(),
                });
            }
            db::delete_repository(tx, scope, name)?;
            Ok(row)
        })?;
        Ok(self.repository_view(scope, row))
    }

    pub fn put_image_tag_mutability(
        &self,
        scope: &Scope,
        name: &str,
        tag_mutability: &str,
    ) -> Result<Repository, CoreError> {
        validate_mutability(tag_mutability)?;
        self.update_repository(scope, name, |row| {
            row.tag_mutability = tag_mutability.to_owned()
        })
    }

    pub fn put_image_scanning_configuration(
        &self,
        scope: &Scope,
        name: &str,
        scan_on_push: bool,
    ) -> Result<Repository, CoreError> {
        self.update_repository(scope, name, |row| row.scan_on_push = scan_on_push)
    }

    fn update_repository(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(&mut RepositoryRow),
    ) -> Result<Repository, CoreError> {
        let row = self.db.transaction(|tx| {
            let mut row = self.require_repository(tx, scope, name)?;
            change(&mut row);
            db::update_repository_settings(tx, scope, &row)?;
            Ok(row)
        })?;
        Ok(self.repository_view(scope, row))
    }

    // Tokens.

    /// Issues a token valid for [`TOKEN_LIFETIME`]. Only its SHA-256 is stored.
    pub fn issue_token(&self, scope: &Scope) -> Result<IssuedToken, CoreError> {
        let password = format!(
            "ecrlab.{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let issued_at = self.clock.now();
        let expires_at = issued_at + TOKEN_LIFETIME;
        let row = TokenRow {
            scope: scope.clone(),
            issued_at: unix_millis(issued_at),
            expires_at: unix_millis(expires_at),
        };
        self.db
            .transaction(|tx| db::insert_token(tx, &token_fingerprint(&password), &row))?;
        Ok(IssuedToken {
            authorization_token: base64::engine::general_purpose::STANDARD
                .encode(format!("AWS:{password}")),
            expires_at,
        })
    }

    /// Checks the user name and password of a registry login and returns the token's scope.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<Scope, CoreError> {
        if username != "AWS" {
            return Err(CoreError::TokenInvalid);
        }
        let token = self
            .db
            .transaction(|tx| db::token(tx, &token_fingerprint(password)))?
            .ok_or(CoreError::TokenInvalid)?;
        if self.now_millis() >= token.expires_at {
            return Err(CoreError::TokenExpired);
        }
        Ok(token.scope)
    }

    // Images.

    /// Lists a repository's images with their tags.
    pub fn images(&self, scope: &Scope, repository: &str) -> Result<Vec<Image>, CoreError> {
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::images(tx, scope, repository)?
                .into_iter()
                .map(|row| {
                    let tags = db::tags_of(tx, scope, repository, &row.digest)?;
                    Ok(Image { row, tags })
                })
                .collect()
        })
    }

    /// Finds an image by digest, tag or both (which must then agree).
    pub fn find_image(
        &self,
        scope: &Scope,
        repository: &str,
        digest: Option<&str>,
        tag: Option<&str>,
    ) -> Result<Option<Image>, CoreError> {
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            let by_tag = match tag {
                Some(tag) => match db::tag_digest(tx, scope, repository, tag)? {
                    Some(found) => Some(found),
                    None => return Ok(None),
                },
                None => None,
            };
            let digest = match (digest, by_tag) {
                (Some(digest), Some(found)) if digest != found => return Ok(None),
                (Some(digest), _) => digest.to_owned(),
                (None, Some(found)) => found,
                (None, None) => return Ok(None),
            };
            let Some(row) = db::image(tx, scope, repository, &digest)? else {
                return Ok(None);
            };
            let tags = db::tags_of(tx, scope, repository, &digest)?;
            Ok(Some(Image { row, tags }))
        })
    }

    /// Lists a repository's tags in lexical order.
    pub fn tags(&self, scope: &Scope, repository: &str) -> Result<Vec<String>, CoreError> {
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::tags(tx, scope, repository)
        })
    }

    /// Stores a manifest and, for a tag reference, points the tag at it.
    ///
    /// Every blob an image manifest names, and every manifest an index names, must already be
    /// in the repository. Moving an existing tag is rejected in an IMMUTABLE repository, and a
    /// tag that would give an image more than [`MAX_TAGS_PER_IMAGE`] tags is rejected. Pushing
    /// the same manifest under the same tag again succeeds and changes nothing.
    pub fn put_manifest(
        &self,
        scope: &Scope,
        repository: &str,
        reference: &Reference,
        content_type: Option<&str>,
        bytes: &[u8],
    ) -> Result<Digest, CoreError> {
        let digest = Digest::of(bytes);
        if let Reference::Digest(expected) = reference {
            if *expected != digest {
                return Err(CoreError::DigestMismatch {
                    expected: expected.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        let digest_text = digest.to_string();
        let now = self.now_millis();

        // The checks run in the order a client's errors should explain the push: a missing
        // repository first, then a tag the repository will not move, then the manifest itself.
        // So a client that retries an immutable tag in another manifest format (podman and
        // skopeo fall back to schema 1) still reads TAG_INVALID, as from ECR.
        self.db.transaction(|tx| {
            let repository_row = self.require_repository(tx, scope, repository)?;
            if let Reference::Tag(tag) = reference {
                let current = db::tag_digest(tx, scope, repository, tag)?;
                if current.as_deref() == Some(digest_text.as_str()) {
                    return Ok(());
                }
                if current.is_some() && repository_row.tag_mutability == IMMUTABLE {
                    return Err(CoreError::ImageTagAlreadyExists {
                        tag: tag.clone(),
                        repository: repository.to_owned(),
                    });
                }
            }

            let manifest = Manifest::parse(bytes, content_type)?;
            let size = self.referenced_size(tx, scope, repository, &manifest)?;
            if let Reference::Tag(tag) = reference {
                if db::tags_of(tx, scope, repository, &digest_text)?.len() >= MAX_TAGS_PER_IMAGE {
                    return Err(CoreError::TagLimitExceeded {
                        tag: tag.clone(),
                        repository: repository.to_owned(),
                        registry_id: scope.account.clone(),
                        limit: MAX_TAGS_PER_IMAGE,
                    });
                }
            }

            if db::image(tx, scope, repository, &digest_text)?.is_none() {
                let row = ImageRow {
                    digest: digest_text.clone(),
                    manifest: bytes.to_vec(),
                    media_type: manifest.media_type.clone(),
                    artifact_media_type: manifest.config_media_type().map(str::to_owned),
                    size,
                    pushed_at: now,
                    last_pulled_at: None,
                };
                db::insert_image(tx, scope, repository, &row)?;
            }
            if let Reference::Tag(tag) = reference {
                db::set_tag(tx, scope, repository, tag, &digest_text)?;
            }
            Ok(())
        })?;
        Ok(digest)
    }

    /// Checks that everything a manifest names is in the repository and returns the image size
    /// ECR reports: the sum of the layers' compressed sizes (for an index, of its images).
    fn referenced_size(
        &self,
        conn: &rusqlite::Connection,
        scope: &Scope,
        repository: &str,
        manifest: &Manifest,
    ) -> Result<i64, CoreError> {
        let missing = |digest: &Digest| CoreError::ManifestBlobUnknown {
            digest: digest.to_string(),
            repository: repository.to_owned(),
        };
        match &manifest.kind {
            ManifestKind::Image { config, layers } => {
                let config_key = config.digest.to_string();
                db::layer_size(conn, scope, repository, &config_key)?
                    .ok_or_else(|| missing(&config.digest))?;
                let mut total = 0i64;
                for layer in layers {
                    let stored =
                        db::layer_size(conn, scope, repository, &layer.digest.to_string())?;
                    match stored {
                        Some(size) => total = total.saturating_add(size),
                        None if layer.has_urls => total = total.saturating_add(layer.size),
                        None => return Err(missing(&layer.digest)),
                    }
                }
                Ok(total)
            }
            ManifestKind::Index { manifests } => {
                let mut total = 0i64;
                for child in manifests {
                    let image = db::image(conn, scope, repository, &child.digest.to_string())?
                        .ok_or_else(|| missing(&child.digest))?;
                    total = total.saturating_add(image.size);
                }
                Ok(total)
            }
        }
    }

    /// Returns the manifest a tag or digest names, and records the pull time.
    pub fn get_manifest(
        &self,
        scope: &Scope,
        repository: &str,
        reference: &Reference,
    ) -> Result<ImageRow, CoreError> {
        let now = self.now_millis();
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            let digest = match reference {
                Reference::Digest(digest) => Some(digest.to_string()),
                Reference::Tag(tag) => db::tag_digest(tx, scope, repository, tag)?,
            };
            let image = match digest {
                Some(digest) => db::image(tx, scope, repository, &digest)?,
                None => None,
            };
            let image = image.ok_or_else(|| CoreError::ManifestUnknown {
                reference: reference.to_string(),
            })?;
            db::mark_pulled(tx, scope, repository, &image.digest, now)?;
            Ok(image)
        })
    }

    // Blobs and uploads.

    /// Returns the size of a blob uploaded to `repository`, or BlobUnknown.
    pub fn layer(
        &self,
        scope: &Scope,
        repository: &str,
        digest: &Digest,
    ) -> Result<u64, CoreError> {
        let size = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::layer_size(tx, scope, repository, &digest.to_string())
        })?;
        match size {
            Some(size) => Ok(u64::try_from(size).unwrap_or(0)),
            None => Err(CoreError::BlobUnknown {
                digest: digest.to_string(),
                repository: repository.to_owned(),
            }),
        }
    }

    /// Starts an upload to an existing repository and returns its id.
    pub async fn start_upload(&self, scope: &Scope, repository: &str) -> Result<String, CoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = self.now_millis();
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::insert_upload(tx, &id, scope, repository, now)
        })?;
        self.blobs.start_upload(&id).await?;
        self.uploads.lock().await.insert(id.clone(), Arc::default());
        Ok(id)
    }

    fn require_upload(&self, scope: &Scope, repository: &str, id: &str) -> Result<(), CoreError> {
        let owner = self
            .db
            .transaction(|tx| db::upload_repository(tx, id, scope))?;
        match owner {
            Some(owner) if owner == repository => Ok(()),
            _ => Err(CoreError::UploadUnknown { id: id.to_owned() }),
        }
    }

    async fn upload_state(&self, id: &str) -> Arc<tokio::sync::Mutex<UploadState>> {
        self.uploads
            .lock()
            .await
            .entry(id.to_owned())
            .or_default()
            .clone()
    }

    /// Returns how many bytes an upload has received.
    pub async fn upload_size(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
    ) -> Result<u64, CoreError> {
        self.require_upload(scope, repository, id)?;
        self.blobs
            .upload_size(id)
            .await?
            .ok_or_else(|| CoreError::UploadUnknown { id: id.to_owned() })
    }

    /// Appends a chunk to an upload. `start`, when the client sent a `Content-Range`, must equal
    /// the bytes received so far. Returns the new total size.
    pub async fn append_upload<S, B, E>(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
        start: Option<u64>,
        body: S,
    ) -> Result<u64, CoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        self.require_upload(scope, repository, id)?;
        let state = self.upload_state(id).await;
        let mut state = state.lock().await;

        let current = self
            .blobs
            .upload_size(id)
            .await?
            .ok_or_else(|| CoreError::UploadUnknown { id: id.to_owned() })?;
        if let Some(start) = start {
            if start != current {
                return Err(CoreError::UploadRangeInvalid { start, current });
            }
        }
        let mut hasher = match state.hasher.take() {
            Some(hasher) => hasher,
            None => self.blobs.rehash_upload(id).await?,
        };
        let result = self.blobs.append(id, body, &mut hasher).await;
        match result {
            Ok(written) => {
                state.hasher = Some(hasher);
                Ok(current + written)
            }
            // The file may now hold part of the chunk, so the hash is rebuilt from it next time.
            Err(error) => Err(error),
        }
    }

    /// Finishes an upload: appends the final chunk, verifies the digest, moves the blob into
    /// place and records the layer in the repository.
    pub async fn complete_upload<S, B, E>(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
        expected: &Digest,
        body: S,
    ) -> Result<u64, CoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let size = self
            .append_upload(scope, repository, id, None, body)
            .await?;
        let state = self.upload_state(id).await;
        let mut state = state.lock().await;
        let hasher = match state.hasher.take() {
            Some(hasher) => hasher,
            None => self.blobs.rehash_upload(id).await?,
        };
        let actual = Digest::from_hasher(hasher);
        if actual != *expected {
            self.cancel_upload_unchecked(id).await?;
            return Err(CoreError::DigestMismatch {
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }

        self.blobs.commit_upload(id, expected).await?;
        let now = self.now_millis();
        let size_column = i64::try_from(size).unwrap_or(i64::MAX);
        self.db.transaction(|tx| {
            db::insert_layer(
                tx,
                scope,
                repository,
                &expected.to_string(),
                size_column,
                now,
            )?;
            db::delete_upload(tx, id)
        })?;
        drop(state);
        self.uploads.lock().await.remove(id);
        Ok(size)
    }

    /// Cancels an upload and deletes what it received.
    pub async fn cancel_upload(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
    ) -> Result<(), CoreError> {
        self.require_upload(scope, repository, id)?;
        self.cancel_upload_unchecked(id).await
    }

    async fn cancel_upload_unchecked(&self, id: &str) -> Result<(), CoreError> {
        self.db.transaction(|tx| db::delete_upload(tx, id))?;
        self.blobs.discard_upload(id).await?;
        self.uploads.lock().await.remove(id);
        Ok(())
    }
}

/// The key under which a token is stored: its SHA-256, so the database never holds a password.
fn token_fingerprint(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}

fn validate_mutability(value: &str) -> Result<(), CoreError> {
    if value == MUTABLE || value == IMMUTABLE {
        return Ok(());
    }
    Err(CoreError::invalid(
        "imageTagMutability",
        format!("Member must satisfy enum value set: [MUTABLE, IMMUTABLE] (got '{value}')"),
    ))
}
