//! The registry front end's rules, driven in process: authentication, ECR's errors, tag
//! immutability, the tags-per-image limit, uploads and persistence.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestMock, basic, image_manifest, sha256};
use serde_json::json;
use time::Duration;

#[tokio::test]
async fn anonymous_ping_gets_basic_challenge() {
    let mock = TestMock::new();
    let reply = mock.registry(Method::GET, "/v2/", None, &[], vec![]).await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let challenge = reply.header("www-authenticate").expect("challenge");
    assert!(challenge.starts_with("Basic realm="), "{challenge}");
    assert!(
        challenge.contains("service=\"ecr.amazonaws.com\""),
        "{challenge}"
    );
    assert_eq!(
        reply.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    assert!(
        mock.journal().await.is_empty(),
        "an anonymous probe is not journaled"
    );
}

#[tokio::test]
async fn login_with_token_is_journaled() {
    let mock = TestMock::new();
    let auth = mock.login().await;
    let reply = mock
        .registry(Method::GET, "/v2/", Some(&auth), &[], vec![])
        .await;

    assert_eq!(reply.status, StatusCode::OK);
    let journal = mock.journal().await;
    let login = journal.last().expect("a login event");
    assert_eq!(login["action"], "Login");
    assert_eq!(login["source"], "registry");
    assert_eq!(login["outcome"], "ok");
    assert_eq!(login["host"], common::HOST);
    assert_eq!(login["userAgent"], "test-client/1.0");
}

#[tokio::test]
async fn bad_credentials_are_denied() {
    let mock = TestMock::new();
    let auth = mock.login().await;
    let token_user_password = auth.replace("Basic ", "");
    let cases = [
        ("wrong password", basic("AWS", "not-a-token")),
        ("wrong user", basic("admin", "whatever")),
        ("not base64", "Basic %%%".to_owned()),
        ("bearer scheme", format!("Bearer {token_user_password}")),
    ];
    for (case, header) in &cases {
        let reply = mock
            .registry(Method::GET, "/v2/", Some(header), &[], vec![])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(reply.error_code(), "DENIED", "{case}");
    }
    let journal = mock.journal().await;
    let failed_logins = journal
        .iter()
        .filter(|event| event["action"] == "Login" && event["outcome"] == "error")
        .count();
    assert_eq!(failed_logins, cases.len());
}

#[tokio::test]
async fn expired_token_is_denied_after_twelve_hours() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;

    mock.clock
        .advance(Duration::hours(11) + Duration::minutes(59));
    let still_valid = mock
        .registry(Method::GET, "/v2/", Some(&auth), &[], vec![])
        .await;
    assert_eq!(still_valid.status, StatusCode::OK);

    mock.clock.advance(Duration::minutes(1));
    let path = "/v2/my-app/blobs/uploads/";
    let expired = mock
        .registry(Method::POST, path, Some(&auth), &[], vec![])
        .await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert_eq!(expired.error_code(), "DENIED");
    let message = expired.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        "Your authorization token has expired. Reauthenticate and try again."
    );

    let event = mock.journal().await.pop().expect("journaled");
    assert_eq!(event["action"], "BlobUpload");
    assert_eq!(event["errorCode"], "DENIED");
}

#[tokio::test]
async fn push_to_missing_repository_is_name_unknown() {
    let mock = TestMock::new();
    let auth = mock.login().await;
    let reply = mock
        .registry(
            Method::POST,
            "/v2/missing/blobs/uploads/",
            Some(&auth),
            &[],
            vec![],
        )
        .await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "NAME_UNKNOWN");
    assert_eq!(
        reply.json()["errors"][0]["message"],
        "The repository with name 'missing' does not exist in the registry with id '123456789012'"
    );
}

