//! Blob uploads: streamed to a file while hashed, verified, then stored as a layer.
//!
//! The registry's chunked uploads (`/v2/<name>/blobs/uploads/`) and the ECR API's layer
//! operations (InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload) share these upload
//! ids and files, so an upload started through one front end can be continued through the other.

use std::sync::Arc;

use futures_util::Stream;
use sha2::Sha256;

use super::{Registry, UploadState};
use crate::digest::{Algorithm, Digest};
use crate::error::CoreError;
use crate::store::db::{self, Scope};

/// The part size InitiateLayerUpload returns: 10 MiB, the value in the AWS CLI's
/// `initiate-layer-upload` example output. The API model leaves the value to the service.
pub const LAYER_PART_SIZE: u64 = 10 * 1024 * 1024;

/// The smallest part CompleteLayerUpload accepts before the last one: 5 MiB, as the API model
/// documents LayerPartTooSmallException ("Layer parts must be at least 5 MiB in size").
pub const MIN_LAYER_PART_BYTES: u64 = 5 * 1024 * 1024;

/// How long an upload may stay unfinished, counted from its start on the mock's clock. ECR
/// documents no limit; 24 hours outlasts any real push.
pub const UPLOAD_EXPIRY_HOURS: i64 = 24;

/// A rejection by the ECR API's layer-upload operations.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Core(#[from] CoreError),

    #[error(
        "Layer part starts at byte {first}, but the upload has {received} bytes: send the next part with partFirstByte {received}"
    )]
    PartOutOfOrder { first: u64, received: u64 },

    #[error(
        "Layer part covers bytes {first} to {last}, which does not match the {length} bytes of layerPartBlob: set partLastByte to partFirstByte + size - 1"
    )]
    PartSizeMismatch {
        first: u64,
        last: u64,
        length: u64,
        received: u64,
    },

    #[error(
        "The upload with id '{id}' contains no layer parts: upload the layer with UploadLayerPart before completing it"
    )]
    Empty { id: String },

    #[error(
        "Layer part {part} of the upload with id '{id}' is {size} bytes: every part except the last must be at least {minimum} bytes"
    )]
    PartTooSmall {
        id: String,
        part: usize,
        size: u64,
        minimum: u64,
    },

    #[error(
        "The layer with digest '{digest}' already exists in the repository with name '{repository}' in registry with id '{registry_id}'"
    )]
    LayerAlreadyExists {
        digest: String,
        repository: String,
        registry_id: String,
    },
}

impl Registry {
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

    /// Starts an upload to an existing repository and returns its id. Expired uploads are
    /// removed first, so abandoned uploads do not pile up on disk.
    pub async fn start_upload(&self, scope: &Scope, repository: &str) -> Result<String, CoreError> {
        self.expire_uploads().await?;
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
        let upload = self
            .db
            .transaction(|tx| db::upload_repository(tx, id, scope))?;
        match upload {
            Some((owner, started_at)) if owner == repository => {
                if started_at < self.upload_expiry_cutoff() {
                    Err(CoreError::UploadExpired {
                        id: id.to_owned(),
                        hours: UPLOAD_EXPIRY_HOURS,
                    })
                } else {
                    Ok(())
                }
            }
            _ => Err(CoreError::UploadUnknown { id: id.to_owned() }),
        }
    }

    /// Milliseconds since the epoch before which an upload counts as abandoned.
    fn upload_expiry_cutoff(&self) -> i64 {
        self.now_millis() - UPLOAD_EXPIRY_HOURS * 3_600_000
    }

    /// Deletes every upload that started more than [`UPLOAD_EXPIRY_HOURS`] ago, with the bytes
    /// it received, and returns how many there were. An upload locked by a request in progress is
    /// skipped until the next sweep.
    pub async fn expire_uploads(&self) -> Result<usize, CoreError> {
        let cutoff = self.upload_expiry_cutoff();
        let expired = self
            .db
            .transaction(|tx| db::uploads_started_before(tx, cutoff))?;
        let mut removed = 0;
        for id in expired {
            let state = self.upload_state(&id).await;
            let Ok(_locked) = state.try_lock() else {
                continue;
            };
            self.cancel_upload_unchecked(&id).await?;
            removed += 1;
        }
        if removed > 0 {
            tracing::info!(removed, "expired abandoned uploads");
        }
        Ok(removed)
    }

    /// Locks an existing upload of `repository` for one request. The upload is checked again
    /// once the lock is held, because another request may have completed or cancelled it
    /// while this one waited.
    async fn lock_upload(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
    ) -> Result<tokio::sync::OwnedMutexGuard<UploadState>, CoreError> {
        self.require_upload(scope, repository, id)?;
        let locked = self.upload_state(id).await.lock_owned().await;
        self.require_upload(scope, repository, id)?;
        Ok(locked)
    }

    async fn upload_state(&self, id: &str) -> Arc<tokio::sync::Mutex<UploadState>> {
        self.uploads
            .lock()
            .await
            .entry(id.to_owned())
            .or_default()
            .clone()
    }

