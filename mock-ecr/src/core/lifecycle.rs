//! Lifecycle policies: stored per repository, previewed on request, and evaluated so that
//! they really expire images.
//!
//! Evaluation runs on demand ([`Registry::run_lifecycle_policies`], behind the admin API) and
//! automatically: every policy is evaluated once [`LIFECYCLE_EVALUATION_INTERVAL`] of mock time
//! has passed since it was put or last evaluated. The server calls
//! [`Registry::run_due_lifecycle_policies`] before it handles each request, so moving the
//! injected clock forward makes the next request expire what the policies select.

mod evaluate;
mod policy;

use std::collections::HashSet;

use time::{Duration, OffsetDateTime};

use super::{Caller, Event, Registry, Source};
use crate::clock::from_unix_millis;
use crate::error::CoreError;
use crate::manifest::{Manifest, ManifestKind};
use crate::store::db::{self, LifecyclePolicyRow, Scope};

use evaluate::{Candidate, Expiration};
pub use policy::{MAX_LIFECYCLE_POLICY_LENGTH, MIN_LIFECYCLE_POLICY_LENGTH};

/// How often the mock evaluates each lifecycle policy, in mock time.
///
/// NOTE: ECR documents only that images are expired "within 24 hours" of becoming eligible,
/// not its schedule. The mock evaluates each policy 24 hours after it is put and every 24
/// hours after that.
pub const LIFECYCLE_EVALUATION_INTERVAL: Duration = Duration::hours(24);

/// The journal action of an image that a lifecycle policy expired.
pub const LIFECYCLE_EXPIRE_ACTION: &str = "LifecycleExpire";

/// A repository's lifecycle policy as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePolicyView {
    pub registry_id: String,
    pub repository: String,
    pub policy_text: String,
    pub last_evaluated_at: Option<OffsetDateTime>,
}

/// One image of a lifecycle policy preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewResult {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: OffsetDateTime,
    pub applied_rule_priority: i64,
}

/// A repository's lifecycle policy preview. Previews complete when they start, so the status
/// is always `COMPLETE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePreview {
    pub registry_id: String,
    pub repository: String,
    pub policy_text: String,
    pub results: Vec<PreviewResult>,
}

/// An image that a lifecycle policy evaluation expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredImage {
    pub scope: Scope,
    pub repository: String,
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: OffsetDateTime,
    pub applied_rule_priority: i64,
}

