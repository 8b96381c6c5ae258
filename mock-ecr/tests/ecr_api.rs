//! The ECR JSON API, driven in process: outputs, ECR's exception names and messages.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestMock, sha256};
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

/// Names and settings of every repository DescribeRepositories lists in the default account.
async fn listed_repositories(mock: &TestMock) -> Vec<(String, String)> {
    let described = mock.api("DescribeRepositories", json!({})).await.json();
    described["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|repository| {
            (
                repository["repositoryName"].as_str().unwrap().to_owned(),
                repository["imageTagMutability"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

/// Listings see every change at once, although the mock keeps the list it returned in memory
/// while the database is unchanged.
#[tokio::test]
async fn repository_listing_follows_changes() {
    let mock = TestMock::new();
    mock.create_repository("first", "MUTABLE").await;
    for listing in 0..3 {
        assert_eq!(
            listed_repositories(&mock).await,
            [("first".to_owned(), "MUTABLE".to_owned())],
            "listing {listing}"
        );
    }

    mock.create_repository("second", "MUTABLE").await;
    let names: Vec<String> = listed_repositories(&mock)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["first", "second"], "after a create");

    mock.api(
        "PutImageTagMutability",
        json!({ "repositoryName": "first", "imageTagMutability": "IMMUTABLE" }),
    )
    .await;
    assert_eq!(
        listed_repositories(&mock).await[0],
        ("first".to_owned(), "IMMUTABLE".to_owned()),
        "after a setting change"
    );

    mock.api("DeleteRepository", json!({ "repositoryName": "first" }))
        .await;
    assert_eq!(
        listed_repositories(&mock).await,
        [("second".to_owned(), "MUTABLE".to_owned())],
        "after a delete"
    );
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

/// Pushes an OCI 1.1 artifact whose `subject` is `subject` and returns its manifest.
async fn push_referrer(
    mock: &TestMock,
    auth: &str,
    subject: &str,
    artifact_type: &str,
    content: &str,
) -> Vec<u8> {
    let config = mock.push_blob(auth, "my-app", b"{}").await;
    let layer = mock.push_blob(auth, "my-app", content.as_bytes()).await;
    // Fixed text, so the digest does not depend on serde_json's key order in this build.
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"{artifact_type}","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{config}","size":2}},"layers":[{{"mediaType":"application/octet-stream","digest":"{layer}","size":{size}}}],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{subject}","size":10}},"annotations":{{"org.opencontainers.image.created":"2026-12-04T12:00:00Z"}}}}"#,
        size = content.len()
    )
    .into_bytes();
    let digest = common::sha256(&manifest);
    let reply = mock.put_manifest(auth, "my-app", &digest, &manifest).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    manifest
}

#[tokio::test]
async fn list_image_referrers_finds_subject_artifacts() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let image = mock.push_image_blobs(&auth, "my-app", "one").await;
    mock.put_manifest(&auth, "my-app", "latest", &image).await;
    let subject = common::sha256(&image);
    push_referrer(
        &mock,
        &auth,
        &subject,
        "application/vnd.example.sbom",
        "sbom",
    )
    .await;
    push_referrer(
        &mock,
        &auth,
        &subject,
        "application/vnd.example.signature",
        "sig",
    )
    .await;

    let all = mock
        .api(
            "ListImageReferrers",
            json!({ "repositoryName": "my-app", "subjectId": { "imageDigest": subject } }),
        )
        .await;
    assert_eq!(all.status, StatusCode::OK);
    insta::assert_json_snapshot!("list_image_referrers", all.json());

    let filtered = mock
        .api(
            "ListImageReferrers",
            json!({
                "repositoryName": "my-app",
                "subjectId": { "imageDigest": subject },
                "filter": { "artifactTypes": ["application/vnd.example.signature"] },
            }),
        )
        .await
        .json();
    let referrers = filtered["referrers"].as_array().unwrap();
    assert_eq!(referrers.len(), 1);
    assert_eq!(
        referrers[0]["artifactType"],
        "application/vnd.example.signature"
    );

    let archived = mock
        .api(
            "ListImageReferrers",
            json!({
                "repositoryName": "my-app",
                "subjectId": { "imageDigest": subject },
                "filter": { "artifactStatus": "ARCHIVED" },
            }),
        )
        .await
        .json();
    assert_eq!(archived["referrers"], json!([]));

    let first = mock
        .api(
            "ListImageReferrers",
            json!({ "repositoryName": "my-app", "subjectId": { "imageDigest": subject }, "maxResults": 1 }),
        )
        .await
        .json();
    let token = first["nextToken"].as_str().expect("a second page");
    let second = mock
        .api(
            "ListImageReferrers",
            json!({
                "repositoryName": "my-app",
                "subjectId": { "imageDigest": subject },
                "maxResults": 1,
                "nextToken": token,
            }),
        )
        .await
        .json();
    assert_eq!(second["referrers"].as_array().unwrap().len(), 1);
    assert_ne!(second["referrers"][0], first["referrers"][0]);
    assert!(second.get("nextToken").is_none());

    let unrelated = mock
        .api(
            "ListImageReferrers",
            json!({ "repositoryName": "my-app", "subjectId": { "imageDigest": common::sha256(b"none") } }),
        )
        .await
        .json();
    assert_eq!(unrelated["referrers"], json!([]));
}

