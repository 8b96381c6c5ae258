//! The admin API under `/_ecrlab/`: health and the journal, read by `ecrlab check`.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::core::Registry;
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

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}
