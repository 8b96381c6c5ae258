//! The content-addressed blob store: `blobs/sha256/<first two hex digits>/<hex>`.
//!
//! Uploads are written to `uploads/<id>` while hashed and renamed into place once their digest
//! is verified, so a blob path only ever contains complete, verified content.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{Stream, StreamExt};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::digest::Digest;
use crate::error::CoreError;

/// Blob files under one root folder.
#[derive(Debug, Clone)]
pub struct BlobStore {
    blobs: PathBuf,
    uploads: PathBuf,
    batches: BatchPool,
}

impl BlobStore {
    /// Opens the store under `root`, creating its folders.
    pub fn open(root: &Path) -> Result<Self, CoreError> {
        let blobs = root.join("blobs");
        let uploads = root.join("uploads");
        for folder in [&blobs.join("sha256"), &uploads] {
            std::fs::create_dir_all(folder).map_err(|error| {
                CoreError::Storage(if folder.exists() && !folder.is_dir() {
                    format!(
                        "{} is a file, not a folder: move it out of the data folder",
                        folder.display()
                    )
                } else {
                    format!("cannot create {}: {error}", folder.display())
                })
            })?;
        }
        Ok(Self {
            blobs,
            uploads,
            batches: BatchPool::new(SHARED_BATCHES),
        })
    }

    /// Returns the folder of uploads in progress.
    pub fn uploads_folder(&self) -> PathBuf {
        self.uploads.clone()
    }

    /// Returns the folder of sha256 blobs, with one subfolder per first two hex digits.
    pub fn sha256_folder(&self) -> PathBuf {
        self.blobs.join("sha256")
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

    /// Appends a stream of chunks to an upload and feeds every byte, in order, to `hasher`.
    /// Returns the number of bytes appended and the hasher.
    ///
    /// Chunks are gathered into batches of [`WRITE_BATCH_BYTES`]. Each full batch is hashed on
    /// a blocking thread, then written on another, while the next batches are received, so
    /// receiving, hashing and writing overlap. Hashing is most of a push's work, and this
    /// moves all but the last batch of it off the thread that reads the socket. An upload
    /// uses at most three batches, and only its first when the shared batches are all in use
    /// ([`SHARED_BATCHES`]). Writes go past the page cache where the file system allows it
    /// (see [`UploadFile`]).
    pub async fn append<S, B, E>(
        &self,
        id: &str,
        mut body: S,
        hasher: Sha256,
    ) -> Result<(u64, Sha256), CoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let mut writer =
            BatchWriter::open(self.upload_path(id), hasher, self.batches.clone()).await?;
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    // The bytes received so far stay in the upload, so the client can resume.
                    writer.finish().await?;
                    return Err(CoreError::BodyInterrupted {
                        received: written,
                        reason: error.to_string(),
                    });
                }
            };
            let bytes = chunk.as_ref();
            writer.push(bytes).await?;
            written += bytes.len() as u64;
        }
        let hasher = writer.finish().await?;
        Ok((written, hasher))
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

/// The number of bytes an upload gathers before it hashes and writes them, each in one step. It
/// is large enough that the cost of a blocking thread per step is small next to the work. An
/// upload in progress uses one to three batches (4 to 12 MiB), whatever the blob's size.
pub const WRITE_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Alignment of direct writes: file offset, length and memory address. 4096 covers the logical
/// block sizes of current disks (512 and 4096 bytes).
const DIRECT_ALIGNMENT: usize = 4096;

/// An upload's file, opened twice: for ordinary positioned writes, and, where the file system
/// supports it, with `O_DIRECT`. Direct writes skip the kernel's page cache, so a 1 GiB push
/// does not copy every byte into cached pages that are not read again. The bytes before the
/// first and after the last aligned block go through the ordinary handle.
struct UploadFile {
    buffered: std::fs::File,
    direct: Option<std::fs::File>,
}