#[tokio::test]
async fn list_image_referrers_rejects_bad_input() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let subject = common::sha256(b"subject");

    let bad_digest = api_error(
        &mock,
        "ListImageReferrers",
        json!({ "repositoryName": "my-app", "subjectId": { "imageDigest": "sha256:nothex" } }),
    )
    .await;
    insta::assert_json_snapshot!("referrers_invalid_digest", bad_digest);

    let too_many = api_error(
        &mock,
        "ListImageReferrers",
        json!({ "repositoryName": "my-app", "subjectId": { "imageDigest": subject }, "maxResults": 51 }),
    )
    .await;
    assert_eq!(too_many["__type"], "InvalidParameterException");
    assert!(
        too_many["message"]
            .as_str()
            .unwrap()
            .contains("between 1 and 50")
    );

    let six_types = api_error(
        &mock,
        "ListImageReferrers",
        json!({
            "repositoryName": "my-app",
            "subjectId": { "imageDigest": subject },
            "filter": { "artifactTypes": ["a/1", "a/2", "a/3", "a/4", "a/5", "a/6"] },
        }),
    )
    .await;
    assert_eq!(six_types["__type"], "InvalidParameterException");

    let bad_status = api_error(
        &mock,
        "ListImageReferrers",
        json!({
            "repositoryName": "my-app",
            "subjectId": { "imageDigest": subject },
            "filter": { "artifactStatus": "GONE" },
        }),
    )
    .await;
    assert_eq!(bad_status["__type"], "InvalidParameterException");

    let missing = api_error(
        &mock,
        "ListImageReferrers",
        json!({ "repositoryName": "nowhere", "subjectId": { "imageDigest": subject } }),
    )
    .await;
    assert_eq!(missing["__type"], "RepositoryNotFoundException");
}

