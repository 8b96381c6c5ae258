//! Checks shared by the fuzz targets in `fuzz_targets/` and by the stable regression test
//! `mock-ecr/tests/fuzz_regressions.rs`, which includes this file as a module.
//!
//! Each `check_*` function takes one fuzz input and panics when mock-ecr breaks a property.
//! Examples: a parser panics, a parsed value does not print back to its text, a request signed
//! with the right key fails verification, or the router returns 500.
//!
//! Request inputs (the `router` and `authorization` targets) are text, so that seeds and
//! regression files can be read and edited:
//!
//! ```text
//! PUT /v2/fuzz/app/manifests/latest
//! @login
//! content-type: application/vnd.oci.image.manifest.v1+json
//!
//! {"schemaVersion":2, ...}
//! ===
//! GET /v2/fuzz/app/manifests/latest
//! @login
//! ```
//!
//! The first line is the method and the request target. Header lines follow until an empty
//! line, and the body runs to a line `===`, which starts the next request. `@login` sets
//! `Authorization: Basic` to a token of the registry under test, and `@sign` signs the request
//! with Signature V4 and the default test key pair at the registry's clock. In the `router`
//! target, `$location` in the request target is replaced by the last `Location` header
//! returned, and `$upload_id` in the target or body by the last upload ID (the
//! `Docker-Upload-UUID` header or an ECR `uploadId`), so that inputs can reach chunked uploads.
//! A method, target, header name or header value that the `http` crate rejects drops the
//! request or the header, because such a request never reaches the router through hyper.

use std::cell::RefCell;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use base64::Engine as _;
use mock_ecr::Clock;
use mock_ecr::core::{Reference, Registry, Settings};
use mock_ecr::credentials::{
    AccessKey, AccessPolicy, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY,
};
use mock_ecr::digest::Digest;
use mock_ecr::manifest::{Manifest, ManifestKind};
use mock_ecr::store::{BlobStore, Database};
use tower::ServiceExt as _;

/// The `Host` that requests name and the registry reports.
pub const HOST: &str = "localhost:5000";

/// The line that separates two requests of one request input.
const SEPARATOR: &[u8] = b"\n===\n";

/// The maximum number of requests one input sends, so that one input stays fast.
const MAX_REQUESTS: usize = 16;

/// One request of a request input, with the `@login` and `@sign` directives still unapplied.
#[derive(Debug)]
pub struct RequestText {
    method: Method,
    target: Vec<u8>,
    headers: HeaderMap,
    login: bool,
    sign: bool,
    body: Vec<u8>,
}

/// A request ready to send, with the directives that took effect.
struct BuiltRequest {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
    /// Whether the `Authorization` header is a valid registry login.
    logged_in: bool,
    /// Whether the request carries a valid Signature V4 of the default test key pair.
    signed: bool,
}

/// Splits a request input into its requests, dropping those that no HTTP server would pass on.
pub fn parse_requests(input: &[u8]) -> Vec<RequestText> {
    split(input, SEPARATOR)
        .into_iter()
        .take(MAX_REQUESTS)
        .filter_map(parse_request)
        .collect()
}

fn parse_request(text: &[u8]) -> Option<RequestText> {
    let (head, body) = match find(text, b"\n\n") {
        Some(index) => (&text[..index], &text[index + 2..]),
        None => (text, &[][..]),
    };
    let mut lines = head.split(|&byte| byte == b'\n').map(trim_cr);
    let request_line = lines.next()?;
    let (method, target) = match request_line.iter().position(|&byte| byte == b' ') {
        Some(index) => (&request_line[..index], &request_line[index + 1..]),
        None => (&b"GET"[..], request_line),
    };
    let mut request = RequestText {
        method: Method::from_bytes(method).ok()?,
        target: target.to_vec(),
        headers: HeaderMap::new(),
        login: false,
        sign: false,
        body: body.to_vec(),
    };
    for line in lines {
        match line {
            b"@login" => request.login = true,
            b"@sign" => request.sign = true,
            _ => {
                if let Some((name, value)) = parse_header(line) {
                    request.headers.append(name, value);
                }
            }
        }
    }
    Some(request)
}

