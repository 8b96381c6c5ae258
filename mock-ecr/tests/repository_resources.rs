//! Repository resources through the ECR JSON API, in process: resource tags, repository
//! policies, DescribeRegistry and tag mutability exclusion filters, the last also through a
//! registry push.

mod common;

use axum::http::StatusCode;
use common::TestMock;
use serde_json::{Value, json};

const ARN: &str = "arn:aws:ecr:us-east-1:123456789012:repository/my-app";

const PULL_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowPull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;

/// Sorts object keys in snapshots: another crate in the workspace turns on serde_json's
/// `preserve_order`, which would otherwise make key order depend on how the tests are built.
fn sorted_snapshots() -> insta::internals::SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.bind_to_scope()
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

fn tags(pairs: &[(&str, &str)]) -> Value {
    pairs
        .iter()
        .map(|(key, value)| json!({ "Key": key, "Value": value }))
        .collect()
}

async fn list_tags(mock: &TestMock) -> Value {
    api_ok(mock, "ListTagsForResource", json!({ "resourceArn": ARN })).await["tags"].clone()
}

#[tokio::test]
async fn resource_tags_round_trip() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    api_ok(
        &mock,
        "CreateRepository",
        json!({ "repositoryName": "my-app", "tags": tags(&[("team", "payments"), ("env", "")]) }),
    )
    .await;
    insta::assert_json_snapshot!("tags_after_create", list_tags(&mock).await);

    let tagged = api_ok(
        &mock,
        "TagResource",
        json!({ "resourceArn": ARN, "tags": tags(&[("team", "checkout"), ("owner", "a@example.com")]) }),
    )
    .await;
    assert_eq!(tagged, json!({}));
    assert_eq!(
        list_tags(&mock).await,
        tags(&[
            ("env", ""),
            ("owner", "a@example.com"),
            ("team", "checkout")
        ]),
        "TagResource adds keys and replaces values"
    );

    let untagged = api_ok(
        &mock,
        "UntagResource",
        json!({ "resourceArn": ARN, "tagKeys": ["env", "not-set"] }),
    )
    .await;
    assert_eq!(untagged, json!({}));
    assert_eq!(
        list_tags(&mock).await,
        tags(&[("owner", "a@example.com"), ("team", "checkout")]),
        "UntagResource removes the keys it names and ignores absent ones"
    );

    api_ok(
        &mock,
        "DeleteRepository",
        json!({ "repositoryName": "my-app" }),
    )
    .await;
    mock.create_repository("my-app", "MUTABLE").await;
    assert_eq!(
        list_tags(&mock).await,
        json!([]),
        "a deleted repository's tags do not come back"
    );
}

