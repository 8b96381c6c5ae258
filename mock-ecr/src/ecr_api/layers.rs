//! Layer operations: BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart,
//! CompleteLayerUpload and GetDownloadUrlForLayer, and the download URLs the last one issues.
//!
//! Uploads use the registry core's upload store, so an upload id from InitiateLayerUpload is
//! also a registry upload (`/v2/<name>/blobs/uploads/<id>`) and a layer completed here is the
//! same blob that `docker pull` reads.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::io::ReaderStream;

use super::ApiError;
use super::images::check_list_size;
use crate::core::{DownloadError, LAYER_PART_SIZE, Registry, UploadError};
use crate::digest::Digest;
use crate::error::CoreError;
use crate::store::db::Scope;

/// The path prefix of layer download URLs: `/_ecrlab/layers/<token>`.
pub const DOWNLOAD_PATH: &str = "/_ecrlab/layers/";

/// The largest `layerPartBlob`: 20971520 bytes (API model, shape LayerPartBlob).
const MAX_LAYER_PART_BYTES: usize = 20 * 1024 * 1024;

/// The maximum length, in characters, of an entry of BatchCheckLayerAvailability's
/// `layerDigests` (API model, shape BatchedOperationLayerDigest).
const MAX_BATCHED_DIGEST_CHARS: usize = 1000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BatchCheckLayerAvailabilityInput {
    repository_name: String,
    layer_digests: Vec<String>,
}

