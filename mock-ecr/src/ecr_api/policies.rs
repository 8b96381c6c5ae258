//! SetRepositoryPolicy, GetRepositoryPolicy and DeleteRepositoryPolicy.

use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::core::{Registry, RepositoryPolicy};
use crate::store::db::Scope;

fn policy_json(policy: &RepositoryPolicy) -> Value {
    json!({
        "registryId": policy.registry_id,
        "repositoryName": policy.repository,
        "policyText": policy.policy_text,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SetRepositoryPolicyInput {
    repository_name: String,
    policy_text: String,
    /// Accepted for the API's shape; see [`Registry::set_repository_policy`] on why it changes
    /// nothing here.
    #[serde(default)]
    #[allow(dead_code)]
    force: bool,
}

pub(super) fn set_repository_policy(
    registry: &Registry,
    scope: &Scope,
    input: SetRepositoryPolicyInput,
) -> Result<Value, ApiError> {
    let policy =
        registry.set_repository_policy(scope, &input.repository_name, &input.policy_text)?;
    Ok(policy_json(&policy))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RepositoryPolicyInput {
    repository_name: String,
}

pub(super) fn get_repository_policy(
    registry: &Registry,
    scope: &Scope,
    input: RepositoryPolicyInput,
) -> Result<Value, ApiError> {
    let policy = registry.repository_policy(scope, &input.repository_name)?;
    Ok(policy_json(&policy))
}

pub(super) fn delete_repository_policy(
    registry: &Registry,
    scope: &Scope,
    input: RepositoryPolicyInput,
) -> Result<Value, ApiError> {
    let policy = registry.delete_repository_policy(scope, &input.repository_name)?;
    Ok(policy_json(&policy))
}
