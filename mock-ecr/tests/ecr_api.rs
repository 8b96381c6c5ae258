//! The ECR JSON API, driven in process: outputs, ECR's exception names and messages.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestMock;
use serde_json::{Value, json};

/// Sorts object keys in snapshots: another crate in the workspace turns on serde_json's
/// `preserve_order`, which would otherwise make key order depend on how the tests are built.
fn sorted_snapshots() -> insta::internals::SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.bind_to_scope()
}

/// Calls an operation that must fail and returns its error body.
async fn api_error(mock: &TestMock, operation: &str, input: Value) -> Value {
    let reply = mock.api(operation, input).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{operation}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    reply.json()
}

#[tokio::test]
async fn create_repository_returns_ecr_shape() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    let reply = mock
        .api(
            "CreateRepository",
            json!({
                "repositoryName": "team/my-app",
                "imageTagMutability": "IMMUTABLE",
                "imageScanningConfiguration": { "scanOnPush": true },
            }),
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_json_snapshot!(reply.json());
}

#[tokio::test]
async fn repository_errors_use_ecr_exceptions() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let duplicate = api_error(
        &mock,
        "CreateRepository",
        json!({ "repositoryName": "my-app" }),
    )
    .await;
    insta::assert_json_snapshot!("duplicate_repository", duplicate);

    let bad_name = api_error(
        &mock,
        "CreateRepository",
        json!({ "repositoryName": "My_App!" }),
    )
    .await;
    insta::assert_json_snapshot!("invalid_repository_name", bad_name);

    let bad_mutability = api_error(
        &mock,
        "CreateRepository",
        json!({ "repositoryName": "other", "imageTagMutability": "SOMETIMES" }),
    )
    .await;
    assert_eq!(bad_mutability["__type"], "InvalidParameterException");

    let missing = api_error(
        &mock,
        "DescribeRepositories",
        json!({ "repositoryNames": ["my-app", "ghost"] }),
    )
    .await;
    insta::assert_json_snapshot!("repository_not_found", missing);
}

#[tokio::test]
async fn delete_repository_needs_force_when_not_empty() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let manifest = mock.push_image_blobs(&auth, "my-app", "one").await;
    mock.put_manifest(&auth, "my-app", "latest", &manifest)
        .await;

    let refused = api_error(
        &mock,
        "DeleteRepository",
        json!({ "repositoryName": "my-app" }),
    )
    .await;
    insta::assert_json_snapshot!("repository_not_empty", refused);

    let forced = mock
        .api(
            "DeleteRepository",
            json!({ "repositoryName": "my-app", "force": true }),
        )
        .await;
    assert_eq!(forced.status, StatusCode::OK);
    assert_eq!(forced.json()["repository"]["repositoryName"], "my-app");
    let gone = api_error(&mock, "ListImages", json!({ "repositoryName": "my-app" })).await;
    assert_eq!(gone["__type"], "RepositoryNotFoundException");
}

#[tokio::test]
async fn authorization_token_is_basic_aws_for_twelve_hours() {
    let mock = TestMock::new();
    let reply = mock.api("GetAuthorizationToken", json!({})).await;
    let data = &reply.json()["authorizationData"][0];

    let token = data["authorizationToken"].as_str().unwrap();
    let decoded =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, token).unwrap();
    let decoded = String::from_utf8(decoded).unwrap();
    assert!(decoded.starts_with("AWS:"), "{decoded}");
    assert!(
        decoded.len() > 40,
        "the password is long and random: {decoded}"
    );
    assert_eq!(data["proxyEndpoint"], "http://localhost:5000");
    // The fixed clock reads 2026-12-04T12:00:00Z (1796385600 s); tokens expire 43200 s later.
    assert_eq!(data["expiresAt"].as_f64(), Some(1_796_385_600.0 + 43_200.0));
}