#[tokio::test]
async fn chunked_upload_and_pull_round_trip() {
    let mock = TestMock::new();
    mock.create_repository("team/app", "MUTABLE").await;
    let auth = mock.login().await;

    let started = mock
        .registry(
            Method::POST,
            "/v2/team/app/blobs/uploads/",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    let location = started.header("location").expect("location").to_owned();
    assert!(
        location.starts_with("/v2/team/app/blobs/uploads/"),
        "{location}"
    );
    assert_eq!(started.header("range"), Some("0-0"));

    let first = mock
        .registry(
            Method::PATCH,
            &location,
            Some(&auth),
            &[("content-range", "0-4")],
            b"hello".to_vec(),
        )
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_eq!(first.header("range"), Some("0-4"));

    let out_of_order = mock
        .registry(
            Method::PATCH,
            &location,
            Some(&auth),
            &[("content-range", "9-12")],
            b"late".to_vec(),
        )
        .await;
    assert_eq!(out_of_order.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(out_of_order.header("range"), Some("0-4"));

    let second = mock
        .registry(
            Method::PATCH,
            &location,
            Some(&auth),
            &[],
            b" world".to_vec(),
        )
        .await;
    assert_eq!(second.header("range"), Some("0-10"));

    let status = mock
        .registry(Method::GET, &location, Some(&auth), &[], vec![])
        .await;
    assert_eq!(status.status, StatusCode::NO_CONTENT);
    assert_eq!(status.header("range"), Some("0-10"));

    let digest = sha256(b"hello world");
    let finish = format!("{location}?digest={}", digest.replace(':', "%3A"));
    let done = mock
        .registry(Method::PUT, &finish, Some(&auth), &[], vec![])
        .await;
    assert_eq!(
        done.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&done.body)
    );
    assert_eq!(done.header("docker-content-digest"), Some(digest.as_str()));

    let blob_path = format!("/v2/team/app/blobs/{digest}");
    let head = mock
        .registry(Method::HEAD, &blob_path, Some(&auth), &[], vec![])
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), Some("11"));
    let get = mock
        .registry(Method::GET, &blob_path, Some(&auth), &[], vec![])
        .await;
    assert_eq!(get.body, b"hello world");

    let event = mock.journal().await.pop().expect("journaled");
    assert_eq!(event["action"], "BlobUpload");
    assert_eq!(event["digest"], digest.as_str());
    assert_eq!(event["repository"], "team/app");
}

#[tokio::test]
async fn upload_with_wrong_digest_is_rejected() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let wrong = sha256(b"something else");
    let path = format!("/v2/my-app/blobs/uploads/?digest={wrong}");
    let reply = mock
        .registry(Method::POST, &path, Some(&auth), &[], b"content".to_vec())
        .await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "DIGEST_INVALID");
    let blob = mock
        .registry(
            Method::HEAD,
            &format!("/v2/my-app/blobs/{wrong}"),
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(
        blob.status,
        StatusCode::NOT_FOUND,
        "nothing is stored under the claimed digest"
    );
    let uploads = std::fs::read_dir(mock.data.path().join("uploads"))
        .unwrap()
        .count();
    assert_eq!(uploads, 0, "the rejected upload's file is removed");
}

#[tokio::test]
async fn manifest_naming_missing_blob_is_rejected() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let missing = sha256(b"never uploaded");
    let manifest = image_manifest(&missing, 10, &missing, 10);
    let reply = mock
        .put_manifest(&auth, "my-app", "latest", &manifest)
        .await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "MANIFEST_BLOB_UNKNOWN");
    let event = mock.journal().await.pop().expect("journaled");
    assert_eq!(event["action"], "ManifestPut");
    assert_eq!(event["outcome"], "error");
    assert_eq!(event["errorCode"], "MANIFEST_BLOB_UNKNOWN");
}

#[tokio::test]
async fn manifest_push_and_pull_by_tag_and_digest() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let manifest = mock.push_image_blobs(&auth, "my-app", "one").await;
    let digest = sha256(&manifest);

    let put = mock
        .put_manifest(&auth, "my-app", "latest", &manifest)
        .await;
    assert_eq!(put.status, StatusCode::CREATED);
    assert_eq!(put.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(
        put.header("location"),
        Some(format!("/v2/my-app/manifests/{digest}").as_str())
    );

    for reference in ["latest", digest.as_str()] {
        let path = format!("/v2/my-app/manifests/{reference}");
        let get = mock
            .registry(Method::GET, &path, Some(&auth), &[], vec![])
            .await;
        assert_eq!(get.status, StatusCode::OK, "{reference}");
        assert_eq!(get.body, manifest, "{reference}");
        assert_eq!(
            get.header("content-type"),
            Some("application/vnd.oci.image.manifest.v1+json")
        );
        assert_eq!(get.header("docker-content-digest"), Some(digest.as_str()));
    }
    let tags = mock
        .registry(
            Method::GET,
            "/v2/my-app/tags/list",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(tags.json(), json!({ "name": "my-app", "tags": ["latest"] }));

    let unknown = mock
        .registry(
            Method::GET,
            "/v2/my-app/manifests/nope",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.error_code(), "MANIFEST_UNKNOWN");
}

#[tokio::test]
async fn manifest_digest_reference_must_match_content() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let manifest = mock.push_image_blobs(&auth, "my-app", "one").await;
    let wrong = sha256(b"other");
    let reply = mock.put_manifest(&auth, "my-app", &wrong, &manifest).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "DIGEST_INVALID");
}