fn parse_header(line: &[u8]) -> Option<(HeaderName, HeaderValue)> {
    let colon = line.iter().position(|&byte| byte == b':')?;
    let name = HeaderName::from_bytes(line[..colon].trim_ascii()).ok()?;
    let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
    Some((name, value))
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn split<'a>(mut input: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(index) = find(input, separator) {
        parts.push(&input[..index]);
        input = &input[index + separator.len()..];
    }
    parts.push(input);
    parts
}

/// A registry in its own temporary folder, on a fixed clock, as the in-process tests use.
pub struct TestRegistry {
    _data: tempfile::TempDir,
    registry: Arc<Registry>,
    clock: Clock,
}

impl TestRegistry {
    pub fn new() -> Self {
        let data = tempfile::tempdir().expect("a temporary folder for the registry");
        let clock = Clock::fixed(time::macros::datetime!(2026-12-04 12:00:00 UTC));
        let database = Database::open(&data.path().join("mock-ecr.sqlite3")).expect("database");
        let blobs = BlobStore::open(data.path()).expect("blob store");
        let settings = Settings {
            default_account: mock_ecr::DEFAULT_ACCOUNT_ID.into(),
            default_region: mock_ecr::DEFAULT_REGION.into(),
            registry_host: HOST.into(),
        };
        let registry = Arc::new(Registry::new(database, blobs, clock.clone(), settings));
        Self {
            _data: data,
            registry,
            clock,
        }
    }

    /// Returns an `Authorization: Basic` value with a new token of this registry.
    fn login_header(&self) -> HeaderValue {
        let token = self
            .registry
            .issue_token(&self.registry.default_scope())
            .expect("a token for the default scope");
        HeaderValue::from_str(&format!("Basic {}", token.authorization_token))
            .expect("base64 is a valid header value")
    }

    /// Replaces the variables in `text` and applies its `@login` and `@sign` directives.
    /// Returns `None` when the request target is not a valid URI.
    fn build(&self, text: &RequestText, variables: &Variables) -> Option<BuiltRequest> {
        let mut request = BuiltRequest {
            method: text.method.clone(),
            uri: Uri::try_from(variables.replace(&text.target)).ok()?,
            headers: text.headers.clone(),
            body: variables.replace(&text.body),
            logged_in: false,
            signed: false,
        };
        if text.login {
            request
                .headers
                .insert(header::AUTHORIZATION, self.login_header());
            request.logged_in = true;
        }
        if text.sign {
            // A request that cannot be signed is sent as the input gave it, with its login.
            let unsigned = request.headers.clone();
            request.signed = sign(&mut request, self.clock.unshifted_now());
            if request.signed {
                request.logged_in = false;
            } else {
                request.headers = unsigned;
            }
        }
        Some(request)
    }
}

impl Default for TestRegistry {
    fn default() -> Self {
        Self::new()
    }
}

/// Values from earlier responses that later requests of one input can refer to.
#[derive(Debug, Default)]
struct Variables {
    location: Option<String>,
    upload_id: Option<String>,
}

impl Variables {
    /// Replaces `$location` and `$upload_id` with the values seen so far, if any.
    fn replace(&self, text: &[u8]) -> Vec<u8> {
        let mut text = text.to_vec();
        for (name, value) in [
            (&b"$location"[..], &self.location),
            (&b"$upload_id"[..], &self.upload_id),
        ] {
            if let Some(value) = value {
                text = split(&text, name).join(value.as_bytes());
            }
        }
        text
    }

