//! The OCI/Docker Registry v2 front end under `/v2/`, with ECR's authentication and errors.
//!
//! Clients log in with HTTP Basic auth as user `AWS` and the password from
//! GetAuthorizationToken. Paths are parsed in one place ([`Route::parse`]) because repository
//! names contain `/`. Errors use the OCI error envelope (OCI distribution specification,
//! "Error Codes") with the codes and messages ECR returns.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use futures_util::StreamExt as _;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::conversion;
use crate::core::{Caller, DeleteFailure, Event, Reference, Registry, Source};
use crate::digest::Digest;
use crate::error::{CoreError, StorageFault};
use crate::manifest::MAX_MANIFEST_BYTES;
use crate::store::db::Scope;

const API_VERSION: (&str, &str) = ("docker-distribution-api-version", "registry/2.0");

/// The resource a `/v2/...` path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/v2/`: the API version check that `docker login` uses.
    Base,
    /// `/v2/_catalog`: the repository list, which ECR does not serve.
    Catalog,
    Tags {
        name: String,
    },
    Manifest {
        name: String,
        reference: String,
    },
    Blob {
        name: String,
        digest: String,
    },
    /// `/v2/<name>/referrers/<digest>`: the OCI 1.1 referrers of a manifest.
    Referrers {
        name: String,
        digest: String,
    },
    /// `/v2/<name>/blobs/uploads/`: start an upload.
    Uploads {
        name: String,
    },
    Upload {
        name: String,
        id: String,
    },
}

impl Route {
    /// Parses the part of a path after `/v2/`. The last segments determine the resource, and
    /// everything before them is the repository name, which may contain `/`.
    pub fn parse(rest: &str) -> Option<Self> {
        match rest {
            "" => return Some(Self::Base),
            "_catalog" => return Some(Self::Catalog),
            _ => {}
        }
        let segments: Vec<&str> = rest.split('/').collect();
        let name_of = |count: usize| -> Option<String> {
            let name = segments[..segments.len() - count].join("/");
            (!name.is_empty()).then_some(name)
        };
        match segments.as_slice() {
            [.., "tags", "list"] => Some(Self::Tags { name: name_of(2)? }),
            [.., "blobs", "uploads", ""] => Some(Self::Uploads { name: name_of(3)? }),
            [.., "blobs", "uploads"] => Some(Self::Uploads { name: name_of(2)? }),
            [.., "blobs", "uploads", id] => Some(Self::Upload {
                name: name_of(3)?,
                id: (*id).to_owned(),
            }),
            [.., "manifests", reference] if !reference.is_empty() => Some(Self::Manifest {
                name: name_of(2)?,
                reference: (*reference).to_owned(),
            }),
            [.., "referrers", digest] if !digest.is_empty() => Some(Self::Referrers {
                name: name_of(2)?,
                digest: (*digest).to_owned(),
            }),
            [.., "blobs", digest] if !digest.is_empty() => Some(Self::Blob {
                name: name_of(2)?,
                digest: (*digest).to_owned(),
            }),
            _ => None,
        }
    }

    fn repository(&self) -> Option<&str> {
        match self {
            Self::Base | Self::Catalog => None,
            Self::Tags { name }
            | Self::Manifest { name, .. }
            | Self::Blob { name, .. }
            | Self::Referrers { name, .. }
            | Self::Uploads { name }
            | Self::Upload { name, .. } => Some(name),
        }
    }

    /// The journal action of a request to this route, for requests that change state.
    fn action(&self, method: &Method) -> Option<&'static str> {
        match (self, method) {
            (Self::Base, _) => Some("Login"),
            (Self::Uploads { .. } | Self::Upload { .. }, _) => Some("BlobUpload"),
            (Self::Manifest { .. }, &Method::PUT) => Some("ManifestPut"),
            (Self::Manifest { .. }, &Method::DELETE) => Some("ManifestDelete"),
            _ => None,
        }
    }
}

/// A registry error: HTTP status, OCI error code and message.
#[derive(Debug)]
struct RegistryError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// For 416 responses: the bytes the upload contains, as `Range: 0-<last>`.
    range_end: Option<u64>,
    /// The digest of a rejected manifest, for the journal.
    digest: Option<String>,
    /// For a 416 on a blob read: the blob's size, as `Content-Range: bytes */<size>`.
    content_range_size: Option<u64>,
}

impl RegistryError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            range_end: None,
            digest: None,
            content_range_size: None,
        }
    }
}