#[tokio::test]
async fn immutable_tag_cannot_move() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "IMMUTABLE").await;
    let auth = mock.login().await;
    let first = mock.push_image_blobs(&auth, "my-app", "one").await;
    let second = mock.push_image_blobs(&auth, "my-app", "two").await;

    assert_eq!(
        mock.put_manifest(&auth, "my-app", "v1", &first)
            .await
            .status,
        StatusCode::CREATED
    );
    let again = mock.put_manifest(&auth, "my-app", "v1", &first).await;
    assert_eq!(
        again.status,
        StatusCode::CREATED,
        "re-pushing the same image is allowed"
    );

    let moved = mock.put_manifest(&auth, "my-app", "v1", &second).await;
    assert_eq!(moved.status, StatusCode::BAD_REQUEST);
    assert_eq!(moved.error_code(), "TAG_INVALID");
    assert_eq!(
        moved.json()["errors"][0]["message"],
        "The image tag 'v1' already exists in the 'my-app' repository and cannot be overwritten because the repository is immutable."
    );
    let current = mock
        .registry(
            Method::GET,
            "/v2/my-app/manifests/v1",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(current.body, first, "the tag still names the first image");

    let other_tag = mock.put_manifest(&auth, "my-app", "v2", &second).await;
    assert_eq!(other_tag.status, StatusCode::CREATED);
}

#[tokio::test]
async fn mutable_tag_moves() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let first = mock.push_image_blobs(&auth, "my-app", "one").await;
    let second = mock.push_image_blobs(&auth, "my-app", "two").await;
    mock.put_manifest(&auth, "my-app", "latest", &first).await;
    let moved = mock.put_manifest(&auth, "my-app", "latest", &second).await;

    assert_eq!(moved.status, StatusCode::CREATED);
    let current = mock
        .registry(
            Method::GET,
            "/v2/my-app/manifests/latest",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(current.body, second);
}

#[tokio::test]
async fn tag_one_thousand_and_one_is_denied() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let manifest = mock.push_image_blobs(&auth, "my-app", "many").await;

    for index in 0..1000 {
        let reply = mock
            .put_manifest(&auth, "my-app", &format!("t{index}"), &manifest)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "tag {index}");
    }
    let over = mock.put_manifest(&auth, "my-app", "t1000", &manifest).await;
    assert_eq!(over.status, StatusCode::FORBIDDEN);
    assert_eq!(over.error_code(), "DENIED");
    let message = over.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("maximum allowed number of tags per image which is '1000'"),
        "{message}"
    );

    let retag = mock.put_manifest(&auth, "my-app", "t999", &manifest).await;
    assert_eq!(
        retag.status,
        StatusCode::CREATED,
        "an existing tag can be pushed again"
    );
}

#[tokio::test]
async fn unsupported_and_invalid_manifests() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let schema1 = br#"{"schemaVersion":1,"name":"my-app","tag":"x","fsLayers":[]}"#.to_vec();
    let reply = mock
        .registry(
            Method::PUT,
            "/v2/my-app/manifests/x",
            Some(&auth),
            &[(
                "content-type",
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
            )],
            schema1,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.error_code(), "UNSUPPORTED");

    let garbage = mock.put_manifest(&auth, "my-app", "x", b"{not json").await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(garbage.error_code(), "MANIFEST_INVALID");

    let bad_tag = mock.put_manifest(&auth, "my-app", "-bad", b"{}").await;
    assert_eq!(bad_tag.error_code(), "TAG_INVALID");
}

#[tokio::test]
async fn hostile_paths_get_errors_not_files() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let cases = [
        (
            "/v2/my-app/blobs/sha256:..%2F..%2Fetc%2Fpasswd",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v2/my-app/blobs/uploads/..%2F..%2Fmock-ecr.sqlite3",
            StatusCode::NOT_FOUND,
        ),
        ("/v2/my-app/nothing-here", StatusCode::NOT_FOUND),
        ("/v2/Bad_Name/tags/list", StatusCode::NOT_FOUND),
    ];
    for (path, status) in cases {
        let reply = mock
            .registry(Method::GET, path, Some(&auth), &[], vec![])
            .await;
        assert_eq!(reply.status, status, "{path}");
        assert!(
            !reply.error_code().is_empty(),
            "{path} returns an OCI error body"
        );
    }
}

