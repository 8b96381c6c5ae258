//! The ECR JSON API front end: `POST /` with `X-Amz-Target`, awsJson1_1.
//!
//! It parses each operation's input, calls the registry core, and writes the output or ECR's
//! error body (`{"__type": ..., "message": ...}`, HTTP 400 for client errors). Every call is
//! journaled with its operation name.

mod auth;
mod images;
mod layers;
mod lifecycle;
mod pagination;
mod policies;
mod repositories;
mod resource_tags;
mod scans;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::core::{Caller, Event, Registry, Source};
use crate::credentials::AccessPolicy;
use crate::error::CoreError;
use crate::store::db::Scope;

pub use layers::{DOWNLOAD_PATH, download_layer};

const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The largest request body read: UploadLayerPart's `layerPartBlob` of up to 20 MiB grows to
/// 26.7 MiB in base64, and a 4 MiB manifest grows when escaped inside JSON.
pub const MAX_REQUEST_BYTES: usize = 28 * 1024 * 1024;

/// An error as the ECR API returns it.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    /// Members of the exception besides `message`, such as InvalidLayerPartException's
    /// `lastValidByteReceived`.
    fields: serde_json::Map<String, Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            fields: serde_json::Map::new(),
        }
    }

    /// Adds a member to the error body.
    pub(crate) fn with_field(mut self, name: &str, value: Value) -> Self {
        self.fields.insert(name.to_owned(), value);
        self
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
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
            CoreError::InvalidTagParameter { .. } => "InvalidTagParameterException",
            CoreError::TooManyTags { .. } => "TooManyTagsException",
            CoreError::RepositoryPolicyNotFound { .. } => "RepositoryPolicyNotFoundException",
            CoreError::LifecyclePolicyNotFound { .. } => "LifecyclePolicyNotFoundException",
            CoreError::LifecyclePolicyPreviewNotFound { .. } => {
                "LifecyclePolicyPreviewNotFoundException"
            }
            CoreError::ScanNotFound { .. } => "ScanNotFoundException",
            CoreError::ScanLimitExceeded { .. } => "LimitExceededException",
            CoreError::UnsupportedImageType { .. } => "UnsupportedImageTypeException",
            // ECR documents ServerException ("These errors are usually caused by a
            // server-side issue") for its own faults, with HTTP 500, and the AWS SDKs retry a
            // 500 a few times before they report it. A full or read-only disk is such a fault.
            CoreError::Storage(_) | CoreError::StorageFault { .. } => {
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
        let mut body = self.fields;
        body.insert("__type".to_owned(), json!(self.kind));
        body.insert("message".to_owned(), json!(self.message));
        let mut response = (self.status, Value::Object(body).to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        response
    }
}

/// Handles one ECR API request: reads the body, verifies the request's Signature V4 against
/// `access`, then runs the operation in the account of the access key.
pub async fn handle(
    registry: Arc<Registry>,
    access: &AccessPolicy,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let user_agent = header_text(&headers, header::USER_AGENT.as_str());
    let host = header_text(&headers, header::HOST.as_str());
    let target = header_text(&headers, "x-amz-target");
    let operation = target
        .as_deref()
        .and_then(|target| target.strip_prefix(TARGET_PREFIX))
        .filter(|operation| !operation.is_empty())
        .map(str::to_owned);

    let body = match read_body(&headers, body).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let signed = auth::SignedRequest {
        method,
        uri,
        headers: &headers,
        body: &body,
    };
    let scope = match auth::authenticate(&registry, access, &signed) {
        Ok(scope) => scope,
        Err(error) => {
            let caller = Caller {
                scope: registry.default_scope(),
                source: Source::EcrApi,
                user_agent,
                host,
            };
            return reject_unauthenticated(&registry, &caller, operation.as_deref(), error);
        }
    };
    let caller = Caller {
        scope,
        source: Source::EcrApi,
        user_agent,
        host,
    };
    let Some(operation) = operation else {
        let received = match &target {
            Some(target) => format!("'{target}'"),
            None => "missing".to_owned(),
        };
        // NOTE: AWS's "Common Errors" page lists UnknownOperationException as HTTP 404, but
        // awsJson 1.1 services such as CloudWatch Logs return it with 400, so the mock does.
        let error = ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!(
                "X-Amz-Target is {received}: name an operation as '{TARGET_PREFIX}<Operation>'"
            ),
        );
        return error.into_response();
    };

    let input = match parse_input(&body) {
        Ok(input) => input,
        Err(error) => {
            record(
                &registry,
                &caller,
                &operation,
                Detail::default(),
                Some(&error),
            );
            return error.into_response();
        }
    };
    let mut detail = Detail::of_input(&input);
    let result = match check_registry_ids(&caller.scope, &operation, &input) {
        Ok(()) => dispatch(&registry, &caller.scope, &operation, input).await,
        Err(error) => Err(error),
    };
    if let Ok(output) = &result {
        detail.digest = output_digest(&operation, output);
    }
    record(
        &registry,
        &caller,
        &operation,
        detail,
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
        Err(error) if error.status.is_server_error() => {
            // A server fault, such as a full disk, needs the attention of the person running
            // the mock, so it is logged as an error.
            tracing::error!(operation, status = error.status.as_u16(), error = error.kind, message = %error.message, "ECR API request failed");
            error.into_response()
        }
        Err(error) => {
            tracing::info!(operation, error = error.kind, message = %error.message, "ECR API error");
            error.into_response()
        }
    }
}