impl From<CoreError> for RegistryError {
    fn from(error: CoreError) -> Self {
        use StatusCode as S;
        let (status, code) = match &error {
            CoreError::RepositoryNotFound { .. } => (S::NOT_FOUND, "NAME_UNKNOWN"),
            CoreError::Unauthenticated
            | CoreError::TokenInvalid
            | CoreError::LoginRejected { .. } => (S::UNAUTHORIZED, "DENIED"),
            CoreError::TokenExpired => (S::FORBIDDEN, "DENIED"),
            CoreError::TagLimitExceeded { .. } => (S::FORBIDDEN, "DENIED"),
            CoreError::ImageTagAlreadyExists { .. } => (S::BAD_REQUEST, "TAG_INVALID"),
            CoreError::ManifestBlobUnknown { .. } => (S::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
            CoreError::ManifestInvalid { .. } => (S::BAD_REQUEST, "MANIFEST_INVALID"),
            // OCI distribution specification, "Pushing Manifests": a registry SHOULD reject
            // 413 to a manifest larger than it accepts.
            CoreError::ManifestTooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID"),
            CoreError::ManifestUnsupported { .. } => (S::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED"),
            CoreError::ManifestUnknown { reference } => {
                // ECR's message, then the reference, which ECR leaves out.
                return Self::new(
                    S::NOT_FOUND,
                    "MANIFEST_UNKNOWN",
                    format!(
                        "{error}: the repository has no manifest tagged or addressed '{reference}'"
                    ),
                );
            }
            CoreError::ImageNotFound { .. } => (S::NOT_FOUND, "MANIFEST_UNKNOWN"),
            CoreError::DigestInvalid { .. }
            | CoreError::DigestMismatch { .. }
            | CoreError::UploadDigestMismatch { .. } => (S::BAD_REQUEST, "DIGEST_INVALID"),
            CoreError::BlobUnknown { .. } => (S::NOT_FOUND, "BLOB_UNKNOWN"),
            CoreError::UploadUnknown { .. } | CoreError::UploadExpired { .. } => {
                (S::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN")
            }
            CoreError::BodyInterrupted { .. } => (S::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
            CoreError::UploadRangeInvalid { current, .. }
            | CoreError::ChunkLengthMismatch { current, .. } => {
                let mut mapped = Self::new(
                    S::RANGE_NOT_SATISFIABLE,
                    "BLOB_UPLOAD_INVALID",
                    error.to_string(),
                );
                mapped.range_end = Some(*current);
                return mapped;
            }
            CoreError::InvalidParameter { field, .. } if field == "imageTag" => {
                (S::BAD_REQUEST, "TAG_INVALID")
            }
            CoreError::InvalidParameter { .. } => (S::BAD_REQUEST, "NAME_INVALID"),
            CoreError::RepositoryAlreadyExists { .. } | CoreError::RepositoryNotEmpty { .. } => {
                (S::BAD_REQUEST, "UNSUPPORTED")
            }
            // Raised only by ECR API operations (resource tags, repository and lifecycle
            // policies, image scans).
            CoreError::InvalidTagParameter { .. }
            | CoreError::TooManyTags { .. }
            | CoreError::RepositoryPolicyNotFound { .. }
            | CoreError::LifecyclePolicyNotFound { .. }
            | CoreError::LifecyclePolicyPreviewNotFound { .. }
            | CoreError::ScanNotFound { .. }
            | CoreError::ScanLimitExceeded { .. }
            | CoreError::UnsupportedImageType { .. } => (S::BAD_REQUEST, "UNSUPPORTED"),
            // The OCI distribution specification defines no code for a server fault, so these
            // use UNKNOWN, the code of the Docker registry it grew from. A full or read-only
            // disk gets 507 Insufficient Storage (RFC 4918, section 11.5: the server cannot
            // store what the request needs, a condition considered temporary).
            CoreError::StorageFault {
                fault: StorageFault::DiskFull | StorageFault::ReadOnly,
                ..
            } => (S::INSUFFICIENT_STORAGE, "UNKNOWN"),
            CoreError::Storage(_) | CoreError::StorageFault { .. } => {
                (S::INTERNAL_SERVER_ERROR, "UNKNOWN")
            }
        };
        Self::new(status, code, error.to_string())
    }
}

impl RegistryError {
    /// Logs the error: a server fault, such as a full disk, at error level, because the person
    /// running the mock must act on it, and a client error at info level.
    fn log(&self, method: &Method, path: &str) {
        if self.status.is_server_error() {
            tracing::error!(%method, path, status = self.status.as_u16(), code = self.code, message = %self.message, "registry request failed");
        } else {
            tracing::info!(%method, path, code = self.code, message = %self.message, "registry error");
        }
    }

    fn into_response(self, registry: &Registry) -> Response {
        let body = json!({ "errors": [{ "code": self.code, "message": self.message }] });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(API_VERSION.0, HeaderValue::from_static(API_VERSION.1));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, challenge(registry));
        }
        if let Some(end) = self.range_end {
            headers.insert(header::RANGE, range_value(end));
        }
        if let Some(size) = self.content_range_size {
            insert(headers, header::CONTENT_RANGE, &format!("bytes */{size}"));
        }
        response
    }
}

/// The Basic challenge ECR sends: a realm naming the registry and the service `ecr.amazonaws.com`.
fn challenge(registry: &Registry) -> HeaderValue {
    let value = format!(
        "Basic realm=\"http://{}/\",service=\"ecr.amazonaws.com\"",
        registry.settings().registry_host
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Basic"))
}

/// `Range: 0-<last byte>` for an upload holding `size` bytes (`0-0` when empty, as clients expect).
fn range_value(size: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("0-{}", size.saturating_sub(1)))
        .unwrap_or_else(|_| HeaderValue::from_static("0-0"))
}

/// Decodes `Authorization: Basic base64(user:password)`. An empty user and password (podman
/// sends `Basic Og==` before it has logged in) count as no credentials. A malformed header is
/// rejected with the reason, never with the credentials it contains. Public only for the fuzz
/// targets and their regression tests.
#[doc(hidden)]
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, CoreError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let rejected = |problem: &str| CoreError::LoginRejected {
        reason: format!(
            "the Authorization header {problem}; log in as user AWS with the password from \
             'aws ecr get-login-password', which sends 'Basic <base64 of AWS:password>'"
        ),
    };
    let text = value
        .to_str()
        .map_err(|_| rejected("contains bytes that are not visible ASCII"))?;
    if text.trim() == "Basic" {
        return Err(rejected("contains no credentials after 'Basic'"));
    }
    let Some(encoded) = text.strip_prefix("Basic ") else {
        let scheme: String = text
            .split(' ')
            .next()
            .unwrap_or_default()
            .chars()
            .take(20)
            .collect();
        return Err(rejected(&format!(
            "uses the scheme '{scheme}', not Basic followed by credentials"
        )));
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| rejected("is not valid base64 after 'Basic '"))?;
    let decoded =
        String::from_utf8(decoded).map_err(|_| rejected("decodes to bytes that are not UTF-8"))?;
    let (user, password) = decoded.split_once(':').ok_or_else(|| {
        rejected("decodes to credentials without the ':' between user and password")
    })?;
    if user.is_empty() && password.is_empty() {
        return Ok(None);
    }
    Ok(Some((user.to_owned(), password.to_owned())))
}

/// Handles one request under `/v2/`.
pub async fn handle(
    registry: Arc<Registry>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let rest = uri.path().strip_prefix("/v2").unwrap_or("");
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let Some(route) = Route::parse(rest) else {
        let error = RegistryError::new(
            StatusCode::NOT_FOUND,
            "NAME_INVALID",
            format!("'{}' is not a registry API path", uri.path()),
        );
        return error.into_response(&registry);
    };
    let mut caller = Caller {
        scope: registry.default_scope(),
        source: Source::Registry,
        user_agent: text_header(&headers, header::USER_AGENT),
        host: text_header(&headers, header::HOST),
    };
    let action = route.action(&method);

    let credentials = basic_credentials(&headers);
    let authenticated = match credentials {
        Ok(Some((user, password))) => registry.authenticate(&user, &password),
        Ok(None) => Err(CoreError::Unauthenticated),
        Err(error) => Err(error),
    };
    let authenticated = authenticated.and_then(|scope| {
        let host = caller.host.as_deref().unwrap_or_default();
        addressed_registry(host, scope)
    });
    match authenticated {
        Ok(scope) => caller.scope = scope,
        Err(error) => {
            // An anonymous `GET /v2/` is the probe every client sends before logging in, not
            // an authentication attempt, so it is not journaled.
            let anonymous_probe =
                route == Route::Base && matches!(error, CoreError::Unauthenticated);
            if !anonymous_probe {
                let action = action.unwrap_or("Access");
                record(
                    &registry,
                    &caller,
                    action,
                    &route,
                    None,
                    Some(&error.to_string()),
                    "DENIED",
                );
            }
            // Failed logins are journaled, not logged, because every client probes `/v2/`
            // without credentials first; a storage fault while checking a token is logged.
            let error = RegistryError::from(error);
            if error.status.is_server_error() {
                error.log(&method, uri.path());
            }
            return error.into_response(&registry);
        }
    }

    let query = uri.query().unwrap_or("");
    let result = dispatch(
        &registry,
        &caller.scope,
        &method,
        &route,
        query,
        &headers,
        body,
    )
    .await;
    match result {
        Ok(outcome) => {
            if let Some(action) = action.filter(|_| outcome.journal) {
                let digest = outcome.digest.as_deref();
                record(&registry, &caller, action, &route, digest, None, "");
            }
            with_api_version(outcome.response)
        }
        Err(error) => {
            error.log(&method, uri.path());
            if let Some(action) = action {
                record(
                    &registry,
                    &caller,
                    action,
                    &route,
                    error.digest.as_deref(),
                    Some(&error.message),
                    error.code,
                );
            }
            error.into_response(&registry)
        }
    }
}

/// Checks that a token's registry is the one an ECR-shaped `Host` names, as a token from
/// GetAuthorizationToken is valid only for its own account and region. Requests to other
/// host names, such as `localhost:5000`, act on the token's registry.
fn addressed_registry(host: &str, token_scope: Scope) -> Result<Scope, CoreError> {
    let Some((account, region)) = crate::names::registry_of_host(host) else {
        return Ok(token_scope);
    };
    if account == token_scope.account && region == token_scope.region {
        return Ok(token_scope);
    }
    Err(CoreError::LoginRejected {
        reason: format!(
            "the password is a token for account {} in {}, but this request is addressed to \
             '{host}' (account {account} in {region}); get a password for that registry with \
             'aws ecr get-login-password --region {region}' using credentials of account {account}",
            token_scope.account, token_scope.region
        ),
    })
}

fn record(
    registry: &Registry,
    caller: &Caller,
    action: &str,
    route: &Route,
    digest: Option<&str>,
    error_message: Option<&str>,
    code: &str,
) {
    let reference = match route {
        Route::Manifest { reference, .. } => Some(reference.clone()),
        Route::Blob { digest, .. } => Some(digest.clone()),
        _ => None,
    };
    registry.record(
        caller,
        Event {
            action: action.to_owned(),
            repository: route.repository().map(str::to_owned),
            reference,
            digest: digest.map(str::to_owned),
            error: error_message.map(|message| (code.to_owned(), message.to_owned())),
        },
    );
}

fn text_header(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn with_api_version(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(API_VERSION.0, HeaderValue::from_static(API_VERSION.1));
    response
}

/// A successful response, with what the journal records of it.
struct Outcome {
    response: Response,
    /// The digest stored by the request, for the journal.
    digest: Option<String>,
    /// Whether this response completes a journaled action (a PATCH chunk does not).
    journal: bool,
}

impl Outcome {
    fn quiet(response: Response) -> Self {
        Self {
            response,
            digest: None,
            journal: false,
        }
    }
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name == key).then(|| percent_decode(value))
    })
}

