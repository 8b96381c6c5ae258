//! Lifecycle policies through the ECR JSON API and the admin API, in process: validation,
//! evaluation that expires images, previews, and automatic evaluation on the fixed clock.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::TestMock;
use serde_json::{Value, json};
use time::Duration;

const REPOSITORY: &str = "my-app";

/// Sorts object keys in snapshots: another crate in the workspace turns on serde_json's
/// `preserve_order`, which would otherwise make key order depend on how the tests are built.
fn sorted_snapshots() -> insta::internals::SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.bind_to_scope()
}

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

/// Builds a policy text from rules, padded with spaces to ECR's minimum of 100 characters.
fn policy(rules: &[Value]) -> String {
    format!("{:<100}", sorted_keys(&json!({ "rules": rules })))
}

/// Serializes with object keys in sorted order, so the policy text (which snapshots show) does
/// not depend on whether serde_json's `preserve_order` is on in this build.
fn sorted_keys(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut sorted = serde_json::Map::new();
                for key in keys {
                    sorted.insert(key.clone(), sort(&map[key]));
                }
                Value::Object(sorted)
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

fn rule(priority: i64, selection: Value) -> Value {
    json!({ "rulePriority": priority, "selection": selection, "action": { "type": "expire" } })
}

/// Pushes an image under each of `tags` (untagged when empty) and returns its digest. The clock
/// moves one minute first, so every image has its own push time.
async fn push(mock: &TestMock, auth: &str, seed: &str, tags: &[&str]) -> String {
    mock.clock.advance(Duration::minutes(1));
    let manifest = mock.push_image_blobs(auth, REPOSITORY, seed).await;
    let digest = common::sha256(&manifest);
    let references: Vec<&str> = if tags.is_empty() {
        vec![digest.as_str()]
    } else {
        tags.to_vec()
    };
    for reference in references {
        let reply = mock
            .put_manifest(auth, REPOSITORY, reference, &manifest)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "push {seed}:{reference}");
    }
    digest
}

async fn image_digests(mock: &TestMock) -> Vec<String> {
    let listed = api_ok(mock, "ListImages", json!({ "repositoryName": REPOSITORY })).await;
    let mut digests: Vec<String> = listed["imageIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id["imageDigest"].as_str().unwrap().to_owned())
        .collect();
    digests.sort();
    digests.dedup();
    digests
}

async fn run_lifecycle(mock: &TestMock, query: &str) -> (StatusCode, Value) {
    let request = Request::post(format!("/_ecrlab/lifecycle/run{query}"))
        .body(Body::empty())
        .unwrap();
    let reply = mock.send(request).await;
    (reply.status, reply.json())
}

fn sorted(mut digests: Vec<String>) -> Vec<String> {
    digests.sort();
    digests
}

#[tokio::test]
async fn policy_round_trip() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    mock.create_repository(REPOSITORY, "MUTABLE").await;
    let text = policy(&[rule(
        1,
        json!({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}),
    )]);
    let input = json!({ "repositoryName": REPOSITORY, "lifecyclePolicyText": text });

    let put = api_ok(&mock, "PutLifecyclePolicy", input).await;
    insta::assert_json_snapshot!("put_lifecycle_policy", put);
    let fetched = api_ok(
        &mock,
        "GetLifecyclePolicy",
        json!({ "repositoryName": REPOSITORY }),
    )
    .await;
    assert_eq!(fetched["lifecyclePolicyText"], json!(text));
    assert!(
        fetched.get("lastEvaluatedAt").is_none(),
        "not yet evaluated"
    );

    run_lifecycle(&mock, "").await;
    let evaluated = api_ok(
        &mock,
        "GetLifecyclePolicy",
        json!({ "repositoryName": REPOSITORY }),
    )
    .await;
    insta::assert_json_snapshot!("get_lifecycle_policy_after_run", evaluated);

    let deleted = api_ok(
        &mock,
        "DeleteLifecyclePolicy",
        json!({ "repositoryName": REPOSITORY }),
    )
    .await;
    assert_eq!(deleted["lifecyclePolicyText"], json!(text));
    for operation in ["GetLifecyclePolicy", "DeleteLifecyclePolicy"] {
        let error = api_error(&mock, operation, json!({ "repositoryName": REPOSITORY })).await;
        assert_eq!(
            error["__type"], "LifecyclePolicyNotFoundException",
            "{operation}"
        );
        assert!(error["message"].as_str().unwrap().contains("'my-app'"));
    }
    let error = api_error(
        &mock,
        "GetLifecyclePolicy",
        json!({ "repositoryName": "missing" }),
    )
    .await;
    assert_eq!(error["__type"], "RepositoryNotFoundException");
}