#[tokio::test]
async fn state_survives_restart() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "IMMUTABLE").await;
    let auth = mock.login().await;
    let manifest = mock.push_image_blobs(&auth, "my-app", "persist").await;
    mock.put_manifest(&auth, "my-app", "v1", &manifest).await;
    let events_before = mock.journal().await.len();

    let TestMock { data, registry, .. } = mock;
    drop(registry);
    let restarted = TestMock::in_folder(data);

    let get = restarted
        .registry(
            Method::GET,
            "/v2/my-app/manifests/v1",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(
        get.status,
        StatusCode::OK,
        "the token and the image survive"
    );
    assert_eq!(get.body, manifest);
    let journal = restarted.journal().await;
    assert!(journal.len() >= events_before);
    let sequence: Vec<i64> = journal
        .iter()
        .map(|event| event["seq"].as_i64().unwrap())
        .collect();
    assert!(
        sequence.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "{sequence:?}"
    );
}

#[tokio::test]
async fn immutable_tag_wins_over_manifest_format() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "IMMUTABLE").await;
    let auth = mock.login().await;
    let first = mock.push_image_blobs(&auth, "my-app", "one").await;
    mock.put_manifest(&auth, "my-app", "v1", &first).await;

    // podman and skopeo retry a rejected push as a schema 1 manifest; the tag rule still applies.
    let schema1 = br#"{"schemaVersion":1,"name":"my-app","tag":"v1","fsLayers":[]}"#.to_vec();
    let retry = mock
        .registry(
            Method::PUT,
            "/v2/my-app/manifests/v1",
            Some(&auth),
            &[(
                "content-type",
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
            )],
            schema1.clone(),
        )
        .await;
    assert_eq!(retry.status, StatusCode::BAD_REQUEST);
    assert_eq!(retry.error_code(), "TAG_INVALID");

    let event = mock.journal().await.pop().expect("journaled");
    assert_eq!(event["action"], "ManifestPut");
    assert_eq!(event["errorCode"], "TAG_INVALID");
    assert_eq!(
        event["digest"],
        sha256(&schema1).as_str(),
        "the rejected manifest's digest"
    );
}

#[tokio::test]
async fn empty_basic_credentials_count_as_anonymous() {
    let mock = TestMock::new();
    let reply = mock
        .registry(Method::GET, "/v2/", Some(&basic("", "")), &[], vec![])
        .await;

    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.header("www-authenticate").is_some());
    assert!(
        mock.journal().await.is_empty(),
        "an anonymous probe is not a failed login"
    );
}

#[tokio::test]
async fn chunk_after_completion_is_upload_unknown() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let (location, _) = start_upload(&mock, &auth, "my-app").await;
    let digest = sha256(b"done");
    let finish = format!("{location}?digest={digest}");
    let done = mock
        .registry(Method::PUT, &finish, Some(&auth), &[], b"done".to_vec())
        .await;
    assert_eq!(done.status, StatusCode::CREATED);

    let late = mock
        .registry(Method::PATCH, &location, Some(&auth), &[], b"more".to_vec())
        .await;
    assert_eq!(late.status, StatusCode::NOT_FOUND);
    assert_eq!(late.error_code(), "BLOB_UPLOAD_UNKNOWN");
    let cancel = mock
        .registry(Method::DELETE, &location, Some(&auth), &[], vec![])
        .await;
    assert_eq!(cancel.error_code(), "BLOB_UPLOAD_UNKNOWN");
}

#[tokio::test]
async fn interrupted_body_is_client_error() {
    use axum::body::Body;
    use axum::http::Request;

    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let (location, _) = start_upload(&mock, &auth, "my-app").await;

    let chunks: Vec<Result<&'static [u8], std::io::Error>> = vec![
        Ok(b"first part".as_slice()),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    let request = Request::patch(&location)
        .header("host", common::HOST)
        .header("authorization", &auth)
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap();
    let reply = mock.send(request).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "BLOB_UPLOAD_INVALID");
    let status = mock
        .registry(Method::GET, &location, Some(&auth), &[], vec![])
        .await;
    assert_eq!(
        status.status,
        StatusCode::NO_CONTENT,
        "the upload can continue"
    );
    assert_eq!(
        status.header("range"),
        Some("0-9"),
        "the bytes received are kept"
    );
}

#[tokio::test]
async fn login_mistakes_get_specific_messages() {
    let mock = TestMock::new();
    let auth = mock.login().await;
    let token = auth.trim_start_matches("Basic ").to_owned();
    let decoded =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &token).unwrap();
    let password = String::from_utf8(decoded)
        .unwrap()
        .trim_start_matches("AWS:")
        .to_owned();

    let cases = [
        (basic("aws", &password), "the user name must be AWS"),
        (basic("AWS", &token), "whole base64 authorizationToken"),
    ];
    for (header, expected) in &cases {
        let reply = mock
            .registry(Method::GET, "/v2/", Some(header), &[], vec![])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{expected}");
        let message = reply.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(expected), "{message}");
    }
}