/// Verifies a request's Signature V4 as [`handle`] does and returns the account and region it
/// acts for. Public only for the fuzz targets and their regression tests.
#[doc(hidden)]
pub fn verify_signature(
    registry: &Registry,
    access: &AccessPolicy,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Scope, ApiError> {
    let signed = auth::SignedRequest {
        method,
        uri,
        headers,
        body,
    };
    auth::authenticate(registry, access, &signed)
}

/// Journals a request that failed authentication under the default account, because such a
/// request has no verified account, and returns the error response.
fn reject_unauthenticated(
    registry: &Registry,
    caller: &Caller,
    operation: Option<&str>,
    error: ApiError,
) -> Response {
    tracing::info!(
        operation,
        error = error.kind,
        message = %error.message,
        "ECR API request failed authentication"
    );
    if let Some(operation) = operation {
        record(registry, caller, operation, Detail::default(), Some(&error));
    }
    error.into_response()
}

/// What the journal records about an ECR API call besides its operation and outcome.
#[derive(Debug, Default, PartialEq, Eq)]
struct Detail {
    repository: Option<String>,
    digest: Option<String>,
}

impl Detail {
    /// Reads the repository from `repositoryName`, or from `resourceArn` for the operations
    /// that name a repository by ARN (TagResource, UntagResource, ListTagsForResource).
    fn of_input(input: &Value) -> Self {
        let by_name = input.get("repositoryName").and_then(Value::as_str);
        let by_arn = input
            .get("resourceArn")
            .and_then(Value::as_str)
            .and_then(repository_in_arn);
        Self {
            repository: by_name.or(by_arn).map(str::to_owned),
            digest: None,
        }
    }
}

/// Reads `<name>` out of `arn:<partition>:ecr:<region>:<account>:repository/<name>`, for the
/// journal only: the operations check the ARN themselves.
fn repository_in_arn(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "ecr", _, _, resource] => resource
            .strip_prefix("repository/")
            .filter(|name| !name.is_empty()),
        _ => None,
    }
}

/// The digest an operation's output reports, for PutImage (the image) and
/// CompleteLayerUpload (the layer).
fn output_digest(operation: &str, output: &Value) -> Option<String> {
    let digest = match operation {
        "PutImage" => &output["image"]["imageId"]["imageDigest"],
        "StartImageScan" | "DescribeImageScanFindings" => &output["imageId"]["imageDigest"],
        "CompleteLayerUpload" => &output["layerDigest"],
        _ => return None,
    };
    digest.as_str().map(str::to_owned)
}

