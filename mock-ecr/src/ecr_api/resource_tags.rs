//! TagResource, UntagResource and ListTagsForResource.

use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::core::{Registry, ResourceTag};
use crate::store::db::Scope;

/// A tag as ECR's API spells it, with capitalised `Key` and `Value`.
#[derive(Deserialize)]
pub(super) struct TagInput {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value")]
    value: String,
}

impl TagInput {
    pub(super) fn into_tag(self) -> ResourceTag {
        ResourceTag {
            key: self.key,
            value: self.value,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TagResourceInput {
    resource_arn: String,
    tags: Vec<TagInput>,
}

pub(super) fn tag_resource(
    registry: &Registry,
    scope: &Scope,
    input: TagResourceInput,
) -> Result<Value, ApiError> {
    let tags: Vec<ResourceTag> = input.tags.into_iter().map(TagInput::into_tag).collect();
    registry.tag_resource(scope, &input.resource_arn, &tags)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UntagResourceInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

pub(super) fn untag_resource(
    registry: &Registry,
    scope: &Scope,
    input: UntagResourceInput,
) -> Result<Value, ApiError> {
    registry.untag_resource(scope, &input.resource_arn, &input.tag_keys)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListTagsForResourceInput {
    resource_arn: String,
}

pub(super) fn list_tags_for_resource(
    registry: &Registry,
    scope: &Scope,
    input: ListTagsForResourceInput,
) -> Result<Value, ApiError> {
    let tags = registry.list_tags_for_resource(scope, &input.resource_arn)?;
    let tags: Vec<Value> = tags
        .iter()
        .map(|tag| json!({ "Key": tag.key, "Value": tag.value }))
        .collect();
    Ok(json!({ "tags": tags }))
}
