//! The registry core's errors. Each variant carries the values its message names.
//!
//! The front ends map these to wire errors: `ecr_api` to ECR's `__type`/`message` body and
//! `registry` to the OCI error envelope. The messages follow the texts ECR itself returns, so a
//! student gets from the mock the errors that AWS would return.

/// A failure of a registry-core operation.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(
        "The repository with name '{name}' does not exist in the registry with id '{registry_id}'"
    )]
    RepositoryNotFound { name: String, registry_id: String },

    #[error(
        "The repository with name '{name}' already exists in the registry with id '{registry_id}'"
    )]
    RepositoryAlreadyExists { name: String, registry_id: String },

    #[error(
        "The repository with name '{name}' in registry with id '{registry_id}' cannot be deleted because it still contains images"
    )]
    RepositoryNotEmpty { name: String, registry_id: String },

    #[error("Invalid parameter at '{field}' failed to satisfy constraint: '{constraint}'")]
    InvalidParameter { field: String, constraint: String },

    #[error("Invalid tag at '{field}': {reason}")]
    InvalidTagParameter { field: String, reason: String },

    #[error(
        "The repository with name '{repository}' would have {count} tags, over the limit of {limit}: remove tags with UntagResource first"
    )]
    TooManyTags {
        repository: String,
        count: usize,
        limit: usize,
    },

    #[error(
        "Repository policy does not exist for the repository with name '{name}' in the registry with id '{registry_id}'"
    )]
    RepositoryPolicyNotFound { name: String, registry_id: String },

    #[error(
        "Lifecycle policy does not exist for the repository with name '{name}' in the registry with id '{registry_id}'"
    )]
    LifecyclePolicyNotFound { name: String, registry_id: String },

    #[error(
        "There is no lifecycle policy preview for the repository with name '{name}' in the registry with id '{registry_id}': start one with StartLifecyclePolicyPreview"
    )]
    LifecyclePolicyPreviewNotFound { name: String, registry_id: String },

    #[error(
        "The image with imageId {{{image}}} does not exist within the repository with name '{repository}' in the registry with id '{registry_id}'"
    )]
    ImageNotFound {
        image: String,
        repository: String,
        registry_id: String,
    },

    #[error(
        "Image scan does not exist for the image with imageId {{{image}}} in the repository with name '{repository}' in the registry with id '{registry_id}': turn on scan on push and push the image, or call StartImageScan"
    )]
    ScanNotFound {
        image: String,
        repository: String,
        registry_id: String,
    },

    #[error(
        "The scan quota per image has been exceeded. Wait and try again: an image can be scanned once every 24 hours, so the next scan of this image can start at {next_allowed} (mock time)."
    )]
    ScanLimitExceeded { next_allowed: String },

    #[error("The image is of a type that cannot be scanned: {reason}.")]
    UnsupportedImageType { reason: String },

    #[error(
        "The image tag '{tag}' already exists in the '{repository}' repository and cannot be overwritten because the repository is immutable."
    )]
    ImageTagAlreadyExists { tag: String, repository: String },

    #[error(
        "Adding tag '{tag}' to an image in the repository with name '{repository}' in registry with id '{registry_id}' exceeds the maximum allowed number of tags per image which is '{limit}'"
    )]
    TagLimitExceeded {
        tag: String,
        repository: String,
        registry_id: String,
        limit: usize,
    },

    #[error(
        "Manifest references blob {digest}, which has not been uploaded to repository '{repository}'"
    )]
    ManifestBlobUnknown { digest: String, repository: String },

    #[error("Manifest is invalid: {reason}")]
    ManifestInvalid { reason: String },

    #[error(
        "Manifest media type '{media_type}' is not supported: push a Docker schema 2 or OCI manifest or index"
    )]
    ManifestUnsupported { media_type: String },

    #[error("Manifest is {size} bytes, over the limit of {limit} bytes")]
    ManifestTooLarge { size: usize, limit: usize },

    #[error("Requested image not found")]
    ManifestUnknown { reference: String },

    #[error("Digest '{digest}' is invalid: {reason}")]
    DigestInvalid { digest: String, reason: String },

    #[error("Uploaded content has digest {actual}, not the digest {expected} named by the request")]
    DigestMismatch { expected: String, actual: String },

    #[error(
        "Uploaded content has digest {actual}, not the digest {expected} named by the request, so upload {id} was discarded: start a new upload and send the whole blob again"
    )]
    UploadDigestMismatch {
        id: String,
        expected: String,
        actual: String,
    },

    #[error("Blob {digest} not found in repository '{repository}'")]
    BlobUnknown { digest: String, repository: String },

    #[error("Upload {id} not found: it was completed, cancelled or never started")]
    UploadUnknown { id: String },

    #[error("Upload {id} expired: it started more than {hours} hours ago; start a new upload")]
    UploadExpired { id: String, hours: i64 },

    #[error(
        "Chunk starts at byte {start}, but the upload has {current} bytes: send the next chunk from byte {current}"
    )]
    UploadRangeInvalid { start: u64, current: u64 },

    #[error(
        "The chunk's Content-Range {start}-{end} announces {} bytes, but the body has {received}; the upload keeps its {current} bytes: send Content-Range {current}-{} with this body", (end - start).saturating_add(1), (current + received).saturating_sub(1)
    )]
    ChunkLengthMismatch {
        start: u64,
        end: u64,
        received: u64,
        current: u64,
    },

    #[error(
        "The request body ended after {received} bytes, before the client finished sending it: {reason}. Read how many bytes the upload has with GET on its URL (the Range header) and send the rest from there"
    )]
    BodyInterrupted { received: u64, reason: String },

    #[error("Login rejected: {reason}.")]
    LoginRejected { reason: String },

    #[error("Not Authorized")]
    Unauthenticated,

    #[error("Your authorization token has expired. Reauthenticate and try again.")]
    TokenExpired,

    #[error(
        "Your authorization token is invalid. Run 'aws ecr get-login-password' and log in again."
    )]
    TokenInvalid,

    #[error("Storage failed: {0}")]
    Storage(String),

    /// The data folder's disk cannot take a write. `detail` is the blob store's or database's
    /// own error text.
    #[error("{}", fault.message(detail))]
    StorageFault { fault: StorageFault, detail: String },
}