#[tokio::test]
async fn next_token_is_bound_to_its_listing() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    mock.create_repository("other", "MUTABLE").await;
    let auth = mock.login().await;
    for (repository, seed) in [
        ("my-app", "a"),
        ("my-app", "b"),
        ("other", "c"),
        ("other", "d"),
    ] {
        let image = mock.push_image_blobs(&auth, repository, seed).await;
        mock.put_manifest(&auth, repository, seed, &image).await;
    }
    let first = mock
        .api(
            "ListImages",
            json!({ "repositoryName": "my-app", "maxResults": 1 }),
        )
        .await
        .json();
    let token = first["nextToken"]
        .as_str()
        .expect("a second page")
        .to_owned();

    let resumed = mock
        .api(
            "ListImages",
            json!({ "repositoryName": "my-app", "maxResults": 1, "nextToken": token }),
        )
        .await;
    assert_eq!(resumed.status, StatusCode::OK);
    assert_eq!(resumed.json()["imageIds"][0]["imageTag"], "b");

    let other_repository = api_error(
        &mock,
        "ListImages",
        json!({ "repositoryName": "other", "maxResults": 1, "nextToken": token }),
    )
    .await;
    // The token's HMAC key is random per mock, so the snapshot shows the message without it.
    let message = other_repository["message"].as_str().unwrap();
    assert!(message.contains(&token), "{message}");
    let redacted = json!({
        "__type": other_repository["__type"],
        "message": message.replace(&token, "<nextToken>"),
    });
    insta::assert_json_snapshot!("next_token_of_another_listing", redacted);

    let other_filter = api_error(
        &mock,
        "ListImages",
        json!({ "repositoryName": "my-app", "filter": { "tagStatus": "TAGGED" }, "nextToken": token }),
    )
    .await;
    assert_eq!(other_filter["__type"], "InvalidParameterException");

    let other_operation = api_error(
        &mock,
        "DescribeImages",
        json!({ "repositoryName": "my-app", "nextToken": token }),
    )
    .await;
    assert_eq!(other_operation["__type"], "InvalidParameterException");

    let other_mock = TestMock::new();
    other_mock.create_repository("my-app", "MUTABLE").await;
    let another_mock = api_error(
        &other_mock,
        "ListImages",
        json!({ "repositoryName": "my-app", "nextToken": token }),
    )
    .await;
    assert_eq!(another_mock["__type"], "InvalidParameterException");

    let with_names = api_error(
        &mock,
        "DescribeRepositories",
        json!({ "repositoryNames": ["my-app"], "maxResults": 1 }),
    )
    .await;
    assert_eq!(with_names["__type"], "InvalidParameterException");
}

#[tokio::test]
async fn batch_get_image_honours_accepted_media_types() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let image = mock.push_image_blobs(&auth, "my-app", "one").await;
    mock.put_manifest(&auth, "my-app", "latest", &image).await;

    let accepted = mock
        .api(
            "BatchGetImage",
            json!({
                "repositoryName": "my-app",
                "imageIds": [{ "imageTag": "latest" }],
                "acceptedMediaTypes": ["application/vnd.oci.image.manifest.v1+json"],
            }),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK);
    insta::assert_json_snapshot!("batch_get_image", accepted.json());

    let docker_only = mock
        .api(
            "BatchGetImage",
            json!({
                "repositoryName": "my-app",
                "imageIds": [{ "imageTag": "latest" }],
                "acceptedMediaTypes": ["application/vnd.docker.distribution.manifest.v2+json"],
            }),
        )
        .await;
    assert_eq!(docker_only.status, StatusCode::OK);
    let body = docker_only.json();
    let docker = "application/vnd.docker.distribution.manifest.v2+json";
    assert_eq!(body["images"][0]["imageManifestMediaType"], docker);
    let converted: serde_json::Value =
        serde_json::from_str(body["images"][0]["imageManifest"].as_str().unwrap()).unwrap();
    assert_eq!(converted["mediaType"], docker);
    assert_eq!(
        body["images"][0]["imageId"]["imageDigest"],
        sha256(&image),
        "the image keeps its id"
    );

    // A request by digest is never converted.
    let by_digest = mock
        .api(
            "BatchGetImage",
            json!({
                "repositoryName": "my-app",
                "imageIds": [{ "imageDigest": sha256(&image) }],
                "acceptedMediaTypes": [docker],
            }),
        )
        .await;
    let body = by_digest.json();
    assert_eq!(body["images"], json!([]));
    insta::assert_json_snapshot!("batch_get_image_unaccepted_media_type", body);

    let empty = api_error(
        &mock,
        "BatchGetImage",
        json!({ "repositoryName": "my-app", "imageIds": [{ "imageTag": "latest" }], "acceptedMediaTypes": [] }),
    )
    .await;
    assert_eq!(empty["__type"], "InvalidParameterException");
    let not_a_type = api_error(
        &mock,
        "BatchGetImage",
        json!({ "repositoryName": "my-app", "imageIds": [{ "imageTag": "latest" }], "acceptedMediaTypes": ["json"] }),
    )
    .await;
    assert!(not_a_type["message"].as_str().unwrap().contains("'json'"));
}