    /// Remembers the `Location` and upload ID of a response.
    fn update(&mut self, headers: &HeaderMap, body: &[u8]) {
        let text = |name| {
            headers
                .get(name)
                .and_then(|value: &HeaderValue| value.to_str().ok())
        };
        if let Some(location) = text(header::LOCATION.as_str()) {
            self.location = Some(location.to_owned());
        }
        let from_body = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|json| json["uploadId"].as_str().map(str::to_owned));
        if let Some(upload_id) = text("docker-upload-uuid").map(str::to_owned).or(from_body) {
            self.upload_id = Some(upload_id);
        }
    }
}

/// Signs a request with the default test key pair at `at`, as the AWS SDKs do, and returns
/// whether it could be signed. The signer sets `Authorization` and `x-amz-date` itself, so
/// values of those headers in the input are replaced, and a request without `Host` gets one.
fn sign(request: &mut BuiltRequest, at: time::OffsetDateTime) -> bool {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};

    let headers = &mut request.headers;
    headers.remove(header::AUTHORIZATION);
    headers.remove("x-amz-date");
    if !headers.contains_key(header::HOST) {
        headers.insert(header::HOST, HeaderValue::from_static(HOST));
    }
    // aws-sigv4 1.6.6 panics when it signs without a `Host` header and the URI has no
    // authority, which is the case when every `Host` value is dropped below as unsignable.
    if !headers
        .get_all(header::HOST)
        .iter()
        .any(|value| value.to_str().is_ok())
    {
        return false;
    }
    let identity: aws_smithy_runtime_api::client::identity::Identity =
        aws_credential_types::Credentials::new(
            DEFAULT_ACCESS_KEY_ID,
            DEFAULT_SECRET_ACCESS_KEY,
            None,
            None,
            "fuzz",
        )
        .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(mock_ecr::DEFAULT_REGION)
        .name("ecr")
        .time(std::time::SystemTime::from(at))
        .settings(SigningSettings::default())
        .build()
        .expect("complete signing parameters")
        .into();
    // Header values that are not visible ASCII cannot be signed, and the server skips them too.
    let signable_headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let uri = request
        .uri
        .path_and_query()
        .map_or("/", |path_and_query| path_and_query.as_str());
    let Ok(signable) = SignableRequest::new(
        request.method.as_str(),
        uri,
        signable_headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        SignableBody::Bytes(&request.body),
    ) else {
        return false;
    };
    let Ok(output) = aws_sigv4::http_request::sign(signable, &params) else {
        return false;
    };
    let (instructions, _signature) = output.into_parts();
    for (name, value) in instructions.headers() {
        let value = HeaderValue::from_str(value).expect("the signer writes visible ASCII");
        request.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("the signer writes valid names"),
            value,
        );
    }
    true
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime");

    /// The registry of the `authorization` target, which only reads it, so inputs share one.
    static AUTH_REGISTRY: RefCell<Option<TestRegistry>> = const { RefCell::new(None) };
}

/// Sends every request of `input` through the full router of a new registry, in order. Each
/// response must not be a 500, and its body must read to its end. A 4xx of the registry or
/// the ECR API must have a JSON body in that API's error format.
pub fn check_router(input: &[u8]) {
    send_requests(input);
}

/// Sends and checks the requests of `input` as [`check_router`] does, and returns the status
/// of each request sent.
pub fn send_requests(input: &[u8]) -> Vec<StatusCode> {
    let requests = parse_requests(input);
    if requests.is_empty() {
        return Vec::new();
    }
    let fixture = TestRegistry::new();
    let router = mock_ecr::router(fixture.registry.clone(), "http://127.0.0.1:5000");
    RUNTIME.with(|runtime| {
        runtime.block_on(async {
            let mut statuses = Vec::new();
            let mut variables = Variables::default();
            for text in &requests {
                let Some(request) = fixture.build(text, &variables) else {
                    continue;
                };
                let method = request.method.clone();
                let path = request.uri.path().to_owned();
                let mut http = Request::builder()
                    .method(request.method)
                    .uri(request.uri)
                    .body(Body::from(request.body))
                    .expect("parts that were valid on their own");
                *http.headers_mut() = request.headers;
                let response = router
                    .clone()
                    .oneshot(http)
                    .await
                    .expect("the router's error type is Infallible");
                let status = response.status();
                let headers = response.headers().clone();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap_or_else(|error| {
                        panic!("{method} {path}: the {status} body failed mid-stream: {error}")
                    });
                check_response(&method, &path, status, &body);
                variables.update(&headers, &body);
                statuses.push(status);
            }
            statuses
        })
    })
}