#[tokio::test]
async fn tag_list_pages_with_n_and_last() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let manifest = mock.push_image_blobs(&auth, "my-app", "paged").await;
    for tag in ["c", "a", "e", "b", "d"] {
        mock.put_manifest(&auth, "my-app", tag, &manifest).await;
    }

    let first = mock
        .registry(
            Method::GET,
            "/v2/my-app/tags/list?n=2",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(
        first.json(),
        json!({ "name": "my-app", "tags": ["a", "b"] })
    );
    assert_eq!(
        first.header("link"),
        Some("</v2/my-app/tags/list?n=2&last=b>; rel=\"next\"")
    );

    let last_page = mock
        .registry(
            Method::GET,
            "/v2/my-app/tags/list?n=2&last=d",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(last_page.json(), json!({ "name": "my-app", "tags": ["e"] }));
    assert_eq!(
        last_page.header("link"),
        None,
        "no link after the last page"
    );

    let all = mock
        .registry(
            Method::GET,
            "/v2/my-app/tags/list",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(all.json()["tags"], json!(["a", "b", "c", "d", "e"]));

    let bad = mock
        .registry(
            Method::GET,
            "/v2/my-app/tags/list?n=many",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.error_code(), "PAGINATION_NUMBER_INVALID");
}

#[tokio::test]
async fn blob_range_requests_return_parts() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let digest = mock.push_blob(&auth, "my-app", b"0123456789").await;
    let path = format!("/v2/my-app/blobs/{digest}");

    let cases = [
        ("bytes=2-5", "2345", "bytes 2-5/10"),
        ("bytes=7-", "789", "bytes 7-9/10"),
        ("bytes=-3", "789", "bytes 7-9/10"),
        ("bytes=8-100", "89", "bytes 8-9/10"),
    ];
    for (range, body, content_range) in cases {
        let reply = mock
            .registry(Method::GET, &path, Some(&auth), &[("range", range)], vec![])
            .await;
        assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(reply.body, body.as_bytes(), "{range}");
        assert_eq!(
            reply.header("content-range"),
            Some(content_range),
            "{range}"
        );
        assert_eq!(
            reply.header("content-length"),
            Some(body.len().to_string().as_str())
        );
    }

    for range in ["bytes=10-12", "bytes=5-2", "lines=1-2", "bytes=-0"] {
        let reply = mock
            .registry(Method::GET, &path, Some(&auth), &[("range", range)], vec![])
            .await;
        assert_eq!(reply.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(reply.header("content-range"), Some("bytes */10"), "{range}");
    }

    let whole = mock
        .registry(Method::GET, &path, Some(&auth), &[], vec![])
        .await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body, b"0123456789");
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
}

#[tokio::test]
async fn referrers_endpoint_lists_and_filters() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let image = mock.push_image_blobs(&auth, "my-app", "subject").await;
    mock.put_manifest(&auth, "my-app", "v1", &image).await;
    let subject = sha256(&image);

    let config = mock.push_blob(&auth, "my-app", b"{}").await;
    let mut referrer_digests = Vec::new();
    for (artifact_type, content) in [
        ("application/vnd.example.sbom", "sbom"),
        ("application/vnd.example.signature", "sig"),
    ] {
        let layer = mock.push_blob(&auth, "my-app", content.as_bytes()).await;
        // Fixed text, so the digest does not depend on serde_json's key order in this build.
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"{artifact_type}","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{config}","size":2}},"layers":[{{"mediaType":"application/octet-stream","digest":"{layer}","size":{}}}],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{subject}","size":{}}}}}"#,
            content.len(),
            image.len()
        )
        .into_bytes();
        let digest = sha256(&manifest);
        let put = mock.put_manifest(&auth, "my-app", &digest, &manifest).await;
        assert_eq!(
            put.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&put.body)
        );
        referrer_digests.push(digest);
    }

    let path = format!("/v2/my-app/referrers/{subject}");
    let all = mock
        .registry(Method::GET, &path, Some(&auth), &[], vec![])
        .await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(
        all.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    let index = all.json();
    assert_eq!(index["schemaVersion"], 2);
    let listed: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|descriptor| descriptor["digest"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = referrer_digests.iter().map(String::as_str).collect();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    expected.sort();
    assert_eq!(listed_sorted, expected);
    assert_eq!(all.header("oci-filters-applied"), None);

    let filtered_path = format!("{path}?artifactType=application/vnd.example.signature");
    let filtered = mock
        .registry(Method::GET, &filtered_path, Some(&auth), &[], vec![])
        .await;
    assert_eq!(filtered.header("oci-filters-applied"), Some("artifactType"));
    let manifests = filtered.json()["manifests"].as_array().unwrap().clone();
    assert_eq!(manifests.len(), 1);
    assert_eq!(
        manifests[0]["artifactType"],
        "application/vnd.example.signature"
    );

    let unknown = format!("/v2/my-app/referrers/{}", sha256(b"nothing refers to this"));
    let empty = mock
        .registry(Method::GET, &unknown, Some(&auth), &[], vec![])
        .await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json()["manifests"], json!([]));

    let bad = mock
        .registry(
            Method::GET,
            "/v2/my-app/referrers/sha256:nothex",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.error_code(), "DIGEST_INVALID");
}