#[tokio::test]
async fn journal_names_repository_by_arn_and_digests() {
    let mock = TestMock::new();
    mock.create_repository("team/app", "MUTABLE").await;
    let arn = "arn:aws:ecr:us-east-1:123456789012:repository/team/app";
    let tagged = mock
        .api(
            "TagResource",
            json!({ "resourceArn": arn, "tags": [{ "Key": "env", "Value": "lab" }] }),
        )
        .await;
    assert_eq!(tagged.status, StatusCode::OK);
    mock.api("ListTagsForResource", json!({ "resourceArn": arn }))
        .await;
    mock.api(
        "UntagResource",
        json!({ "resourceArn": arn, "tagKeys": ["env"] }),
    )
    .await;

    let initiated = mock
        .api(
            "InitiateLayerUpload",
            json!({ "repositoryName": "team/app" }),
        )
        .await
        .json();
    let upload_id = initiated["uploadId"].as_str().unwrap();
    let layer = b"layer bytes";
    let layer_digest = common::sha256(layer);
    let part = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, layer);
    mock.api(
        "UploadLayerPart",
        json!({
            "repositoryName": "team/app",
            "uploadId": upload_id,
            "partFirstByte": 0,
            "partLastByte": layer.len() - 1,
            "layerPartBlob": part,
        }),
    )
    .await;
    let completed = mock
        .api(
            "CompleteLayerUpload",
            json!({ "repositoryName": "team/app", "uploadId": upload_id, "layerDigests": [layer_digest] }),
        )
        .await;
    assert_eq!(
        completed.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&completed.body)
    );
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": layer_digest, "size": layer.len() },
        "layers": [],
    })
    .to_string();
    let put = mock
        .api(
            "PutImage",
            json!({ "repositoryName": "team/app", "imageManifest": manifest, "imageTag": "v1" }),
        )
        .await;
    assert_eq!(
        put.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&put.body)
    );

    let journal = mock.journal().await;
    let event = |action: &str| {
        journal
            .iter()
            .find(|event| event["action"] == action)
            .unwrap_or_else(|| panic!("no {action} event"))
            .clone()
    };
    for action in ["TagResource", "ListTagsForResource", "UntagResource"] {
        assert_eq!(event(action)["repository"], "team/app", "{action}");
    }
    assert_eq!(
        event("CompleteLayerUpload")["digest"],
        layer_digest.as_str()
    );
    let image_digest = common::sha256(manifest.as_bytes());
    assert_eq!(event("PutImage")["digest"], image_digest.as_str());
    assert_eq!(event("PutImage")["repository"], "team/app");
}

#[tokio::test]
async fn remaining_bodies_match_snapshots() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let described = mock.api("DescribeRepositories", json!({})).await;
    assert_eq!(described.status, StatusCode::OK);
    insta::assert_json_snapshot!("describe_repositories", described.json());

    let scanning = mock
        .api(
            "PutImageScanningConfiguration",
            json!({ "repositoryName": "my-app", "imageScanningConfiguration": { "scanOnPush": true } }),
        )
        .await;
    assert_eq!(scanning.status, StatusCode::OK);
    insta::assert_json_snapshot!("put_image_scanning_configuration", scanning.json());

    // The password in the token is random, so the snapshot shows the body without it.
    let mut token = mock.api("GetAuthorizationToken", json!({})).await.json();
    let issued = &mut token["authorizationData"][0]["authorizationToken"];
    assert!(issued.is_string());
    *issued = json!("<base64 of AWS:password>");
    insta::assert_json_snapshot!("get_authorization_token", token);

    let image_missing = api_error(
        &mock,
        "DescribeImages",
        json!({ "repositoryName": "my-app", "imageIds": [{ "imageTag": "absent" }] }),
    )
    .await;
    insta::assert_json_snapshot!("image_not_found", image_missing);

    let unknown = api_error(&mock, "LaunchRocket", json!({})).await;
    insta::assert_json_snapshot!("unknown_operation", unknown);

    let wrong_shape = api_error(&mock, "CreateRepository", json!({ "repositoryName": 7 })).await;
    insta::assert_json_snapshot!("serialization_error", wrong_shape);

    let deleted = mock
        .api("DeleteRepository", json!({ "repositoryName": "my-app" }))
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    insta::assert_json_snapshot!("delete_repository", deleted.json());
}

