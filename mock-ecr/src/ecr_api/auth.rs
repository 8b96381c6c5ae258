//! Signature Version 4 verification of ECR API requests.
//!
//! Each request names its access key, date, region and service in the `Authorization` header's
//! credential scope. The front end recomputes the signature from the method, path, query,
//! exactly the headers listed in `SignedHeaders`, `x-amz-date` and the SHA-256 of the body,
//! then compares it with the one sent in constant time. The access key selects the account,
//! and the credential scope selects the region.
//!
//! The AWS CLI and SDKs send `POST /` with no query, and sign each header once, sorted, with
//! no spaces to trim. For such a request the canonical request is written here, in the form
//! that "Create a canonical request" in the IAM User Guide gives, and signed with aws-sigv4's
//! signing key and HMAC. aws-sigv4 signs every other request whole, because it normalizes
//! paths, queries and header values. A test checks that both give the same signature.
//! Whole-request signing builds headers, maps and strings that verification throws away, and
//! cost about 14% of a DescribeRepositories request's CPU time (docs/benchmarks.md).

use std::cell::RefCell;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use super::ApiError;
use crate::core::Registry;
use crate::credentials::AccessPolicy;
use crate::store::db::Scope;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "ecr";
const TERMINATOR: &str = "aws4_request";

/// How far a request's `x-amz-date` may be from the mock's unshifted clock, either way. AWS rejects a
/// request that arrives more than 15 minutes after its date stamp or whose date stamp is more
/// than 15 minutes in the future (AWS API references, "Common Errors", `RequestExpired`).
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

const X_AMZ_DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");

/// The parts of a request that its signature covers.
pub(crate) struct SignedRequest<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The fields of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug)]
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

/// Verifies a request's signature and returns the account and region it acts for.
pub(crate) fn authenticate(
    registry: &Registry,
    policy: &AccessPolicy,
    request: &SignedRequest<'_>,
) -> Result<Scope, ApiError> {
    let Some(value) = request.headers.get(header::AUTHORIZATION) else {
        return Err(missing_token());
    };
    let text = value.to_str().map_err(|_| {
        incomplete(
            "the Authorization header contains characters that are not visible ASCII",
            "",
        )
    })?;
    let authorization = parse_authorization(text)?;
    check_scope(&authorization)?;

    let key = policy.find(authorization.access_key_id);
    if policy.accept_any_signature() {
        let account = key.map_or_else(
            || registry.settings().default_account.clone(),
            |key| key.account_id.clone(),
        );
        return Ok(scope(account, authorization.region));
    }
    let Some(key) = key else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };

    let (x_amz_date, signed_at) = signing_time(request.headers, &authorization, text)?;
    // Drills move the mock's clock to expire tokens; the client's clock did not move with it.
    check_clock_skew(signed_at, registry.clock().unshifted_now())?;
    let signed_headers = signed_header_values(request, &authorization)?;
    let expected = match canonical_request(request, &signed_headers) {
        Some(canonical) => {
            signature_of_canonical(&canonical, &authorization, x_amz_date, key, signed_at)
        }
        None => sign_with_aws_sigv4(request, &authorization, signed_headers, key, signed_at)?,
    };
    if !crate::mac::constant_time_eq(expected.as_bytes(), authorization.signature.as_bytes()) {
        return Err(signature_mismatch());
    }
    Ok(scope(key.account_id.clone(), authorization.region))
}

fn scope(account: String, region: &str) -> Scope {
    Scope {
        account,
        region: region.to_owned(),
    }
}

fn missing_token() -> ApiError {
    // AWS lists MissingAuthenticationToken with HTTP 403 in the "Common Errors" page of its
    // API references.
    ApiError::new(
        StatusCode::FORBIDDEN,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token: sign requests with AWS Signature Version 4 (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, for example from 'ecrlab env')",
    )
}

/// Builds an `IncompleteSignatureException` whose message ends with the header, as AWS's does.
fn incomplete(reason: &str, header_value: &str) -> ApiError {
    let message = if header_value.is_empty() {
        reason.to_owned()
    } else {
        format!("{reason} Authorization={header_value}")
    };
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "IncompleteSignatureException",
        message,
    )
}

fn invalid_signature(message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidSignatureException",
        message,
    )
}

fn signature_mismatch() -> ApiError {
    invalid_signature(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    )
}