/// Decodes `%XX` escapes, as clients send `digest=sha256%3A...`.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = bytes
            .get(index + 1..index + 3)
            .filter(|_| bytes[index] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(if bytes[index] == b'+' {
                    b' '
                } else {
                    bytes[index]
                });
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn required_digest(query: &str) -> Result<Digest, RegistryError> {
    let text = query_param(query, "digest").ok_or_else(|| {
        RegistryError::new(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            "The request must name the blob's digest as the 'digest' query parameter",
        )
    })?;
    Ok(Digest::parse(&text)?)
}

/// Parses `Content-Range: <start>-<end>` (OCI distribution specification, "Pushing a blob in
/// chunks") and returns the first and last byte.
fn content_range(headers: &HeaderMap) -> Result<Option<(u64, u64)>, RegistryError> {
    let Some(value) = headers.get(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("<not ASCII>");
    let spec = text.strip_prefix("bytes ").unwrap_or(text);
    let bounds = spec.split_once('-').and_then(|(start, end)| {
        Some((
            start.trim().parse::<u64>().ok()?,
            end.trim().parse::<u64>().ok()?,
        ))
    });
    // The range's length, `end - start + 1`, must fit in a u64.
    match bounds.filter(|(start, end)| end >= start && end - start < u64::MAX) {
        Some(range) => Ok(Some(range)),
        None => Err(RegistryError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
            format!("Content-Range '{text}' is invalid: send '<start>-<end>' in bytes"),
        )),
    }
}

/// Builds the image index that `GET /v2/<name>/referrers/<digest>` returns, filtered by the
/// `artifactType` query parameter when given (OCI distribution specification 1.1, "Listing
/// Referrers"): the response then carries `OCI-Filters-Applied: artifactType`.
fn referrers_index(referrers: Vec<crate::core::Referrer>, query: &str) -> Response {
    let filter = query_param(query, "artifactType");
    let manifests: Vec<serde_json::Value> = referrers
        .into_iter()
        .filter(|referrer| {
            filter
                .as_deref()
                .is_none_or(|wanted| referrer.artifact_type.as_deref() == Some(wanted))
        })
        .map(|referrer| {
            let mut descriptor = json!({
                "mediaType": referrer.media_type,
                "digest": referrer.digest,
                "size": referrer.size,
            });
            if let Some(artifact_type) = referrer.artifact_type {
                descriptor["artifactType"] = json!(artifact_type);
            }
            if !referrer.annotations.is_empty() {
                descriptor["annotations"] = json!(referrer.annotations);
            }
            descriptor
        })
        .collect();
    let body = json!({
        "schemaVersion": 2,
        "mediaType": crate::manifest::OCI_INDEX,
        "manifests": manifests,
    });
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::manifest::OCI_INDEX),
    );
    if filter.is_some() {
        headers.insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    response
}