/// Starts a blob upload in `repository` and returns its `Location` and upload id.
async fn start_upload(mock: &TestMock, auth: &str, repository: &str) -> (String, String) {
    let path = format!("/v2/{repository}/blobs/uploads/");
    let started = mock
        .registry(Method::POST, &path, Some(auth), &[], vec![])
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    let location = started.header("location").unwrap().to_owned();
    let id = started.header("docker-upload-uuid").unwrap().to_owned();
    (location, id)
}

#[tokio::test]
async fn pull_by_tag_converts_to_the_accepted_format() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let stored = mock.push_image_blobs(&auth, "my-app", "convert").await;
    let stored_digest = sha256(&stored);
    let put = mock.put_manifest(&auth, "my-app", "v1", &stored).await;
    assert_eq!(put.status, StatusCode::CREATED);

    let docker = "application/vnd.docker.distribution.manifest.v2+json";
    for method in [Method::GET, Method::HEAD] {
        let reply = mock
            .registry(
                method.clone(),
                "/v2/my-app/manifests/v1",
                Some(&auth),
                &[("accept", docker)],
                vec![],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{method}");
        assert_eq!(reply.header("content-type"), Some(docker), "{method}");
        let digest = reply.header("docker-content-digest").unwrap().to_owned();
        assert_ne!(
            digest, stored_digest,
            "{method}: a converted manifest has its own digest"
        );
        if method == Method::GET {
            assert_eq!(digest, sha256(&reply.body));
            let converted: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(converted["mediaType"], docker);
            assert_eq!(
                converted["config"]["mediaType"],
                "application/vnd.docker.container.image.v1+json"
            );
            assert_eq!(
                converted["layers"][0]["mediaType"],
                "application/vnd.docker.image.rootfs.diff.tar"
            );
        }
    }

    // The converted manifest's own digest fetches it, as a client that resolved the tag with
    // HEAD then requests.
    let converted = mock
        .registry(
            Method::GET,
            "/v2/my-app/manifests/v1",
            Some(&auth),
            &[("accept", docker)],
            vec![],
        )
        .await;
    let converted_digest = converted
        .header("docker-content-digest")
        .unwrap()
        .to_owned();
    let by_converted_digest = mock
        .registry(
            Method::GET,
            &format!("/v2/my-app/manifests/{converted_digest}"),
            Some(&auth),
            &[("accept", docker)],
            vec![],
        )
        .await;
    assert_eq!(by_converted_digest.status, StatusCode::OK);
    assert_eq!(by_converted_digest.body, converted.body);
    assert_eq!(by_converted_digest.header("content-type"), Some(docker));

    // A pull by digest is served as stored, whatever the client accepts.
    let by_digest = mock
        .registry(
            Method::GET,
            &format!("/v2/my-app/manifests/{stored_digest}"),
            Some(&auth),
            &[("accept", docker)],
            vec![],
        )
        .await;
    assert_eq!(by_digest.status, StatusCode::OK);
    assert_eq!(by_digest.body, stored);

    // Accepting the stored type, or any type, returns the stored manifest.
    for accept in [
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
        "*/*",
    ] {
        let reply = mock
            .registry(
                Method::GET,
                "/v2/my-app/manifests/v1",
                Some(&auth),
                &[("accept", accept)],
                vec![],
            )
            .await;
        assert_eq!(reply.body, stored, "{accept}");
        assert_eq!(
            reply.header("docker-content-digest"),
            Some(stored_digest.as_str())
        );
    }
}