/// Parses `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request,
/// SignedHeaders=<a;b;c>, Signature=<hex>`.
fn parse_authorization<'a>(text: &'a str) -> Result<Authorization<'a>, ApiError> {
    let Some(parameters) = text
        .strip_prefix(ALGORITHM)
        .filter(|rest| rest.starts_with(' '))
    else {
        let algorithm = text.split(' ').next().unwrap_or_default();
        return Err(incomplete(
            &format!(
                "Unsupported signing algorithm '{algorithm}': sign requests with {ALGORITHM} (Signature Version 4)."
            ),
            text,
        ));
    };

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in parameters.split(',').map(str::trim) {
        if let Some(value) = part.strip_prefix("Credential=") {
            credential = Some(value);
        } else if let Some(value) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(value);
        } else if let Some(value) = part.strip_prefix("Signature=") {
            signature = Some(value);
        }
    }
    let require = |value: Option<&'a str>, name: &str| -> Result<&'a str, ApiError> {
        value.filter(|value| !value.is_empty()).ok_or_else(|| {
            incomplete(
                &format!("Authorization header requires '{name}' parameter."),
                text,
            )
        })
    };
    let credential = require(credential, "Credential")?;
    let signed_headers = require(signed_headers, "SignedHeaders")?;
    let signature = require(signature, "Signature")?;

    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete(
            &format!(
                "Credential '{credential}' is malformed: expected <access key ID>/<YYYYMMDD>/<region>/{SERVICE}/{TERMINATOR}."
            ),
            text,
        ));
    };
    if access_key_id.is_empty() || region.is_empty() {
        return Err(incomplete(
            "The access key ID and the region in Credential must not be empty.",
            text,
        ));
    }
    if !is_region_name(region) {
        return Err(incomplete(
            &format!(
                "The region '{region}' in Credential is not an AWS Region name such as us-east-1: set AWS_REGION or --region to one."
            ),
            text,
        ));
    }
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        terminator,
        signed_headers: signed_headers.split(';').collect(),
        signature,
    })
}

/// Whether `region` has the shape of an AWS Region name: two letters, one or more words and a
/// number, joined by hyphens (`us-east-1`, `us-gov-west-1`, `ap-southeast-5`). The mock keeps
/// a registry per region name, so a name no SDK can sign for never becomes one.
fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let [area, words @ .., number] = parts.as_slice() else {
        return false;
    };
    area.len() == 2
        && area.bytes().all(|byte| byte.is_ascii_lowercase())
        && !words.is_empty()
        && words
            .iter()
            .all(|word| !word.is_empty() && word.bytes().all(|byte| byte.is_ascii_lowercase()))
        && !number.is_empty()
        && number.bytes().all(|byte| byte.is_ascii_digit())
}

/// Checks the service and terminator of the credential scope.
fn check_scope(authorization: &Authorization<'_>) -> Result<(), ApiError> {
    if authorization.service != SERVICE {
        return Err(invalid_signature(format!(
            "Credential should be scoped to correct service: '{SERVICE}', not '{}'.",
            authorization.service
        )));
    }
    if authorization.terminator != TERMINATOR {
        return Err(invalid_signature(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'.",
            authorization.terminator
        )));
    }
    Ok(())
}

/// Reads the signing time from `x-amz-date`, which must be signed and must fall on the date of
/// the credential scope.
fn signing_time<'h>(
    headers: &'h HeaderMap,
    authorization: &Authorization<'_>,
    header_text: &str,
) -> Result<(&'h str, OffsetDateTime), ApiError> {
    // NOTE: AWS also accepts a signed `Date` header in place of `x-amz-date`. The AWS CLI and
    // SDKs send `x-amz-date`, so the mock requires it.
    let Some(x_amz_date) = headers
        .get("x-amz-date")
        .and_then(|value| value.to_str().ok())
    else {
        return Err(incomplete(
            "Authorization header requires existence of an 'X-Amz-Date' header.",
            header_text,
        ));
    };
    for required in ["host", "x-amz-date"] {
        if !authorization.signed_headers.contains(&required) {
            return Err(incomplete(
                &format!("SignedHeaders must include '{required}'."),
                header_text,
            ));
        }
    }
    let malformed = || {
        incomplete(
            &format!(
                "X-Amz-Date '{x_amz_date}' is not an ISO 8601 basic time such as 20261204T120000Z."
            ),
            header_text,
        )
    };
    // The time crate also accepts a sign or more digits before the year, which would let the
    // first eight characters differ from the date that the signing key is derived from.
    if !is_basic_date_time(x_amz_date) {
        return Err(malformed());
    }
    let signed_at = PrimitiveDateTime::parse(x_amz_date, X_AMZ_DATE_FORMAT)
        .map_err(|_| malformed())?
        .assume_utc();
    let header_date = &x_amz_date[..8];
    if authorization.date != header_date {
        return Err(invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{header_date}', from '{x_amz_date}'.",
            authorization.date
        )));
    }
    Ok((x_amz_date, signed_at))
}