/// The maximum number of tags on one page of `/tags/list` when the client names no `n`.
const MAX_TAG_PAGE: usize = 1000;

/// Builds one page of `GET /v2/<name>/tags/list?n=<count>&last=<tag>`: the tags after `last`
/// in lexical order, at most `n` of them, with a `Link` header to the next page when more
/// remain (OCI distribution specification, "Listing Tags").
fn tag_list_page(name: &str, tags: Vec<String>, query: &str) -> Result<Response, RegistryError> {
    let count = match query_param(query, "n") {
        None => MAX_TAG_PAGE,
        Some(text) => text.parse::<usize>().map_err(|_| {
            RegistryError::new(
                StatusCode::BAD_REQUEST,
                "PAGINATION_NUMBER_INVALID",
                format!("n must be a whole number of tags, not '{text}'"),
            )
        })?,
    };
    let last = query_param(query, "last");
    let after: Vec<String> = tags
        .into_iter()
        .filter(|tag| last.as_deref().is_none_or(|last| tag.as_str() > last))
        .collect();
    let more = after.len() > count;
    let page: Vec<String> = after.into_iter().take(count).collect();

    let body = json!({ "name": name, "tags": page }).to_string();
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let (true, Some(last_listed)) = (more, page.last()) {
        let link = format!("</v2/{name}/tags/list?n={count}&last={last_listed}>; rel=\"next\"");
        insert(headers, header::LINK, &link);
    }
    Ok(response)
}