#[tokio::test]
async fn invalid_policies_name_rule_and_field() {
    let mock = TestMock::new();
    mock.create_repository(REPOSITORY, "MUTABLE").await;
    let count = |status: &str| json!({"tagStatus": status, "countType": "imageCountMoreThan", "countNumber": 1});
    let cases: Vec<(String, &str)> = vec![
        ("{}".to_owned(), "length between 100 and 30720"),
        ("x".repeat(30_721), "length between 100 and 30720"),
        (format!("{:<100}", "not json"), "not JSON"),
        (
            format!("{:<100}", r#"{"rule": []}"#),
            "unknown property \"rule\"",
        ),
        (format!("{:<100}", r#"{"rules": []}"#), "non-empty array"),
        (
            policy(&[json!({"selection": count("any"), "action": {"type": "expire"}})]),
            "rules[0]: rulePriority is missing",
        ),
        (policy(&[rule(0, count("any"))]), "rulePriority is 0"),
        (
            policy(&[rule(1, count("untagged")), rule(1, count("any"))]),
            "rulePriority 1 is used by more than one rule",
        ),
        (
            policy(&[rule(1, count("any")), rule(2, count("untagged"))]),
            "rule 1: a rule with tagStatus \"any\" must have the highest rulePriority",
        ),
        (
            policy(&[rule(1, count("everything"))]),
            "rule 1: selection.tagStatus \"everything\" is invalid",
        ),
        (
            policy(&[rule(1, count("tagged"))]),
            "rule 1: tagStatus \"tagged\" requires selection.tagPrefixList",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "tagged", "tagPrefixList": ["v"], "tagPatternList": ["v*"], "countType": "imageCountMoreThan", "countNumber": 1}),
            )]),
            "not both",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "untagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 1}),
            )]),
            "tagPrefixList is allowed only with tagStatus \"tagged\"",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "tagged", "tagPrefixList": [], "countType": "imageCountMoreThan", "countNumber": 1}),
            )]),
            "tagPrefixList must be a non-empty array",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "tagged", "tagPatternList": ["*a*b*c*d*"], "countType": "imageCountMoreThan", "countNumber": 1}),
            )]),
            "has 5 wildcards",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 0}),
            )]),
            "rule 1: selection.countNumber is 0",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "any", "countType": "imageCountMoreThan"}),
            )]),
            "selection.countNumber is missing",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "any", "countType": "sinceImagePushed", "countNumber": 3}),
            )]),
            "requires selection.countUnit \"days\"",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "hours", "countNumber": 3}),
            )]),
            "countUnit is \"hours\"",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 3}),
            )]),
            "countUnit is allowed only with countType \"sinceImagePushed\"",
        ),
        (
            policy(&[rule(
                1,
                json!({"tagStatus": "any", "countType": "newest", "countNumber": 3}),
            )]),
            "selection.countType is \"newest\"",
        ),
        (
            policy(&[
                json!({"rulePriority": 1, "selection": count("any"), "action": {"type": "delete"}}),
            ]),
            "rule 1: action.type is \"delete\"",
        ),
        (
            policy(&[json!({"rulePriority": 1, "selection": count("any")})]),
            "rule 1: action is missing",
        ),
    ];
    for (text, expected) in cases {
        let input = json!({ "repositoryName": REPOSITORY, "lifecyclePolicyText": text });
        let error = api_error(&mock, "PutLifecyclePolicy", input).await;
        assert_eq!(error["__type"], "InvalidParameterException", "{expected}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(expected),
            "expected '{expected}' in: {message}"
        );
        assert!(message.contains("'lifecyclePolicyText'"), "{message}");
    }
    let preview = api_error(
        &mock,
        "StartLifecyclePolicyPreview",
        json!({ "repositoryName": REPOSITORY, "lifecyclePolicyText": "{}" }),
    )
    .await;
    assert_eq!(preview["__type"], "InvalidParameterException");
}

