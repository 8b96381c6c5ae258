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
        Self::Storage(format!("database: {error}"))
    }
}

impl From<std::io::Error> for CoreError {
    fn from(error: std::io::Error) -> Self {
        Self::Storage(format!("blob store: {error}"))
    }
}
