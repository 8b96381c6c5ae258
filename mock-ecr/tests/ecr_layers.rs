//! The ECR API's layer and image-push operations, driven in process: PutImage,
//! BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload and
//! GetDownloadUrlForLayer, with ECR's exception names.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use common::{TestMock, image_manifest, sha256};
use serde_json::{Value, json};
use time::Duration;

const FIVE_MIB: usize = 5 * 1024 * 1024;

/// Sorts object keys in snapshots: another crate in the workspace turns on serde_json's
/// `preserve_order`, which would otherwise make key order depend on how the tests are built.
fn sorted_snapshots() -> insta::internals::SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.bind_to_scope()
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Deterministic content of `length` bytes that differs between seeds.
fn content(seed: u8, length: usize) -> Vec<u8> {
    (0..length)
        .map(|index| (index % 251) as u8 ^ seed)
        .collect()
}

/// Calls an operation that must fail with HTTP 400 and returns its error body.
async fn api_error(mock: &TestMock, operation: &str, input: Value) -> Value {
    let reply = mock.api(operation, input).await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{operation}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
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

async fn initiate(mock: &TestMock, repository: &str) -> String {
    let output = api_ok(
        mock,
        "InitiateLayerUpload",
        json!({ "repositoryName": repository }),
    )
    .await;
    output["uploadId"].as_str().expect("uploadId").to_owned()
}

async fn upload_part(
    mock: &TestMock,
    repository: &str,
    upload_id: &str,
    first: usize,
    part: &[u8],
) -> common::Reply {
    mock.api(
        "UploadLayerPart",
        json!({
            "repositoryName": repository,
            "uploadId": upload_id,
            "partFirstByte": first,
            "partLastByte": first + part.len() - 1,
            "layerPartBlob": base64(part),
        }),
    )
    .await
}

async fn complete(
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

/// Uploads `bytes` through the API in parts of `part_size` bytes and returns its digest.
async fn upload_layer(mock: &TestMock, repository: &str, bytes: &[u8], part_size: usize) -> String {
    let upload_id = initiate(mock, repository).await;
    for (index, part) in bytes.chunks(part_size).enumerate() {
        let reply = upload_part(mock, repository, &upload_id, index * part_size, part).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    let digest = sha256(bytes);
    let reply = complete(mock, repository, &upload_id, &digest).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    digest
}

/// Uploads a config and a one-part layer through the API and returns a manifest naming them.
async fn api_image_blobs(mock: &TestMock, repository: &str, seed: &str) -> String {
    let config = format!(r#"{{"architecture":"amd64","os":"linux","seed":"{seed}"}}"#);
    let layer = format!("layer for {seed}");
    let config_digest = upload_layer(mock, repository, config.as_bytes(), FIVE_MIB).await;
    let layer_digest = upload_layer(mock, repository, layer.as_bytes(), FIVE_MIB).await;
    let manifest = image_manifest(&config_digest, config.len(), &layer_digest, layer.len());
    String::from_utf8(manifest).expect("manifest is text")
}

async fn get(mock: &TestMock, uri: &str) -> common::Reply {
    mock.send(Request::get(uri).body(Body::empty()).unwrap())
        .await
}

/// Returns the path and query of a URL on the mock, which is what the router receives.
fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").expect("http URL");
    &rest[rest.find('/').expect("path")..]
}

#[tokio::test]
async fn layer_availability_reports_each_digest() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let present = mock.push_blob(&auth, "my-app", b"present layer").await;
    let absent = sha256(b"absent layer");

    let output = api_ok(
        &mock,
        "BatchCheckLayerAvailability",
        json!({
            "repositoryName": "my-app",
            "layerDigests": [present, absent, "", "sha256:not-hex"],
        }),
    )
    .await;
    insta::assert_json_snapshot!("batch_check_layer_availability", output);
}

#[tokio::test]
async fn layer_availability_checks_input() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let missing = api_error(
        &mock,
        "BatchCheckLayerAvailability",
        json!({ "repositoryName": "ghost", "layerDigests": [sha256(b"x")] }),
    )
    .await;
    assert_eq!(missing["__type"], "RepositoryNotFoundException");

    let empty = api_error(
        &mock,
        "BatchCheckLayerAvailability",
        json!({ "repositoryName": "my-app", "layerDigests": [] }),
    )
    .await;
    assert_eq!(empty["__type"], "InvalidParameterException");

    let too_many: Vec<String> = (0..101).map(|index| sha256(&[index as u8])).collect();
    let over = api_error(
        &mock,
        "BatchCheckLayerAvailability",
        json!({ "repositoryName": "my-app", "layerDigests": too_many }),
    )
    .await;
    assert_eq!(over["__type"], "InvalidParameterException");

    let long = "a".repeat(1001);
    let too_long = api_error(
        &mock,
        "BatchCheckLayerAvailability",
        json!({ "repositoryName": "my-app", "layerDigests": [long] }),
    )
    .await;
    assert_eq!(too_long["__type"], "InvalidParameterException");
}

#[tokio::test]
async fn layer_uploaded_in_parts_is_pulled_through_registry() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("team/my-app", "MUTABLE").await;

    let initiated = api_ok(
        &mock,
        "InitiateLayerUpload",
        json!({ "repositoryName": "team/my-app" }),
    )
    .await;
    assert_eq!(initiated["partSize"], 10 * 1024 * 1024);
    let upload_id = initiated["uploadId"].as_str().unwrap().to_owned();
    assert_eq!(upload_id.len(), 36, "a UUID: {upload_id}");

    let layer = content(7, FIVE_MIB + 1000);
    let (first, second) = layer.split_at(FIVE_MIB);
    let reply = upload_part(&mock, "team/my-app", &upload_id, 0, first).await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut part_output = reply.json();
    assert_eq!(part_output["lastByteReceived"], FIVE_MIB - 1);
    assert_eq!(part_output["uploadId"], upload_id);
    part_output["uploadId"] = json!("<uploadId>");
    insta::assert_json_snapshot!("upload_layer_part", part_output);

    let reply = upload_part(&mock, "team/my-app", &upload_id, FIVE_MIB, second).await;
    assert_eq!(reply.json()["lastByteReceived"], layer.len() - 1);

    let digest = sha256(&layer);
    let reply = complete(&mock, "team/my-app", &upload_id, &digest).await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut completed = reply.json();
    assert_eq!(completed["uploadId"], upload_id);
    completed["uploadId"] = json!("<uploadId>");
    insta::assert_json_snapshot!("complete_layer_upload", completed);

    let auth = mock.login().await;
    let pulled = mock
        .registry(
            Method::GET,
            &format!("/v2/team/my-app/blobs/{digest}"),
            Some(&auth),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(pulled.status, StatusCode::OK);
    assert_eq!(pulled.body.len(), layer.len());
    assert!(
        pulled.body == layer,
        "the registry returns the uploaded bytes"
    );

    let checked = api_ok(
        &mock,
        "BatchCheckLayerAvailability",
        json!({ "repositoryName": "team/my-app", "layerDigests": [digest] }),
    )
    .await;
    assert_eq!(checked["layers"][0]["layerAvailability"], "AVAILABLE");
    assert_eq!(checked["layers"][0]["layerSize"], layer.len());
}

#[tokio::test]
async fn api_upload_continues_through_registry() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let upload_id = initiate(&mock, "my-app").await;

    let chunk = mock
        .registry(
            Method::PATCH,
            &format!("/v2/my-app/blobs/uploads/{upload_id}"),
            Some(&auth),
            &[("content-range", "0-9")],
            b"0123456789".to_vec(),
        )
        .await;
    assert_eq!(chunk.status, StatusCode::ACCEPTED);

    let reply = upload_part(&mock, "my-app", &upload_id, 10, b"abcdef").await;
    assert_eq!(reply.json()["lastByteReceived"], 15);
    let reply = complete(&mock, "my-app", &upload_id, &sha256(b"0123456789abcdef")).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

#[tokio::test]
async fn out_of_order_part_is_rejected() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let upload_id = initiate(&mock, "my-app").await;

    let before_any = upload_part(&mock, "my-app", &upload_id, 5, b"late").await;
    assert_eq!(before_any.status, StatusCode::BAD_REQUEST);
    let before_any = before_any.json();
    assert_eq!(before_any["__type"], "InvalidLayerPartException");
    assert!(
        before_any.get("lastValidByteReceived").is_none(),
        "nothing was received: {before_any}"
    );

    let reply = upload_part(&mock, "my-app", &upload_id, 0, b"0123456789").await;
    assert_eq!(reply.status, StatusCode::OK);

    let mut gap = api_error(
        &mock,
        "UploadLayerPart",
        json!({
            "repositoryName": "my-app",
            "uploadId": upload_id,
            "partFirstByte": 12,
            "partLastByte": 15,
            "layerPartBlob": base64(b"gap!"),
        }),
    )
    .await;
    assert_eq!(gap["lastValidByteReceived"], 9);
    assert_eq!(gap["uploadId"], upload_id);
    gap["uploadId"] = json!("<uploadId>");
    insta::assert_json_snapshot!("invalid_layer_part", gap);

    let overlap = upload_part(&mock, "my-app", &upload_id, 5, b"again").await;
    assert_eq!(overlap.json()["__type"], "InvalidLayerPartException");

    let wrong_size = api_error(
        &mock,
        "UploadLayerPart",
        json!({
            "repositoryName": "my-app",
            "uploadId": upload_id,
            "partFirstByte": 10,
            "partLastByte": 19,
            "layerPartBlob": base64(b"short"),
        }),
    )
    .await;
    assert_eq!(wrong_size["__type"], "InvalidLayerPartException");
    assert_eq!(wrong_size["lastValidByteReceived"], 9);
    let message = wrong_size["message"].as_str().unwrap();
    assert!(message.contains("bytes 10 to 19"), "{message}");

    let empty = api_error(
        &mock,
        "UploadLayerPart",
        json!({
            "repositoryName": "my-app",
            "uploadId": upload_id,
            "partFirstByte": 10,
            "partLastByte": 10,
            "layerPartBlob": "",
        }),
    )
    .await;
    assert_eq!(empty["__type"], "InvalidLayerPartException");
}