/// Pushes six images and returns a policy of three rules with the digests it expires. Rule 1
/// selects the two `release-*` images and keeps both. Rule 2 selects both untagged images and
/// expires the one older than 7 days; the newer one is claimed by rule 2, so rule 3 cannot
/// expire it. Rule 3 selects `dev-1` and `dev-2` and keeps only the newest, `dev-2`.
async fn mixed_repository(mock: &TestMock) -> (String, Vec<String>) {
    mock.create_repository(REPOSITORY, "MUTABLE").await;
    let auth = mock.login().await;
    let old_release = push(mock, &auth, "r1", &["release-1", "latest-1"]).await;
    let old_untagged = push(mock, &auth, "u1", &[]).await;
    let dev_old = push(mock, &auth, "d1", &["dev-1"]).await;
    mock.clock.advance(Duration::days(10));
    // The first token expired 12 hours after it was issued.
    let auth = mock.login().await;
    let new_release = push(mock, &auth, "r2", &["release-2"]).await;
    let new_untagged = push(mock, &auth, "u2", &[]).await;
    let dev_new = push(mock, &auth, "d2", &["dev-2"]).await;
    let text = policy(&[
        rule(
            1,
            json!({"tagStatus": "tagged", "tagPatternList": ["release-*"], "countType": "imageCountMoreThan", "countNumber": 5}),
        ),
        rule(
            2,
            json!({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7}),
        ),
        rule(
            3,
            json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}),
        ),
    ]);
    let _ = (old_release, new_release, new_untagged, dev_new);
    (text, vec![old_untagged, dev_old])
}