/// Returns whether `text` has the shape `YYYYMMDDTHHMMSSZ`: digits, with `T` and `Z` in place.
fn is_basic_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 16
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 => *byte == b'T',
            15 => *byte == b'Z',
            _ => byte.is_ascii_digit(),
        })
}

/// Rejects a signing time more than [`MAX_CLOCK_SKEW`] before or after `now`, with AWS's
/// messages.
fn check_clock_skew(signed_at: OffsetDateTime, now: OffsetDateTime) -> Result<(), ApiError> {
    let format = |at: OffsetDateTime| at.format(X_AMZ_DATE_FORMAT).unwrap_or_default();
    let signed = format(signed_at);
    if signed_at < now - MAX_CLOCK_SKEW {
        return Err(invalid_signature(format!(
            "Signature expired: {signed} is now earlier than {} ({} - 15 min.)",
            format(now - MAX_CLOCK_SKEW),
            format(now)
        )));
    }
    if signed_at > now + MAX_CLOCK_SKEW {
        return Err(invalid_signature(format!(
            "Signature not yet current: {signed} is still later than {} ({} + 15 min.)",
            format(now + MAX_CLOCK_SKEW),
            format(now)
        )));
    }
    Ok(())
}

/// Collects the values of the headers the client signed, in its order, with a header given
/// several times once per value.
fn signed_header_values<'a>(
    request: &SignedRequest<'a>,
    authorization: &Authorization<'a>,
) -> Result<Vec<(&'a str, &'a str)>, ApiError> {
    let mut signed_headers = Vec::with_capacity(authorization.signed_headers.len());
    for name in &authorization.signed_headers {
        let values = request
            .headers
            .get_all(*name)
            .iter()
            .filter_map(|value| value.to_str().ok());
        let before = signed_headers.len();
        signed_headers.extend(values.map(|value| (*name, value)));
        if signed_headers.len() == before {
            return Err(incomplete(
                &format!("SignedHeaders names '{name}', but the request has no such header."),
                "",
            ));
        }
    }
    Ok(signed_headers)
}

/// Writes the canonical request of a request in the shape the AWS CLI and SDKs send, or
/// returns `None` for any other request. Other requests have a path other than `/`, a query,
/// header names that are not lowercase and strictly sorted, or a value with spaces that the
/// canonical form trims or merges.
fn canonical_request(request: &SignedRequest<'_>, headers: &[(&str, &str)]) -> Option<String> {
    if request.uri.path() != "/" || request.uri.query().is_some() {
        return None;
    }
    let names_sorted = headers.windows(2).all(|pair| pair[0].0 < pair[1].0);
    let simple = |(name, value): &(&str, &str)| {
        name.bytes().all(|byte| !byte.is_ascii_uppercase())
            && !value.starts_with(' ')
            && !value.ends_with(' ')
            && !value.contains("  ")
    };
    if !names_sorted || !headers.iter().all(simple) {
        return None;
    }

    let method = request.method.as_str();
    let mut canonical = String::with_capacity(512);
    canonical.push_str(method);
    canonical.push_str("\n/\n\n");
    for (name, value) in headers {
        canonical.push_str(name);
        canonical.push(':');
        canonical.push_str(value);
        canonical.push('\n');
    }
    canonical.push('\n');
    for (index, (name, _)) in headers.iter().enumerate() {
        if index > 0 {
            canonical.push(';');
        }
        canonical.push_str(name);
    }
    canonical.push('\n');
    canonical.push_str(&hex::encode(Sha256::digest(request.body)));
    Some(canonical)
}