/// Why the data folder could not be written: conditions that the person running the mock must
/// fix, after which requests succeed again without a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFault {
    /// The disk or the user's quota is full: `ENOSPC`, `EDQUOT` or SQLite's `SQLITE_FULL`.
    DiskFull,
    /// The file system is mounted read-only: `EROFS` or SQLite's `SQLITE_READONLY`.
    ReadOnly,
    /// SQLite's `SQLITE_IOERR`: a read, write or sync of the database failed. The unix VFS of
    /// SQLite 3.50 reports every failed write but `ENOSPC` this way, `EROFS` and `EDQUOT`
    /// included, and the error does not carry the operating system's code.
    IoError,
}

impl StorageFault {
    /// Classifies an I/O error of the blob store, or returns `None` for other failures.
    pub fn of_io(error: &std::io::Error) -> Option<Self> {
        use std::io::ErrorKind;
        match error.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => Some(Self::DiskFull),
            ErrorKind::ReadOnlyFilesystem => Some(Self::ReadOnly),
            _ => None,
        }
    }

    /// Classifies a database error, or returns `None` for other failures.
    pub fn of_sqlite(error: &rusqlite::Error) -> Option<Self> {
        match error.sqlite_error_code()? {
            rusqlite::ErrorCode::DiskFull => Some(Self::DiskFull),
            rusqlite::ErrorCode::ReadOnly => Some(Self::ReadOnly),
            rusqlite::ErrorCode::SystemIoFailure => Some(Self::IoError),
            _ => None,
        }
    }

    /// Formats the message a client and the log get: what happened, that stored images are
    /// safe, and what to do.
    fn message(self, detail: &str) -> String {
        let (what, fix) = match self {
            Self::DiskFull => (
                "the disk that holds the mock-ecr data folder is full",
                "free space on that disk, then retry; mock-ecr needs no restart",
            ),
            Self::ReadOnly => (
                "the mock-ecr data folder is on a read-only file system",
                "remount it read-write and retry, or restart mock-ecr with --data set to a writable folder",
            ),
            Self::IoError => (
                "mock-ecr could not read or write its data folder",
                "check that its disk has free space, is mounted read-write and reports no I/O errors (dmesg), then retry",
            ),
        };
        format!(
            "Storage failed because {what} ({detail}), so this request was not completed and images stored before are unaffected: {fix}"
        )
    }
}

