//! The ECR JSON API front end: `POST /` with `X-Amz-Target`, awsJson1_1.
//!
//! It parses each operation's input, calls the registry core, and writes the output or ECR's
//! error body (`{"__type": ..., "message": ...}`, HTTP 400 for client errors). Every call is
//! journaled with its operation name.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::core::{Caller, Event, Image, NewRepository, Registry, Repository, Source};
use crate::error::CoreError;
use crate::store::db::Scope;

const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The largest request body read: a 4 MiB manifest grows when escaped inside JSON.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// An error as the ECR API returns it.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameterException",
            message,
        )
    }
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        let kind = match &error {
            CoreError::RepositoryNotFound { .. } => "RepositoryNotFoundException",
            CoreError::RepositoryAlreadyExists { .. } => "RepositoryAlreadyExistsException",
            CoreError::RepositoryNotEmpty { .. } => "RepositoryNotEmptyException",
            CoreError::ImageNotFound { .. } | CoreError::ManifestUnknown { .. } => {
                "ImageNotFoundException"
            }
            CoreError::ImageTagAlreadyExists { .. } => "ImageTagAlreadyExistsException",
            CoreError::TagLimitExceeded { .. } => "LimitExceededException",
            CoreError::ManifestBlobUnknown { .. } => "LayersNotFoundException",
            CoreError::DigestMismatch { .. } => "ImageDigestDoesNotMatchException",
            CoreError::Storage(_) => {
                tracing::error!(%error, "ECR API request failed in storage");
                return Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ServerException",
                    error.to_string(),
                );
            }
            _ => "InvalidParameterException",
        };
        Self::new(StatusCode::BAD_REQUEST, kind, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "__type": self.kind, "message": self.message });
        let mut response = (self.status, body.to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        response
    }
}

/// Handles one ECR API request.
pub async fn handle(registry: Arc<Registry>, headers: HeaderMap, body: Body) -> Response {
    let user_agent = header_text(&headers, header::USER_AGENT.as_str());
    let host = header_text(&headers, header::HOST.as_str());
    let operation = header_text(&headers, "x-amz-target")
        .and_then(|target| target.strip_prefix(TARGET_PREFIX).map(str::to_owned));

    let scope = match scope_from_authorization(&registry, &headers) {
        Ok(scope) => scope,
        Err(error) => return error.into_response(),
    };
    let caller = Caller {
        scope,
        source: Source::EcrApi,
        user_agent,
        host,
    };
    let Some(operation) = operation else {
        let error = ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("X-Amz-Target must name an operation as '{TARGET_PREFIX}<Operation>'"),
        );
        return error.into_response();
    };

    let input = match read_input(body).await {
        Ok(input) => input,
        Err(error) => {
            record(&registry, &caller, &operation, None, Some(&error));
            return error.into_response();
        }
    };
    let repository = input
        .get("repositoryName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let result = dispatch(&registry, &caller.scope, &operation, input);
    record(
        &registry,
        &caller,
        &operation,
        repository,
        result.as_ref().err(),
    );

    match result {
        Ok(output) => {
            let mut response = (StatusCode::OK, output.to_string()).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            response
        }
        Err(error) => {
            tracing::info!(operation, error = error.kind, message = %error.message, "ECR API error");
            error.into_response()
        }
    }
}

fn record(
    registry: &Registry,
    caller: &Caller,
    operation: &str,
    repository: Option<String>,
    error: Option<&ApiError>,
) {
    registry.record(
        caller,
        Event {
            action: operation.to_owned(),
            repository,
            error: error.map(|error| (error.kind.to_owned(), error.message.clone())),
            ..Event::default()
        },
    );
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Reads the account and region from a Signature V4 `Authorization` header:
/// `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/ecr/aws4_request, ...`.
///
/// NOTE: the signature itself is not verified yet, so any access key maps to the default
/// account. The region comes from the credential scope, as on AWS.
fn scope_from_authorization(registry: &Registry, headers: &HeaderMap) -> Result<Scope, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token: sign requests with AWS Signature Version 4 (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, for example from 'ecrlab env')",
        ));
    };
    let incomplete = |reason: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "IncompleteSignatureException",
            format!("Authorization header is not a valid AWS Signature Version 4 header: {reason}"),
        )
    };
    let text = value.to_str().map_err(|_| incomplete("it is not ASCII"))?;
    let rest = text
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| incomplete("it must start with 'AWS4-HMAC-SHA256 '"))?;
    let credential = rest
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Credential="))
        .ok_or_else(|| incomplete("the Credential= part is missing"))?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, _date, region, _service, _terminator] = parts.as_slice() else {
        return Err(incomplete(
            "Credential must be <access key>/<date>/<region>/<service>/aws4_request",
        ));
    };
    if access_key.is_empty() || region.is_empty() {
        return Err(incomplete(
            "the access key and region in Credential must not be empty",
        ));
    }
    Ok(Scope {
        account: registry.settings().default_account.clone(),
        region: (*region).to_owned(),
    })
}