#[tokio::test]
async fn upload_part_checks_input() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let upload_id = initiate(&mock, "my-app").await;
    let part = |upload: &str, first: i64, blob: &str| {
        json!({
            "repositoryName": "my-app",
            "uploadId": upload,
            "partFirstByte": first,
            "partLastByte": first + 3,
            "layerPartBlob": blob,
        })
    };

    let unknown = api_error(
        &mock,
        "UploadLayerPart",
        part("00000000-0000-0000-0000-000000000000", 0, &base64(b"abcd")),
    )
    .await;
    assert_eq!(unknown["__type"], "UploadNotFoundException");

    let malformed = api_error(
        &mock,
        "UploadLayerPart",
        part("../../mock-ecr.sqlite3", 0, &base64(b"abcd")),
    )
    .await;
    assert_eq!(malformed["__type"], "InvalidParameterException");
    let message = malformed["message"].as_str().unwrap();
    assert!(message.contains("uploadId"), "{message}");

    let negative = api_error(
        &mock,
        "UploadLayerPart",
        part(&upload_id, -1, &base64(b"abcd")),
    )
    .await;
    assert_eq!(negative["__type"], "InvalidParameterException");

    let not_base64 = api_error(&mock, "UploadLayerPart", part(&upload_id, 0, "%%%%")).await;
    assert_eq!(not_base64["__type"], "SerializationException");

    let other_repository = {
        mock.create_repository("other", "MUTABLE").await;
        let mut input = part(&upload_id, 0, &base64(b"abcd"));
        input["repositoryName"] = json!("other");
        api_error(&mock, "UploadLayerPart", input).await
    };
    assert_eq!(other_repository["__type"], "UploadNotFoundException");

    let oversized = vec![0u8; 20 * 1024 * 1024 + 1];
    let too_large = api_error(
        &mock,
        "UploadLayerPart",
        json!({
            "repositoryName": "my-app",
            "uploadId": upload_id,
            "partFirstByte": 0,
            "partLastByte": oversized.len() - 1,
            "layerPartBlob": base64(&oversized),
        }),
    )
    .await;
    assert_eq!(too_large["__type"], "InvalidParameterException");
    let message = too_large["message"].as_str().unwrap();
    assert!(message.contains("20971520"), "{message}");
}