/// Replaces every occurrence of `secret` in the strings of `body` with `placeholder`, for values
/// such as upload ids that are random per run.
fn redact(body: &Value, secret: &str, placeholder: &str) -> Value {
    let text = body.to_string().replace(secret, placeholder);
    serde_json::from_str(&text).expect("redacted body is JSON")
}

/// Calls an operation that must succeed and returns its output.
async fn api_ok(mock: &TestMock, operation: &str, input: Value) -> Value {
    let reply = mock.api(operation, input).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{operation}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

/// Uploads `bytes` as one layer part and returns the upload id, without completing it.
async fn start_layer_upload(mock: &TestMock, repository: &str, bytes: &[u8]) -> String {
    let initiated = api_ok(
        mock,
        "InitiateLayerUpload",
        json!({ "repositoryName": repository }),
    )
    .await;
    let upload_id = initiated["uploadId"].as_str().expect("uploadId").to_owned();
    if !bytes.is_empty() {
        api_ok(
            mock,
            "UploadLayerPart",
            json!({
                "repositoryName": repository,
                "uploadId": upload_id,
                "partFirstByte": 0,
                "partLastByte": bytes.len() - 1,
                "layerPartBlob": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes),
            }),
        )
        .await;
    }
    upload_id
}

/// Calls CompleteLayerUpload for one layer digest.
async fn complete_layer_upload(
    mock: &TestMock,
    repository: &str,
    upload_id: &str,
    digest: &str,
) -> common::Reply {
    mock.api(
        "CompleteLayerUpload",
        json!({ "repositoryName": repository, "uploadId": upload_id, "layerDigests": [digest] }),
    )
    .await
}

const PULL_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowPull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;

/// A lifecycle policy that expires untagged images after 14 days, padded past ECR's minimum
/// length of 100 characters by its description.
const UNTAGGED_LIFECYCLE_POLICY: &str = r#"{"rules":[{"rulePriority":1,"description":"Expire untagged images after 14 days","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;

#[tokio::test]
async fn tag_and_policy_bodies_match_snapshots() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "IMMUTABLE").await;
    let arn = "arn:aws:ecr:us-east-1:123456789012:repository/my-app";

    let tagged = api_ok(
        &mock,
        "TagResource",
        json!({ "resourceArn": arn, "tags": [{ "Key": "team", "Value": "platform" }] }),
    )
    .await;
    insta::assert_json_snapshot!("tag_resource", tagged);
    let untagged = api_ok(
        &mock,
        "UntagResource",
        json!({ "resourceArn": arn, "tagKeys": ["team"] }),
    )
    .await;
    insta::assert_json_snapshot!("untag_resource", untagged);

    api_ok(
        &mock,
        "SetRepositoryPolicy",
        json!({ "repositoryName": "my-app", "policyText": PULL_POLICY }),
    )
    .await;
    let policy = api_ok(
        &mock,
        "GetRepositoryPolicy",
        json!({ "repositoryName": "my-app" }),
    )
    .await;
    assert_eq!(policy["policyText"], PULL_POLICY);
    insta::assert_json_snapshot!("get_repository_policy", policy);
    let deleted = api_ok(
        &mock,
        "DeleteRepositoryPolicy",
        json!({ "repositoryName": "my-app" }),
    )
    .await;
    insta::assert_json_snapshot!("delete_repository_policy", deleted);

    let mutability = api_ok(
        &mock,
        "PutImageTagMutability",
        json!({ "repositoryName": "my-app", "imageTagMutability": "MUTABLE" }),
    )
    .await;
    insta::assert_json_snapshot!("put_image_tag_mutability", mutability);
}