async fn read_input(body: Body) -> Result<Value, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_REQUEST_BYTES)
        .await
        .map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                format!(
                    "Request body could not be read (at most {MAX_REQUEST_BYTES} bytes): {error}"
                ),
            )
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            format!("Request body is not valid JSON: {error}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            "Request body must be a JSON object",
        ));
    }
    Ok(value)
}

fn parse<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            format!("Request does not match the operation's input shape: {error}"),
        )
    })
}

fn dispatch(
    registry: &Registry,
    scope: &Scope,
    operation: &str,
    input: Value,
) -> Result<Value, ApiError> {
    match operation {
        "CreateRepository" => create_repository(registry, scope, parse(input)?),
        "DescribeRepositories" => describe_repositories(registry, scope, parse(input)?),
        "DeleteRepository" => delete_repository(registry, scope, parse(input)?),
        "GetAuthorizationToken" => get_authorization_token(registry, scope),
        "ListImages" => list_images(registry, scope, parse(input)?),
        "DescribeImages" => describe_images(registry, scope, parse(input)?),
        "BatchGetImage" => batch_get_image(registry, scope, parse(input)?),
        "PutImageTagMutability" => put_image_tag_mutability(registry, scope, parse(input)?),
        "PutImageScanningConfiguration" => {
            put_image_scanning_configuration(registry, scope, parse(input)?)
        }
        other => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("Operation '{other}' is not supported by mock-ecr"),
        )),
    }
}

/// Seconds since the epoch with millisecond precision: awsJson1_1's timestamp format.
fn epoch_seconds(at: OffsetDateTime) -> f64 {
    (at.unix_timestamp_nanos() / 1_000_000) as f64 / 1000.0
}

fn repository_json(repository: &Repository) -> Value {
    let mut encryption = json!({ "encryptionType": repository.encryption_type });
    if let Some(key) = &repository.kms_key {
        encryption["kmsKey"] = json!(key);
    }
    json!({
        "repositoryArn": repository.arn(),
        "registryId": repository.registry_id,
        "repositoryName": repository.name,
        "repositoryUri": repository.uri,
        "createdAt": epoch_seconds(repository.created_at),
        "imageTagMutability": repository.tag_mutability,
        "imageScanningConfiguration": { "scanOnPush": repository.scan_on_push },
        "encryptionConfiguration": encryption,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanningConfiguration {
    #[serde(default)]
    scan_on_push: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EncryptionConfiguration {
    encryption_type: String,
    kms_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRepositoryInput {
    repository_name: String,
    image_tag_mutability: Option<String>,
    image_scanning_configuration: Option<ScanningConfiguration>,
    encryption_configuration: Option<EncryptionConfiguration>,
}

fn create_repository(
    registry: &Registry,
    scope: &Scope,
    input: CreateRepositoryInput,
) -> Result<Value, ApiError> {
    let encryption = input.encryption_configuration;
    let encryption_type = encryption
        .as_ref()
        .map_or("AES256".to_owned(), |config| config.encryption_type.clone());
    if !["AES256", "KMS", "KMS_DSSE"].contains(&encryption_type.as_str()) {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: 'Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]' (got '{encryption_type}')"
        )));
    }
    let repository = registry.create_repository(
        scope,
        NewRepository {
            name: input.repository_name,
            tag_mutability: input
                .image_tag_mutability
                .unwrap_or_else(|| crate::core::MUTABLE.to_owned()),
            scan_on_push: input
                .image_scanning_configuration
                .is_some_and(|config| config.scan_on_push),
            encryption_type,
            kms_key: encryption.and_then(|config| config.kms_key),
        },
    )?;
    Ok(json!({ "repository": repository_json(&repository) }))
}

/// Validates `maxResults` (1 to 1000, as the API model states).
fn max_results(value: Option<i64>) -> Result<Option<usize>, ApiError> {
    match value {
        None => Ok(None),
        Some(count @ 1..=1000) => Ok(Some(count as usize)),
        Some(other) => Err(ApiError::invalid(format!(
            "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000' (got {other})"
        ))),
    }
}

/// Splits `items` into one page: a `nextToken` encodes the offset of the next item.
///
/// NOTE: the token is not bound to the request that produced it, so a token from one
/// repository's listing is accepted by another's (AWS rejects that).
fn paginate<T>(
    mut items: Vec<T>,
    max_results: Option<usize>,
    next_token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match next_token {
        None => 0,
        Some(token) => decode_token(token).ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid parameter at 'nextToken': '{token}' is not a token this mock issued; repeat the request without nextToken"
            ))
        })?,
    };
    if start > items.len() {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'nextToken': '{}' points past the end of the results; repeat the request without nextToken",
            next_token.unwrap_or_default()
        )));
    }
    let page_size = max_results.unwrap_or(usize::MAX);
    let mut page: Vec<T> = items.drain(start..).collect();
    let next = if page.len() > page_size {
        page.truncate(page_size);
        Some(encode_token(start + page_size))
    } else {
        None
    };
    Ok((page, next))
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("ecrlab-page-v1:{offset}"))
}