impl Registry {
    /// Validates and stores a repository's lifecycle policy, replacing the one before, and
    /// schedules its first evaluation [`LIFECYCLE_EVALUATION_INTERVAL`] from now.
    pub fn put_lifecycle_policy(
        &self,
        scope: &Scope,
        repository: &str,
        policy_text: &str,
    ) -> Result<LifecyclePolicyView, CoreError> {
        policy::parse_lifecycle_policy(policy_text)?;
        let next = self.now_millis() + interval_millis();
        // The cached due time is cleared while the cache is locked, so a refresh running at the
        // same time either reads this policy or has its result cleared afterwards.
        let mut due = self.lock_lifecycle_due();
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::set_lifecycle_policy(tx, scope, repository, policy_text, next)
        })?;
        *due = None;
        drop(due);
        Ok(LifecyclePolicyView {
            registry_id: scope.account.clone(),
            repository: repository.to_owned(),
            policy_text: policy_text.to_owned(),
            last_evaluated_at: None,
        })
    }

    /// Returns a repository's lifecycle policy, or LifecyclePolicyNotFound.
    pub fn lifecycle_policy(
        &self,
        scope: &Scope,
        repository: &str,
    ) -> Result<LifecyclePolicyView, CoreError> {
        let row = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            self.require_lifecycle_policy(tx, scope, repository)
        })?;
        Ok(policy_view(row))
    }

    /// Deletes a repository's lifecycle policy and returns it, or LifecyclePolicyNotFound.
    pub fn delete_lifecycle_policy(
        &self,
        scope: &Scope,
        repository: &str,
    ) -> Result<LifecyclePolicyView, CoreError> {
        let row = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            let row = self.require_lifecycle_policy(tx, scope, repository)?;
            db::delete_lifecycle_policy(tx, scope, repository)?;
            Ok(row)
        })?;
        Ok(policy_view(row))
    }

    /// Computes what `policy_text`, or the repository's policy when `None`, would expire now,
    /// and stores it as the repository's preview, replacing the one before.
    ///
    /// NOTE: ECR runs a preview in the background and reports IN_PROGRESS until it finishes;
    /// the mock finishes it before returning, so LifecyclePolicyPreviewInProgressException
    /// never occurs.
    pub fn start_lifecycle_policy_preview(
        &self,
        scope: &Scope,
        repository: &str,
        policy_text: Option<&str>,
    ) -> Result<LifecyclePreview, CoreError> {
        if let Some(text) = policy_text {
            policy::parse_lifecycle_policy(text)?;
        }
        let now = self.now_millis();
        let (text, expirations) = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            let text = match policy_text {
                Some(text) => text.to_owned(),
                None => {
                    self.require_lifecycle_policy(tx, scope, repository)?
                        .policy_text
                }
            };
            let policy = policy::parse_lifecycle_policy(&text)?;
            let candidates = candidates(tx, scope, repository)?;
            let expirations = evaluate::evaluate(&policy, &candidates, now);
            let results = serde_json::to_string(&expirations)
                .map_err(|error| CoreError::Storage(format!("preview results: {error}")))?;
            db::set_lifecycle_preview(tx, scope, repository, &text, &results)?;
            Ok((text, expirations))
        })?;
        Ok(preview_view(scope, repository, text, expirations))
    }

    /// Returns a repository's last lifecycle policy preview, or LifecyclePolicyPreviewNotFound.
    pub fn lifecycle_policy_preview(
        &self,
        scope: &Scope,
        repository: &str,
    ) -> Result<LifecyclePreview, CoreError> {
        let (text, results) = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::lifecycle_preview(tx, scope, repository)?.ok_or_else(|| {
                CoreError::LifecyclePolicyPreviewNotFound {
                    name: repository.to_owned(),
                    registry_id: scope.account.clone(),
                }
            })
        })?;
        let expirations: Vec<Expiration> = serde_json::from_str(&results).map_err(|error| {
            CoreError::Storage(format!(
                "stored preview of repository '{repository}' is unreadable: {error}"
            ))
        })?;
        Ok(preview_view(scope, repository, text, expirations))
    }

    /// Evaluates every lifecycle policy, or only those of repositories named `repository` in
    /// any account and region, and expires the images they select. Returns the expired images
    /// and the number of policies evaluated.
    pub fn run_lifecycle_policies(
        &self,
        repository: Option<&str>,
    ) -> Result<(Vec<ExpiredImage>, usize), CoreError> {
        let policies: Vec<LifecyclePolicyRow> = self
            .db
            .transaction(|tx| db::lifecycle_policies(tx, None))?
            .into_iter()
            .filter(|row| repository.is_none_or(|name| row.repository == name))
            .collect();
        self.evaluate_policies(&policies)
    }

    /// Evaluates the lifecycle policies whose next evaluation time has passed on the mock's
    /// clock. The server calls this before handling each request.
    pub fn run_due_lifecycle_policies(&self) -> Result<Vec<ExpiredImage>, CoreError> {
        let now = self.now_millis();
        if self.lock_lifecycle_due().is_some_and(|due_at| now < due_at) {
            return Ok(Vec::new());
        }
        let due = self
            .db
            .transaction(|tx| db::lifecycle_policies(tx, Some(now)))?;
        let expired = if due.is_empty() {
            Vec::new()
        } else {
            self.evaluate_policies(&due)?.0
        };
        let mut cached = self.lock_lifecycle_due();
        *cached = Some(
            self.db
                .transaction(db::earliest_lifecycle_evaluation)?
                .unwrap_or(i64::MAX),
        );
        Ok(expired)
    }

    fn lock_lifecycle_due(&self) -> std::sync::MutexGuard<'_, Option<i64>> {
        // The value is a cache that any holder may reset, so a poisoned lock is safe to reuse.
        self.lifecycle_due
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn evaluate_policies(
        &self,
        policies: &[LifecyclePolicyRow],
    ) -> Result<(Vec<ExpiredImage>, usize), CoreError> {
        let mut expired = Vec::new();
        for row in policies {
            expired.extend(self.evaluate_policy(row)?);
        }
        Ok((expired, policies.len()))
    }

    /// Evaluates one stored policy, deletes the images it expires with all their tags, records
    /// the evaluation time and journals each expired image.
    fn evaluate_policy(&self, row: &LifecyclePolicyRow) -> Result<Vec<ExpiredImage>, CoreError> {
        let now = self.now_millis();
        let scope = &row.scope;
        let repository = row.repository.as_str();
        let expirations = self.db.transaction(|tx| {
            let policy = policy::parse_lifecycle_policy(&row.policy_text)?;
            let candidates = candidates(tx, scope, repository)?;
            let expirations = evaluate::evaluate(&policy, &candidates, now);
            for expiration in &expirations {
                db::delete_image(tx, scope, repository, &expiration.digest)?;
            }
            db::record_lifecycle_evaluation(tx, scope, repository, now, now + interval_millis())?;
            Ok(expirations)
        })?;

        let caller = Caller {
            scope: scope.clone(),
            source: Source::Lifecycle,
            user_agent: None,
            host: None,
        };
        let mut expired = Vec::with_capacity(expirations.len());
        for expiration in expirations {
            tracing::info!(
                repository,
                digest = %expiration.digest,
                rule = expiration.rule_priority,
                "lifecycle policy expired an image"
            );
            self.record(
                &caller,
                Event {
                    action: LIFECYCLE_EXPIRE_ACTION.to_owned(),
                    repository: Some(repository.to_owned()),
                    digest: Some(expiration.digest.clone()),
                    ..Event::default()
                },
            );
            expired.push(ExpiredImage {
                scope: scope.clone(),
                repository: repository.to_owned(),
                digest: expiration.digest,
                tags: expiration.tags,
                pushed_at: from_unix_millis(expiration.pushed_at),
                applied_rule_priority: expiration.rule_priority,
            });
        }
        Ok(expired)
    }

    fn require_lifecycle_policy(
        &self,
        conn: &rusqlite::Connection,
        scope: &Scope,
        repository: &str,
    ) -> Result<LifecyclePolicyRow, CoreError> {
        db::lifecycle_policy(conn, scope, repository)?.ok_or_else(|| {
            CoreError::LifecyclePolicyNotFound {
                name: repository.to_owned(),
                registry_id: scope.account.clone(),
            }
        })
    }
}

