//! The admin API's clock: `GET /_ecrlab/clock` and `POST /_ecrlab/clock/advance?by=DURATION`,
//! and how tokens expire once the clock has moved.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Reply, TestMock};
use serde_json::Value;

async fn advance(mock: &TestMock, query: &str) -> Reply {
    let request = Request::post(format!("/_ecrlab/clock/advance{query}"))
        .body(Body::empty())
        .unwrap();
    mock.send(request).await
}

async fn clock(mock: &TestMock) -> Value {
    let request = Request::get("/_ecrlab/clock").body(Body::empty()).unwrap();
    let reply = mock.send(request).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}

fn error_message(reply: &Reply) -> String {
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn clock_shows_time_and_offset() {
    let mock = TestMock::new();
    let body = clock(&mock).await;
    assert_eq!(body["now"], "2026-12-04T12:00:00.000Z");
    assert_eq!(body["offset"], "0s");
    assert_eq!(body["offsetSeconds"], 0);
    assert!(body.get("advancedBy").is_none(), "{body}");
}

#[tokio::test]
async fn valid_durations_advance_clock() {
    // Each case starts from a fresh mock at 2026-12-04T12:00:00Z.
    let cases = [
        ("45s", "2026-12-04T12:00:45.000Z", "45s", 45),
        ("90m", "2026-12-04T13:30:00.000Z", "1h30m", 5_400),
        ("13h", "2026-12-05T01:00:00.000Z", "13h", 46_800),
        ("1d", "2026-12-05T12:00:00.000Z", "1d", 86_400),
        ("1h30m", "2026-12-04T13:30:00.000Z", "1h30m", 5_400),
        ("2d3h4m5s", "2026-12-06T15:04:05.000Z", "2d3h4m5s", 183_845),
    ];
    for (by, now, offset, seconds) in cases {
        let mock = TestMock::new();
        let reply = advance(&mock, &format!("?by={by}")).await;
        assert_eq!(reply.status, StatusCode::OK, "by={by}: {:?}", reply.json());
        let body = reply.json();
        assert_eq!(body["now"], now, "by={by}");
        assert_eq!(body["advancedBy"], offset, "by={by}");
        assert_eq!(body["offset"], offset, "by={by}");
        assert_eq!(body["offsetSeconds"], seconds, "by={by}");
        assert_eq!(clock(&mock).await["now"], now, "by={by}");
    }
}

#[tokio::test]
async fn invalid_durations_rejected() {
    let cases = [
        ("?by=-1h", "invalid duration '-1h'"),
        ("?by=0h", "invalid duration '0h'"),
        ("?by=0s", "invalid duration '0s'"),
        ("?by=13", "invalid duration '13'"),
        ("?by=13x", "invalid duration '13x'"),
        ("?by=1.5h", "invalid duration '1.5h'"),
        ("?by=30m1h", "invalid duration '30m1h'"),
        ("?by=h", "invalid duration 'h'"),
        ("?by=3651d", "invalid duration '3651d'"),
        (
            "?by=99999999999999999999h",
            "invalid duration '99999999999999999999h'",
        ),
        ("?by=", "the duration is empty"),
        ("", "query parameter 'by' is missing"),
        ("?hours=13", "unknown query parameter 'hours'"),
    ];
    let mock = TestMock::new();
    for (query, expected) in cases {
        let reply = advance(&mock, query).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        let message = error_message(&reply);
        assert!(message.contains(expected), "{query}: {message}");
    }
    assert_eq!(clock(&mock).await["offset"], "0s");
    assert!(mock.journal().await.is_empty());
}

#[tokio::test]
async fn advances_add_up_to_maximum() {
    let mock = TestMock::new();
    assert_eq!(advance(&mock, "?by=3000d").await.status, StatusCode::OK);
    let reply = advance(&mock, "?by=651d").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let message = error_message(&reply);
    assert!(message.contains("invalid duration '651d'"), "{message}");
    assert!(message.contains("already 3000d ahead"), "{message}");
    assert_eq!(advance(&mock, "?by=650d").await.status, StatusCode::OK);
    assert_eq!(clock(&mock).await["offset"], "3650d");
}

#[tokio::test]
async fn advance_is_journaled() {
    let mock = TestMock::new();
    advance(&mock, "?by=1h30m").await;
    let journal = mock.journal().await;
    assert_eq!(journal.len(), 1, "{journal:?}");
    let event = &journal[0];
    assert_eq!(event["source"], "admin");
    assert_eq!(event["action"], "ClockAdvance");
    assert_eq!(event["reference"], "1h30m");
    assert_eq!(event["outcome"], "ok");
    assert_eq!(event["time"], "2026-12-04T13:30:00.000Z");
    assert_eq!(event["region"], "us-east-1");
}

#[tokio::test]
async fn token_expires_after_thirteen_hours() {
    let mock = TestMock::new();
    mock.create_repository("my-app", "MUTABLE").await;
    let auth = mock.login().await;
    let valid = mock
        .registry(Method::GET, "/v2/", Some(&auth), &[], Vec::new())
        .await;
    assert_eq!(valid.status, StatusCode::OK);

    assert_eq!(advance(&mock, "?by=13h").await.status, StatusCode::OK);
    let expired = mock
        .registry(Method::GET, "/v2/", Some(&auth), &[], Vec::new())
        .await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert_eq!(expired.error_code(), "DENIED");
    let message = expired.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("authorization token has expired"),
        "{message}"
    );

    // The ECR API still accepts requests signed at the wall time, so a new token can be had.
    let fresh = mock.login().await;
    let upload = mock
        .registry(
            Method::POST,
            "/v2/my-app/blobs/uploads/",
            Some(&fresh),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(upload.status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn token_valid_until_twelve_hours() {
    let mock = TestMock::new();
    let auth = mock.login().await;
    assert_eq!(advance(&mock, "?by=11h59m59s").await.status, StatusCode::OK);
    let before = mock
        .registry(Method::GET, "/v2/", Some(&auth), &[], Vec::new())
        .await;
    assert_eq!(before.status, StatusCode::OK);

    assert_eq!(advance(&mock, "?by=1s").await.status, StatusCode::OK);
    let at_expiry = mock
        .registry(Method::GET, "/v2/", Some(&auth), &[], Vec::new())
        .await;
    assert_eq!(at_expiry.status, StatusCode::FORBIDDEN);
}