impl UploadFile {
    fn open(path: &Path) -> std::io::Result<(Self, u64)> {
        let buffered = std::fs::OpenOptions::new().write(true).open(path)?;
        let length = buffered.metadata()?.len();
        // File systems without direct I/O (tmpfs among them) refuse the flag at open.
        let direct = open_direct(path).ok();
        Ok((Self { buffered, direct }, length))
    }

    /// Writes `data` at `offset`: the aligned middle directly when possible, the rest through
    /// the page cache.
    fn write_at(&mut self, data: &[u8], offset: u64) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt as _;
        let mut done = 0;
        if let Some(direct) = &self.direct {
            let head =
                (DIRECT_ALIGNMENT - (offset % DIRECT_ALIGNMENT as u64) as usize) % DIRECT_ALIGNMENT;
            let head = head.min(data.len());
            let middle = (data.len() - head) / DIRECT_ALIGNMENT * DIRECT_ALIGNMENT;
            let block = &data[head..head + middle];
            if middle > 0 && (block.as_ptr() as usize) % DIRECT_ALIGNMENT == 0 {
                self.buffered.write_all_at(&data[..head], offset)?;
                match direct.write_all_at(block, offset + head as u64) {
                    Ok(()) => done = head + middle,
                    // A file system that accepted the flag but not this write: stay with the
                    // page cache from here on, and write the whole range again through it.
                    Err(error) if error.kind() == std::io::ErrorKind::InvalidInput => {
                        self.direct = None;
                    }
                    Err(error) => return Err(error),
                }
            }
        }
        self.buffered
            .write_all_at(&data[done..], offset + done as u64)
    }
}

#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> std::io::Result<std::fs::File> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The number of empty batches kept for the next upload, which is the most one upload uses at
/// once. Reusing them saves each request the allocation and the page faults of fresh memory,
/// so a push of many chunks needs no more memory than a push of one.
const SPARE_BATCHES: usize = 3;

/// The number of batches, beyond the first batch of each upload, that all uploads together may
/// use (64 MiB). An upload that finds none free hashes and writes each batch itself before it
/// fills the batch again, so many large uploads at once need about one batch each.
const SHARED_BATCHES: usize = 16;

/// Batches for the uploads of one store: the empty ones kept for reuse, and the permits for
/// batches beyond an upload's first.
#[derive(Clone)]
struct BatchPool {
    spares: Arc<Mutex<Vec<Batch>>>,
    shared: Arc<Semaphore>,
}

impl BatchPool {
    fn new(shared: usize) -> Self {
        Self {
            spares: Arc::default(),
            shared: Arc::new(Semaphore::new(shared)),
        }
    }

    /// Returns an upload's first batch, a kept one or a new one. It needs no permit.
    fn take_first(&self) -> Batch {
        self.lock().pop().unwrap_or_else(Batch::allocate)
    }

    /// Returns a further batch for an upload, a kept one or a new one, with one of the shared
    /// permits, or `None` when all permits are taken. Every batch beyond an upload's first
    /// carries a permit, so those batches never number more than [`SHARED_BATCHES`].
    fn take_extra(&self) -> Option<Batch> {
        let permit = Arc::clone(&self.shared).try_acquire_owned().ok()?;
        let mut batch = self.lock().pop().unwrap_or_else(Batch::allocate);
        batch.permit = Some(permit);
        Some(batch)
    }