    /// Returns how many bytes an upload has received. It waits for a request that is still
    /// appending, so a client that dropped a chunk midway reads every byte that arrived.
    pub async fn upload_size(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
    ) -> Result<u64, CoreError> {
        let _locked = self.lock_upload(scope, repository, id).await?;
        self.blobs
            .upload_size(id)
            .await?
            .ok_or_else(|| CoreError::UploadUnknown { id: id.to_owned() })
    }

    /// Appends a chunk to an upload. `range`, the first and last byte of a client's
    /// `Content-Range`, must start at the bytes received so far and cover the whole chunk.
    /// Returns the new total size.
    pub async fn append_upload<S, B, E>(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
        range: Option<(u64, u64)>,
        body: S,
    ) -> Result<u64, CoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let mut state = self.lock_upload(scope, repository, id).await?;
        self.append_locked(&mut state, id, range, body).await
    }

    async fn append_locked<S, B, E>(
        &self,
        state: &mut UploadState,
        id: &str,
        range: Option<(u64, u64)>,
        body: S,
    ) -> Result<u64, CoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let current = self
            .blobs
            .upload_size(id)
            .await?
            .ok_or_else(|| CoreError::UploadUnknown { id: id.to_owned() })?;
        if let Some((start, _)) = range {
            if start != current {
                return Err(CoreError::UploadRangeInvalid { start, current });
            }
        }
        let hasher = match state.hasher.take() {
            Some(hasher) => hasher,
            None => self.blobs.rehash_upload(id).await?,
        };
        // On an error the file may hold part of the chunk, so the hash is left unset and is
        // rebuilt from the file by the next request.
        let (written, hasher) = match self.blobs.append(id, body, hasher).await {
            Ok(appended) => appended,
            Err(error @ CoreError::StorageFault { .. }) => {
                self.drop_partial_chunk(id, current).await;
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        if let Some((start, end)) = range {
            if Some(written) != (end - start).checked_add(1) {
                // The chunk is not what its range announced: none of it is kept.
                self.blobs.truncate_upload(id, current).await?;
                return Err(CoreError::ChunkLengthMismatch {
                    start,
                    end,
                    received: written,
                    current,
                });
            }
        }
        state.hasher = Some(hasher);
        Ok(current + written)
    }

    /// Cuts an upload back to the `length` bytes it had before a chunk that a full or
    /// read-only disk interrupted. This frees the space the partial chunk took, and the upload
    /// stays resumable from `length`, as its status (`Range`) then reports.
    async fn drop_partial_chunk(&self, id: &str, length: u64) {
        if let Err(error) = self.blobs.truncate_upload(id, length).await {
            tracing::warn!(upload = id, length, %error, "cannot drop the partial chunk of an upload");
        }
    }

    /// Finishes an upload: appends the final chunk (which, when `range` is given, must begin
    /// where the upload ends and match the chunk's length), verifies the digest, moves the blob into place and records the
    /// layer in the repository. The upload stays locked throughout, so a concurrent chunk for
    /// the same upload waits and then finds it completed.
    pub async fn complete_upload<S, B, E>(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
        range: Option<(u64, u64)>,
        expected: &Digest,
        body: S,
    ) -> Result<u64, CoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let mut state = self.lock_upload(scope, repository, id).await?;

        let size = self.append_locked(&mut state, id, range, body).await?;
        let actual = match expected.algorithm() {
            Algorithm::Sha256 => Digest::from_hasher(match state.hasher.take() {
                Some(hasher) => hasher,
                None => self.blobs.rehash_upload(id).await?,
            }),
            Algorithm::Sha512 => self.blobs.sha512_of_upload(id).await?,
        };
        if actual != *expected {
            self.cancel_upload_unchecked(id).await?;
            return Err(CoreError::UploadDigestMismatch {
                id: id.to_owned(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            });
        }

        self.commit_locked(scope, repository, id, expected, size)
            .await?;
        Ok(size)
    }

    /// Moves a verified upload into place and records the layer in the repository. The caller
    /// holds the upload's lock.
    async fn commit_locked(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
        digest: &Digest,
        size: u64,
    ) -> Result<(), CoreError> {
        self.blobs.commit_upload(id, digest).await?;
        let now = self.now_millis();
        let size_column = i64::try_from(size).unwrap_or(i64::MAX);
        self.db.transaction(|tx| {
            db::insert_layer(tx, scope, repository, &digest.to_string(), size_column, now)?;
            db::delete_upload(tx, id)
        })?;
        self.uploads.lock().await.remove(id);
        Ok(())
    }

    /// Cancels an upload and deletes what it received.
    pub async fn cancel_upload(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
    ) -> Result<(), CoreError> {
        let _locked = self.lock_upload(scope, repository, id).await?;
        self.cancel_upload_unchecked(id).await
    }

    async fn cancel_upload_unchecked(&self, id: &str) -> Result<(), CoreError> {
        self.db.transaction(|tx| db::delete_upload(tx, id))?;
        self.blobs.discard_upload(id).await?;
        self.uploads.lock().await.remove(id);
        Ok(())
    }
}

