//! The ECR JSON API front end: `POST /` with `X-Amz-Target`, awsJson1_1.
//!
//! It parses each operation's input, calls the registry core, and writes the output or ECR's
//! error body (`{"__type": ..., "message": ...}`, HTTP 400 for client errors). Every call is
//! journaled with its operation name.

mod images;
mod pagination;
mod repositories;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::core::{Caller, Event, Registry, Source};
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
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
        }
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

pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
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
        "PutImageTagMutability" => {
            repositories::put_image_tag_mutability(registry, scope, parse(input)?)
        }
        "PutImageScanningConfiguration" => {
            repositories::put_image_scanning_configuration(registry, scope, parse(input)?)
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
