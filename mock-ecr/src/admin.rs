//! The admin API under `/_ecrlab/`: health and the journal, read by `ecrlab check`, the
//! on-demand run of lifecycle policies, called by `ecrlab lifecycle run`, and the mock's clock,
//! read and moved by `ecrlab clock`.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::core::{Caller, Event, Registry, Source};
use crate::store::db::JournalRow;

/// The most journal events returned by one request; clients page with `after`.
pub const MAX_JOURNAL_PAGE: i64 = 10_000;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    status: &'static str,
    version: &'static str,
    account_id: String,
    region: String,
    registry_host: String,
    endpoint: String,
    time: String,
}

/// `GET /_ecrlab/health`.
pub fn health(registry: &Registry, endpoint: &str) -> Response {
    let settings = registry.settings();
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        account_id: settings.default_account.clone(),
        region: settings.default_region.clone(),
        registry_host: settings.registry_host.clone(),
        endpoint: endpoint.to_owned(),
        time: crate::clock::rfc3339(registry.clock().now()),
    })
    .into_response()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JournalEvent {
    seq: i64,
    time: String,
    account: String,
    region: String,
    source: String,
    action: String,
    repository: Option<String>,
    reference: Option<String>,
    digest: Option<String>,
    host: Option<String>,
    user_agent: Option<String>,
    outcome: String,
    error_code: Option<String>,
    message: Option<String>,
}

impl From<JournalRow> for JournalEvent {
    fn from(row: JournalRow) -> Self {
        Self {
            seq: row.seq,
            time: row.time,
            account: row.account,
            region: row.region,
            source: row.source,
            action: row.action,
            repository: row.repository,
            reference: row.reference,
            digest: row.digest,
            host: row.host,
            user_agent: row.user_agent,
            outcome: row.outcome,
            error_code: row.error_code,
            message: row.message,
        }
    }
}

/// `GET /_ecrlab/journal?after=SEQ&limit=N`: events with `seq` greater than `after`.
pub fn journal(registry: &Arc<Registry>, query: Option<&str>) -> Response {
    let mut after = 0i64;
    let mut limit = MAX_JOURNAL_PAGE;
    for pair in query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let parsed = value.parse::<i64>().ok().filter(|number| *number >= 0);
        match (key, parsed) {
            ("after", Some(number)) => after = number,
            ("limit", Some(number)) => limit = number.clamp(1, MAX_JOURNAL_PAGE),
            ("after" | "limit", None) => {
                return bad_request(format!(
                    "query parameter '{key}' must be a non-negative integer, got '{value}'"
                ));
            }
            _ => {
                return bad_request(format!(
                    "unknown query parameter '{key}': use 'after' and 'limit'"
                ));
            }
        }
    }
    match registry.journal(after, limit) {
        Ok(rows) => {
            let events: Vec<JournalEvent> = rows.into_iter().map(JournalEvent::from).collect();
            Json(json!({ "events": events })).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "failed to read the journal");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": error.to_string() })),
            )
                .into_response()
        }
    }
}

/// The path of the admin request that evaluates lifecycle policies now.
pub const LIFECYCLE_RUN_PATH: &str = "/_ecrlab/lifecycle/run";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExpiredImageJson {
    account: String,
    region: String,
    repository: String,
    image_digest: String,
    image_tags: Vec<String>,
    image_pushed_at: String,
    applied_rule_priority: i64,
}