#[tokio::test]
async fn complete_rejects_empty_and_small_parts() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let upload_id = initiate(&mock, "my-app").await;
    let empty = complete(&mock, "my-app", &upload_id, &sha256(b"")).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(empty.json()["__type"], "EmptyUploadException");
    let reply = upload_part(&mock, "my-app", &upload_id, 0, b"data after all").await;
    assert_eq!(reply.status, StatusCode::OK, "an empty upload stays open");

    let small = initiate(&mock, "my-app").await;
    upload_part(&mock, "my-app", &small, 0, b"tiny").await;
    upload_part(&mock, "my-app", &small, 4, b"last").await;
    let too_small = complete(&mock, "my-app", &small, &sha256(b"tinylast")).await;
    assert_eq!(too_small.status, StatusCode::BAD_REQUEST);
    let mut body = too_small.json();
    assert_eq!(body["__type"], "LayerPartTooSmallException");
    let message = body["message"]
        .as_str()
        .unwrap()
        .replace(&small, "<uploadId>");
    body["message"] = json!(message);
    insta::assert_json_snapshot!("layer_part_too_small", body);
    let after_rejection = upload_part(&mock, "my-app", &small, 8, b"more").await;
    assert_eq!(after_rejection.json()["__type"], "UploadNotFoundException");

    let five_mib = content(1, FIVE_MIB);
    let mut layer = five_mib.clone();
    layer.extend_from_slice(b"short last part");
    let digest = upload_layer(&mock, "my-app", &layer, FIVE_MIB).await;
    assert_eq!(digest, sha256(&layer), "a short last part is accepted");
}