fn check_response(method: &Method, path: &str, status: StatusCode, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{method} {path} returned 500: {text}"
    );
    if !status.is_client_error() || method == Method::HEAD {
        return;
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if path == "/v2" || path.starts_with("/v2/") {
        let code = json
            .as_ref()
            .and_then(|json| json["errors"][0]["code"].as_str());
        assert!(
            code.is_some(),
            "{method} {path} returned {status} without an OCI error body: {text}"
        );
    } else if method == Method::POST && path == "/" {
        let kind = json.as_ref().and_then(|json| json["__type"].as_str());
        assert!(
            kind.is_some(),
            "{method} {path} returned {status} without an ECR error body: {text}"
        );
    }
}

/// Runs the first requests of `input` through the ECR API's Signature V4 check and the
/// registry's Basic credentials parser, on a registry shared by all inputs of this thread.
///
/// A request the harness signed must verify, in the default test key's account, under both the
/// strict and the accept-any-signature policy. Basic credentials that parse must encode back to
/// a header that parses to the same user and password, and a token the registry issued must log
/// in.
pub fn check_authorization(input: &[u8]) {
    AUTH_REGISTRY.with(|cell| {
        let mut cell = cell.borrow_mut();
        let fixture = cell.get_or_insert_with(TestRegistry::new);
        for text in parse_requests(input) {
            let Some(request) = fixture.build(&text, &Variables::default()) else {
                continue;
            };
            check_signature(&fixture.registry, &request);
            check_basic_credentials(&fixture.registry, &request);
        }
    });
}

fn check_signature(registry: &Registry, request: &BuiltRequest) {
    let verify = |policy: &AccessPolicy| {
        mock_ecr::ecr_api::verify_signature(
            registry,
            policy,
            &request.method,
            &request.uri,
            &request.headers,
            &request.body,
        )
    };
    let strict = verify(&AccessPolicy::default());
    let permissive_policy = AccessPolicy::new(vec![AccessKey::default_student()], true)
        .expect("the default key pair is valid");
    let permissive = verify(&permissive_policy);

    match &strict {
        Ok(scope) => {
            assert_eq!(scope.account, mock_ecr::DEFAULT_ACCOUNT_ID, "{request:?}");
            assert!(
                permissive.is_ok(),
                "{request:?}: strict passed, permissive failed"
            );
        }
        Err(error) => {
            let response = axum::response::IntoResponse::into_response(error.clone());
            assert_ne!(
                response.status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{error:?}"
            );
            assert!(
                !request.signed,
                "{request:?}: a signed request failed: {error:?}"
            );
        }
    }
    if let Err(error) = &permissive {
        let response = axum::response::IntoResponse::into_response(error.clone());
        assert_ne!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{error:?}"
        );
    }
}

fn check_basic_credentials(registry: &Registry, request: &BuiltRequest) {
    let credentials = mock_ecr::registry::basic_credentials(&request.headers);
    let Ok(Some((user, password))) = credentials else {
        assert!(
            !request.logged_in,
            "{request:?}: the login header did not parse"
        );
        return;
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut again = HeaderMap::new();
    again.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Basic {encoded}")).expect("base64 is a valid value"),
    );
    let reparsed = mock_ecr::registry::basic_credentials(&again);
    assert_eq!(
        reparsed.ok().flatten(),
        Some((user.clone(), password.clone())),
        "Basic credentials do not survive encoding again"
    );
    let login = registry.authenticate(&user, &password);
    if request.logged_in {
        assert!(login.is_ok(), "an issued token failed to log in: {login:?}");
    }
}