#[tokio::test]
async fn abandoned_upload_expires_after_a_day() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let started = mock
        .registry(
            Method::POST,
            "/v2/my-app/blobs/uploads/",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    let location = started.header("location").unwrap().to_owned();
    let id = started.header("docker-upload-uuid").unwrap().to_owned();
    let patched = mock
        .registry(Method::PATCH, &location, Some(&auth), &[], b"half".to_vec())
        .await;
    assert_eq!(patched.status, StatusCode::ACCEPTED);
    let upload_file = mock.data.path().join("uploads").join(&id);
    assert!(upload_file.exists());

    mock.clock.advance(Duration::hours(23));
    let auth = mock.login().await;
    let status = mock
        .registry(Method::GET, &location, Some(&auth), &[], vec![])
        .await;
    assert_eq!(
        status.status,
        StatusCode::NO_CONTENT,
        "alive after 23 hours"
    );

    mock.clock
        .advance(Duration::hours(1) + Duration::seconds(1));
    let expired = mock
        .registry(Method::PATCH, &location, Some(&auth), &[], b"rest".to_vec())
        .await;
    assert_eq!(expired.status, StatusCode::NOT_FOUND);
    assert_eq!(expired.error_code(), "BLOB_UPLOAD_UNKNOWN");
    let message = expired.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains(&id) && message.contains("24 hours"),
        "{message}"
    );

    // The next upload sweeps the abandoned one away, file and all.
    let next = mock
        .registry(
            Method::POST,
            "/v2/my-app/blobs/uploads/",
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(next.status, StatusCode::ACCEPTED);
    assert!(
        !upload_file.exists(),
        "{} is left behind",
        upload_file.display()
    );
}

#[tokio::test]
async fn blob_mount_follows_the_blob_mounting_setting() {
    let mock = TestMock::new();
    for name in ["base", "app", "other"] {
        mock.create_repository(name, "MUTABLE").await;
    }
    let auth = mock.login().await;
    let digest = mock.push_blob(&auth, "base", b"shared layer").await;
    let mount = |target: &str, from: &str| {
        format!("/v2/{target}/blobs/uploads/?mount={digest}&from={from}")
    };

    let setting = mock
        .api("GetAccountSetting", json!({ "name": "BLOB_MOUNTING" }))
        .await;
    assert_eq!(
        setting.json(),
        json!({ "name": "BLOB_MOUNTING", "value": "DISABLED" })
    );
    let off = mock
        .registry(
            Method::POST,
            &mount("app", "base"),
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(
        off.status,
        StatusCode::ACCEPTED,
        "mounting is off: a normal upload starts"
    );
    assert!(off.header("docker-upload-uuid").is_some());

    let enabled = mock
        .api(
            "PutAccountSetting",
            json!({ "name": "BLOB_MOUNTING", "value": "ENABLED" }),
        )
        .await;
    assert_eq!(
        enabled.json(),
        json!({ "name": "BLOB_MOUNTING", "value": "ENABLED" })
    );
    let missing_source = mock
        .registry(
            Method::POST,
            &mount("app", "other"),
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(
        missing_source.status,
        StatusCode::ACCEPTED,
        "'other' lacks the blob"
    );

    let mounted = mock
        .registry(
            Method::POST,
            &mount("app", "base"),
            Some(&auth),
            &[],
            vec![],
        )
        .await;
    assert_eq!(mounted.status, StatusCode::CREATED);
    let location = format!("/v2/app/blobs/{digest}");
    assert_eq!(mounted.header("location"), Some(location.as_str()));
    let fetched = mock
        .registry(Method::GET, &location, Some(&auth), &[], vec![])
        .await;
    assert_eq!(fetched.body, b"shared layer");

    let bad = mock
        .api(
            "PutAccountSetting",
            json!({ "name": "BLOB_MOUNTING", "value": "YES" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let message = bad.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("not YES") && message.contains("ENABLED or DISABLED"),
        "{message}"
    );
    let unknown = mock
        .api("GetAccountSetting", json!({ "name": "MOUNTING" }))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.json()["message"]
            .as_str()
            .is_some_and(|message| message.contains("not MOUNTING")),
        "{}",
        unknown.json()
    );
}

/// Sends a registry GET addressed to `host`, as a client does after mapping an ECR-shaped name
/// to 127.0.0.1.
async fn get_with_host(mock: &TestMock, host: &str, path: &str, auth: &str) -> common::Reply {
    let request = axum::http::Request::get(path)
        .header("host", host)
        .header("authorization", auth)
        .body(axum::body::Body::empty())
        .unwrap();
    mock.send(request).await
}

#[tokio::test]
async fn ecr_shaped_hosts_must_match_the_token_registry() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let manifest = mock.push_image_blobs(&auth, "my-app", "host").await;
    mock.put_manifest(&auth, "my-app", "v1", &manifest).await;

    let own = "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000";
    let reply = get_with_host(&mock, own, "/v2/my-app/manifests/v1", &auth).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, manifest);

    let cases = [
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com:5000",
            "eu-west-1",
        ),
        (
            "210987654321.dkr.ecr.us-east-1.amazonaws.com",
            "account 210987654321",
        ),
    ];
    for (host, named) in cases {
        let reply = get_with_host(&mock, host, "/v2/", &auth).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{host}");
        assert_eq!(reply.error_code(), "DENIED", "{host}");
        let message = reply.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains(host)
                && message.contains(named)
                && message.contains("get-login-password"),
            "{host}: {message}"
        );
    }
    let event = mock.journal().await.pop().expect("journaled");
    assert_eq!(event["action"], "Login");
    assert_eq!(event["errorCode"], "DENIED");
}