#[tokio::test]
async fn complete_verifies_digest_and_existing_layer() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let upload_id = initiate(&mock, "my-app").await;
    upload_part(&mock, "my-app", &upload_id, 0, b"real content").await;
    let mismatch = complete(&mock, "my-app", &upload_id, &sha256(b"claimed content")).await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    let mismatch = mismatch.json();
    assert_eq!(mismatch["__type"], "InvalidLayerException");
    let message = mismatch["message"].as_str().unwrap();
    assert!(message.contains(&sha256(b"real content")), "{message}");
    let after_mismatch = complete(&mock, "my-app", &upload_id, &sha256(b"real content")).await;
    assert_eq!(after_mismatch.json()["__type"], "UploadNotFoundException");

    let digest = upload_layer(&mock, "my-app", b"shared layer", FIVE_MIB).await;
    let again = initiate(&mock, "my-app").await;
    upload_part(&mock, "my-app", &again, 0, b"shared layer").await;
    let exists = complete(&mock, "my-app", &again, &digest).await;
    assert_eq!(exists.status, StatusCode::BAD_REQUEST);
    let exists = exists.json();
    assert_eq!(exists["__type"], "LayerAlreadyExistsException");
    let message = exists["message"].as_str().unwrap();
    assert!(message.contains(&digest), "{message}");

    let two = initiate(&mock, "my-app").await;
    upload_part(&mock, "my-app", &two, 0, b"one layer").await;
    let several = api_error(
        &mock,
        "CompleteLayerUpload",
        json!({
            "repositoryName": "my-app",
            "uploadId": two,
            "layerDigests": [sha256(b"one layer"), sha256(b"another")],
        }),
    )
    .await;
    assert_eq!(several["__type"], "InvalidParameterException");
    let repeated = api_ok(
        &mock,
        "CompleteLayerUpload",
        json!({
            "repositoryName": "my-app",
            "uploadId": two,
            "layerDigests": [sha256(b"one layer"), sha256(b"one layer")],
        }),
    )
    .await;
    assert_eq!(repeated["layerDigest"], sha256(b"one layer"));

    let invalid = api_error(
        &mock,
        "CompleteLayerUpload",
        json!({ "repositoryName": "my-app", "uploadId": two, "layerDigests": ["md5:abc"] }),
    )
    .await;
    assert_eq!(invalid["__type"], "InvalidParameterException");

    let missing = api_error(
        &mock,
        "InitiateLayerUpload",
        json!({ "repositoryName": "ghost" }),
    )
    .await;
    assert_eq!(missing["__type"], "RepositoryNotFoundException");
}