fn record(
    registry: &Registry,
    caller: &Caller,
    operation: &str,
    detail: Detail,
    error: Option<&ApiError>,
) {
    registry.record(
        caller,
        Event {
            action: operation.to_owned(),
            repository: detail.repository,
            digest: detail.digest,
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

/// Reads the request body, at most [`MAX_REQUEST_BYTES`]. A body declared or found larger is
/// RequestEntityTooLargeException (HTTP 413) and a body that stalls is RequestTimeoutException
/// (HTTP 408), the statuses of AWS's "Common Errors" page.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let Some(length) = declared.filter(|length| *length > MAX_REQUEST_BYTES as u64) {
        return Err(body_too_large(&format!("{length} bytes")));
    }
    axum::body::to_bytes(body, MAX_REQUEST_BYTES)
        .await
        .map_err(|error| {
            if find_cause::<http_body_util::LengthLimitError>(&error).is_some() {
                return body_too_large("larger than that");
            }
            if let Some(timeout) = find_cause::<crate::timeouts::BodyIdleTimeout>(&error) {
                return ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "RequestTimeoutException",
                    format!("Request body could not be read: {timeout}; send the request again"),
                );
            }
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                format!("Request body could not be read: {error}"),
            )
        })
}

/// Finds an error of type `T` in the chain of `error`'s sources, `error` included.
fn find_cause<'a, T: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

fn body_too_large(size: &str) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLargeException",
        format!(
            "Request body is {size}, over the limit of {MAX_REQUEST_BYTES} bytes: send layers in \
             UploadLayerPart parts of at most 20 MiB each"
        ),
    )
}

fn parse_input(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
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

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "SerializationException",
            format!("Request does not match the operation's input shape: {error}"),
        )
    })
}

/// Checks `registryId` (and GetAuthorizationToken's `registryIds`) against the API model's
/// pattern, twelve digits, and against the caller's own account: the mock grants no
/// cross-account access, so another account's registry is refused as AWS refuses an
/// unauthorized caller.
fn check_registry_ids(scope: &Scope, operation: &str, input: &Value) -> Result<(), ApiError> {
    let mut ids: Vec<(&str, &Value)> = Vec::new();
    if let Some(id) = input.get("registryId") {
        ids.push(("registryId", id));
    }
    if let Some(Value::Array(list)) = input.get("registryIds") {
        ids.extend(list.iter().map(|id| ("registryIds", id)));
    }
    for (field, id) in ids {
        let Some(id) = id.as_str() else {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                format!("{field} must be a string of 12 digits"),
            ));
        };
        if id.len() != 12 || !id.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at '{field}' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{{12}}'' (got '{id}')"
            )));
        }
        if id != scope.account {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "AccessDeniedException",
                format!(
                    "User in account {} is not authorized to perform: ecr:{operation} on registry {id}: mock-ecr grants no cross-account access, so use your own account's registry id or omit {field}",
                    scope.account
                ),
            ));
        }
    }
    Ok(())
}

