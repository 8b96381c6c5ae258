//! The content-addressed blob store: `blobs/sha256/<first two hex digits>/<hex>`.
//!
//! Uploads are written to `uploads/<id>` while hashed and renamed into place once their digest
//! is verified, so a blob path only ever contains complete, verified content.

use std::path::{Path, PathBuf};

use futures_util::{Stream, StreamExt};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::digest::Digest;
use crate::error::CoreError;

/// Blob files under one root folder.
#[derive(Debug, Clone)]
pub struct BlobStore {
    blobs: PathBuf,
    uploads: PathBuf,
}

impl BlobStore {
    /// Opens the store under `root`, creating its folders.
    pub fn open(root: &Path) -> Result<Self, CoreError> {
        let blobs = root.join("blobs");
        let uploads = root.join("uploads");
        for folder in [&blobs.join("sha256"), &uploads] {
            std::fs::create_dir_all(folder).map_err(|error| {
                CoreError::Storage(format!("cannot create {}: {error}", folder.display()))
            })?;
        }
        Ok(Self { blobs, uploads })
    }

    /// The file of a stored blob, whether or not it exists.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs
            .join(digest.algorithm_name())
            .join(&digest.hex()[..2])
            .join(digest.hex())
    }

    /// Returns the size of a stored blob, or `None` when it is not stored.
    pub async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, CoreError> {
        match tokio::fs::metadata(self.blob_path(digest)).await {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    fn upload_path(&self, id: &str) -> PathBuf {
        self.uploads.join(id)
    }

    /// Creates the empty file of a new upload.
    pub async fn start_upload(&self, id: &str) -> Result<(), CoreError> {
        tokio::fs::File::create(self.upload_path(id)).await?;
        Ok(())
    }

    /// Returns the bytes received so far for an upload, or `None` when its file is gone.
    pub async fn upload_size(&self, id: &str) -> Result<Option<u64>, CoreError> {
        match tokio::fs::metadata(self.upload_path(id)).await {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Appends a stream of chunks to an upload, feeding each chunk to `hasher` as it is written.
    /// Returns the number of bytes appended. Nothing is held in memory beyond one chunk.
    pub async fn append<S, B, E>(
        &self,
        id: &str,
        mut body: S,
        hasher: &mut Sha256,
    ) -> Result<u64, CoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let mut file = tokio::fs::OpenOptions::new()
            .append(true)
            .open(self.upload_path(id))
            .await?;
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    // The bytes received so far stay in the upload, so the client can resume.
                    file.flush().await?;
                    return Err(CoreError::BodyInterrupted {
                        received: written,
                        reason: error.to_string(),
                    });
                }
            };
            let bytes = chunk.as_ref();
            hasher.update(bytes);
            file.write_all(bytes).await?;
            written += bytes.len() as u64;
        }
        file.flush().await?;
        Ok(written)
    }

    /// Cuts an upload's file back to its first `length` bytes, dropping a rejected chunk.
    pub async fn truncate_upload(&self, id: &str, length: u64) -> Result<(), CoreError> {
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(self.upload_path(id))
            .await?;
        file.set_len(length).await?;
        file.sync_all().await?;
        Ok(())
    }

    /// Recomputes the running hash of an upload from its file, for uploads whose in-memory
    /// state was lost (for example across a restart).
    pub async fn rehash_upload(&self, id: &str) -> Result<Sha256, CoreError> {
        self.hash_upload(id).await
    }

    /// Computes the SHA-512 digest of an upload's file, for a client that names its blob by a
    /// sha512 digest. Uploads hash SHA-256 as they arrive; SHA-512 is computed only here.
    pub async fn sha512_of_upload(&self, id: &str) -> Result<Digest, CoreError> {
        Ok(Digest::from_sha512_hasher(self.hash_upload(id).await?))
    }

    /// Feeds an upload's file to a new hasher of type `H`.
    async fn hash_upload<H: sha2::Digest>(&self, id: &str) -> Result<H, CoreError> {
        let mut file = tokio::fs::File::open(self.upload_path(id)).await?;
        let mut hasher = H::new();
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
        }
        Ok(hasher)
    }

    /// Moves a verified upload into place as the blob `digest`.
    pub async fn commit_upload(&self, id: &str, digest: &Digest) -> Result<(), CoreError> {
        let upload = self.upload_path(id);
        let target = self.blob_path(digest);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::File::open(&upload).await?.sync_all().await?;
        tokio::fs::rename(&upload, &target).await?;
        Ok(())
    }

    /// Deletes an upload's file; a missing file is not an error.
    pub async fn discard_upload(&self, id: &str) -> Result<(), CoreError> {
        match tokio::fs::remove_file(self.upload_path(id)).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
            _ => Ok(()),
        }
    }

    /// Opens a stored blob for reading.
    pub async fn open_blob(&self, digest: &Digest) -> Result<tokio::fs::File, CoreError> {
        Ok(tokio::fs::File::open(self.blob_path(digest)).await?)
    }

    /// Lists the uploads that have a file, by id, in no particular order. Entries that are not
    /// regular files or whose names are not UTF-8 were not made by this store and are left out.
    pub async fn upload_ids(&self) -> Result<Vec<String>, CoreError> {
        let mut entries = tokio::fs::read_dir(&self.uploads).await?;
        let mut ids = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            if !entry.file_type().await?.is_file() {
                continue;
            }
            if let Ok(id) = entry.file_name().into_string() {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}