#[tokio::test]
async fn resource_tag_errors() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let malformed = api_error(
        &mock,
        "ListTagsForResource",
        json!({ "resourceArn": "my-app" }),
    )
    .await;
    insta::assert_json_snapshot!("malformed_arn", malformed);

    let foreign = api_error(
        &mock,
        "TagResource",
        json!({
            "resourceArn": "arn:aws:ecr:eu-west-1:123456789012:repository/my-app",
            "tags": tags(&[("team", "x")]),
        }),
    )
    .await;
    assert_eq!(foreign["__type"], "InvalidParameterException");
    assert!(
        foreign["message"].as_str().unwrap().contains("eu-west-1"),
        "{foreign}"
    );

    let missing = api_error(
        &mock,
        "UntagResource",
        json!({
            "resourceArn": "arn:aws:ecr:us-east-1:123456789012:repository/ghost",
            "tagKeys": ["team"],
        }),
    )
    .await;
    assert_eq!(missing["__type"], "RepositoryNotFoundException");

    let reserved = api_error(
        &mock,
        "TagResource",
        json!({ "resourceArn": ARN, "tags": tags(&[("aws:team", "x")]) }),
    )
    .await;
    insta::assert_json_snapshot!("reserved_tag_key", reserved);

    let long_key = "k".repeat(129);
    let too_long = api_error(
        &mock,
        "TagResource",
        json!({ "resourceArn": ARN, "tags": tags(&[(&long_key, "x")]) }),
    )
    .await;
    assert_eq!(too_long["__type"], "InvalidTagParameterException");

    let reserved_untag = api_error(
        &mock,
        "UntagResource",
        json!({ "resourceArn": ARN, "tagKeys": ["aws:team"] }),
    )
    .await;
    assert_eq!(reserved_untag["__type"], "InvalidTagParameterException");
    let message = reserved_untag["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("tagKeys"),
        "names the request member: {message}"
    );

    let fifty: Vec<(String, String)> = (0..50)
        .map(|i| (format!("key-{i:02}"), "v".into()))
        .collect();
    let fifty: Vec<(&str, &str)> = fifty
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    api_ok(
        &mock,
        "TagResource",
        json!({ "resourceArn": ARN, "tags": tags(&fifty) }),
    )
    .await;
    api_ok(
        &mock,
        "TagResource",
        json!({ "resourceArn": ARN, "tags": tags(&[("key-00", "replaced")]) }),
    )
    .await;
    let over = api_error(
        &mock,
        "TagResource",
        json!({ "resourceArn": ARN, "tags": tags(&[("key-50", "v")]) }),
    )
    .await;
    insta::assert_json_snapshot!("too_many_tags", over);
    assert_eq!(
        list_tags(&mock).await.as_array().map(Vec::len),
        Some(50),
        "a rejected TagResource changes nothing"
    );

    let mut fifty_one = fifty.clone();
    fifty_one.push(("key-50", "v"));
    let create = api_error(
        &mock,
        "CreateRepository",
        json!({ "repositoryName": "other", "tags": tags(&fifty_one) }),
    )
    .await;
    assert_eq!(create["__type"], "TooManyTagsException");
    let not_created = api_error(
        &mock,
        "DescribeRepositories",
        json!({ "repositoryNames": ["other"] }),
    )
    .await;
    assert_eq!(not_created["__type"], "RepositoryNotFoundException");
}

#[tokio::test]
async fn repository_policy_lifecycle() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let name = json!({ "repositoryName": "my-app" });

    let none = api_error(&mock, "GetRepositoryPolicy", name.clone()).await;
    insta::assert_json_snapshot!("policy_not_found", none);

    let set = api_ok(
        &mock,
        "SetRepositoryPolicy",
        json!({ "repositoryName": "my-app", "policyText": PULL_POLICY }),
    )
    .await;
    insta::assert_json_snapshot!("set_repository_policy", set);

    let got = api_ok(&mock, "GetRepositoryPolicy", name.clone()).await;
    assert_eq!(got, set, "GetRepositoryPolicy returns the text as set");

    let forced = api_ok(
        &mock,
        "SetRepositoryPolicy",
        json!({ "repositoryName": "my-app", "policyText": PULL_POLICY, "force": true }),
    )
    .await;
    assert_eq!(forced, set);

    let deleted = api_ok(&mock, "DeleteRepositoryPolicy", name.clone()).await;
    assert_eq!(
        deleted, set,
        "DeleteRepositoryPolicy returns the policy it removed"
    );
    let again = api_error(&mock, "DeleteRepositoryPolicy", name.clone()).await;
    assert_eq!(again["__type"], "RepositoryPolicyNotFoundException");

    api_ok(
        &mock,
        "SetRepositoryPolicy",
        json!({ "repositoryName": "my-app", "policyText": PULL_POLICY }),
    )
    .await;
    api_ok(&mock, "DeleteRepository", name.clone()).await;
    mock.create_repository("my-app", "MUTABLE").await;
    let gone = api_error(&mock, "GetRepositoryPolicy", name).await;
    assert_eq!(
        gone["__type"], "RepositoryPolicyNotFoundException",
        "DeleteRepository removes the policy"
    );
}