    /// Keeps `batch` for a later upload, unless enough are kept already. A kept batch returns
    /// its permit at once, so idle batches do not count against the uploads in progress.
    fn give(&self, mut batch: Batch) {
        batch.permit = None;
        let mut spares = self.lock();
        if spares.len() < SPARE_BATCHES && !batch.storage.is_empty() {
            spares.push(batch);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Batch>> {
        self.spares.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for BatchPool {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("BatchPool")
            .field("spares", &self.lock().len())
            .field("free_shared", &self.shared.available_permits())
            .finish()
    }
}

/// A batch buffer whose bytes sit at memory addresses congruent to their file offsets modulo
/// [`DIRECT_ALIGNMENT`], so every aligned block of the file is also aligned in memory.
struct Batch {
    storage: Vec<u8>,
    start: usize,
    len: usize,
    capacity: usize,
    /// File offset of the batch's first byte.
    offset: u64,
    /// The shared permit of a batch beyond an upload's first, returned when the batch is kept
    /// or freed.
    permit: Option<OwnedSemaphorePermit>,
}

impl Batch {
    /// Returns a batch without storage: the placeholder for a batch handed to another thread.
    fn empty() -> Self {
        Self {
            storage: Vec::new(),
            start: 0,
            len: 0,
            capacity: 0,
            offset: 0,
            permit: None,
        }
    }

    fn allocate() -> Self {
        Self {
            storage: vec![0; WRITE_BATCH_BYTES + DIRECT_ALIGNMENT],
            ..Self::empty()
        }
    }

    /// Empties the batch for bytes starting at file offset `offset`. The batch then holds up to
    /// [`WRITE_BATCH_BYTES`] less the part of `offset` past a [`DIRECT_ALIGNMENT`] boundary,
    /// so it ends on a boundary and every later batch starts on one.
    fn reset(&mut self, offset: u64) {
        let within = (offset % DIRECT_ALIGNMENT as u64) as usize;
        let address = self.storage.as_ptr() as usize % DIRECT_ALIGNMENT;
        self.start = (within + DIRECT_ALIGNMENT - address) % DIRECT_ALIGNMENT;
        self.len = 0;
        self.capacity = WRITE_BATCH_BYTES - within;
        self.offset = offset;
    }

    fn is_full(&self) -> bool {
        self.len == self.capacity
    }

    /// Copies as much of `bytes` as fits and returns the rest.
    fn fill<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let (now, later) = bytes.split_at((self.capacity - self.len).min(bytes.len()));
        let at = self.start + self.len;
        self.storage[at..at + now.len()].copy_from_slice(now);
        self.len += now.len();
        later
    }

    fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }
}

/// Hashes and writes batches on blocking threads: while the caller fills one batch, the batch
/// before it is hashed and the one before that is written. Hashing and writing each go in
/// order, one batch at a time, so the hasher receives the bytes in order and the file grows from
/// its start with no gaps.
struct BatchWriter {
    /// The batch the caller fills.
    batch: Batch,
    /// The hasher, while no batch is being hashed.
    hasher: Option<Sha256>,
    hashing: Option<JoinHandle<(Sha256, Batch)>>,
    /// The file, while no batch is being written.
    file: Option<UploadFile>,
    writing: Option<JoinHandle<WriteOutcome>>,
    /// The pool that batches come from and return to once written.
    pool: BatchPool,
}

type WriteOutcome = (UploadFile, Batch, std::io::Result<()>);

impl BatchWriter {
    async fn open(path: PathBuf, hasher: Sha256, pool: BatchPool) -> Result<Self, CoreError> {
        let (file, length) = tokio::task::spawn_blocking(move || UploadFile::open(&path))
            .await
            .map_err(writer_failed)??;
        let mut batch = pool.take_first();
        batch.reset(length);
        Ok(Self {
            batch,
            hasher: Some(hasher),
            hashing: None,
            file: Some(file),
            writing: None,
            pool,
        })
    }

    async fn push(&mut self, mut bytes: &[u8]) -> Result<(), CoreError> {
        while !bytes.is_empty() {
            bytes = self.batch.fill(bytes);
            if self.batch.is_full() {
                self.hash_batch().await?;
            }
        }
        Ok(())
    }