/// Reads a single `Range: bytes=<start>-<end>` (or `<start>-`, or `-<suffix length>`) against a
/// blob of `size` bytes. Returns `None` without a `Range` header; an unsatisfiable or
/// malformed range gets 416 with the blob's size.
fn requested_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, RegistryError> {
    let Some(value) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let unsatisfiable = || {
        let mut error = RegistryError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            // The OCI error codes have none for ranges; SIZE_INVALID is the closest.
            "SIZE_INVALID",
            format!(
                "Range '{}' does not fit a blob of {size} bytes: ask for bytes=<start>-<end> within it",
                value.to_str().unwrap_or("<not ASCII>")
            ),
        );
        error.content_range_size = Some(size);
        error
    };
    let text = value.to_str().map_err(|_| unsatisfiable())?;
    let spec = text.strip_prefix("bytes=").ok_or_else(unsatisfiable)?;
    let (start, end) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let suffix: u64 = suffix.parse().map_err(|_| unsatisfiable())?;
            if suffix == 0 {
                return Err(unsatisfiable());
            }
            (size.saturating_sub(suffix), size.saturating_sub(1))
        }
        (start, "") => (
            start.parse().map_err(|_| unsatisfiable())?,
            size.saturating_sub(1),
        ),
        (start, end) => (
            start.parse().map_err(|_| unsatisfiable())?,
            end.parse::<u64>()
                .map_err(|_| unsatisfiable())?
                .min(size.saturating_sub(1)),
        ),
    };
    if size == 0 || start > end || start >= size {
        return Err(unsatisfiable());
    }
    Ok(Some((start, end)))
}

fn upload_location(name: &str, id: &str) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