#[tokio::test]
async fn repository_policy_errors() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;

    let missing = api_error(
        &mock,
        "SetRepositoryPolicy",
        json!({ "repositoryName": "ghost", "policyText": PULL_POLICY }),
    )
    .await;
    assert_eq!(missing["__type"], "RepositoryNotFoundException");
    for operation in ["GetRepositoryPolicy", "DeleteRepositoryPolicy"] {
        let missing = api_error(&mock, operation, json!({ "repositoryName": "ghost" })).await;
        assert_eq!(
            missing["__type"], "RepositoryNotFoundException",
            "{operation}"
        );
    }

    let wrong_action = PULL_POLICY.replace("ecr:BatchGetImage", "s3:GetObject");
    let invalid = api_error(
        &mock,
        "SetRepositoryPolicy",
        json!({ "repositoryName": "my-app", "policyText": wrong_action }),
    )
    .await;
    insta::assert_json_snapshot!("invalid_policy", invalid);

    let not_json = api_error(
        &mock,
        "SetRepositoryPolicy",
        json!({ "repositoryName": "my-app", "policyText": "allow everyone" }),
    )
    .await;
    assert_eq!(not_json["__type"], "InvalidParameterException");

    let padded = format!("{PULL_POLICY}{}", " ".repeat(10_241 - PULL_POLICY.len()));
    let too_long = api_error(
        &mock,
        "SetRepositoryPolicy",
        json!({ "repositoryName": "my-app", "policyText": padded }),
    )
    .await;
    assert_eq!(too_long["__type"], "InvalidParameterException");
    assert!(
        too_long["message"].as_str().unwrap().contains("10240"),
        "{too_long}"
    );

    let unset = api_error(
        &mock,
        "GetRepositoryPolicy",
        json!({ "repositoryName": "my-app" }),
    )
    .await;
    assert_eq!(
        unset["__type"], "RepositoryPolicyNotFoundException",
        "rejected policies are not stored"
    );
}

#[tokio::test]
async fn describe_registry_has_no_replication() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    insta::assert_json_snapshot!(api_ok(&mock, "DescribeRegistry", json!({})).await);
}

fn filters(patterns: &[&str]) -> Value {
    patterns
        .iter()
        .map(|pattern| json!({ "filterType": "WILDCARD", "filter": pattern }))
        .collect()
}

#[tokio::test]
async fn exclusion_filters_are_stored_and_reported() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    let created = api_ok(
        &mock,
        "CreateRepository",
        json!({
            "repositoryName": "my-app",
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": filters(&["dev-*", "latest"]),
        }),
    )
    .await;
    insta::assert_json_snapshot!("create_with_exclusions", created);

    let described = api_ok(
        &mock,
        "DescribeRepositories",
        json!({ "repositoryNames": ["my-app"] }),
    )
    .await;
    assert_eq!(
        described["repositories"][0]["imageTagMutabilityExclusionFilters"],
        filters(&["dev-*", "latest"])
    );

    let changed = api_ok(
        &mock,
        "PutImageTagMutability",
        json!({
            "repositoryName": "my-app",
            "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": filters(&["v*"]),
        }),
    )
    .await;
    insta::assert_json_snapshot!("put_mutability_with_exclusions", changed);

    let plain = api_ok(
        &mock,
        "PutImageTagMutability",
        json!({ "repositoryName": "my-app", "imageTagMutability": "IMMUTABLE" }),
    )
    .await;
    assert!(
        plain.get("imageTagMutabilityExclusionFilters").is_none(),
        "{plain}"
    );
    let described = api_ok(&mock, "DescribeRepositories", json!({})).await;
    let repository = &described["repositories"][0];
    assert_eq!(repository["imageTagMutability"], "IMMUTABLE");
    assert!(
        repository
            .get("imageTagMutabilityExclusionFilters")
            .is_none(),
        "switching to IMMUTABLE drops the filters: {repository}"
    );
}

#[tokio::test]
async fn exclusion_filter_errors() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let six = filters(&["a", "b", "c", "d", "e", "f"]);
    let cases = [
        ("IMMUTABLE_WITH_EXCLUSION", Value::Null, "needs 1 to 5"),
        (
            "IMMUTABLE_WITH_EXCLUSION",
            json!([]),
            "greater than or equal to 1",
        ),
        ("MUTABLE_WITH_EXCLUSION", six, "less than or equal to 5"),
        ("MUTABLE_WITH_EXCLUSION", filters(&["dev/*"]), "'dev/*'"),
        (
            "MUTABLE_WITH_EXCLUSION",
            json!([{ "filterType": "REGEX", "filter": "dev-.*" }]),
            "'REGEX'",
        ),
        ("IMMUTABLE", filters(&["dev-*"]), "apply only to"),
        ("SOMETIMES", Value::Null, "'SOMETIMES'"),
    ];
    for (mutability, exclusion_filters, expected) in cases {
        let mut input = json!({ "repositoryName": "my-app", "imageTagMutability": mutability });
        if !exclusion_filters.is_null() {
            input["imageTagMutabilityExclusionFilters"] = exclusion_filters.clone();
        }
        let error = api_error(&mock, "PutImageTagMutability", input.clone()).await;
        assert_eq!(error["__type"], "InvalidParameterException", "{input}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(expected), "{input}: {message}");

        input["repositoryName"] = json!("other");
        let error = api_error(&mock, "CreateRepository", input.clone()).await;
        assert_eq!(error["__type"], "InvalidParameterException", "{input}");
    }

    let missing = api_error(
        &mock,
        "PutImageTagMutability",
        json!({
            "repositoryName": "ghost",
            "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": filters(&["dev-*"]),
        }),
    )
    .await;
    assert_eq!(missing["__type"], "RepositoryNotFoundException");

    let unchanged = api_ok(&mock, "DescribeRepositories", json!({})).await;
    assert_eq!(
        unchanged["repositories"][0]["imageTagMutability"],
        "MUTABLE"
    );
}