    /// Hands the hashed batch, if any, to the writer, then starts hashing the current batch
    /// and gives the caller an empty one.
    async fn hash_batch(&mut self) -> Result<(), CoreError> {
        self.write_hashed().await?;
        let Some(mut next) = self.pool.take_extra() else {
            return self.write_in_place().await;
        };
        let mut hasher = self.take_hasher()?;
        next.reset(self.batch.offset + self.batch.len as u64);
        let batch = std::mem::replace(&mut self.batch, next);
        self.hashing = Some(tokio::task::spawn_blocking(move || {
            hasher.update(batch.bytes());
            (hasher, batch)
        }));
        Ok(())
    }

    /// Waits for the batch being hashed, if any, and starts writing it.
    async fn write_hashed(&mut self) -> Result<(), CoreError> {
        if let Some(task) = self.hashing.take() {
            let (hasher, batch) = task.await.map_err(writer_failed)?;
            self.hasher = Some(hasher);
            self.write(batch).await?;
        }
        Ok(())
    }

    /// Hashes and writes the full batch on one blocking thread and waits for both, then
    /// empties the batch for the next bytes. Uploads go on this way while every shared batch
    /// is in use.
    async fn write_in_place(&mut self) -> Result<(), CoreError> {
        self.wait_for_write().await?;
        let mut hasher = self.take_hasher()?;
        let file = self.take_file()?;
        let batch = std::mem::replace(&mut self.batch, Batch::empty());
        let (hasher, (file, mut batch, result)) = tokio::task::spawn_blocking(move || {
            hasher.update(batch.bytes());
            (hasher, write_batch(file, batch))
        })
        .await
        .map_err(writer_failed)?;
        self.hasher = Some(hasher);
        self.file = Some(file);
        result?;
        batch.reset(batch.offset + batch.len as u64);
        self.batch = batch;
        Ok(())
    }

    /// Waits for the write in flight, then starts writing `batch`.
    async fn write(&mut self, batch: Batch) -> Result<(), CoreError> {
        self.wait_for_write().await?;
        let file = self.take_file()?;
        self.writing = Some(tokio::task::spawn_blocking(move || {
            write_batch(file, batch)
        }));
        Ok(())
    }

    fn take_file(&mut self) -> Result<UploadFile, CoreError> {
        self.file.take().ok_or_else(|| {
            CoreError::Storage("the upload writer lost its file after a failed write".to_owned())
        })
    }

    async fn wait_for_write(&mut self) -> Result<(), CoreError> {
        if let Some(task) = self.writing.take() {
            let (file, batch, result) = task.await.map_err(writer_failed)?;
            self.file = Some(file);
            self.pool.give(batch);
            result?;
        }
        Ok(())
    }

    fn take_hasher(&mut self) -> Result<Sha256, CoreError> {
        self.hasher.take().ok_or_else(|| {
            CoreError::Storage("the upload writer lost its hasher after a failed hash".to_owned())
        })
    }