#[tokio::test]
async fn put_image_stores_manifest_for_registry() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let manifest = api_image_blobs(&mock, "my-app", "one").await;

    let output = api_ok(
        &mock,
        "PutImage",
        json!({
            "repositoryName": "my-app",
            "imageManifest": manifest,
            "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
            "imageTag": "v1",
        }),
    )
    .await;
    insta::assert_json_snapshot!("put_image", output);

    let auth = mock.login().await;
    let pulled = mock
        .registry(
            Method::GET,
            "/v2/my-app/manifests/v1",
            Some(&auth),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(pulled.status, StatusCode::OK);
    assert_eq!(pulled.body, manifest.as_bytes());
    assert_eq!(
        pulled.header("docker-content-digest"),
        Some(sha256(manifest.as_bytes()).as_str())
    );

    let by_digest = api_ok(
        &mock,
        "PutImage",
        json!({
            "repositoryName": "my-app",
            "imageManifest": manifest,
            "imageTag": "v2",
            "imageDigest": sha256(manifest.as_bytes()),
        }),
    )
    .await;
    assert_eq!(by_digest["image"]["imageId"]["imageTag"], "v2");
    let listed = api_ok(&mock, "ListImages", json!({ "repositoryName": "my-app" })).await;
    assert_eq!(listed["imageIds"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn put_image_same_tag_again_already_exists() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let manifest = api_image_blobs(&mock, "my-app", "one").await;
    let input = json!({ "repositoryName": "my-app", "imageManifest": manifest, "imageTag": "v1" });
    api_ok(&mock, "PutImage", input.clone()).await;

    let again = api_error(&mock, "PutImage", input).await;
    insta::assert_json_snapshot!("image_already_exists", again);

    let untagged = json!({ "repositoryName": "my-app", "imageManifest": manifest });
    let untagged_again = api_error(&mock, "PutImage", untagged).await;
    assert_eq!(untagged_again["__type"], "ImageAlreadyExistsException");

    let auth = mock.login().await;
    let registry_again = mock
        .put_manifest(&auth, "my-app", "v1", manifest.as_bytes())
        .await;
    assert_eq!(
        registry_again.status,
        StatusCode::CREATED,
        "the registry keeps accepting an identical push"
    );
}

#[tokio::test]
async fn put_image_rejections_use_ecr_exceptions() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "IMMUTABLE").await;
    let manifest = api_image_blobs(&mock, "my-app", "one").await;
    let other = api_image_blobs(&mock, "my-app", "two").await;
    let put = |manifest: &str, extra: Value| {
        let mut input = json!({ "repositoryName": "my-app", "imageManifest": manifest });
        for (key, value) in extra.as_object().unwrap() {
            input[key] = value.clone();
        }
        input
    };

    let wrong_digest = api_error(
        &mock,
        "PutImage",
        put(
            &manifest,
            json!({ "imageDigest": sha256(b"something else") }),
        ),
    )
    .await;
    assert_eq!(wrong_digest["__type"], "ImageDigestDoesNotMatchException");

    let missing_layer = image_manifest(&sha256(b"no config"), 9, &sha256(b"no layer"), 8);
    let missing_layer = String::from_utf8(missing_layer).unwrap();
    let layers = api_error(
        &mock,
        "PutImage",
        put(&missing_layer, json!({ "imageTag": "x" })),
    )
    .await;
    assert_eq!(layers["__type"], "LayersNotFoundException");

    let absent = sha256(b"absent manifest");
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{absent}","size":100}}]}}"#
    );
    let children = api_error(
        &mock,
        "PutImage",
        put(&index, json!({ "imageTag": "multi" })),
    )
    .await;
    assert_eq!(children["__type"], "ReferencedImagesNotFoundException");
    let message = children["message"].as_str().unwrap();
    assert!(message.contains(&absent), "{message}");

    api_ok(
        &mock,
        "PutImage",
        put(&manifest, json!({ "imageTag": "v1" })),
    )
    .await;
    let immutable = api_error(&mock, "PutImage", put(&other, json!({ "imageTag": "v1" }))).await;
    assert_eq!(immutable["__type"], "ImageTagAlreadyExistsException");

    let empty = api_error(&mock, "PutImage", put("", json!({}))).await;
    assert_eq!(empty["__type"], "InvalidParameterException");
    let bad_tag = api_error(
        &mock,
        "PutImage",
        put(&manifest, json!({ "imageTag": "no spaces" })),
    )
    .await;
    assert_eq!(bad_tag["__type"], "InvalidParameterException");
    let bad_digest = api_error(
        &mock,
        "PutImage",
        put(&manifest, json!({ "imageDigest": "sha256:xyz" })),
    )
    .await;
    assert_eq!(bad_digest["__type"], "InvalidParameterException");
    let no_repository = api_error(
        &mock,
        "PutImage",
        json!({ "repositoryName": "ghost", "imageManifest": manifest }),
    )
    .await;
    assert_eq!(no_repository["__type"], "RepositoryNotFoundException");
}

#[tokio::test]
async fn put_image_tag_one_thousand_and_one_is_limit_exceeded() {
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
    assert_eq!(over["__type"], "LimitExceededException");
    let message = over["message"].as_str().unwrap();
    assert!(message.contains("'1000'"), "{message}");
}