/// Pushes `manifest` under `tag` and returns the HTTP status with the OCI error code, if any.
async fn push(mock: &TestMock, auth: &str, tag: &str, manifest: &[u8]) -> (StatusCode, String) {
    let reply = mock.put_manifest(auth, "my-app", tag, manifest).await;
    let code = if reply.status.is_success() {
        String::new()
    } else {
        reply.error_code()
    };
    (reply.status, code)
}

#[tokio::test]
async fn registry_push_applies_exclusion_filters() {
    let mock = TestMock::new();
    api_ok(
        &mock,
        "CreateRepository",
        json!({
            "repositoryName": "my-app",
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": filters(&["dev-*", "latest"]),
        }),
    )
    .await;
    let auth = mock.login().await;
    let first = mock.push_image_blobs(&auth, "my-app", "first").await;
    let second = mock.push_image_blobs(&auth, "my-app", "second").await;
    for tag in ["v1", "dev-1", "latest"] {
        assert_eq!(
            push(&mock, &auth, tag, &first).await.0,
            StatusCode::CREATED,
            "{tag}"
        );
    }

    let moved = [
        ("v1", StatusCode::BAD_REQUEST, "TAG_INVALID"),
        ("dev-1", StatusCode::CREATED, ""),
        ("latest", StatusCode::CREATED, ""),
    ];
    for (tag, status, code) in moved {
        let (actual_status, actual_code) = push(&mock, &auth, tag, &second).await;
        assert_eq!(actual_status, status, "IMMUTABLE_WITH_EXCLUSION, tag {tag}");
        assert_eq!(actual_code, code, "IMMUTABLE_WITH_EXCLUSION, tag {tag}");
    }

    api_ok(
        &mock,
        "PutImageTagMutability",
        json!({
            "repositoryName": "my-app",
            "imageTagMutability": "MUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": filters(&["v*"]),
        }),
    )
    .await;
    // v1 still names the first image, while dev-1 and latest were moved to the second: each push
    // below moves a tag to the other image.
    let moved = [
        ("v1", &second, StatusCode::BAD_REQUEST, "TAG_INVALID"),
        ("dev-1", &first, StatusCode::CREATED, ""),
        ("latest", &first, StatusCode::CREATED, ""),
    ];
    for (tag, manifest, status, code) in moved {
        let (actual_status, actual_code) = push(&mock, &auth, tag, manifest).await;
        assert_eq!(actual_status, status, "MUTABLE_WITH_EXCLUSION, tag {tag}");
        assert_eq!(actual_code, code, "MUTABLE_WITH_EXCLUSION, tag {tag}");
    }
    assert_eq!(
        push(&mock, &auth, "v2", &second).await.0,
        StatusCode::CREATED,
        "a new tag that matches a filter is created"
    );

    let images = api_ok(
        &mock,
        "DescribeImages",
        json!({ "repositoryName": "my-app" }),
    )
    .await;
    let tags_of = |seed_tag: &str| -> Vec<String> {
        images["imageDetails"]
            .as_array()
            .unwrap()
            .iter()
            .find(|detail| {
                detail["imageTags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t == seed_tag)
            })
            .map(|detail| {
                detail["imageTags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut first_tags = tags_of("v1");
    first_tags.sort();
    assert_eq!(first_tags, ["dev-1", "latest", "v1"], "{images}");
}