    /// Hashes and writes what is left, waits until every byte is in the file, and returns the
    /// hasher. The last batch is hashed on the caller's thread: it is at most one batch, and
    /// many uploads (image configurations, small layers) fit in it.
    async fn finish(&mut self) -> Result<Sha256, CoreError> {
        self.write_hashed().await?;
        let mut hasher = self.take_hasher()?;
        if self.batch.len > 0 {
            hasher.update(self.batch.bytes());
            let batch = std::mem::replace(&mut self.batch, Batch::empty());
            self.write(batch).await?;
        }
        self.wait_for_write().await?;
        Ok(hasher)
    }
}

impl Drop for BatchWriter {
    fn drop(&mut self) {
        self.pool
            .give(std::mem::replace(&mut self.batch, Batch::empty()));
    }
}

fn write_batch(mut file: UploadFile, batch: Batch) -> WriteOutcome {
    let result = file.write_at(batch.bytes(), batch.offset);
    (file, batch, result)
}

fn writer_failed(error: tokio::task::JoinError) -> CoreError {
    CoreError::Storage(format!("the upload writer thread failed: {error}"))
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;

    /// Bytes that differ at every offset within a batch, so a chunk written at the wrong
    /// place shows.
    fn pattern(length: usize, seed: u8) -> Vec<u8> {
        (0..length)
            .map(|index| (index % 251) as u8 ^ seed.wrapping_mul(31) ^ (index / 4096) as u8)
            .collect()
    }

    /// Appends `appends`, each a list of chunk sizes, to one upload of a store with `shared`
    /// shared batches, and checks the file and the hash after each append.
    async fn check_appends(appends: &[&[usize]], shared: usize) {
        let root = tempfile::tempdir().unwrap();
        let mut store = BlobStore::open(root.path()).unwrap();
        store.batches = BatchPool::new(shared);
        store.start_upload("u").await.unwrap();
        let mut expected = Vec::new();
        let mut hasher = Sha256::new();
        for (number, sizes) in appends.iter().enumerate() {
            let chunks: Vec<Result<Vec<u8>, std::convert::Infallible>> = sizes
                .iter()
                .enumerate()
                .map(|(index, size)| Ok(pattern(*size, (number * 16 + index) as u8)))
                .collect();
            for chunk in chunks.iter().flatten() {
                expected.extend_from_slice(chunk);
            }
            let body = futures_util::stream::iter(chunks);
            let (written, next) = store.append("u", body, hasher).await.unwrap();
            hasher = next;

            let total: usize = sizes.iter().sum();
            assert_eq!(written, total as u64, "append {number} of {appends:?}");
            let file = std::fs::read(store.upload_path("u")).unwrap();
            assert!(
                file == expected,
                "file after append {number} of {appends:?}"
            );
            assert_eq!(
                hasher.clone().finalize(),
                Sha256::digest(&expected),
                "hash after append {number} of {appends:?}"
            );
        }
    }

    #[tokio::test]
    async fn appends_keep_every_byte() {
        let batch = WRITE_BATCH_BYTES;
        let cases: [&[&[usize]]; 7] = [
            &[&[1]],
            &[&[batch]],
            &[&[batch - 1, 1, 1]],
            &[&[4095, 4097, batch, 3 * batch + 123]],
            &[&[batch + 1], &[batch - 2, 7]],
            // Later appends start at offsets off a 4096-byte boundary.
            &[&[5000], &[2 * batch + 10, 1], &[0, 4096]],
            &[&[], &[3], &[batch / 2; 5]],
        ];
        // With no shared batch every upload hashes and writes in place, and with one it
        // switches between the two ways.
        for shared in [SHARED_BATCHES, 0, 1] {
            for appends in cases {
                check_appends(appends, shared).await;
            }
        }
    }

    #[test]
    fn extra_batches_stop_at_limit() {
        let pool = BatchPool::new(2);
        let first = pool.take_extra().expect("first shared batch");
        let second = pool.take_extra().expect("second shared batch");
        assert!(pool.take_extra().is_none(), "a third batch past the limit");

        let address = first.storage.as_ptr();
        pool.give(first);
        let third = pool
            .take_extra()
            .expect("the permit of a kept batch is free again");
        assert_eq!(third.storage.as_ptr(), address, "the kept batch is reused");
        assert!(
            pool.take_extra().is_none(),
            "a batch past the limit after reuse"
        );

        // A kept first batch, which never had a permit, is no way around the limit.
        pool.give(pool.take_first());
        assert_eq!(pool.lock().len(), 1);
        assert!(pool.take_extra().is_none(), "a kept batch past the limit");

        drop(second);
        assert!(
            pool.take_extra().is_some(),
            "a freed batch's permit is reused"
        );
    }

    #[tokio::test]
    async fn stalled_uploads_stay_within_shared_batches() {
        let root = tempfile::tempdir().unwrap();
        let mut store = BlobStore::open(root.path()).unwrap();
        store.batches = BatchPool::new(2);
        let sizes = [3 * WRITE_BATCH_BYTES + 1, WRITE_BATCH_BYTES / 3];
        let mut senders = Vec::new();
        let mut uploads = Vec::new();
        for number in 0..5u8 {
            let id = format!("u{number}");
            store.start_upload(&id).await.unwrap();
            let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
            let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
                let chunk: Result<Vec<u8>, std::convert::Infallible> = Ok(receiver.recv().await?);
                Some((chunk, receiver))
            });
            sender.send(pattern(sizes[0], number)).unwrap();
            senders.push(sender);
            let store = store.clone();
            uploads.push(tokio::spawn(async move {
                store.append(&id, Box::pin(body), Sha256::new()).await
            }));
        }