async fn dispatch(
    registry: &Registry,
    scope: &Scope,
    operation: &str,
    input: Value,
) -> Result<Value, ApiError> {
    match operation {
        "CreateRepository" => repositories::create_repository(registry, scope, parse(input)?),
        "DescribeRepositories" => {
            repositories::describe_repositories(registry, scope, parse(input)?)
        }
        "DeleteRepository" => repositories::delete_repository(registry, scope, parse(input)?),
        "GetAuthorizationToken" => repositories::get_authorization_token(registry, scope),
        "ListImages" => images::list_images(registry, scope, parse(input)?),
        "DescribeImages" => images::describe_images(registry, scope, parse(input)?),
        "BatchGetImage" => images::batch_get_image(registry, scope, parse(input)?),
        "BatchDeleteImage" => images::batch_delete_image(registry, scope, parse(input)?),
        "ListImageReferrers" => images::list_image_referrers(registry, scope, parse(input)?),
        "PutImageTagMutability" => {
            repositories::put_image_tag_mutability(registry, scope, parse(input)?)
        }
        "PutImageScanningConfiguration" => {
            repositories::put_image_scanning_configuration(registry, scope, parse(input)?)
        }
        "DescribeRegistry" => repositories::describe_registry(scope),
        "PutAccountSetting" => repositories::put_account_setting(registry, scope, parse(input)?),
        "GetAccountSetting" => repositories::get_account_setting(registry, scope, parse(input)?),
        "TagResource" => resource_tags::tag_resource(registry, scope, parse(input)?),
        "UntagResource" => resource_tags::untag_resource(registry, scope, parse(input)?),
        "ListTagsForResource" => {
            resource_tags::list_tags_for_resource(registry, scope, parse(input)?)
        }
        "SetRepositoryPolicy" => policies::set_repository_policy(registry, scope, parse(input)?),
        "GetRepositoryPolicy" => policies::get_repository_policy(registry, scope, parse(input)?),
        "DeleteRepositoryPolicy" => {
            policies::delete_repository_policy(registry, scope, parse(input)?)
        }
        "PutImage" => images::put_image(registry, scope, parse(input)?),
        "PutLifecyclePolicy" => lifecycle::put_lifecycle_policy(registry, scope, parse(input)?),
        "GetLifecyclePolicy" => lifecycle::get_lifecycle_policy(registry, scope, parse(input)?),
        "DeleteLifecyclePolicy" => {
            lifecycle::delete_lifecycle_policy(registry, scope, parse(input)?)
        }
        "StartLifecyclePolicyPreview" => {
            lifecycle::start_lifecycle_policy_preview(registry, scope, parse(input)?)
        }
        "GetLifecyclePolicyPreview" => {
            lifecycle::get_lifecycle_policy_preview(registry, scope, parse(input)?)
        }
        "BatchCheckLayerAvailability" => {
            layers::batch_check_layer_availability(registry, scope, parse(input)?)
        }
        "InitiateLayerUpload" => {
            layers::initiate_layer_upload(registry, scope, parse(input)?).await
        }
        "UploadLayerPart" => layers::upload_layer_part(registry, scope, parse(input)?).await,
        "CompleteLayerUpload" => {
            layers::complete_layer_upload(registry, scope, parse(input)?).await
        }
        "GetDownloadUrlForLayer" => {
            layers::get_download_url_for_layer(registry, scope, parse(input)?)
        }
        "StartImageScan" => scans::start_image_scan(registry, scope, parse(input)?),
        "DescribeImageScanFindings" => {
            scans::describe_image_scan_findings(registry, scope, parse(input)?)
        }
        "PutRegistryScanningConfiguration" => {
            scans::put_registry_scanning_configuration(registry, scope, parse(input)?)
        }
        "GetRegistryScanningConfiguration" => {
            scans::get_registry_scanning_configuration(registry, scope)
        }
        "BatchGetRepositoryScanningConfiguration" => {
            scans::batch_get_repository_scanning_configuration(registry, scope, parse(input)?)
        }
        other => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("Operation '{other}' is not supported by mock-ecr"),
        )),
    }
}

/// Seconds since the epoch with millisecond precision: awsJson1_1's timestamp format.
pub(crate) fn epoch_seconds(at: OffsetDateTime) -> f64 {
    (at.unix_timestamp_nanos() / 1_000_000) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_detail_reads_repository_from_arn() {
        let input =
            json!({ "resourceArn": "arn:aws:ecr:us-east-1:123456789012:repository/team/app" });
        assert_eq!(
            Detail::of_input(&input).repository.as_deref(),
            Some("team/app")
        );
        for arn in [
            "arn:aws:s3:::bucket",
            "arn:aws:ecr:us-east-1:123456789012:repository/",
            "not an arn",
        ] {
            assert_eq!(repository_in_arn(arn), None, "{arn}");
        }
    }

    #[test]
    fn journal_detail_reads_output_digests() {
        let put = json!({ "image": { "imageId": { "imageDigest": "sha256:aa" } } });
        assert_eq!(
            output_digest("PutImage", &put).as_deref(),
            Some("sha256:aa")
        );
        let layer = json!({ "layerDigest": "sha256:bb" });
        assert_eq!(
            output_digest("CompleteLayerUpload", &layer).as_deref(),
            Some("sha256:bb")
        );
        assert_eq!(output_digest("ListImages", &layer), None);
    }
}