#[tokio::test]
async fn run_expires_selected_images() {
    let mock = TestMock::new();
    let (text, expected) = mixed_repository(&mock).await;
    let before = image_digests(&mock).await;
    api_ok(
        &mock,
        "PutLifecyclePolicy",
        json!({ "repositoryName": REPOSITORY, "lifecyclePolicyText": text }),
    )
    .await;

    let (status, output) = run_lifecycle(&mock, "?repository=my-app").await;
    assert_eq!(status, StatusCode::OK, "{output}");
    assert_eq!(output["evaluatedPolicies"], 1);
    let expired: Vec<String> = output["expiredImages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|image| image["imageDigest"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        output["expiredImages"][0]["appliedRulePriority"], 2,
        "{output}"
    );
    assert_eq!(sorted(expired.clone()), sorted(expected.clone()));

    let remaining = image_digests(&mock).await;
    assert_eq!(remaining.len(), before.len() - expected.len());
    for digest in &expected {
        assert!(!remaining.contains(digest), "{digest} was expired");
    }
    let journaled: Vec<String> = mock
        .journal()
        .await
        .into_iter()
        .filter(|event| event["action"] == "LifecycleExpire")
        .map(|event| {
            assert_eq!(event["repository"], REPOSITORY);
            assert_eq!(event["source"], "lifecycle");
            assert_eq!(event["outcome"], "ok");
            event["digest"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(sorted(journaled), sorted(expected));

    let (status, output) = run_lifecycle(&mock, "?repository=other").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(output["error"].as_str().unwrap().contains("'other'"));
    let (status, _) = run_lifecycle(&mock, "?repo=my-app").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn preview_matches_evaluation() {
    let _sorted = sorted_snapshots();
    let mock = TestMock::new();
    let (text, expected) = mixed_repository(&mock).await;

    let error = api_error(
        &mock,
        "GetLifecyclePolicyPreview",
        json!({ "repositoryName": REPOSITORY }),
    )
    .await;
    assert_eq!(error["__type"], "LifecyclePolicyPreviewNotFoundException");
    let error = api_error(
        &mock,
        "StartLifecyclePolicyPreview",
        json!({ "repositoryName": REPOSITORY }),
    )
    .await;
    assert_eq!(error["__type"], "LifecyclePolicyNotFoundException");

    let started = api_ok(
        &mock,
        "StartLifecyclePolicyPreview",
        json!({ "repositoryName": REPOSITORY, "lifecyclePolicyText": text }),
    )
    .await;
    assert_eq!(started["status"], "COMPLETE");
    let preview = api_ok(
        &mock,
        "GetLifecyclePolicyPreview",
        json!({ "repositoryName": REPOSITORY }),
    )
    .await;
    insta::assert_json_snapshot!("get_lifecycle_policy_preview", preview);
    assert_eq!(preview["summary"]["expiringImageTotalCount"], 2);
    let previewed: Vec<String> = preview["previewResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["imageDigest"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sorted(previewed.clone()), sorted(expected.clone()));
    assert_eq!(
        image_digests(&mock).await.len(),
        6,
        "a preview expires nothing"
    );

    let first = api_ok(
        &mock,
        "GetLifecyclePolicyPreview",
        json!({ "repositoryName": REPOSITORY, "maxResults": 1 }),
    )
    .await;
    assert_eq!(first["previewResults"].as_array().unwrap().len(), 1);
    let token = first["nextToken"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second = api_ok(
        &mock,
        "GetLifecyclePolicyPreview",
        json!({ "repositoryName": REPOSITORY, "maxResults": 1, "nextToken": token }),
    )
    .await;
    assert_eq!(second["previewResults"].as_array().unwrap().len(), 1);
    assert!(second.get("nextToken").is_none());

    let untagged = api_ok(
        &mock,
        "GetLifecyclePolicyPreview",
        json!({ "repositoryName": REPOSITORY, "filter": { "tagStatus": "UNTAGGED" } }),
    )
    .await;
    assert_eq!(untagged["previewResults"].as_array().unwrap().len(), 1);
    let error = api_error(
        &mock,
        "GetLifecyclePolicyPreview",
        json!({ "repositoryName": REPOSITORY, "maxResults": 101 }),
    )
    .await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("between 1 and 100")
    );

    api_ok(
        &mock,
        "PutLifecyclePolicy",
        json!({ "repositoryName": REPOSITORY, "lifecyclePolicyText": text }),
    )
    .await;
    let (_, output) = run_lifecycle(&mock, "").await;
    let expired: Vec<String> = output["expiredImages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|image| image["imageDigest"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        expired, previewed,
        "evaluation expires what the preview listed, in order"
    );
}

#[tokio::test]
async fn clock_advance_runs_policy() {
    let mock = TestMock::new();
    let (text, expected) = mixed_repository(&mock).await;
    api_ok(
        &mock,
        "PutLifecyclePolicy",
        json!({ "repositoryName": REPOSITORY, "lifecyclePolicyText": text }),
    )
    .await;

    mock.clock.advance(Duration::hours(23));
    assert_eq!(
        image_digests(&mock).await.len(),
        6,
        "not due before 24 hours"
    );

    mock.clock.advance(Duration::hours(1));
    let remaining = image_digests(&mock).await;
    assert_eq!(remaining.len(), 4);
    for digest in &expected {
        assert!(!remaining.contains(digest), "{digest} was expired");
    }
    let evaluated = api_ok(
        &mock,
        "GetLifecyclePolicy",
        json!({ "repositoryName": REPOSITORY }),
    )
    .await;
    assert!(evaluated["lastEvaluatedAt"].is_number(), "{evaluated}");
}