/// `POST /_ecrlab/lifecycle/run?repository=NAME`: evaluates every lifecycle policy, or those of
/// the repositories named NAME in any account and region, and returns the images expired.
pub fn run_lifecycle(registry: &Registry, query: Option<&str>) -> Response {
    let mut repository = None;
    for pair in query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match (key, value) {
            ("repository", "") => {
                return bad_request(
                    "query parameter 'repository' needs a repository name, as repository=my-app"
                        .to_owned(),
                );
            }
            // Repository names contain only lowercase letters, digits, `.`, `_`, `-` and `/`,
            // so `/` is the only character a client percent-encodes.
            ("repository", name) => {
                repository = Some(name.replace("%2F", "/").replace("%2f", "/"));
            }
            _ => {
                return bad_request(format!("unknown query parameter '{key}': use 'repository'"));
            }
        }
    }
    let repository = repository.as_deref();

    match registry.run_lifecycle_policies(repository) {
        Ok((_, 0)) if repository.is_some() => (
            StatusCode::NOT_FOUND,
            Json(json!({
                "error": format!(
                    "no repository named '{}' has a lifecycle policy: set one with PutLifecyclePolicy first",
                    repository.unwrap_or_default()
                )
            })),
        )
            .into_response(),
        Ok((expired, evaluated)) => {
            let expired: Vec<ExpiredImageJson> = expired
                .into_iter()
                .map(|image| ExpiredImageJson {
                    account: image.scope.account,
                    region: image.scope.region,
                    repository: image.repository,
                    image_digest: image.digest,
                    image_tags: image.tags,
                    image_pushed_at: crate::clock::rfc3339(image.pushed_at),
                    applied_rule_priority: image.applied_rule_priority,
                })
                .collect();
            Json(json!({ "evaluatedPolicies": evaluated, "expiredImages": expired }))
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "failed to evaluate lifecycle policies");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": error.to_string() })),
            )
                .into_response()
        }
    }
}

/// The path of the admin request that reads the mock's clock.
pub const CLOCK_PATH: &str = "/_ecrlab/clock";
/// The path of the admin request that moves the mock's clock forward.
pub const CLOCK_ADVANCE_PATH: &str = "/_ecrlab/clock/advance";
/// The journal action of a clock advance. Its `reference` is the duration, as `13h`.
pub const CLOCK_ADVANCE_ACTION: &str = "ClockAdvance";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClockJson {
    /// The mock's current time, RFC 3339 in UTC.
    now: String,
    /// How far the clock has been moved forward in total, as `13h`.
    offset: String,
    offset_seconds: i64,
    /// The duration of this advance; absent from `GET /_ecrlab/clock`.
    #[serde(skip_serializing_if = "Option::is_none")]
    advanced_by: Option<String>,
}

fn clock_json(registry: &Registry, advanced_by: Option<String>) -> ClockJson {
    let clock = registry.clock();
    ClockJson {
        now: crate::clock::rfc3339(clock.now()),
        offset: crate::clock::format_duration(clock.offset()),
        offset_seconds: clock.offset().whole_seconds(),
        advanced_by,
    }
}

/// `GET /_ecrlab/clock`: the mock's current time and how far it has been moved.
pub fn clock(registry: &Registry) -> Response {
    Json(clock_json(registry, None)).into_response()
}

/// `POST /_ecrlab/clock/advance?by=DURATION`: moves the mock's clock forward by a duration such
/// as `13h`, `90m`, `1d`, `45s` or `1h30m`, journals the move and returns the new time.
///
/// Tokens, upload timeouts and lifecycle rules read the moved clock, so a token issued before
/// an advance of 12 hours or more is expired afterwards.
pub fn advance_clock(registry: &Registry, query: Option<&str>) -> Response {
    let mut by = None;
    for pair in query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
    {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("by", value) => by = Some(value),
            (key, _) => {
                return bad_request(format!("unknown query parameter '{key}': use 'by'"));
            }
        }
    }
    let Some(text) = by else {
        return bad_request(
            "query parameter 'by' is missing: give a duration such as by=13h".to_owned(),
        );
    };
    let duration = match crate::clock::parse_duration(text) {
        Ok(duration) => duration,
        Err(error) => return bad_request(error.to_string()),
    };

    let max = crate::clock::MAX_ADVANCE_OFFSET;
    if let Err(offset) = registry.clock().advance_within(duration, max) {
        return bad_request(format!(
            "invalid duration '{text}': the clock is already {} ahead, and moving it {} more would pass the maximum offset of {} days; restart the mock to reset its clock",
            crate::clock::format_duration(offset),
            crate::clock::format_duration(duration),
            max.whole_days()
        ));
    }
    let advanced_by = crate::clock::format_duration(duration);
    tracing::info!(by = %advanced_by, offset = %crate::clock::format_duration(registry.clock().offset()), "moved the clock forward");

    let caller = Caller {
        scope: registry.default_scope(),
        source: Source::Admin,
        user_agent: None,
        host: None,
    };
    registry.record(
        &caller,
        Event {
            action: CLOCK_ADVANCE_ACTION.to_owned(),
            reference: Some(advanced_by.clone()),
            ..Event::default()
        },
    );
    Json(clock_json(registry, Some(advanced_by))).into_response()
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}