#[tokio::test]
async fn layer_bodies_match_snapshots() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;

    let initiated = api_ok(
        &mock,
        "InitiateLayerUpload",
        json!({ "repositoryName": "my-app" }),
    )
    .await;
    let upload_id = initiated["uploadId"].as_str().expect("uploadId");
    insta::assert_json_snapshot!(
        "initiate_layer_upload",
        redact(&initiated, upload_id, "<uploadId>")
    );

    let manifest = mock.push_image_blobs(&auth, "my-app", "one").await;
    mock.put_manifest(&auth, "my-app", "v1", &manifest).await;
    let layer_digest = common::sha256(b"layer for one");
    let download = api_ok(
        &mock,
        "GetDownloadUrlForLayer",
        json!({ "repositoryName": "my-app", "layerDigest": layer_digest }),
    )
    .await;
    let url = download["downloadUrl"].as_str().expect("downloadUrl");
    let token = url
        .strip_prefix("http://localhost:5000/_ecrlab/layers/")
        .unwrap_or_else(|| panic!("download URL is not on the mock: {url}"));
    assert!(!token.is_empty(), "{url}");
    insta::assert_json_snapshot!(
        "get_download_url_for_layer",
        redact(&download, token, "<token>")
    );
}

#[tokio::test]
async fn layer_errors_match_snapshots() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let unknown_upload = "0a1b2c3d-0000-4000-8000-000000000000";
    let not_found = complete_layer_upload(&mock, "my-app", unknown_upload, &common::sha256(b"x"))
        .await
        .json();
    insta::assert_json_snapshot!("upload_not_found", not_found);

    let empty = start_layer_upload(&mock, "my-app", b"").await;
    let reply = complete_layer_upload(&mock, "my-app", &empty, &common::sha256(b"")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("empty_upload", redact(&reply.json(), &empty, "<uploadId>"));

    let mismatched = start_layer_upload(&mock, "my-app", b"real content").await;
    let reply = complete_layer_upload(
        &mock,
        "my-app",
        &mismatched,
        &common::sha256(b"claimed content"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!(
        "invalid_layer",
        redact(&reply.json(), &mismatched, "<uploadId>")
    );

    let first = start_layer_upload(&mock, "my-app", b"shared layer").await;
    let digest = common::sha256(b"shared layer");
    let reply = complete_layer_upload(&mock, "my-app", &first, &digest).await;
    assert_eq!(reply.status, StatusCode::OK);
    let second = start_layer_upload(&mock, "my-app", b"shared layer").await;
    let reply = complete_layer_upload(&mock, "my-app", &second, &digest).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!(
        "layer_already_exists",
        redact(&reply.json(), &second, "<uploadId>")
    );

    let inaccessible = api_error(
        &mock,
        "GetDownloadUrlForLayer",
        json!({ "repositoryName": "my-app", "layerDigest": digest }),
    )
    .await;
    insta::assert_json_snapshot!("layer_inaccessible", inaccessible);

    let never_uploaded = api_error(
        &mock,
        "GetDownloadUrlForLayer",
        json!({ "repositoryName": "my-app", "layerDigest": common::sha256(b"never uploaded") }),
    )
    .await;
    insta::assert_json_snapshot!("download_layer_not_found", never_uploaded);
}

#[tokio::test]
async fn put_image_errors_match_snapshots() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "IMMUTABLE").await;
    let auth = mock.login().await;
    let first = mock.push_image_blobs(&auth, "my-app", "one").await;
    let second = mock.push_image_blobs(&auth, "my-app", "two").await;
    let first = String::from_utf8(first).expect("manifest is text");
    let second = String::from_utf8(second).expect("manifest is text");
    api_ok(
        &mock,
        "PutImage",
        json!({ "repositoryName": "my-app", "imageManifest": first, "imageTag": "v1" }),
    )
    .await;

    let moved = api_error(
        &mock,
        "PutImage",
        json!({ "repositoryName": "my-app", "imageManifest": second, "imageTag": "v1" }),
    )
    .await;
    insta::assert_json_snapshot!("image_tag_already_exists", moved);

    let wrong_digest = api_error(
        &mock,
        "PutImage",
        json!({
            "repositoryName": "my-app",
            "imageManifest": second,
            "imageDigest": common::sha256(b"something else"),
        }),
    )
    .await;
    insta::assert_json_snapshot!("image_digest_does_not_match", wrong_digest);

    let missing_blobs = common::image_manifest(
        &common::sha256(b"no config"),
        9,
        &common::sha256(b"no layer"),
        8,
    );
    let layers = api_error(
        &mock,
        "PutImage",
        json!({
            "repositoryName": "my-app",
            "imageManifest": String::from_utf8(missing_blobs).unwrap(),
            "imageTag": "v2",
        }),
    )
    .await;
    insta::assert_json_snapshot!("put_image_layers_not_found", layers);

    let absent = common::sha256(b"absent manifest");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{absent}","size":100}}]}}"#
    );
    let children = api_error(
        &mock,
        "PutImage",
        json!({ "repositoryName": "my-app", "imageManifest": index, "imageTag": "multi" }),
    )
    .await;
    insta::assert_json_snapshot!("referenced_images_not_found", children);
}

