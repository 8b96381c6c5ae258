//! Blob uploads: streamed to a file while hashed, verified, then stored as a layer.

use std::sync::Arc;

use futures_util::Stream;

use super::{Registry, UploadState};
use crate::digest::Digest;
use crate::error::CoreError;
use crate::store::db::{self, Scope};

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
        // Another request may have completed or cancelled the upload while this one waited.
        self.require_upload(scope, repository, id)?;
        self.append_locked(&mut state, id, start, body).await
    }

    async fn append_locked<S, B, E>(
        &self,
        state: &mut UploadState,
        id: &str,
        start: Option<u64>,
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
        if let Some(start) = start {
            if start != current {
                return Err(CoreError::UploadRangeInvalid { start, current });
            }
        }
        let mut hasher = match state.hasher.take() {
            Some(hasher) => hasher,
            None => self.blobs.rehash_upload(id).await?,
        };
        // On an error the file may hold part of the chunk, so the hash is left unset and is
        // rebuilt from the file by the next request.
        let written = self.blobs.append(id, body, &mut hasher).await?;
        state.hasher = Some(hasher);
        Ok(current + written)
    }

    /// Finishes an upload: appends the final chunk, verifies the digest, moves the blob into
    /// place and records the layer in the repository. The upload stays locked throughout, so
    /// a concurrent chunk for the same upload waits and then finds it completed.
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
        self.require_upload(scope, repository, id)?;
        let state = self.upload_state(id).await;
        let mut state = state.lock().await;
        self.require_upload(scope, repository, id)?;

        let size = self.append_locked(&mut state, id, None, body).await?;
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
        let state = self.upload_state(id).await;
        let _locked = state.lock().await;
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