#[tokio::test]
async fn download_url_serves_layer_until_expiry() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let manifest = api_image_blobs(&mock, "my-app", "one").await;
    api_ok(
        &mock,
        "PutImage",
        json!({ "repositoryName": "my-app", "imageManifest": manifest, "imageTag": "v1" }),
    )
    .await;
    let layer_digest = sha256(b"layer for one");

    let output = api_ok(
        &mock,
        "GetDownloadUrlForLayer",
        json!({ "repositoryName": "my-app", "layerDigest": layer_digest }),
    )
    .await;
    assert_eq!(output["layerDigest"], layer_digest);
    let url = output["downloadUrl"].as_str().unwrap();
    assert!(
        url.starts_with("http://localhost:5000/_ecrlab/layers/"),
        "{url}"
    );

    let downloaded = get(&mock, path_of(url)).await;
    assert_eq!(downloaded.status, StatusCode::OK, "no credentials needed");
    assert_eq!(downloaded.body, b"layer for one");
    assert_eq!(downloaded.header("content-length"), Some("13"));

    mock.clock.advance(Duration::minutes(59));
    assert_eq!(get(&mock, path_of(url)).await.status, StatusCode::OK);
    mock.clock.advance(Duration::minutes(1));
    let expired = get(&mock, path_of(url)).await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    let message = expired.json()["error"].as_str().unwrap().to_owned();
    assert!(message.contains("expired"), "{message}");

    let guessed = get(&mock, "/_ecrlab/layers/0123456789abcdef").await;
    assert_eq!(guessed.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn download_url_needs_referenced_layer() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let unreferenced = upload_layer(&mock, "my-app", b"loose layer", FIVE_MIB).await;

    let inaccessible = api_error(
        &mock,
        "GetDownloadUrlForLayer",
        json!({ "repositoryName": "my-app", "layerDigest": unreferenced }),
    )
    .await;
    assert_eq!(inaccessible["__type"], "LayerInaccessibleException");

    let unknown = api_error(
        &mock,
        "GetDownloadUrlForLayer",
        json!({ "repositoryName": "my-app", "layerDigest": sha256(b"never uploaded") }),
    )
    .await;
    assert_eq!(unknown["__type"], "LayersNotFoundException");

    let invalid = api_error(
        &mock,
        "GetDownloadUrlForLayer",
        json!({ "repositoryName": "my-app", "layerDigest": "sha256:short" }),
    )
    .await;
    assert_eq!(invalid["__type"], "InvalidParameterException");

    let missing = api_error(
        &mock,
        "GetDownloadUrlForLayer",
        json!({ "repositoryName": "ghost", "layerDigest": unreferenced }),
    )
    .await;
    assert_eq!(missing["__type"], "RepositoryNotFoundException");
}

#[tokio::test]
async fn layer_operations_are_journaled() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    upload_layer(&mock, "my-app", b"journaled layer", FIVE_MIB).await;

    let actions: Vec<String> = mock
        .journal()
        .await
        .iter()
        .filter(|event| event["repository"] == "my-app")
        .map(|event| event["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    for expected in [
        "InitiateLayerUpload",
        "UploadLayerPart",
        "CompleteLayerUpload",
    ] {
        assert!(
            actions.iter().any(|action| action == expected),
            "{expected} in {actions:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_completions_store_the_layer_once() {
    let mock = std::sync::Arc::new(TestMock::new());
    let bytes = content(7, 64 * 1024);
    let digest = common::sha256(&bytes);
    for round in 0..10 {
        // Each round uses a new repository, so the layer is new to it.
        let repository = format!("race-{round}");
        mock.create_repository(&repository, "MUTABLE").await;
        let mut uploads = Vec::new();
        for _ in 0..6 {
            let id = initiate(&mock, &repository).await;
            let part = upload_part(&mock, &repository, &id, 0, &bytes).await;
            assert_eq!(part.status, axum::http::StatusCode::OK);
            uploads.push(id);
        }
        let completions = uploads.into_iter().map(|id| {
            let mock = mock.clone();
            let repository = repository.clone();
            let digest = digest.clone();
            tokio::spawn(async move { complete(&mock, &repository, &id, &digest).await })
        });
        let mut stored = 0;
        let mut exists = 0;
        for completion in completions.collect::<Vec<_>>() {
            let reply = completion.await.expect("completion task");
            if reply.status == axum::http::StatusCode::OK {
                stored += 1;
            } else {
                assert_eq!(
                    reply.json()["__type"],
                    "LayerAlreadyExistsException",
                    "round {round}: {}",
                    String::from_utf8_lossy(&reply.body)
                );
                exists += 1;
            }
        }
        assert_eq!(
            stored, 1,
            "round {round}: exactly one completion stores the layer"
        );
        assert_eq!(exists, 5, "round {round}");
    }
}