        // Five uploads of three full batches each would use ten batches beyond their first.
        let mut waited = 0;
        while store.batches.shared.available_permits() > 0 && waited < 500 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            waited += 1;
        }
        assert_eq!(store.batches.shared.available_permits(), 0);

        for (number, sender) in senders.into_iter().enumerate() {
            sender.send(pattern(sizes[1], number as u8 + 100)).unwrap();
        }
        for (number, upload) in uploads.into_iter().enumerate() {
            let (written, hasher) = upload.await.unwrap().unwrap();
            let mut expected = pattern(sizes[0], number as u8);
            expected.extend(pattern(sizes[1], number as u8 + 100));
            assert_eq!(written, expected.len() as u64, "upload u{number}");
            assert_eq!(
                hasher.finalize(),
                Sha256::digest(&expected),
                "upload u{number}"
            );
            let file = std::fs::read(store.upload_path(&format!("u{number}"))).unwrap();
            assert!(file == expected, "file of upload u{number}");
        }
    }

    #[tokio::test]
    async fn interrupted_append_keeps_batches_in_flight() {
        let root = tempfile::tempdir().unwrap();
        let store = BlobStore::open(root.path()).unwrap();
        store.start_upload("u").await.unwrap();
        // When the body fails, one batch is being written, one hashed and half of one received.
        let received = pattern(2 * WRITE_BATCH_BYTES + WRITE_BATCH_BYTES / 2, 9);
        let (head, tail) = received.split_at(WRITE_BATCH_BYTES + 1);
        let chunks = vec![
            Ok(head.to_vec()),
            Ok(tail.to_vec()),
            Err("client went away"),
        ];

        let error = store
            .append("u", futures_util::stream::iter(chunks), Sha256::new())
            .await
            .unwrap_err();

        assert!(
            matches!(error, CoreError::BodyInterrupted { received: count, .. } if count == received.len() as u64),
            "{error:?}"
        );
        assert!(std::fs::read(store.upload_path("u")).unwrap() == received);
        assert_eq!(
            store.rehash_upload("u").await.unwrap().finalize(),
            Sha256::digest(&received)
        );
    }

    #[tokio::test]
    async fn uploads_reuse_kept_batches() {
        let root = tempfile::tempdir().unwrap();
        let store = BlobStore::open(root.path()).unwrap();
        let body = || {
            let chunks: Vec<Result<Vec<u8>, std::convert::Infallible>> =
                vec![Ok(pattern(5 * WRITE_BATCH_BYTES + 17, 3))];
            futures_util::stream::iter(chunks)
        };
        for id in ["a", "b"] {
            store.start_upload(id).await.unwrap();
            store.append(id, body(), Sha256::new()).await.unwrap();
            assert_eq!(
                store.batches.lock().len(),
                SPARE_BATCHES,
                "after upload {id}"
            );
        }
        let pooled_address = store.batches.lock().last().unwrap().storage.as_ptr();
        let reused = store.batches.take_first();
        assert_eq!(
            reused.storage.as_ptr(),
            pooled_address,
            "a kept batch is handed out"
        );
        assert_eq!(store.batches.lock().len(), SPARE_BATCHES - 1);
    }
}