impl std::fmt::Debug for BuiltRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{} {} {:?} ({} body bytes)",
            self.method,
            self.uri,
            self.headers,
            self.body.len()
        )
    }
}

/// Parses `input` as a manifest and checks what ECR's conversion on pull makes of it.
///
/// The input is the `Content-Type` of the push (first line, empty for none), the `Accept`
/// header of the pull (second line) and the manifest (the rest). A parsed manifest must have
/// one of the four supported media types and descriptors whose digests print back to valid
/// digests. A converted manifest must parse under its new media type and reference the same
/// config, layers and subject.
pub fn check_manifest(input: &[u8]) {
    let (content_type, rest) = split_line(input);
    let (accept, body) = split_line(rest);
    let content_type = std::str::from_utf8(content_type).ok();
    let content_type = content_type.filter(|value| !value.is_empty());
    let accept = String::from_utf8_lossy(accept);

    let accepted = mock_ecr::conversion::accepted_types(std::iter::once(accept.as_ref()));
    for media_type in &accepted {
        assert!(!media_type.is_empty(), "{accept:?}");
        assert_eq!(*media_type, media_type.to_ascii_lowercase(), "{accept:?}");
        assert!(!media_type.contains([',', ';']), "{accept:?}");
    }

    let Ok(manifest) = Manifest::parse(body, content_type) else {
        return;
    };
    assert!(
        [
            mock_ecr::manifest::DOCKER_MANIFEST,
            mock_ecr::manifest::DOCKER_MANIFEST_LIST,
            mock_ecr::manifest::OCI_MANIFEST,
            mock_ecr::manifest::OCI_INDEX,
        ]
        .contains(&manifest.media_type.as_str()),
        "unsupported media type accepted: {}",
        manifest.media_type
    );
    for descriptor in descriptors(&manifest) {
        assert!(descriptor.size >= 0, "{descriptor:?}");
        check_digest_round_trip(&descriptor.digest.to_string());
    }

    let Some((converted, target)) =
        mock_ecr::conversion::convert_for(body, &manifest.media_type, &accepted)
    else {
        return;
    };
    let reparsed = Manifest::parse(&converted, Some(target)).unwrap_or_else(|error| {
        panic!(
            "the {target} converted from {} does not parse: {error}\n{}",
            manifest.media_type,
            String::from_utf8_lossy(&converted)
        )
    });
    assert_eq!(reparsed.media_type, target);
    let digests = |manifest: &Manifest| -> Vec<(String, i64)> {
        descriptors(manifest)
            .into_iter()
            .map(|descriptor| (descriptor.digest.to_string(), descriptor.size))
            .collect()
    };
    assert_eq!(digests(&reparsed), digests(&manifest), "{target}");
}

/// Lists the config, layers and child manifests of a manifest, then its subject.
fn descriptors(manifest: &Manifest) -> Vec<&mock_ecr::manifest::Descriptor> {
    let mut all: Vec<_> = match &manifest.kind {
        ManifestKind::Image { config, layers } => std::iter::once(config).chain(layers).collect(),
        ManifestKind::Index { manifests } => manifests.iter().collect(),
    };
    all.extend(&manifest.subject);
    all
}

fn split_line(input: &[u8]) -> (&[u8], &[u8]) {
    match input.iter().position(|&byte| byte == b'\n') {
        Some(index) => (&input[..index], &input[index + 1..]),
        None => (input, &[]),
    }
}

/// The repository name pattern of the ECR API model (`RepositoryName`), anchored.
const REPOSITORY_NAME_REGEX: &str =
    r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$";

