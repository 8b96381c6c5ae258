//! Signature Version 4 verification of the ECR API: each authentication error, clock skew,
//! accounts isolated by access key, and the accept-any setting, in process and through
//! aws-sdk-ecr over a socket.

mod common;

use aws_sdk_ecr::error::ProvideErrorMetadata;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Signer, TestMock};
use mock_ecr::{AccessKey, AccessPolicy, Clock, Config, MockEcr};
use serde_json::{Value, json};
use time::Duration;
use tower::ServiceExt;

const STUDENT_KEY: &str = "AKIAECRLABSTUDENT001";
const STUDENT_SECRET: &str = "ecrlab-local-secret-not-for-aws";
const OTHER_KEY: &str = "AKIAECRLABOTHERKEY02";
const OTHER_SECRET: &str = "another-local-secret";
const OTHER_ACCOUNT: &str = "111122223333";

fn signer(mock: &TestMock) -> Signer<'static> {
    Signer {
        access_key_id: STUDENT_KEY,
        secret_access_key: STUDENT_SECRET,
        region: "us-east-1",
        at: mock.clock.unshifted_now(),
    }
}

fn two_accounts(accept_any_signature: bool) -> AccessPolicy {
    let keys = vec![
        AccessKey::default_student(),
        AccessKey::new(OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT),
    ];
    AccessPolicy::new(keys, accept_any_signature).expect("valid keys")
}

/// Sends a request through a router whose ECR API checks signatures against `policy`.
async fn send(
    mock: &TestMock,
    policy: AccessPolicy,
    request: Request<Body>,
) -> (StatusCode, Value) {
    let router =
        mock_ecr::router_with_access(mock.registry.clone(), "http://127.0.0.1:5000", policy);
    let response = router.oneshot(request).await.expect("router never fails");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", String::from_utf8_lossy(&body)));
    (status, json)
}

fn describe(signer: &Signer<'_>) -> Request<Body> {
    signer.request("DescribeRepositories", b"{}")
}

/// Replaces `from` with `to` in the request's `Authorization` header.
fn edit_authorization(mut request: Request<Body>, from: &str, to: &str) -> Request<Body> {
    let value = request.headers()["authorization"]
        .to_str()
        .unwrap()
        .replace(from, to);
    request
        .headers_mut()
        .insert("authorization", value.parse().unwrap());
    request
}

#[tokio::test]
async fn signed_request_succeeds() {
    let mock = TestMock::new();
    let (status, body) = send(&mock, AccessPolicy::default(), describe(&signer(&mock))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["repositories"], json!([]));
}