/// Lists a repository's images as (digest, sorted tags), sorted, for comparing two repositories.
async fn image_state(mock: &TestMock, repository: &str) -> Vec<(String, Vec<String>)> {
    let reply = mock
        .api("DescribeImages", json!({ "repositoryName": repository }))
        .await;
    let mut state: Vec<(String, Vec<String>)> = reply.json()["imageDetails"]
        .as_array()
        .expect("imageDetails")
        .iter()
        .map(|image| {
            let mut tags: Vec<String> = image["imageTags"]
                .as_array()
                .map(|tags| {
                    tags.iter()
                        .filter_map(|tag| tag.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            tags.sort();
            (
                image["imageDigest"].as_str().unwrap_or_default().to_owned(),
                tags,
            )
        })
        .collect();
    state.sort();
    state
}

#[tokio::test]
async fn registry_deletes_match_batch_delete_image() {
    let mock = TestMock::new();
    let auth = mock.login().await;
    let mut digests = Vec::new();
    for repository in ["by-api", "by-registry"] {
        mock.create_repository(repository, "MUTABLE").await;
        let first = mock.push_image_blobs(&auth, repository, "first").await;
        let second = mock.push_image_blobs(&auth, repository, "second").await;
        for (tag, manifest) in [("a", &first), ("b", &first), ("c", &second)] {
            let put = mock.put_manifest(&auth, repository, tag, manifest).await;
            assert_eq!(put.status, StatusCode::CREATED);
        }
        digests = vec![sha256(&first), sha256(&second)];
    }

    // One tag of a two-tag image, then the last tag of another image, then an image by digest.
    let steps = [
        json!({ "imageTag": "a" }),
        json!({ "imageTag": "c" }),
        json!({ "imageDigest": digests[0] }),
    ];
    for step in steps {
        let deleted = mock
            .api(
                "BatchDeleteImage",
                json!({ "repositoryName": "by-api", "imageIds": [step] }),
            )
            .await;
        assert_eq!(deleted.json()["failures"], json!([]), "{step}");
        let reference = step["imageTag"]
            .as_str()
            .or_else(|| step["imageDigest"].as_str())
            .unwrap();
        let path = format!("/v2/by-registry/manifests/{reference}");
        let reply = mock
            .registry(Method::DELETE, &path, Some(&auth), &[], vec![])
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{step}");
        assert_eq!(
            image_state(&mock, "by-api").await,
            image_state(&mock, "by-registry").await,
            "after deleting {step}"
        );
    }
    assert_eq!(image_state(&mock, "by-registry").await, Vec::new());
}

#[tokio::test]
async fn huge_content_range_is_rejected_without_storing() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let (location, _) = start_upload(&mock, &auth, "my-app").await;

    for method in [Method::PATCH, Method::PUT] {
        let path = match method {
            Method::PUT => format!("{location}?digest={}", sha256(b"x")),
            _ => location.clone(),
        };
        let reply = mock
            .registry(
                method.clone(),
                &path,
                Some(&auth),
                &[("content-range", "0-18446744073709551615")],
                b"x".to_vec(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::RANGE_NOT_SATISFIABLE, "{method}");
        assert_eq!(reply.error_code(), "BLOB_UPLOAD_INVALID", "{method}");
    }
    let status = mock
        .registry(Method::GET, &location, Some(&auth), &[], vec![])
        .await;
    assert_eq!(status.status, StatusCode::NO_CONTENT);
    assert_eq!(status.header("range"), Some("0-0"));
    let finished = mock
        .registry(
            Method::PUT,
            &format!("{location}?digest={}", sha256(b"x")),
            Some(&auth),
            &[],
            b"x".to_vec(),
        )
        .await;
    assert_eq!(
        finished.status,
        StatusCode::CREATED,
        "the upload still works"
    );
}

#[tokio::test]
async fn wrong_closing_digest_says_upload_discarded() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let (location, id) = start_upload(&mock, &auth, "my-app").await;
    let wrong = sha256(b"something else");
    let reply = mock
        .registry(
            Method::PUT,
            &format!("{location}?digest={wrong}"),
            Some(&auth),
            &[],
            b"content".to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "DIGEST_INVALID");
    let message = reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains(&wrong), "{message}");
    assert!(
        message.contains(&format!("upload {id} was discarded")),
        "{message}"
    );
    assert!(message.contains("start a new upload"), "{message}");
}
