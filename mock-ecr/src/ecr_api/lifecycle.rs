//! PutLifecyclePolicy, GetLifecyclePolicy, DeleteLifecyclePolicy, StartLifecyclePolicyPreview
//! and GetLifecyclePolicyPreview.

use serde::Deserialize;
use serde_json::{Value, json};

use super::pagination::{Pager, max_results_up_to, with_next_token};
use super::{ApiError, epoch_seconds};
use crate::core::{LifecyclePolicyView, PreviewResult, Registry};
use crate::store::db::Scope;

/// The largest `maxResults` of GetLifecyclePolicyPreview (API model:
/// `LifecyclePreviewMaxResults`).
const MAX_PREVIEW_RESULTS: i64 = 100;

/// The maximum number of image ids in one GetLifecyclePolicyPreview request (API model: `ImageIdentifierList`).
const MAX_PREVIEW_IMAGE_IDS: usize = 100;

fn policy_json(policy: &LifecyclePolicyView, with_evaluation_time: bool) -> Value {
    let mut output = json!({
        "registryId": policy.registry_id,
        "repositoryName": policy.repository,
        "lifecyclePolicyText": policy.policy_text,
    });
    if let (true, Some(at)) = (with_evaluation_time, policy.last_evaluated_at) {
        output["lastEvaluatedAt"] = json!(epoch_seconds(at));
    }
    output
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PutLifecyclePolicyInput {
    repository_name: String,
    lifecycle_policy_text: String,
}

pub(super) fn put_lifecycle_policy(
    registry: &Registry,
    scope: &Scope,
    input: PutLifecyclePolicyInput,
) -> Result<Value, ApiError> {
    let policy = registry.put_lifecycle_policy(
        scope,
        &input.repository_name,
        &input.lifecycle_policy_text,
    )?;
    Ok(policy_json(&policy, false))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LifecyclePolicyInput {
    repository_name: String,
}

pub(super) fn get_lifecycle_policy(
    registry: &Registry,
    scope: &Scope,
    input: LifecyclePolicyInput,
) -> Result<Value, ApiError> {
    let policy = registry.lifecycle_policy(scope, &input.repository_name)?;
    Ok(policy_json(&policy, true))
}

pub(super) fn delete_lifecycle_policy(
    registry: &Registry,
    scope: &Scope,
    input: LifecyclePolicyInput,
) -> Result<Value, ApiError> {
    let policy = registry.delete_lifecycle_policy(scope, &input.repository_name)?;
    Ok(policy_json(&policy, true))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StartPreviewInput {
    repository_name: String,
    lifecycle_policy_text: Option<String>,
}

pub(super) fn start_lifecycle_policy_preview(
    registry: &Registry,
    scope: &Scope,
    input: StartPreviewInput,
) -> Result<Value, ApiError> {
    let preview = registry.start_lifecycle_policy_preview(
        scope,
        &input.repository_name,
        input.lifecycle_policy_text.as_deref(),
    )?;
    Ok(json!({
        "registryId": preview.registry_id,
        "repositoryName": preview.repository,
        "lifecyclePolicyText": preview.policy_text,
        "status": "COMPLETE",
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetPreviewInput {
    repository_name: String,
    image_ids: Option<Vec<ImageId>>,
    next_token: Option<String>,
    max_results: Option<i64>,
    filter: Option<PreviewFilter>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageId {
    image_digest: Option<String>,
    image_tag: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviewFilter {
    tag_status: Option<String>,
}

pub(super) fn get_lifecycle_policy_preview(
    registry: &Registry,
    scope: &Scope,
    input: GetPreviewInput,
) -> Result<Value, ApiError> {
    let max = max_results_up_to(input.max_results, MAX_PREVIEW_RESULTS)?;
    let tag_status = preview_tag_status(input.filter.as_ref())?;
    if let Some(ids) = &input.image_ids {
        if ids.is_empty() || ids.len() > MAX_PREVIEW_IMAGE_IDS {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and {MAX_PREVIEW_IMAGE_IDS}' (got {})",
                ids.len()
            )));
        }
    }
    let preview = registry.lifecycle_policy_preview(scope, &input.repository_name)?;
    let total = preview.results.len();

    let selected: Vec<Value> = preview
        .results
        .iter()
        .filter(|result| matches_status(result, tag_status))
        .filter(|result| matches_ids(result, input.image_ids.as_deref()))
        .map(result_json)
        .collect();
    let pager = Pager::new(registry, scope, "GetLifecyclePolicyPreview")
        .bind("repositoryName", &input.repository_name)
        .bind("tagStatus", tag_status.unwrap_or("ALL"))
        .bind("imageIds", &image_ids_key(input.image_ids.as_deref()));
    let (page, next) = pager.page(selected, max, input.next_token.as_deref())?;
    let output = json!({
        "registryId": preview.registry_id,
        "repositoryName": preview.repository,
        "lifecyclePolicyText": preview.policy_text,
        "status": "COMPLETE",
        "previewResults": page,
        "summary": { "expiringImageTotalCount": total },
    });
    Ok(with_next_token(output, next))
}

/// Reads `filter.tagStatus`, one of TAGGED, UNTAGGED and ANY (API model: `TagStatus`).
fn preview_tag_status(filter: Option<&PreviewFilter>) -> Result<Option<&str>, ApiError> {
    match filter.and_then(|filter| filter.tag_status.as_deref()) {
        None | Some("ANY") => Ok(None),
        Some(status @ ("TAGGED" | "UNTAGGED")) => Ok(Some(status)),
        Some(other) => Err(ApiError::invalid(format!(
            "Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]' (got '{other}')"
        ))),
    }
}

fn matches_status(result: &PreviewResult, status: Option<&str>) -> bool {
    match status {
        Some("TAGGED") => !result.tags.is_empty(),
        Some("UNTAGGED") => result.tags.is_empty(),
        _ => true,
    }
}

/// Whether a result matches one of `ids` by digest or tag; every result matches without ids.
fn matches_ids(result: &PreviewResult, ids: Option<&[ImageId]>) -> bool {
    let Some(ids) = ids else {
        return true;
    };
    ids.iter().any(|id| {
        let digest_matches = id
            .image_digest
            .as_deref()
            .is_none_or(|digest| digest == result.digest);
        let tag_matches = id
            .image_tag
            .as_deref()
            .is_none_or(|tag| result.tags.iter().any(|own| own == tag));
        (id.image_digest.is_some() || id.image_tag.is_some()) && digest_matches && tag_matches
    })
}

fn image_ids_key(ids: Option<&[ImageId]>) -> String {
    ids.unwrap_or_default()
        .iter()
        .map(|id| {
            format!(
                "{}@{}",
                id.image_tag.as_deref().unwrap_or_default(),
                id.image_digest.as_deref().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn result_json(result: &PreviewResult) -> Value {
    let mut output = json!({
        "imageDigest": result.digest,
        "imagePushedAt": epoch_seconds(result.pushed_at),
        "action": { "type": "EXPIRE" },
        "appliedRulePriority": result.applied_rule_priority,
        "storageClass": "STANDARD",
    });
    if !result.tags.is_empty() {
        output["imageTags"] = json!(result.tags);
    }
    output
}