#[tokio::test]
async fn tag_limit_error_matches_snapshot() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let manifest = mock.push_image_blobs(&auth, "my-app", "one").await;
    for index in 0..1000 {
        let reply = mock
            .put_manifest(&auth, "my-app", &format!("t{index}"), &manifest)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "tag {index}");
    }

    let over = api_error(
        &mock,
        "PutImage",
        json!({
            "repositoryName": "my-app",
            "imageManifest": String::from_utf8(manifest).unwrap(),
            "imageTag": "t1000",
        }),
    )
    .await;
    insta::assert_json_snapshot!("limit_exceeded", over);
}

#[tokio::test]
async fn lifecycle_bodies_match_snapshots() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let name = json!({ "repositoryName": "my-app" });

    let no_policy = api_error(&mock, "GetLifecyclePolicy", name.clone()).await;
    insta::assert_json_snapshot!("lifecycle_policy_not_found", no_policy);
    let no_preview = api_error(&mock, "GetLifecyclePolicyPreview", name.clone()).await;
    insta::assert_json_snapshot!("lifecycle_policy_preview_not_found", no_preview);

    api_ok(
        &mock,
        "PutLifecyclePolicy",
        json!({ "repositoryName": "my-app", "lifecyclePolicyText": UNTAGGED_LIFECYCLE_POLICY }),
    )
    .await;
    let started = api_ok(&mock, "StartLifecyclePolicyPreview", name.clone()).await;
    insta::assert_json_snapshot!("start_lifecycle_policy_preview", started);
    let deleted = api_ok(&mock, "DeleteLifecyclePolicy", name.clone()).await;
    assert_eq!(deleted["lifecyclePolicyText"], UNTAGGED_LIFECYCLE_POLICY);
    insta::assert_json_snapshot!("delete_lifecycle_policy", deleted);
}

#[tokio::test]
async fn batch_get_image_failures_match_snapshot() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let first = mock.push_image_blobs(&auth, "my-app", "one").await;
    let second = mock.push_image_blobs(&auth, "my-app", "two").await;
    mock.put_manifest(&auth, "my-app", "latest", &first).await;
    mock.put_manifest(&auth, "my-app", "other", &second).await;

    let reply = api_ok(
        &mock,
        "BatchGetImage",
        json!({
            "repositoryName": "my-app",
            "imageIds": [
                { "imageTag": "missing" },
                {},
                { "imageDigest": "sha256:bad" },
                { "imageTag": "latest", "imageDigest": common::sha256(&second) },
            ],
        }),
    )
    .await;
    assert_eq!(reply["images"], json!([]));
    insta::assert_json_snapshot!("batch_get_image_failures", reply);
}