pub(super) fn batch_check_layer_availability(
    registry: &Registry,
    scope: &Scope,
    input: BatchCheckLayerAvailabilityInput,
) -> Result<Value, ApiError> {
    check_list_size("layerDigests", input.layer_digests.len())?;
    let mut digests = Vec::new();
    let mut failures = Vec::new();
    for text in &input.layer_digests {
        if text.chars().count() > MAX_BATCHED_DIGEST_CHARS {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at 'layerDigests' failed to satisfy constraint: 'Member must have length less than or equal to {MAX_BATCHED_DIGEST_CHARS}' (got {} characters)",
                text.chars().count()
            )));
        }
        let failure = |code: &str, reason: &str| json!({ "layerDigest": text, "failureCode": code, "failureReason": reason });
        if text.is_empty() {
            failures.push(failure("MissingLayerDigest", "Missing layer digest"));
            continue;
        }
        match Digest::parse(text) {
            Ok(digest) => digests.push(digest),
            Err(_) => failures.push(failure("InvalidLayerDigest", "Invalid layer digest")),
        }
    }

    let sizes = registry.layer_sizes(scope, &input.repository_name, &digests)?;
    let layers: Vec<Value> = digests
        .iter()
        .zip(sizes)
        .map(|(digest, size)| match size {
            Some(size) => json!({
                "layerDigest": digest.to_string(),
                "layerAvailability": "AVAILABLE",
                "layerSize": size,
            }),
            None => json!({
                "layerDigest": digest.to_string(),
                "layerAvailability": "UNAVAILABLE",
            }),
        })
        .collect();
    Ok(json!({ "layers": layers, "failures": failures }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InitiateLayerUploadInput {
    repository_name: String,
}

pub(super) async fn initiate_layer_upload(
    registry: &Registry,
    scope: &Scope,
    input: InitiateLayerUploadInput,
) -> Result<Value, ApiError> {
    let id = registry.start_upload(scope, &input.repository_name).await?;
    Ok(json!({ "uploadId": id, "partSize": LAYER_PART_SIZE }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UploadLayerPartInput {
    repository_name: String,
    upload_id: String,
    part_first_byte: i64,
    part_last_byte: i64,
    layer_part_blob: String,
}

pub(super) async fn upload_layer_part(
    registry: &Registry,
    scope: &Scope,
    input: UploadLayerPartInput,
) -> Result<Value, ApiError> {
    check_upload_id(&input.upload_id)?;
    let first = byte_index("partFirstByte", input.part_first_byte)?;
    let last = byte_index("partLastByte", input.part_last_byte)?;
    let part = decode_part(&input.layer_part_blob)?;

    let repository = &input.repository_name;
    let last_received = registry
        .upload_layer_part(scope, repository, &input.upload_id, first, last, part)
        .await
        .map_err(|error| upload_error(error, scope, repository, &input.upload_id))?;
    Ok(json!({
        "registryId": scope.account,
        "repositoryName": repository,
        "uploadId": input.upload_id,
        "lastByteReceived": last_received,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CompleteLayerUploadInput {
    repository_name: String,
    upload_id: String,
    layer_digests: Vec<String>,
}

pub(super) async fn complete_layer_upload(
    registry: &Registry,
    scope: &Scope,
    input: CompleteLayerUploadInput,
) -> Result<Value, ApiError> {
    check_upload_id(&input.upload_id)?;
    check_list_size("layerDigests", input.layer_digests.len())?;
    let mut digests = Vec::new();
    for text in &input.layer_digests {
        let digest = Digest::parse(text).map_err(|error| {
            ApiError::invalid(format!("Invalid parameter at 'layerDigests': {error}"))
        })?;
        if !digests.contains(&digest) {
            digests.push(digest);
        }
    }
    // NOTE: the API model allows up to 100 digests without saying how ECR treats several;
    // the mock accepts one layer's sha256 digest, repeated or not.
    let [digest] = digests.as_slice() else {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'layerDigests': it names {} different digests, but an upload is one layer: name its sha256 digest once",
            digests.len()
        )));
    };

    let repository = &input.repository_name;
    registry
        .complete_layer_upload(scope, repository, &input.upload_id, digest)
        .await
        .map_err(|error| upload_error(error, scope, repository, &input.upload_id))?;
    Ok(json!({
        "registryId": scope.account,
        "repositoryName": repository,
        "uploadId": input.upload_id,
        "layerDigest": digest.to_string(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetDownloadUrlForLayerInput {
    repository_name: String,
    layer_digest: String,
}

pub(super) fn get_download_url_for_layer(
    registry: &Registry,
    scope: &Scope,
    input: GetDownloadUrlForLayerInput,
) -> Result<Value, ApiError> {
    let digest = Digest::parse(&input.layer_digest).map_err(|error| {
        ApiError::invalid(format!("Invalid parameter at 'layerDigest': {error}"))
    })?;
    let (token, _expires_at) = registry
        .grant_layer_download(scope, &input.repository_name, &digest)
        .map_err(|error| match error {
            DownloadError::Core(error @ CoreError::BlobUnknown { .. }) => {
                bad_request("LayersNotFoundException", error.to_string())
            }
            DownloadError::Core(error) => ApiError::from(error),
            DownloadError::LayerNotReferenced { .. } => {
                bad_request("LayerInaccessibleException", error.to_string())
            }
            DownloadError::UrlUnknown | DownloadError::UrlExpired { .. } => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServerException",
                error.to_string(),
            ),
        })?;
    let url = format!(
        "http://{}{DOWNLOAD_PATH}{token}",
        registry.settings().registry_host
    );
    Ok(json!({ "downloadUrl": url, "layerDigest": digest.to_string() }))
}

/// Serves `GET /_ecrlab/layers/<token>`: the layer a download URL grants, without registry
/// credentials. Like an expired pre-signed S3 URL, an expired or unknown token gets `403`.
pub async fn download_layer(registry: &Registry, path: &str) -> Response {
    let token = path.strip_prefix(DOWNLOAD_PATH).unwrap_or_default();
    let granted = match registry.redeem_layer_download(token) {
        Ok(granted) => granted,
        Err(error) => {
            let status = match &error {
                DownloadError::UrlUnknown | DownloadError::UrlExpired { .. } => {
                    StatusCode::FORBIDDEN
                }
                DownloadError::Core(CoreError::Storage(_) | CoreError::StorageFault { .. }) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                DownloadError::Core(_) | DownloadError::LayerNotReferenced { .. } => {
                    StatusCode::NOT_FOUND
                }
            };
            tracing::info!(%error, status = status.as_u16(), "layer download rejected");
            return download_failure(status, &error.to_string());
        }
    };
    let file = match registry.blobs().open_blob(&granted.digest).await {
        Ok(file) => file,
        Err(error) => {
            tracing::error!(%error, digest = %granted.digest, "cannot open a granted layer");
            return download_failure(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string());
        }
    };
    let mut response =
        Body::from_stream(ReaderStream::with_capacity(file, 256 * 1024)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(length) = HeaderValue::from_str(&granted.size.to_string()) {
        headers.insert(header::CONTENT_LENGTH, length);
    }
    response
}

fn download_failure(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn bad_request(kind: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, kind, message)
}

/// Maps an upload failure to ECR's exception for it.
fn upload_error(error: UploadError, scope: &Scope, repository: &str, upload_id: &str) -> ApiError {
    let message = error.to_string();
    match error {
        UploadError::Core(CoreError::UploadUnknown { .. } | CoreError::UploadExpired { .. }) => {
            bad_request("UploadNotFoundException", message)
        }
        UploadError::Core(CoreError::DigestMismatch { .. }) => {
            bad_request("InvalidLayerException", message)
        }
        UploadError::Core(CoreError::UploadRangeInvalid { current, .. }) => {
            invalid_part(message, scope, repository, upload_id, current)
        }
        UploadError::Core(error) => ApiError::from(error),
        UploadError::PartOutOfOrder { received, .. }
        | UploadError::PartSizeMismatch { received, .. } => {
            invalid_part(message, scope, repository, upload_id, received)
        }
        UploadError::Empty { .. } => bad_request("EmptyUploadException", message),
        UploadError::PartTooSmall { .. } => bad_request("LayerPartTooSmallException", message),
        UploadError::LayerAlreadyExists { .. } => {
            bad_request("LayerAlreadyExistsException", message)
        }
    }
}

/// InvalidLayerPartException with the members ECR adds to it. `received` is the number of
/// bytes the upload contains.
fn invalid_part(
    message: String,
    scope: &Scope,
    repository: &str,
    upload_id: &str,
    received: u64,
) -> ApiError {
    let error = bad_request("InvalidLayerPartException", message)
        .with_field("registryId", json!(scope.account))
        .with_field("repositoryName", json!(repository))
        .with_field("uploadId", json!(upload_id));
    // NOTE: an upload that has received nothing has no last valid byte, so the member is left
    // out. What ECR sends in that case is not documented.
    match received.checked_sub(1) {
        Some(last) => error.with_field("lastValidByteReceived", json!(last)),
        None => error,
    }
}

/// Checks an upload id against the API model's UUID pattern, before it is used as a file name.
fn check_upload_id(id: &str) -> Result<(), ApiError> {
    let groups: Vec<&str> = id.split('-').collect();
    let lengths_match = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, length)| group.len() == length);
    if lengths_match
        && groups
            .iter()
            .all(|group| group.bytes().all(|byte| byte.is_ascii_hexdigit()))
    {
        return Ok(());
    }
    Err(ApiError::invalid(format!(
        "Invalid parameter at 'uploadId' failed to satisfy constraint: 'Member must satisfy regular expression pattern: [0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}' (got '{}'): use the uploadId that InitiateLayerUpload returned",
        id.chars().take(100).collect::<String>()
    )))
}

fn byte_index(field: &str, value: i64) -> Result<u64, ApiError> {
    u64::try_from(value).map_err(|_| {
        ApiError::invalid(format!(
            "Invalid parameter at '{field}' failed to satisfy constraint: 'Member must have value greater than or equal to 0' (got {value})"
        ))
    })
}

/// Decodes `layerPartBlob`, which awsJson1_1 sends as base64, and checks its size.
fn decode_part(encoded: &str) -> Result<Vec<u8>, ApiError> {
    let part = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                format!("layerPartBlob is not valid base64: {error}"),
            )
        })?;
    if part.len() > MAX_LAYER_PART_BYTES {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'layerPartBlob' failed to satisfy constraint: 'Member must have length less than or equal to {MAX_LAYER_PART_BYTES}' (got {} bytes): upload the layer in smaller parts",
            part.len()
        )));
    }
    Ok(part)
}