fn upload_accepted(name: &str, id: &str, size: u64) -> Response {
    let mut response = StatusCode::ACCEPTED.into_response();
    let headers = response.headers_mut();
    insert(headers, header::LOCATION, &upload_location(name, id));
    headers.insert(header::RANGE, range_value(size));
    insert(headers, "docker-upload-uuid", id);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

fn blob_created(name: &str, digest: &Digest) -> Response {
    let mut response = StatusCode::CREATED.into_response();
    let headers = response.headers_mut();
    insert(
        headers,
        header::LOCATION,
        &format!("/v2/{name}/blobs/{digest}"),
    );
    insert(headers, "docker-content-digest", &digest.to_string());
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

fn insert<K: header::IntoHeaderName>(headers: &mut HeaderMap, name: K, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

async fn dispatch(
    registry: &Registry,
    scope: &Scope,
    method: &Method,
    route: &Route,
    query: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Outcome, RegistryError> {
    match (route, method.clone()) {
        (Route::Base, Method::GET | Method::HEAD) => {
            let mut response = (StatusCode::OK, "{}").into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(Outcome {
                response,
                digest: None,
                journal: true,
            })
        }
        (Route::Referrers { name, digest }, Method::GET) => {
            let subject = Digest::parse(digest)?;
            let referrers = registry.referrers(scope, name, &subject)?;
            Ok(Outcome::quiet(referrers_index(referrers, query)))
        }
        (Route::Tags { name }, Method::GET) => {
            let tags = registry.tags(scope, name)?;
            Ok(Outcome::quiet(tag_list_page(name, tags, query)?))
        }
        (Route::Manifest { name, reference }, Method::PUT) => {
            put_manifest(registry, scope, name, reference, headers, body).await
        }
        (Route::Manifest { name, reference }, Method::GET | Method::HEAD) => {
            let reference = Reference::parse(reference)?;
            let (manifest, media_type, digest) =
                manifest_to_serve(registry, scope, name, &reference, headers)?;
            let length = manifest.len();
            let mut response = if *method == Method::HEAD {
                StatusCode::OK.into_response()
            } else {
                (StatusCode::OK, manifest).into_response()
            };
            let headers = response.headers_mut();
            insert(headers, header::CONTENT_TYPE, &media_type);
            insert(headers, "docker-content-digest", &digest);
            insert(headers, header::CONTENT_LENGTH, &length.to_string());
            Ok(Outcome::quiet(response))
        }
        (Route::Manifest { name, reference }, Method::DELETE) => {
            delete_manifest(registry, scope, name, reference)
        }
        (Route::Blob { .. }, Method::DELETE) => Err(RegistryError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "ECR does not delete layers through the registry API: delete the images that use \
             them (DELETE /v2/<name>/manifests/<digest> or 'aws ecr batch-delete-image')",
        )),
        (Route::Catalog, _) => Err(RegistryError::new(
            StatusCode::NOT_FOUND,
            "UNSUPPORTED",
            "ECR does not serve the registry catalog: list repositories with \
             'aws ecr describe-repositories'",
        )),
        (Route::Blob { name, digest }, Method::GET | Method::HEAD) => {
            let digest = Digest::parse(digest)?;
            let size = registry.layer(scope, name, &digest)?;
            // A HEAD reports the whole blob, whatever range the client names.
            let range = if *method == Method::HEAD {
                None
            } else {
                requested_range(headers, size)?
            };
            let length = range.as_ref().map_or(size, |(start, end)| end - start + 1);
            let mut response = if *method == Method::HEAD {
                StatusCode::OK.into_response()
            } else {
                let mut file = registry.blobs().open_blob(&digest).await?;
                if let Some((start, _)) = range {
                    file.seek(std::io::SeekFrom::Start(start))
                        .await
                        .map_err(CoreError::from)?;
                }
                let reader = ReaderStream::with_capacity(file.take(length), 256 * 1024);
                Body::from_stream(reader).into_response()
            };
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            insert(headers, "docker-content-digest", &digest.to_string());
            insert(headers, header::CONTENT_LENGTH, &length.to_string());
            headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            if let (Some((start, end)), false) = (range, *method == Method::HEAD) {
                *response.status_mut() = StatusCode::PARTIAL_CONTENT;
                let content_range = format!("bytes {start}-{end}/{size}");
                insert(
                    response.headers_mut(),
                    header::CONTENT_RANGE,
                    &content_range,
                );
            }
            Ok(Outcome::quiet(response))
        }
        (Route::Uploads { name }, Method::POST) => {
            start_upload(registry, scope, name, query, body).await
        }
        (Route::Upload { name, id }, Method::PATCH) => {
            let range = content_range(headers)?;
            let size = registry
                .append_upload(scope, name, id, range, body.into_data_stream())
                .await?;
            Ok(Outcome::quiet(upload_accepted(name, id, size)))
        }
        (Route::Upload { name, id }, Method::PUT) => {
            let digest = required_digest(query)?;
            let range = content_range(headers)?;
            registry
                .complete_upload(scope, name, id, range, &digest, body.into_data_stream())
                .await?;
            Ok(Outcome {
                response: blob_created(name, &digest),
                digest: Some(digest.to_string()),
                journal: true,
            })
        }
        (Route::Upload { name, id }, Method::GET) => {
            let size = registry.upload_size(scope, name, id).await?;
            let mut response = StatusCode::NO_CONTENT.into_response();
            let headers = response.headers_mut();
            insert(headers, header::LOCATION, &upload_location(name, id));
            headers.insert(header::RANGE, range_value(size));
            insert(headers, "docker-upload-uuid", id);
            Ok(Outcome::quiet(response))
        }
        (Route::Upload { name, id }, Method::DELETE) => {
            registry.cancel_upload(scope, name, id).await?;
            Ok(Outcome::quiet(StatusCode::NO_CONTENT.into_response()))
        }
        _ => Err(RegistryError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            format!("{method} is not supported on this registry path"),
        )),
    }
}

/// Finds the manifest a pull of `reference` gets, with its media type and digest: the stored
/// one, or for a tag the conversion that the `Accept` header calls for. A digest that no
/// stored manifest has may be that of a converted one, which a client resolving a tag with
/// HEAD then fetches by digest, so it is looked up among the conversions too.
fn manifest_to_serve(
    registry: &Registry,
    scope: &Scope,
    name: &str,
    reference: &Reference,
    headers: &HeaderMap,
) -> Result<(Vec<u8>, String, String), CoreError> {
    let image = match (registry.get_manifest(scope, name, reference), reference) {
        (Ok(image), _) => image,
        (Err(error @ CoreError::ManifestUnknown { .. }), Reference::Digest(digest)) => {
            return converted_with_digest(registry, scope, name, digest)?.ok_or(error);
        }
        (Err(error), _) => return Err(error),
    };
    let accepted = conversion::accepted_types(
        headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok()),
    );
    let converted = match reference {
        Reference::Tag(_) => conversion::convert_for(&image.manifest, &image.media_type, &accepted),
        Reference::Digest(_) => None,
    };
    Ok(match converted {
        Some((bytes, media_type)) => {
            let digest = Digest::of(&bytes).to_string();
            (bytes, media_type.to_owned(), digest)
        }
        None => (image.manifest, image.media_type, image.digest),
    })
}

/// Searches the repository's images for one whose conversion to the other image manifest
/// format has `digest`.
fn converted_with_digest(
    registry: &Registry,
    scope: &Scope,
    name: &str,
    digest: &Digest,
) -> Result<Option<(Vec<u8>, String, String)>, CoreError> {
    let targets = [
        crate::manifest::OCI_MANIFEST,
        crate::manifest::DOCKER_MANIFEST,
    ];
    for image in registry.images(scope, name)? {
        for target in targets {
            let accepted = [target.to_owned()];
            let Some((bytes, media_type)) =
                conversion::convert_for(&image.row.manifest, &image.row.media_type, &accepted)
            else {
                continue;
            };
            if Digest::of(&bytes) == *digest {
                return Ok(Some((bytes, media_type.to_owned(), digest.to_string())));
            }
        }
    }
    Ok(None)
}

/// Starts an upload. With `?digest=` the body is the whole blob (a monolithic upload).
///
/// A cross-repository mount (`?mount=<digest>&from=<repository>`) returns 201 Created when the
/// blob is already in the target repository, or when the registry has blob mounting enabled
/// (PutAccountSetting BLOB_MOUNTING) and `from` contains it. Otherwise the client gets a normal
/// upload session (202), as from ECR with blob mounting off (OCI distribution specification,
/// "Mounting a blob from another repository").
async fn start_upload(
    registry: &Registry,
    scope: &Scope,
    name: &str,
    query: &str,
    body: Body,
) -> Result<Outcome, RegistryError> {
    if let Some(mount) = query_param(query, "mount") {
        let digest = Digest::parse(&mount)?;
        let present = registry.layer(scope, name, &digest).is_ok();
        let mounted = match query_param(query, "from") {
            Some(from) if !present => registry.mount_layer(scope, name, &from, &digest)?.is_some(),
            _ => false,
        };
        if present || mounted {
            return Ok(Outcome {
                response: blob_created(name, &digest),
                digest: Some(digest.to_string()),
                journal: true,
            });
        }
    }
    let id = registry.start_upload(scope, name).await?;
    match query_param(query, "digest") {
        Some(text) => {
            let digest = Digest::parse(&text)?;
            registry
                .complete_upload(scope, name, &id, None, &digest, body.into_data_stream())
                .await?;
            Ok(Outcome {
                response: blob_created(name, &digest),
                digest: Some(digest.to_string()),
                journal: true,
            })
        }
        None => Ok(Outcome::quiet(upload_accepted(name, &id, 0))),
    }
}

async fn put_manifest(
    registry: &Registry,
    scope: &Scope,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Outcome, RegistryError> {
    let reference = Reference::parse(reference)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if let Some(size) = declared.filter(|size| *size > MAX_MANIFEST_BYTES) {
        return Err(CoreError::ManifestTooLarge {
            size,
            limit: MAX_MANIFEST_BYTES,
        }
        .into());
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            RegistryError::new(
                StatusCode::BAD_REQUEST,
                "MANIFEST_INVALID",
                format!("Manifest could not be read: {error}"),
            )
        })?;
        if bytes.len() + chunk.len() > MAX_MANIFEST_BYTES {
            return Err(RegistryError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "MANIFEST_INVALID",
                format!(
                    "Manifest is over the limit of {MAX_MANIFEST_BYTES} bytes: make it smaller, \
                     for example by splitting an index"
                ),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let digest = registry
        .put_manifest(scope, name, &reference, content_type, &bytes)
        .map_err(|error| {
            let mut error = RegistryError::from(error);
            error.digest = Some(Digest::of(&bytes).to_string());
            error
        })?;

    let mut response = StatusCode::CREATED.into_response();
    let response_headers = response.headers_mut();
    insert(
        response_headers,
        header::LOCATION,
        &format!("/v2/{name}/manifests/{digest}"),
    );
    insert(
        response_headers,
        "docker-content-digest",
        &digest.to_string(),
    );
    response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    // A registry that serves the referrers API names the pushed manifest's subject in
    // `OCI-Subject`, so clients do not maintain a referrers tag themselves (OCI
    // distribution specification 1.1, "Pushing Manifests with Subject").
    let subject = crate::manifest::Manifest::parse(&bytes, content_type)
        .ok()
        .and_then(|manifest| manifest.subject);
    if let Some(subject) = subject {
        insert(response_headers, "oci-subject", &subject.digest.to_string());
    }
    Ok(Outcome {
        response,
        digest: Some(digest.to_string()),
        journal: true,
    })
}

/// Deletes by digest (the image and all its tags) or by tag (that tag, and the image too when
/// it was the image's last tag), the same state changes as BatchDeleteImage with one image id.
/// Returns 202 Accepted (OCI distribution specification, "Deleting Manifests" and "Deleting
/// Tags").
fn delete_manifest(
    registry: &Registry,
    scope: &Scope,
    name: &str,
    reference: &str,
) -> Result<Outcome, RegistryError> {
    let reference = Reference::parse(reference)?;
    let deleted = match &reference {
        Reference::Digest(digest) => {
            registry.delete_image(scope, name, Some(&digest.to_string()), None)?
        }
        Reference::Tag(tag) => registry.delete_image(scope, name, None, Some(tag))?,
    };
    match deleted {
        Ok(removed) => {
            let digest = removed.first().map(|image| image.digest.clone());
            Ok(Outcome {
                response: StatusCode::ACCEPTED.into_response(),
                digest,
                journal: true,
            })
        }
        Err(DeleteFailure::ReferencedByManifestList) => Err(RegistryError::new(
            StatusCode::BAD_REQUEST,
            "UNSUPPORTED",
            format!(
                "The image '{reference}' in the repository with name '{name}' is referenced by an \
                 image index or manifest list: delete the index first"
            ),
        )),
        Err(_) => Err(CoreError::ManifestUnknown {
            reference: reference.to_string(),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_nested_names() {
        let cases = [
            ("", Some(Route::Base)),
            (
                "team/app/tags/list",
                Some(Route::Tags {
                    name: "team/app".into(),
                }),
            ),
            (
                "a/b/c/manifests/latest",
                Some(Route::Manifest {
                    name: "a/b/c".into(),
                    reference: "latest".into(),
                }),
            ),
            (
                "my-app/blobs/uploads/",
                Some(Route::Uploads {
                    name: "my-app".into(),
                }),
            ),
            (
                "my-app/blobs/uploads",
                Some(Route::Uploads {
                    name: "my-app".into(),
                }),
            ),
            (
                "x/y/blobs/uploads/abc-123",
                Some(Route::Upload {
                    name: "x/y".into(),
                    id: "abc-123".into(),
                }),
            ),
            (
                "my-app/blobs/sha256:00",
                Some(Route::Blob {
                    name: "my-app".into(),
                    digest: "sha256:00".into(),
                }),
            ),
            (
                "a/b/referrers/sha256:00",
                Some(Route::Referrers {
                    name: "a/b".into(),
                    digest: "sha256:00".into(),
                }),
            ),
            ("manifests/latest", None),
            ("my-app/unknown", None),
            ("my-app/manifests/", None),
        ];
        for (path, expected) in cases {
            assert_eq!(Route::parse(path), expected, "{path}");
        }
    }

    #[test]
    fn percent_decoding_handles_digest_colons() {
        assert_eq!(percent_decode("sha256%3Aabc"), "sha256:abc");
        assert_eq!(percent_decode("sha256:abc"), "sha256:abc");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
        assert_eq!(
            query_param("a=1&digest=sha256%3Aff", "digest").as_deref(),
            Some("sha256:ff")
        );
        assert_eq!(query_param("a=1", "digest"), None);
    }
}