/// The tag pattern of the OCI distribution specification, anchored.
const TAG_REGEX: &str = r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$";

thread_local! {
    static ORACLES: (regex::Regex, regex::Regex) = (
        regex::Regex::new(REPOSITORY_NAME_REGEX).expect("valid pattern"),
        regex::Regex::new(TAG_REGEX).expect("valid pattern"),
    );
}

/// Runs one text through the digest, reference, name, tag, registry host, route and access key
/// parsers. Digests and references must print back to their text, and repository names and
/// tags must be accepted exactly when the `regex` crate matches their published patterns.
pub fn check_digest_and_names(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let text = text.as_ref();

    check_digest_round_trip(text);
    match Reference::parse(text) {
        Ok(Reference::Tag(tag)) => assert_eq!(tag, text),
        Ok(reference @ Reference::Digest(_)) => assert_eq!(reference.to_string(), text),
        Err(_) => {}
    }

    let (name_pattern, tag_pattern) = ORACLES.with(Clone::clone);
    let name_valid = mock_ecr::names::validate_repository_name(text).is_ok();
    let name_expected = (2..=256).contains(&text.len()) && name_pattern.is_match(text);
    assert_eq!(name_valid, name_expected, "repository name {text:?}");
    let tag_valid = mock_ecr::names::validate_tag(text).is_ok();
    assert_eq!(tag_valid, tag_pattern.is_match(text), "tag {text:?}");

    if let Some((account, region)) = mock_ecr::names::registry_of_host(text) {
        assert_eq!(account.len(), 12, "{text:?}");
        assert!(
            account.bytes().all(|byte| byte.is_ascii_digit()),
            "{text:?}"
        );
        assert!(!region.is_empty(), "{text:?}");
        assert!(text.starts_with(&format!("{account}.")), "{text:?}");
    }

    check_route(text);

    check_access_key(text);
}

/// Checks that a registry path parses to a route with a non-empty repository name.
fn check_route(text: &str) {
    use mock_ecr::registry::Route;

    let name = match Route::parse(text) {
        None | Some(Route::Base | Route::Catalog) => return,
        Some(
            Route::Tags { name }
            | Route::Manifest { name, .. }
            | Route::Blob { name, .. }
            | Route::Referrers { name, .. }
            | Route::Uploads { name }
            | Route::Upload { name, .. },
        ) => name,
    };
    assert!(!name.is_empty(), "{text:?}");
    assert!(text.starts_with(&format!("{name}/")), "{text:?}: {name:?}");
}

fn check_digest_round_trip(text: &str) {
    let Ok(digest) = Digest::parse(text) else {
        return;
    };
    assert_eq!(digest.to_string(), text, "digest does not print back");
    assert_eq!(
        format!("{}:{}", digest.algorithm_name(), digest.hex()),
        text
    );
    assert_eq!(Digest::parse(&digest.to_string()).ok(), Some(digest));
}

/// Checks `--access-key` parsing: a parsed key joins back to its text, and an error message
/// does not depend on the secret, which lies between the first and the last `:`.
fn check_access_key(text: &str) {
    let result = AccessKey::parse(text);
    if let Ok(key) = &result {
        let joined = format!(
            "{}:{}:{}",
            key.access_key_id, key.secret_access_key, key.account_id
        );
        assert_eq!(joined, text);
        assert!(key.validate().is_ok(), "{key:?}");
    }
    let (Some(first), Some(last)) = (text.find(':'), text.rfind(':')) else {
        return;
    };
    if first == last {
        return;
    }
    let secret = &text[first + 1..last];
    let masked = format!(
        "{}:{}:{}",
        &text[..first],
        "#".repeat(secret.chars().count()),
        &text[last + 1..]
    );
    let masked_result = AccessKey::parse(&masked);
    assert_eq!(
        result.as_ref().err(),
        masked_result.as_ref().err(),
        "the error for {text:?} depends on its secret"
    );
}