/// Signs a canonical request: the string to sign of the Signature Version 4 guide, HMAC-SHA256
/// with the signing key of the credential scope.
fn signature_of_canonical(
    canonical: &str,
    authorization: &Authorization<'_>,
    x_amz_date: &str,
    key: &crate::credentials::AccessKey,
    signed_at: OffsetDateTime,
) -> String {
    let mut string_to_sign = [
        ALGORITHM,
        "\n",
        x_amz_date,
        "\n",
        authorization.date,
        "/",
        authorization.region,
        "/",
        SERVICE,
        "/",
        TERMINATOR,
        "\n",
    ]
    .concat();
    string_to_sign.push_str(&hex::encode(Sha256::digest(canonical.as_bytes())));
    SIGNING_KEY.with_borrow_mut(|cached| {
        let signing_key = match cached {
            Some(cached)
                if cached.secret == key.secret_access_key
                    && cached.date == authorization.date
                    && cached.region == authorization.region =>
            {
                cached
            }
            _ => cached.insert(SigningKey {
                secret: key.secret_access_key.clone(),
                date: authorization.date.to_owned(),
                region: authorization.region.to_owned(),
                key: v4::generate_signing_key(
                    &key.secret_access_key,
                    SystemTime::from(signed_at),
                    authorization.region,
                    SERVICE,
                )
                .as_ref()
                .to_vec(),
            }),
        };
        v4::calculate_signature(&signing_key.key, string_to_sign.as_bytes())
    })
}

/// A signing key with the secret and credential scope it was derived from.
struct SigningKey {
    secret: String,
    date: String,
    region: String,
    key: Vec<u8>,
}

thread_local! {
    /// The last signing key each thread derived. Deriving one takes four HMAC-SHA256 rounds,
    /// and a client's requests share one key from midnight to midnight UTC.
    static SIGNING_KEY: RefCell<Option<SigningKey>> = const { RefCell::new(None) };
}