#[tokio::test]
async fn missing_authorization_is_rejected() {
    let mock = TestMock::new();
    let mut request = describe(&signer(&mock));
    request.headers_mut().remove("authorization");
    let (status, body) = send(&mock, AccessPolicy::default(), request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
}

#[tokio::test]
async fn malformed_authorization_is_incomplete() {
    let mock = TestMock::new();
    let cases = [
        ("Signature=", "Sig="),
        ("SignedHeaders=", "Headers="),
        ("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA1 "),
        ("/us-east-1/ecr/", "/us-east-1/"),
    ];
    for (from, to) in cases {
        let request = edit_authorization(describe(&signer(&mock)), from, to);
        let (status, body) = send(&mock, AccessPolicy::default(), request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{to}");
        assert_eq!(
            body["__type"], "IncompleteSignatureException",
            "{to}: {body}"
        );
    }
}

/// An `X-Amz-Date` with a sign before the year, and a credential scope date cut from it, is
/// rejected as malformed: the scope date and the date of the signing key would differ.
#[tokio::test]
async fn signed_year_in_date_is_incomplete() {
    let mock = TestMock::new();
    let mut request = describe(&signer(&mock));
    let date = request.headers()["x-amz-date"].to_str().unwrap().to_owned();
    let signed_date = format!("+{date}");
    request
        .headers_mut()
        .insert("x-amz-date", signed_date.parse().unwrap());
    let request = edit_authorization(
        request,
        &format!("/{}/", &date[..8]),
        &format!("/{}/", &signed_date[..8]),
    );

    let (status, body) = send(&mock, AccessPolicy::default(), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "IncompleteSignatureException", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("is not an ISO 8601 basic time"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_access_key_is_unrecognized() {
    let mock = TestMock::new();
    let unknown = Signer {
        access_key_id: "AKIAUNKNOWNKEY000001",
        ..signer(&mock)
    };
    let (status, body) = send(&mock, AccessPolicy::default(), describe(&unknown)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "UnrecognizedClientException");
    assert_eq!(
        body["message"],
        "The security token included in the request is invalid."
    );
}

#[tokio::test]
async fn wrong_secret_is_invalid_signature() {
    let mock = TestMock::new();
    let wrong = Signer {
        secret_access_key: "not-the-secret",
        ..signer(&mock)
    };
    let (status, body) = send(&mock, AccessPolicy::default(), describe(&wrong)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "InvalidSignatureException");
    assert_eq!(
        body["message"],
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
}

#[tokio::test]
async fn changed_body_or_signed_header_is_invalid_signature() {
    let mock = TestMock::new();
    let signed = describe(&signer(&mock));
    let (parts, _) = signed.into_parts();
    let tampered = Request::from_parts(parts, Body::from(r#"{"maxResults":1}"#));
    let (_, body) = send(&mock, AccessPolicy::default(), tampered).await;
    assert_eq!(body["__type"], "InvalidSignatureException", "{body}");

    let mut retargeted = describe(&signer(&mock));
    retargeted.headers_mut().insert(
        "x-amz-target",
        "AmazonEC2ContainerRegistry_V20150921.DeleteRepository"
            .parse()
            .unwrap(),
    );
    let (_, body) = send(&mock, AccessPolicy::default(), retargeted).await;
    assert_eq!(body["__type"], "InvalidSignatureException", "{body}");
}

#[tokio::test]
async fn unsigned_user_agent_may_change() {
    let mock = TestMock::new();
    let mut request = describe(&signer(&mock));
    request
        .headers_mut()
        .insert("user-agent", "a-proxy/2.0".parse().unwrap());
    let (status, body) = send(&mock, AccessPolicy::default(), request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn wrong_service_or_scope_date_is_invalid_signature() {
    let mock = TestMock::new();
    let cases = [
        (
            "/ecr/aws4_request",
            "/s3/aws4_request",
            "correct service: 'ecr'",
        ),
        (
            "/20261204/",
            "/20261203/",
            "Date in Credential scope does not match",
        ),
    ];
    for (from, to, expected) in cases {
        let request = edit_authorization(describe(&signer(&mock)), from, to);
        let (status, body) = send(&mock, AccessPolicy::default(), request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{to}");
        assert_eq!(body["__type"], "InvalidSignatureException", "{to}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{to}: {message}");
    }
}

#[tokio::test]
async fn clock_skew_over_fifteen_minutes_is_rejected() {
    let mock = TestMock::new();
    let now = mock.clock.now();

    let late = Signer {
        at: now - Duration::minutes(16),
        ..signer(&mock)
    };
    let (status, body) = send(&mock, AccessPolicy::default(), describe(&late)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "InvalidSignatureException");
    assert_eq!(
        body["message"],
        "Signature expired: 20261204T114400Z is now earlier than 20261204T114500Z (20261204T120000Z - 15 min.)"
    );

    let early = Signer {
        at: now + Duration::minutes(16),
        ..signer(&mock)
    };
    let (_, body) = send(&mock, AccessPolicy::default(), describe(&early)).await;
    assert_eq!(body["__type"], "InvalidSignatureException");
    assert_eq!(
        body["message"],
        "Signature not yet current: 20261204T121600Z is still later than 20261204T121500Z (20261204T120000Z + 15 min.)"
    );

    let slightly_late = Signer {
        at: now - Duration::minutes(14),
        ..signer(&mock)
    };
    let (status, body) = send(&mock, AccessPolicy::default(), describe(&slightly_late)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn moved_clock_keeps_signatures_valid() {
    // A token-expiry drill moves the mock's clock by hours; the client's clock stays where it
    // is, and its signed requests must keep working so that it can log in again.
    let mock = TestMock::new();
    mock.clock.advance(Duration::hours(13));
    let (status, body) = send(&mock, AccessPolicy::default(), describe(&signer(&mock))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn failed_authentication_is_journaled() {
    let mock = TestMock::new();
    let wrong = Signer {
        secret_access_key: "not-the-secret",
        ..signer(&mock)
    };
    send(&mock, AccessPolicy::default(), describe(&wrong)).await;
    let journal = mock.journal().await;
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert_eq!(journal[0]["action"], "DescribeRepositories");
    assert_eq!(journal[0]["outcome"], "error");
    assert_eq!(journal[0]["errorCode"], "InvalidSignatureException");
}

#[tokio::test]
async fn accounts_of_two_keys_are_isolated() {
    let mock = TestMock::new();
    let student = signer(&mock);
    let other = Signer {
        access_key_id: OTHER_KEY,
        secret_access_key: OTHER_SECRET,
        ..student
    };
    let create =
        |signer: &Signer<'_>| signer.request("CreateRepository", br#"{"repositoryName":"my-app"}"#);

    let (status, body) = send(&mock, two_accounts(false), create(&student)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["repository"]["registryId"], "123456789012");

    let (_, body) = send(&mock, two_accounts(false), describe(&other)).await;
    assert_eq!(body["repositories"], json!([]), "{body}");

    let (status, body) = send(&mock, two_accounts(false), create(&other)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["repository"]["registryId"], OTHER_ACCOUNT);
    assert_eq!(
        body["repository"]["repositoryArn"],
        format!("arn:aws:ecr:us-east-1:{OTHER_ACCOUNT}:repository/my-app")
    );

    let (_, body) = send(&mock, two_accounts(false), describe(&student)).await;
    let repositories = body["repositories"].as_array().expect("repositories");
    assert_eq!(repositories.len(), 1, "{body}");
    assert_eq!(repositories[0]["registryId"], "123456789012");
}

#[tokio::test]
async fn region_comes_from_credential_scope() {
    let mock = TestMock::new();
    let east = signer(&mock);
    let west = Signer {
        region: "eu-west-1",
        ..east
    };
    let request = east.request("CreateRepository", br#"{"repositoryName":"my-app"}"#);
    let (status, _) = send(&mock, AccessPolicy::default(), request).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = send(&mock, AccessPolicy::default(), describe(&west)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["repositories"], json!([]));
}

#[tokio::test]
async fn accept_any_maps_unknown_keys() {
    let mock = TestMock::new();
    let unknown = Signer {
        access_key_id: "AKIAUNKNOWNKEY000001",
        secret_access_key: "anything",
        ..signer(&mock)
    };
    let request = unknown.request("CreateRepository", br#"{"repositoryName":"any"}"#);
    let (status, body) = send(&mock, two_accounts(true), request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["repository"]["registryId"], "123456789012");

    let wrong_secret_of_known_key = Signer {
        access_key_id: OTHER_KEY,
        secret_access_key: "wrong",
        ..signer(&mock)
    };
    let request =
        wrong_secret_of_known_key.request("CreateRepository", br#"{"repositoryName":"any"}"#);
    let (status, body) = send(&mock, two_accounts(true), request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["repository"]["registryId"], OTHER_ACCOUNT);

    let mut unsigned = describe(&unknown);
    unsigned.headers_mut().remove("authorization");
    let (_, body) = send(&mock, two_accounts(true), unsigned).await;
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
}

/// Starts a mock on a socket with `config` applied to its default configuration.
async fn start_mock(config: impl FnOnce(&mut Config)) -> (tempfile::TempDir, MockEcr) {
    let data = tempfile::tempdir().expect("temporary folder");
    let mut settings = Config::new(data.path());
    config(&mut settings);
    let mock = MockEcr::start(settings).await.expect("mock starts");
    (data, mock)
}

fn sdk_client(mock: &MockEcr, access_key_id: &str, secret_access_key: &str) -> aws_sdk_ecr::Client {
    let credentials =
        aws_sdk_ecr::config::Credentials::new(access_key_id, secret_access_key, None, None, "test");
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new("us-east-1"))
        .endpoint_url(mock.endpoint())
        .credentials_provider(credentials)
        .build();
    aws_sdk_ecr::Client::from_conf(config)
}

async fn sdk_error_code(client: &aws_sdk_ecr::Client) -> Option<String> {
    let error = client
        .describe_repositories()
        .send()
        .await
        .expect_err("request is rejected")
        .into_service_error();
    error.code().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_sees_authentication_errors() {
    let (_data, mock) = start_mock(|_| {}).await;

    let valid = sdk_client(&mock, STUDENT_KEY, STUDENT_SECRET);
    valid
        .describe_repositories()
        .send()
        .await
        .expect("the default key pair is accepted");

    let wrong_secret = sdk_client(&mock, STUDENT_KEY, "not-the-secret");
    assert_eq!(
        sdk_error_code(&wrong_secret).await.as_deref(),
        Some("InvalidSignatureException")
    );

    let unknown = sdk_client(&mock, "AKIAUNKNOWNKEY000001", STUDENT_SECRET);
    assert_eq!(
        sdk_error_code(&unknown).await.as_deref(),
        Some("UnrecognizedClientException")
    );
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_accounts_are_isolated() {
    let (_data, mock) = start_mock(|config| {
        config
            .access_keys
            .push(AccessKey::new(OTHER_KEY, OTHER_SECRET, OTHER_ACCOUNT));
    })
    .await;
    let student = sdk_client(&mock, STUDENT_KEY, STUDENT_SECRET);
    let other = sdk_client(&mock, OTHER_KEY, OTHER_SECRET);

    student
        .create_repository()
        .repository_name("my-app")
        .send()
        .await
        .expect("created");
    let missing = other
        .describe_repositories()
        .repository_names("my-app")
        .send()
        .await
        .expect_err("invisible to the other account")
        .into_service_error();
    assert!(missing.is_repository_not_found_exception(), "{missing:?}");
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_signature_outside_fixed_clock_window_fails() {
    let an_hour_ago = time::OffsetDateTime::now_utc() - Duration::hours(1);
    let (_data, mock) = start_mock(|config| config.clock = Clock::fixed(an_hour_ago)).await;
    let client = sdk_client(&mock, STUDENT_KEY, STUDENT_SECRET);
    let error = client
        .describe_repositories()
        .send()
        .await
        .expect_err("signature is an hour ahead of the mock")
        .into_service_error();
    assert_eq!(error.code(), Some("InvalidSignatureException"));
    let message = error.message().unwrap_or_default();
    assert!(
        message.starts_with("Signature not yet current: "),
        "{message}"
    );
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_any_key_with_accept_any() {
    let (_data, mock) = start_mock(|config| config.accept_any_signature = true).await;
    let client = sdk_client(&mock, "AKIAUNKNOWNKEY000001", "anything");
    let output = client
        .create_repository()
        .repository_name("my-app")
        .send()
        .await
        .expect("accepted");
    let repository = output.repository().expect("repository");
    assert_eq!(repository.registry_id(), Some("123456789012"));
    mock.shutdown().await;
}

#[tokio::test]
async fn duplicate_access_key_stops_start() {
    let data = tempfile::tempdir().expect("temporary folder");
    let mut config = Config::new(data.path());
    config
        .access_keys
        .push(AccessKey::new(STUDENT_KEY, "other", OTHER_ACCOUNT));
    let error = MockEcr::start(config).await.err().expect("start fails");
    let message = error.to_string();
    assert!(message.contains(STUDENT_KEY), "{message}");
    assert!(message.contains("twice"), "{message}");
}