#[tokio::test]
async fn images_are_listed_and_described() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let first = mock.push_image_blobs(&auth, "my-app", "one").await;
    let second = mock.push_image_blobs(&auth, "my-app", "two").await;
    mock.put_manifest(&auth, "my-app", "v1", &first).await;
    mock.put_manifest(&auth, "my-app", "latest", &first).await;
    mock.put_manifest(&auth, "my-app", "v2", &second).await;
    mock.put_manifest(&auth, "my-app", "v2", &first).await;

    let listed = mock
        .api("ListImages", json!({ "repositoryName": "my-app" }))
        .await;
    insta::assert_json_snapshot!("list_images", listed.json());

    let untagged = mock
        .api(
            "ListImages",
            json!({ "repositoryName": "my-app", "filter": { "tagStatus": "UNTAGGED" } }),
        )
        .await;
    assert_eq!(untagged.json()["imageIds"].as_array().unwrap().len(), 1);

    let described = mock
        .api(
            "DescribeImages",
            json!({ "repositoryName": "my-app", "imageIds": [{ "imageTag": "latest" }] }),
        )
        .await;
    insta::assert_json_snapshot!("describe_images", described.json());

    let missing = api_error(
        &mock,
        "DescribeImages",
        json!({ "repositoryName": "my-app", "imageIds": [{ "imageTag": "nope" }] }),
    )
    .await;
    assert_eq!(missing["__type"], "ImageNotFoundException");
}

#[tokio::test]
async fn batch_get_image_reports_failures_per_id() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let first = mock.push_image_blobs(&auth, "my-app", "one").await;
    let second = mock.push_image_blobs(&auth, "my-app", "two").await;
    mock.put_manifest(&auth, "my-app", "latest", &first).await;
    mock.put_manifest(&auth, "my-app", "other", &second).await;
    let second_digest = common::sha256(&second);

    let reply = mock
        .api(
            "BatchGetImage",
            json!({
                "repositoryName": "my-app",
                "imageIds": [
                    { "imageTag": "latest" },
                    { "imageTag": "missing" },
                    {},
                    { "imageDigest": "sha256:bad" },
                    { "imageTag": "latest", "imageDigest": second_digest },
                ],
            }),
        )
        .await;
    let body = reply.json();
    assert_eq!(
        body["images"][0]["imageManifest"],
        String::from_utf8(first).unwrap()
    );
    let codes: Vec<&str> = body["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|failure| failure["failureCode"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "ImageNotFound",
            "MissingDigestAndTag",
            "InvalidImageDigest",
            "ImageTagDoesNotMatchDigest"
        ]
    );
}

#[tokio::test]
async fn repository_settings_change() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let mutability = mock
        .api(
            "PutImageTagMutability",
            json!({ "repositoryName": "my-app", "imageTagMutability": "IMMUTABLE" }),
        )
        .await;
    assert_eq!(
        mutability.json(),
        json!({ "registryId": "123456789012", "repositoryName": "my-app", "imageTagMutability": "IMMUTABLE" })
    );
    let scanning = mock
        .api(
            "PutImageScanningConfiguration",
            json!({ "repositoryName": "my-app", "imageScanningConfiguration": { "scanOnPush": true } }),
        )
        .await;
    assert_eq!(
        scanning.json()["imageScanningConfiguration"]["scanOnPush"],
        true
    );

    let described = mock.api("DescribeRepositories", json!({})).await.json();
    let repository = &described["repositories"][0];
    assert_eq!(repository["imageTagMutability"], "IMMUTABLE");
    assert_eq!(repository["imageScanningConfiguration"]["scanOnPush"], true);
}

#[tokio::test]
async fn describe_repositories_pages() {
    let mock = TestMock::new();
    for name in ["a1", "b2", "c3"] {
        mock.create_repository(name, "MUTABLE").await;
    }
    let first = mock
        .api("DescribeRepositories", json!({ "maxResults": 2 }))
        .await
        .json();
    assert_eq!(first["repositories"].as_array().unwrap().len(), 2);
    let token = first["nextToken"].as_str().expect("a next page").to_owned();

    let second = mock
        .api(
            "DescribeRepositories",
            json!({ "maxResults": 2, "nextToken": token }),
        )
        .await
        .json();
    assert_eq!(second["repositories"][0]["repositoryName"], "c3");
    assert!(second.get("nextToken").is_none());

    let forged = api_error(&mock, "DescribeRepositories", json!({ "nextToken": "abc" })).await;
    assert_eq!(forged["__type"], "InvalidParameterException");
    let zero = api_error(&mock, "DescribeRepositories", json!({ "maxResults": 0 })).await;
    assert_eq!(zero["__type"], "InvalidParameterException");
}

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let mock = TestMock::new();
    let unknown = api_error(&mock, "LaunchRocket", json!({})).await;
    assert_eq!(unknown["__type"], "UnknownOperationException");

    let wrong_shape = api_error(&mock, "CreateRepository", json!({ "repositoryName": 7 })).await;
    assert_eq!(wrong_shape["__type"], "SerializationException");

    let signer = common::Signer {
        access_key_id: "AKIAECRLABSTUDENT001",
        secret_access_key: "ecrlab-local-secret-not-for-aws",
        region: "us-east-1",
        at: mock.clock.now(),
    };
    let request = signer.request("DescribeRepositories", b"{not json");
    let reply = mock.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["__type"], "SerializationException");

    let unsigned = Request::post("/")
        .header(
            "x-amz-target",
            "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
        )
        .body(Body::from("{}"))
        .unwrap();
    let reply = mock.send(unsigned).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.json()["__type"],
        "MissingAuthenticationTokenException"
    );

    let garbled = Request::post("/")
        .header(
            "x-amz-target",
            "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
        )
        .header("authorization", "AWS4-HMAC-SHA256 Signature=abc")
        .body(Body::from("{}"))
        .unwrap();
    let reply = mock.send(garbled).await;
    assert_eq!(reply.json()["__type"], "IncompleteSignatureException");
}