fn decode_token(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("ecrlab-page-v1:")?.parse().ok()
}

fn with_next_token(mut output: Value, next: Option<String>) -> Value {
    if let Some(next) = next {
        output["nextToken"] = json!(next);
    }
    output
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeRepositoriesInput {
    repository_names: Option<Vec<String>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn describe_repositories(
    registry: &Registry,
    scope: &Scope,
    input: DescribeRepositoriesInput,
) -> Result<Value, ApiError> {
    let max = max_results(input.max_results)?;
    if input.repository_names.is_some() && (max.is_some() || input.next_token.is_some()) {
        return Err(ApiError::invalid(
            "maxResults and nextToken cannot be used together with repositoryNames: name the repositories or page through all of them",
        ));
    }
    let repositories = registry.describe_repositories(scope, input.repository_names.as_deref())?;
    let (page, next) = paginate(repositories, max, input.next_token.as_deref())?;
    let repositories: Vec<Value> = page.iter().map(repository_json).collect();
    Ok(with_next_token(
        json!({ "repositories": repositories }),
        next,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteRepositoryInput {
    repository_name: String,
    #[serde(default)]
    force: bool,
}

fn delete_repository(
    registry: &Registry,
    scope: &Scope,
    input: DeleteRepositoryInput,
) -> Result<Value, ApiError> {
    let repository = registry.delete_repository(scope, &input.repository_name, input.force)?;
    Ok(json!({ "repository": repository_json(&repository) }))
}

fn get_authorization_token(registry: &Registry, scope: &Scope) -> Result<Value, ApiError> {
    let token = registry.issue_token(scope)?;
    Ok(json!({
        "authorizationData": [{
            "authorizationToken": token.authorization_token,
            "expiresAt": epoch_seconds(token.expires_at),
            "proxyEndpoint": format!("http://{}", registry.settings().registry_host),
        }]
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagStatusFilter {
    tag_status: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TagStatus {
    Tagged,
    Untagged,
    Any,
}

fn tag_status(filter: Option<&TagStatusFilter>) -> Result<TagStatus, ApiError> {
    match filter.and_then(|filter| filter.tag_status.as_deref()) {
        None | Some("ANY") => Ok(TagStatus::Any),
        Some("TAGGED") => Ok(TagStatus::Tagged),
        Some("UNTAGGED") => Ok(TagStatus::Untagged),
        Some(other) => Err(ApiError::invalid(format!(
            "Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]' (got '{other}')"
        ))),
    }
}

fn matches_status(image: &Image, status: TagStatus) -> bool {
    match status {
        TagStatus::Any => true,
        TagStatus::Tagged => !image.tags.is_empty(),
        TagStatus::Untagged => image.tags.is_empty(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListImagesInput {
    repository_name: String,
    filter: Option<TagStatusFilter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn list_images(
    registry: &Registry,
    scope: &Scope,
    input: ListImagesInput,
) -> Result<Value, ApiError> {
    let max = max_results(input.max_results)?;
    let status = tag_status(input.filter.as_ref())?;
    let mut ids = Vec::new();
    for image in registry.images(scope, &input.repository_name)? {
        if !matches_status(&image, status) {
            continue;
        }
        if image.tags.is_empty() {
            ids.push(json!({ "imageDigest": image.row.digest }));
        }
        for tag in &image.tags {
            ids.push(json!({ "imageDigest": image.row.digest, "imageTag": tag }));
        }
    }
    let (page, next) = paginate(ids, max, input.next_token.as_deref())?;
    Ok(with_next_token(json!({ "imageIds": page }), next))
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ImageIdentifier {
    image_digest: Option<String>,
    image_tag: Option<String>,
}

impl ImageIdentifier {
    fn to_json(&self) -> Value {
        let mut id = json!({});
        if let Some(digest) = &self.image_digest {
            id["imageDigest"] = json!(digest);
        }
        if let Some(tag) = &self.image_tag {
            id["imageTag"] = json!(tag);
        }
        id
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(digest) = &self.image_digest {
            parts.push(format!("imageDigest={digest}"));
        }
        if let Some(tag) = &self.image_tag {
            parts.push(format!("imageTag={tag}"));
        }
        parts.join(", ")
    }
}

fn image_detail(scope: &Scope, repository: &str, image: &Image) -> Value {
    let mut detail = json!({
        "registryId": scope.account,
        "repositoryName": repository,
        "imageDigest": image.row.digest,
        "imageSizeInBytes": image.row.size,
        "imagePushedAt": epoch_seconds(crate::clock::from_unix_millis(image.row.pushed_at)),
        "imageManifestMediaType": image.row.media_type,
    });
    if !image.tags.is_empty() {
        detail["imageTags"] = json!(image.tags);
    }
    if let Some(artifact) = &image.row.artifact_media_type {
        detail["artifactMediaType"] = json!(artifact);
    }
    if let Some(pulled) = image.row.last_pulled_at {
        detail["lastRecordedPullTime"] =
            json!(epoch_seconds(crate::clock::from_unix_millis(pulled)));
    }
    detail
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeImagesInput {
    repository_name: String,
    image_ids: Option<Vec<ImageIdentifier>>,
    filter: Option<TagStatusFilter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn describe_images(
    registry: &Registry,
    scope: &Scope,
    input: DescribeImagesInput,
) -> Result<Value, ApiError> {
    let max = max_results(input.max_results)?;
    let status = tag_status(input.filter.as_ref())?;
    let repository = &input.repository_name;
    let images = match &input.image_ids {
        Some(ids) => {
            if max.is_some() || input.next_token.is_some() {
                return Err(ApiError::invalid(
                    "maxResults and nextToken cannot be used together with imageIds",
                ));
            }
            let mut found = Vec::new();
            for id in ids {
                let image = registry
                    .find_image(
                        scope,
                        repository,
                        id.image_digest.as_deref(),
                        id.image_tag.as_deref(),
                    )?
                    .ok_or_else(|| CoreError::ImageNotFound {
                        image: id.describe(),
                        repository: repository.clone(),
                        registry_id: scope.account.clone(),
                    })?;
                if !found.contains(&image) {
                    found.push(image);
                }
            }
            found
        }
        None => registry.images(scope, repository)?,
    };
    let details: Vec<Value> = images
        .iter()
        .filter(|image| matches_status(image, status))
        .map(|image| image_detail(scope, repository, image))
        .collect();
    let (page, next) = paginate(details, max, input.next_token.as_deref())?;
    Ok(with_next_token(json!({ "imageDetails": page }), next))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchGetImageInput {
    repository_name: String,
    image_ids: Vec<ImageIdentifier>,
}

fn batch_get_image(
    registry: &Registry,
    scope: &Scope,
    input: BatchGetImageInput,
) -> Result<Value, ApiError> {
    let repository = &input.repository_name;
    registry.repository(scope, repository)?;
    let mut images = Vec::new();
    let mut failures = Vec::new();
    let failure = |id: &ImageIdentifier, code: &str, reason: &str| json!({ "imageId": id.to_json(), "failureCode": code, "failureReason": reason });
    for id in &input.image_ids {
        if id.image_digest.is_none() && id.image_tag.is_none() {
            failures.push(failure(
                id,
                "MissingDigestAndTag",
                "Missing image digest and tag",
            ));
            continue;
        }
        if let Some(digest) = &id.image_digest {
            if crate::digest::Digest::parse(digest).is_err() {
                failures.push(failure(id, "InvalidImageDigest", "Invalid image digest"));
                continue;
            }
        }
        let found = registry.find_image(
            scope,
            repository,
            id.image_digest.as_deref(),
            id.image_tag.as_deref(),
        )?;
        let Some(image) = found else {
            let tag_elsewhere = id.image_digest.is_some()
                && id.image_tag.is_some()
                && registry
                    .find_image(scope, repository, None, id.image_tag.as_deref())?
                    .is_some();
            if tag_elsewhere {
                failures.push(failure(
                    id,
                    "ImageTagDoesNotMatchDigest",
                    "Image tag does not match digest",
                ));
            } else {
                failures.push(failure(id, "ImageNotFound", "Requested image not found"));
            }
            continue;
        };
        let manifest = String::from_utf8_lossy(&image.row.manifest).into_owned();
        let mut image_id = json!({ "imageDigest": image.row.digest });
        if let Some(tag) = &id.image_tag {
            image_id["imageTag"] = json!(tag);
        }
        images.push(json!({
            "registryId": scope.account,
            "repositoryName": repository,
            "imageId": image_id,
            "imageManifest": manifest,
            "imageManifestMediaType": image.row.media_type,
        }));
    }
    Ok(json!({ "images": images, "failures": failures }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutImageTagMutabilityInput {
    repository_name: String,
    image_tag_mutability: String,
}

fn put_image_tag_mutability(
    registry: &Registry,
    scope: &Scope,
    input: PutImageTagMutabilityInput,
) -> Result<Value, ApiError> {
    let repository = registry.put_image_tag_mutability(
        scope,
        &input.repository_name,
        &input.image_tag_mutability,
    )?;
    Ok(json!({
        "registryId": repository.registry_id,
        "repositoryName": repository.name,
        "imageTagMutability": repository.tag_mutability,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutImageScanningConfigurationInput {
    repository_name: String,
    image_scanning_configuration: ScanningConfiguration,
}

fn put_image_scanning_configuration(
    registry: &Registry,
    scope: &Scope,
    input: PutImageScanningConfigurationInput,
) -> Result<Value, ApiError> {
    let repository = registry.put_image_scanning_configuration(
        scope,
        &input.repository_name,
        input.image_scanning_configuration.scan_on_push,
    )?;
    Ok(json!({
        "registryId": repository.registry_id,
        "repositoryName": repository.name,
        "imageScanningConfiguration": { "scanOnPush": repository.scan_on_push },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_splits_and_resumes() {
        let items: Vec<u32> = (0..5).collect();
        let (first, next) = paginate(items.clone(), Some(2), None).unwrap();
        assert_eq!(first, vec![0, 1]);
        let next = next.expect("a second page");
        let (second, last) = paginate(items.clone(), Some(2), Some(&next)).unwrap();
        assert_eq!(second, vec![2, 3]);
        let (third, end) = paginate(items, Some(2), last.as_deref()).unwrap();
        assert_eq!(third, vec![4]);
        assert_eq!(end, None);
    }

    #[test]
    fn pagination_rejects_forged_token() {
        let error = paginate(vec![1, 2], Some(1), Some("forged")).unwrap_err();
        assert_eq!(error.kind, "InvalidParameterException");
        assert!(error.message.contains("'forged'"), "{}", error.message);
        let past_end = encode_token(9);
        assert!(paginate(vec![1, 2], Some(1), Some(&past_end)).is_err());
    }

    #[test]
    fn max_results_range_is_enforced() {
        assert!(max_results(Some(0)).is_err());
        assert!(max_results(Some(1001)).is_err());
        assert_eq!(max_results(Some(1000)).unwrap(), Some(1000));
    }
}