/// Computes the signature with aws-sigv4's whole-request signing, which normalizes the path,
/// the query and header values.
fn sign_with_aws_sigv4(
    request: &SignedRequest<'_>,
    authorization: &Authorization<'_>,
    signed_headers: Vec<(&str, &str)>,
    key: &crate::credentials::AccessKey,
    signed_at: OffsetDateTime,
) -> Result<String, ApiError> {
    let identity: Identity = Credentials::new(
        &key.access_key_id,
        &key.secret_access_key,
        None,
        None,
        "mock-ecr access key",
    )
    .into();
    // Every header the client listed is signed, so none of aws-sigv4's default exclusions
    // (such as user-agent) apply.
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(Vec::new());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(authorization.region)
        .name(SERVICE)
        .time(SystemTime::from(signed_at))
        .settings(settings)
        .build()
        .map_err(|error| internal(&error))?
        .into();
    let uri = request
        .uri
        .path_and_query()
        .map_or("/", |path_and_query| path_and_query.as_str());
    let signable = SignableRequest::new(
        request.method.as_str(),
        uri,
        signed_headers.into_iter(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|error| incomplete(&format!("The request cannot be signed: {error}."), ""))?;
    let output = sign(signable, &params)
        .map_err(|error| incomplete(&format!("The request cannot be signed: {error}."), ""))?;
    Ok(output.signature().to_owned())
}

fn internal(error: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(%error, "Signature V4 verification failed to build its parameters");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ServerException",
        format!("Signature verification failed: {error}"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn region_names_have_aws_shape() {
        for region in [
            "us-east-1",
            "us-gov-west-1",
            "cn-north-1",
            "ap-southeast-5",
            "il-central-1",
        ] {
            assert!(is_region_name(region), "{region}");
        }
        for region in [
            "us east 1",
            "US-EAST-1",
            "useast1",
            "us-east",
            "east-1",
            "us--1",
            "u-east-1",
        ] {
            assert!(!is_region_name(region), "{region}");
        }
    }

    use super::*;
    use time::macros::datetime;

    #[test]
    fn parse_authorization_reads_all_fields() {
        let text = "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY000001/20261204/eu-west-1/ecr/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=abcd";
        let authorization = parse_authorization(text).unwrap();
        assert_eq!(authorization.access_key_id, "AKIAEXAMPLEKEY000001");
        assert_eq!(authorization.date, "20261204");
        assert_eq!(authorization.region, "eu-west-1");
        assert_eq!(authorization.service, "ecr");
        assert_eq!(authorization.terminator, "aws4_request");
        assert_eq!(
            authorization.signed_headers,
            ["host", "x-amz-date", "x-amz-target"]
        );
        assert_eq!(authorization.signature, "abcd");
    }

    #[test]
    fn parse_authorization_rejects_incomplete_headers() {
        let cases = [
            ("AWS AKIA:signature", "Unsupported signing algorithm 'AWS'"),
            (
                "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
                "'Credential'",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/20261204/us-east-1/ecr/aws4_request, Signature=00",
                "'SignedHeaders'",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/20261204/us-east-1/ecr/aws4_request, SignedHeaders=host",
                "'Signature'",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=K/us-east-1/ecr, SignedHeaders=host, Signature=00",
                "is malformed",
            ),
        ];
        for (text, expected) in cases {
            let error = parse_authorization(text).unwrap_err();
            assert_eq!(error.kind, "IncompleteSignatureException", "{text}");
            assert!(
                error.message.contains(expected),
                "{text}: {}",
                error.message
            );
        }
    }

    #[test]
    fn date_time_has_basic_shape() {
        assert!(is_basic_date_time("20261204T120000Z"));
        for text in [
            "+20261204T120000Z",
            "020261204T120000Z",
            "2026-12-04T12:00:00Z",
            "20261204T120000",
            "20261204 120000Z",
            "2026120aT120000Z",
        ] {
            assert!(!is_basic_date_time(text), "{text}");
        }
    }

    #[test]
    fn clock_skew_allows_fifteen_minutes_each_way() {
        let now = datetime!(2026-12-04 12:00:00 UTC);
        assert!(check_clock_skew(now - MAX_CLOCK_SKEW, now).is_ok());
        assert!(check_clock_skew(now + MAX_CLOCK_SKEW, now).is_ok());

        let expired = check_clock_skew(now - Duration::minutes(16), now).unwrap_err();
        assert_eq!(
            expired.message,
            "Signature expired: 20261204T114400Z is now earlier than 20261204T114500Z (20261204T120000Z - 15 min.)"
        );
        let early = check_clock_skew(now + Duration::minutes(16), now).unwrap_err();
        assert_eq!(
            early.message,
            "Signature not yet current: 20261204T121600Z is still later than 20261204T121500Z (20261204T120000Z + 15 min.)"
        );
    }
}

#[cfg(test)]
mod canonical_tests {
    use axum::http::{HeaderName, HeaderValue};

    use super::*;
    use crate::credentials::AccessKey;

    const X_AMZ_DATE: &str = "20261204T101500Z";

    /// A request as the ECR API receives it, with the names the client lists in SignedHeaders.
    struct Case {
        path_and_query: &'static str,
        headers: Vec<(&'static str, &'static str)>,
        signed: String,
        region: &'static str,
        body: &'static [u8],
    }

    impl Case {
        /// Builds a `POST /` request that signs each of `headers` in the given order.
        fn sdk(headers: Vec<(&'static str, &'static str)>, body: &'static [u8]) -> Self {
            let signed = headers
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(";");
            Self {
                path_and_query: "/",
                headers,
                signed,
                region: "eu-west-1",
                body,
            }
        }

        /// Returns the canonical request written here, if the request has the shape for it,
        /// the signature of that canonical request, and aws-sigv4's signature.
        fn signatures(&self) -> (Option<String>, Option<String>, String) {
            let mut headers = HeaderMap::new();
            for (name, value) in &self.headers {
                headers.append(
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
            let uri: Uri = self.path_and_query.parse().unwrap();
            let request = SignedRequest {
                method: &Method::POST,
                uri: &uri,
                headers: &headers,
                body: self.body,
            };
            let authorization = Authorization {
                access_key_id: "AKIAEXAMPLEKEY000001",
                date: &X_AMZ_DATE[..8],
                region: self.region,
                service: SERVICE,
                terminator: TERMINATOR,
                signed_headers: self.signed.split(';').collect(),
                signature: "",
            };
            let key = AccessKey::new(
                "AKIAEXAMPLEKEY000001",
                "example-secret-not-for-aws",
                "111122223333",
            );
            let signed_at = PrimitiveDateTime::parse(X_AMZ_DATE, X_AMZ_DATE_FORMAT)
                .unwrap()
                .assume_utc();

            let values = signed_header_values(&request, &authorization).unwrap();
            let canonical = canonical_request(&request, &values);
            let written = canonical.as_deref().map(|canonical| {
                signature_of_canonical(canonical, &authorization, X_AMZ_DATE, &key, signed_at)
            });
            let aws =
                sign_with_aws_sigv4(&request, &authorization, values, &key, signed_at).unwrap();
            (canonical, written, aws)
        }
    }

    #[test]
    fn canonical_request_signs_as_aws_sigv4() {
        let cases = [
            // botocore (AWS CLI, boto3) does not sign user-agent.
            Case::sdk(
                vec![
                    ("content-type", "application/x-amz-json-1.1"),
                    ("host", "127.0.0.1:5000"),
                    ("x-amz-date", X_AMZ_DATE),
                    (
                        "x-amz-target",
                        "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
                    ),
                ],
                b"{}",
            ),
            // aws-sdk-ecr, with a session token and an empty body.
            Case::sdk(
                vec![
                    ("content-length", "0"),
                    ("content-type", "application/x-amz-json-1.1"),
                    ("host", "localhost:5000"),
                    ("x-amz-date", X_AMZ_DATE),
                    ("x-amz-security-token", "IQoJb3JpZ2luX2VjEXAMPLE+/=="),
                    (
                        "x-amz-target",
                        "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
                    ),
                    (
                        "x-amz-user-agent",
                        "aws-sdk-rust/1.3.9 api/ecr/1.138.0 os/linux lang/rust#1.95.0",
                    ),
                ],
                b"",
            ),
            // A body with non-ASCII text, and single spaces inside a signed value.
            Case::sdk(
                vec![
                    ("host", "127.0.0.1:40123"),
                    ("x-amz-date", X_AMZ_DATE),
                    ("x-note", "a b c"),
                ],
                "{\"repositoryName\":\"caf\u{e9}\"}".as_bytes(),
            ),
        ];
        for case in cases {
            let (canonical, written, aws) = case.signatures();
            assert!(
                canonical.is_some(),
                "{:?} has the common shape",
                case.headers
            );
            assert_eq!(written.as_deref(), Some(aws.as_str()), "{:?}", case.headers);
        }
    }

    #[test]
    fn signing_key_follows_region() {
        let headers = || vec![("host", "h"), ("x-amz-date", X_AMZ_DATE)];
        let europe = Case::sdk(headers(), b"{}");
        let oregon = Case {
            region: "us-west-2",
            ..Case::sdk(headers(), b"{}")
        };

        // The second signature follows the first on this thread, whose cached key is then
        // eu-west-1's.
        let (_, europe_written, europe_aws) = europe.signatures();
        let (_, oregon_written, oregon_aws) = oregon.signatures();
        assert_eq!(europe_written.as_deref(), Some(europe_aws.as_str()));
        assert_eq!(oregon_written.as_deref(), Some(oregon_aws.as_str()));
        assert_ne!(
            europe_aws, oregon_aws,
            "the region is part of the signature"
        );
    }

    #[test]
    fn unusual_requests_use_aws_sigv4() {
        let host_and_date = || vec![("host", "127.0.0.1:5000"), ("x-amz-date", X_AMZ_DATE)];
        let with_note = |values: &[&'static str]| {
            let mut headers = host_and_date();
            headers.extend(values.iter().map(|value| ("x-note", *value)));
            Case {
                signed: "host;x-amz-date;x-note".to_owned(),
                ..Case::sdk(headers, b"{}")
            }
        };
        let cases = [
            Case {
                path_and_query: "/other",
                ..Case::sdk(host_and_date(), b"{}")
            },
            Case {
                path_and_query: "/?b=2&a=1",
                ..Case::sdk(host_and_date(), b"{}")
            },
            Case {
                signed: "x-amz-date;host".to_owned(),
                ..Case::sdk(host_and_date(), b"{}")
            },
            with_note(&["two  spaces"]),
            with_note(&["trailing "]),
            with_note(&["first", "second"]),
        ];
        for case in cases {
            let (canonical, written, aws) = case.signatures();
            assert!(
                canonical.is_none(),
                "{} {:?} must be signed by aws-sigv4, got {canonical:?}",
                case.path_and_query,
                case.headers
            );
            assert!(written.is_none());
            assert_eq!(aws.len(), 64, "aws-sigv4 signs it");
        }
    }
}