/// The ECR API's side of uploads: parts with explicit byte ranges, and completion with the
/// checks of CompleteLayerUpload.
impl Registry {
    /// Returns the size of each layer in `digests` that was uploaded to `repository`, or `None`
    /// for a layer that was not, in the order of `digests`.
    pub fn layer_sizes(
        &self,
        scope: &Scope,
        repository: &str,
        digests: &[Digest],
    ) -> Result<Vec<Option<u64>>, CoreError> {
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            digests
                .iter()
                .map(|digest| {
                    let size = db::layer_size(tx, scope, repository, &digest.to_string())?;
                    Ok(size.map(|size| u64::try_from(size).unwrap_or(0)))
                })
                .collect()
        })
    }

    /// Appends one UploadLayerPart part. The part must start at the byte after the last one
    /// received (`first`), and `last - first + 1` must be its length. Returns the index of the
    /// last byte the upload now contains.
    pub async fn upload_layer_part(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
        first: u64,
        last: u64,
        part: Vec<u8>,
    ) -> Result<u64, UploadError> {
        let mut state = self.lock_upload(scope, repository, id).await?;

        let received = self.received_bytes(id).await?;
        if first != received {
            return Err(UploadError::PartOutOfOrder { first, received });
        }
        let length = part.len() as u64;
        if last < first || (last - first).checked_add(1) != Some(length) {
            return Err(UploadError::PartSizeMismatch {
                first,
                last,
                length,
                received,
            });
        }
        let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(part)]);
        let size = self
            .append_locked(&mut state, id, Some((first, last)), body)
            .await?;
        state.part_sizes.push(length);
        Ok(size - 1)
    }

    /// Completes an upload for CompleteLayerUpload and returns the layer's size.
    ///
    /// The checks run in this order: the upload must contain bytes, every part but the last
    /// must be at least [`MIN_LAYER_PART_BYTES`], the content must have the digest `expected`,
    /// and the repository must not already contain that layer. An upload that fails any check
    /// but the first is deleted, because no further part can make it valid.
    pub async fn complete_layer_upload(
        &self,
        scope: &Scope,
        repository: &str,
        id: &str,
        expected: &Digest,
    ) -> Result<u64, UploadError> {
        let mut state = self.lock_upload(scope, repository, id).await?;

        let size = self.received_bytes(id).await?;
        if size == 0 {
            return Err(UploadError::Empty { id: id.to_owned() });
        }
        // NOTE: part sizes are kept in memory, so after a restart only the parts received
        // since then are checked. Whether ECR checks part sizes here or in UploadLayerPart is
        // not documented; the API model lists LayerPartTooSmallException for this operation.
        if let Some((_last, earlier)) = state.part_sizes.split_last() {
            let too_small = earlier
                .iter()
                .enumerate()
                .find(|(_, size)| **size < MIN_LAYER_PART_BYTES);
            if let Some((index, size)) = too_small {
                let error = UploadError::PartTooSmall {
                    id: id.to_owned(),
                    part: index + 1,
                    size: *size,
                    minimum: MIN_LAYER_PART_BYTES,
                };
                self.cancel_upload_unchecked(id).await?;
                return Err(error);
            }
        }

        let hasher = self.take_hasher(&mut state, id).await?;
        let actual = Digest::from_hasher(hasher);
        if actual != *expected {
            self.cancel_upload_unchecked(id).await?;
            return Err(CoreError::DigestMismatch {
                expected: expected.to_string(),
                actual: actual.to_string(),
            }
            .into());
        }
        // Two uploads of the same layer may complete at once. The check and the commit run
        // under one lock, so exactly one of them stores the layer and the others get
        // LayerAlreadyExists.
        let _committing = self.layer_commits.lock().await;
        let existing = self
            .db
            .transaction(|tx| db::layer_size(tx, scope, repository, &expected.to_string()))?;
        if existing.is_some() {
            self.cancel_upload_unchecked(id).await?;
            return Err(UploadError::LayerAlreadyExists {
                digest: expected.to_string(),
                repository: repository.to_owned(),
                registry_id: scope.account.clone(),
            });
        }
        self.commit_locked(scope, repository, id, expected, size)
            .await?;
        Ok(size)
    }

    async fn received_bytes(&self, id: &str) -> Result<u64, CoreError> {
        self.blobs
            .upload_size(id)
            .await?
            .ok_or_else(|| CoreError::UploadUnknown { id: id.to_owned() })
    }

    async fn take_hasher(&self, state: &mut UploadState, id: &str) -> Result<Sha256, CoreError> {
        match state.hasher.take() {
            Some(hasher) => Ok(hasher),
            None => self.blobs.rehash_upload(id).await,
        }
    }
}