impl CoreError {
    /// Builds an [`CoreError::InvalidParameter`] for `field`.
    pub fn invalid(field: &str, constraint: impl Into<String>) -> Self {
        Self::InvalidParameter {
            field: field.to_owned(),
            constraint: constraint.into(),
        }
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(error: rusqlite::Error) -> Self {
        let detail = format!("database: {error}");
        match StorageFault::of_sqlite(&error) {
            Some(fault) => Self::StorageFault { fault, detail },
            None => Self::Storage(detail),
        }
    }
}

impl From<std::io::Error> for CoreError {
    fn from(error: std::io::Error) -> Self {
        let detail = format!("blob store: {error}");
        match StorageFault::of_io(&error) {
            Some(fault) => Self::StorageFault { fault, detail },
            None => Self::Storage(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_error(code: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn sqlite_codes_map_to_faults() {
        let cases = [
            (rusqlite::ffi::SQLITE_FULL, Some(StorageFault::DiskFull)),
            (rusqlite::ffi::SQLITE_READONLY, Some(StorageFault::ReadOnly)),
            (
                rusqlite::ffi::SQLITE_READONLY_DBMOVED,
                Some(StorageFault::ReadOnly),
            ),
            (rusqlite::ffi::SQLITE_IOERR, Some(StorageFault::IoError)),
            (
                rusqlite::ffi::SQLITE_IOERR_WRITE,
                Some(StorageFault::IoError),
            ),
            (
                rusqlite::ffi::SQLITE_IOERR_FSYNC,
                Some(StorageFault::IoError),
            ),
            (rusqlite::ffi::SQLITE_BUSY, None),
            (rusqlite::ffi::SQLITE_CONSTRAINT, None),
        ];
        for (code, expected) in cases {
            let error = sqlite_error(code);
            assert_eq!(StorageFault::of_sqlite(&error), expected, "code {code}");
        }
    }

    #[test]
    fn io_kinds_map_to_faults() {
        use std::io::ErrorKind;
        let cases = [
            (ErrorKind::StorageFull, Some(StorageFault::DiskFull)),
            (ErrorKind::QuotaExceeded, Some(StorageFault::DiskFull)),
            (ErrorKind::ReadOnlyFilesystem, Some(StorageFault::ReadOnly)),
            (ErrorKind::NotFound, None),
            (ErrorKind::PermissionDenied, None),
        ];
        for (kind, expected) in cases {
            let error = std::io::Error::from(kind);
            assert_eq!(StorageFault::of_io(&error), expected, "{kind:?}");
        }
    }

    #[test]
    fn fault_messages_name_cause_and_fix() {
        let full = CoreError::from(sqlite_error(rusqlite::ffi::SQLITE_FULL)).to_string();
        assert!(full.contains("is full"), "{full}");
        assert!(full.contains("free space"), "{full}");
        assert!(full.contains("(database: "), "{full}");

        let read_only = std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem);
        let read_only = CoreError::from(read_only).to_string();
        assert!(read_only.contains("read-only file system"), "{read_only}");
        assert!(read_only.contains("remount it read-write"), "{read_only}");
        assert!(read_only.contains("blob store:"), "{read_only}");

        let other = CoreError::from(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(matches!(other, CoreError::Storage(_)), "{other:?}");
    }
}