fn interval_millis() -> i64 {
    i64::try_from(LIFECYCLE_EVALUATION_INTERVAL.whole_milliseconds()).unwrap_or(i64::MAX)
}

/// Reads a repository's images with their tags and whether an image index names them.
fn candidates(
    conn: &rusqlite::Connection,
    scope: &Scope,
    repository: &str,
) -> Result<Vec<Candidate>, CoreError> {
    let images = db::images(conn, scope, repository)?;
    let mut referenced: HashSet<String> = HashSet::new();
    for image in &images {
        // A stored manifest was parsed when it was pushed, so one that fails now names nothing.
        let Ok(manifest) = Manifest::parse(&image.manifest, Some(&image.media_type)) else {
            continue;
        };
        if let ManifestKind::Index { manifests } = manifest.kind {
            referenced.extend(manifests.iter().map(|child| child.digest.to_string()));
        }
    }
    images
        .into_iter()
        .map(|image| {
            Ok(Candidate {
                tags: db::tags_of(conn, scope, repository, &image.digest)?,
                referenced_by_index: referenced.contains(&image.digest),
                pushed_at: image.pushed_at,
                digest: image.digest,
            })
        })
        .collect()
}

fn policy_view(row: LifecyclePolicyRow) -> LifecyclePolicyView {
    LifecyclePolicyView {
        registry_id: row.scope.account,
        repository: row.repository,
        policy_text: row.policy_text,
        last_evaluated_at: row.last_evaluated_at.map(from_unix_millis),
    }
}

fn preview_view(
    scope: &Scope,
    repository: &str,
    policy_text: String,
    expirations: Vec<Expiration>,
) -> LifecyclePreview {
    LifecyclePreview {
        registry_id: scope.account.clone(),
        repository: repository.to_owned(),
        policy_text,
        results: expirations
            .into_iter()
            .map(|expiration| PreviewResult {
                digest: expiration.digest,
                tags: expiration.tags,
                pushed_at: from_unix_millis(expiration.pushed_at),
                applied_rule_priority: expiration.rule_priority,
            })
            .collect(),
    }
}