#[tokio::test]
async fn signature_errors_match_snapshots() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    let signer = common::Signer {
        access_key_id: mock_ecr::credentials::DEFAULT_ACCESS_KEY_ID,
        secret_access_key: mock_ecr::credentials::DEFAULT_SECRET_ACCESS_KEY,
        region: "us-east-1",
        at: mock.clock.unshifted_now(),
    };
    let describe = |signer: &common::Signer<'_>| signer.request("DescribeRepositories", b"{}");

    let mut unsigned = describe(&signer);
    unsigned.headers_mut().remove("authorization");
    let reply = mock.send(unsigned).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    insta::assert_json_snapshot!("missing_authentication_token", reply.json());

    let mut incomplete = describe(&signer);
    incomplete.headers_mut().insert(
        "authorization",
        "AWS4-HMAC-SHA256 Signature=abc".parse().unwrap(),
    );
    let reply = mock.send(incomplete).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("incomplete_signature", reply.json());

    let unknown_key = common::Signer {
        access_key_id: "AKIAUNKNOWNKEY000001",
        ..signer
    };
    let reply = mock.send(describe(&unknown_key)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("unrecognized_client", reply.json());

    let wrong_secret = common::Signer {
        secret_access_key: "not-the-secret",
        ..signer
    };
    let reply = mock.send(describe(&wrong_secret)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("invalid_signature", reply.json());

    let late = common::Signer {
        at: signer.at - time::Duration::minutes(16),
        ..signer
    };
    let reply = mock.send(describe(&late)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("signature_expired", reply.json());

    let early = common::Signer {
        at: signer.at + time::Duration::minutes(16),
        ..signer
    };
    let reply = mock.send(describe(&early)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    insta::assert_json_snapshot!("signature_not_yet_current", reply.json());
}

#[tokio::test]
async fn registry_id_must_be_callers_account() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let own = mock
        .api(
            "DescribeRepositories",
            json!({ "registryId": "123456789012" }),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);

    let malformed = api_error(
        &mock,
        "DescribeRepositories",
        json!({ "registryId": "abc" }),
    )
    .await;
    assert_eq!(malformed["__type"], "InvalidParameterException");
    assert!(malformed["message"].as_str().unwrap().contains("'abc'"));

    let other = api_error(
        &mock,
        "CreateRepository",
        json!({ "repositoryName": "x4", "registryId": "222222222222" }),
    )
    .await;
    insta::assert_json_snapshot!("registry_id_of_another_account", other);

    let token = api_error(
        &mock,
        "GetAuthorizationToken",
        json!({ "registryIds": ["12"] }),
    )
    .await;
    assert_eq!(token["__type"], "InvalidParameterException");

    let listed = mock.api("DescribeRepositories", json!({})).await.json();
    let names: Vec<&str> = listed["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|repository| repository["repositoryName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["my-app"], "nothing was created in another registry");
}

#[tokio::test]
async fn pull_time_is_recorded_to_the_second() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let manifest = mock.push_image_blobs(&auth, "my-app", "one").await;
    mock.put_manifest(&auth, "my-app", "latest", &manifest)
        .await;
    let pull_time = || async {
        let described = mock
            .api(
                "DescribeImages",
                json!({ "repositoryName": "my-app", "imageIds": [{ "imageTag": "latest" }] }),
            )
            .await;
        described.json()["imageDetails"][0]["lastRecordedPullTime"].as_f64()
    };
    let pull = || async {
        let reply = mock
            .registry(
                axum::http::Method::GET,
                "/v2/my-app/manifests/latest",
                Some(&auth),
                &[("accept", "application/vnd.oci.image.manifest.v1+json")],
                Vec::new(),
            )
            .await;
        assert_eq!(reply.status, axum::http::StatusCode::OK);
    };
    assert_eq!(pull_time().await, None, "never pulled");

    pull().await;
    let first = pull_time().await.expect("the first pull is recorded");
    mock.clock.advance(time::Duration::milliseconds(400));
    pull().await;
    assert_eq!(pull_time().await, Some(first), "a pull within the second");
    mock.clock.advance(time::Duration::seconds(2));
    pull().await;
    let later = pull_time().await.expect("still recorded");
    assert!((later - first - 2.4).abs() < 0.001, "{first} then {later}");
}