#[tokio::test]
async fn every_call_is_journaled() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    api_error(
        &mock,
        "CreateRepository",
        json!({ "repositoryName": "my-app" }),
    )
    .await;

    let journal = mock.journal().await;
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[0]["action"], "CreateRepository");
    assert_eq!(journal[0]["outcome"], "ok");
    assert_eq!(journal[0]["source"], "ecr-api");
    assert_eq!(journal[0]["repository"], "my-app");
    assert_eq!(journal[0]["userAgent"], "test-sdk/1.0");
    assert_eq!(journal[1]["outcome"], "error");
    assert_eq!(journal[1]["errorCode"], "RepositoryAlreadyExistsException");
    assert_eq!(journal[1]["time"], "2026-12-04T12:00:00.000Z");
}

#[tokio::test]
async fn batch_delete_image_removes_tags_then_images() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "IMMUTABLE").await;
    let auth = mock.login().await;
    let first = mock.push_image_blobs(&auth, "my-app", "one").await;
    let second = mock.push_image_blobs(&auth, "my-app", "two").await;
    mock.put_manifest(&auth, "my-app", "v1", &first).await;
    mock.put_manifest(&auth, "my-app", "latest", &first).await;
    mock.put_manifest(&auth, "my-app", "v2", &second).await;
    let first_digest = common::sha256(&first);
    let second_digest = common::sha256(&second);

    let reply = mock
        .api(
            "BatchDeleteImage",
            json!({
                "repositoryName": "my-app",
                "imageIds": [
                    { "imageTag": "latest" },
                    { "imageDigest": second_digest },
                    { "imageTag": "ghost" },
                    { "imageTag": "v1", "imageDigest": second_digest },
                    {},
                ],
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    insta::assert_json_snapshot!("batch_delete_image", reply.json());

    let remaining = mock
        .api("ListImages", json!({ "repositoryName": "my-app" }))
        .await
        .json();
    assert_eq!(
        remaining["imageIds"],
        json!([{ "imageDigest": first_digest, "imageTag": "v1" }]),
        "removing one of two tags keeps the image"
    );

    // With its last tag gone the image is deleted, so an immutable tag can be pushed again.
    mock.api(
        "BatchDeleteImage",
        json!({ "repositoryName": "my-app", "imageIds": [{ "imageTag": "v1" }] }),
    )
    .await;
    let empty = mock
        .api("ListImages", json!({ "repositoryName": "my-app" }))
        .await
        .json();
    assert_eq!(empty["imageIds"], json!([]));
    let repush = mock.put_manifest(&auth, "my-app", "v1", &second).await;
    assert_eq!(repush.status, StatusCode::CREATED);
}

#[tokio::test]
async fn list_parameters_respect_model_sizes() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let too_many: Vec<Value> = (0..101)
        .map(|index| json!({ "imageTag": format!("t{index}") }))
        .collect();
    let cases = [
        (
            "DescribeRepositories",
            json!({ "repositoryNames": [] }),
            "repositoryNames",
        ),
        (
            "BatchGetImage",
            json!({ "repositoryName": "my-app", "imageIds": [] }),
            "imageIds",
        ),
        (
            "BatchDeleteImage",
            json!({ "repositoryName": "my-app", "imageIds": too_many }),
            "imageIds",
        ),
        (
            "DescribeImages",
            json!({ "repositoryName": "my-app", "imageIds": [] }),
            "imageIds",
        ),
    ];
    for (operation, input, field) in cases {
        let error = api_error(&mock, operation, input).await;
        assert_eq!(error["__type"], "InvalidParameterException", "{operation}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(field), "{operation}: {message}");
    }
}
