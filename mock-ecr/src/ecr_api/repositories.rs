//! Repository operations, DescribeRegistry and GetAuthorizationToken.

use serde::Deserialize;
use serde_json::{Value, json};

use super::pagination::{Pager, max_results, with_next_token};
use super::resource_tags::TagInput;
use super::{ApiError, epoch_seconds};
use crate::core::Registry;
use crate::core::{NewRepository, Repository};
use crate::store::db::Scope;

pub(super) fn repository_json(repository: &Repository) -> Value {
    let mut encryption = json!({ "encryptionType": repository.encryption_type });
    if let Some(key) = &repository.kms_key {
        encryption["kmsKey"] = json!(key);
    }
    let mut output = json!({
        "repositoryArn": repository.arn(),
        "registryId": repository.registry_id,
        "repositoryName": repository.name,
        "repositoryUri": repository.uri,
        "createdAt": epoch_seconds(repository.created_at),
        "imageTagMutability": repository.tag_mutability,
        "imageScanningConfiguration": { "scanOnPush": repository.scan_on_push },
        "encryptionConfiguration": encryption,
    });
    if !repository.tag_mutability_exclusions.is_empty() {
        output["imageTagMutabilityExclusionFilters"] =
            exclusion_filters_json(&repository.tag_mutability_exclusions);
    }
    output
}

/// The only `filterType` the API model defines.
const WILDCARD: &str = "WILDCARD";

/// One `imageTagMutabilityExclusionFilters` member.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ExclusionFilterInput {
    filter_type: String,
    filter: String,
}

/// Reads exclusion filters into the wildcard patterns the core applies; the core checks the
/// patterns and how many the mutability setting takes.
fn exclusion_filters(input: Option<Vec<ExclusionFilterInput>>) -> Result<Vec<String>, ApiError> {
    let Some(filters) = input else {
        return Ok(Vec::new());
    };
    if filters.is_empty() {
        return Err(ApiError::invalid(
            "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'Member must have length greater than or equal to 1': omit the list or give 1 to 5 filters",
        ));
    }
    filters
        .into_iter()
        .map(|filter| {
            if filter.filter_type != WILDCARD {
                return Err(ApiError::invalid(format!(
                    "Invalid parameter at 'imageTagMutabilityExclusionFilters.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [{WILDCARD}]' (got '{}')",
                    filter.filter_type
                )));
            }
            Ok(filter.filter)
        })
        .collect()
}

fn exclusion_filters_json(filters: &[String]) -> Value {
    filters
        .iter()
        .map(|filter| json!({ "filterType": WILDCARD, "filter": filter }))
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ScanningConfiguration {
    #[serde(default)]
    scan_on_push: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EncryptionConfiguration {
    encryption_type: String,
    kms_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreateRepositoryInput {
    repository_name: String,
    tags: Option<Vec<TagInput>>,
    image_tag_mutability: Option<String>,
    image_tag_mutability_exclusion_filters: Option<Vec<ExclusionFilterInput>>,
    image_scanning_configuration: Option<ScanningConfiguration>,
    encryption_configuration: Option<EncryptionConfiguration>,
}

pub(super) fn create_repository(
    registry: &Registry,
    scope: &Scope,
    input: CreateRepositoryInput,
) -> Result<Value, ApiError> {
    let encryption = input.encryption_configuration;
    let encryption_type = encryption
        .as_ref()
        .map_or("AES256".to_owned(), |config| config.encryption_type.clone());
    if !["AES256", "KMS", "KMS_DSSE"].contains(&encryption_type.as_str()) {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'encryptionConfiguration.encryptionType' failed to satisfy constraint: 'Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]' (got '{encryption_type}')"
        )));
    }
    let repository = registry.create_repository(
        scope,
        NewRepository {
            name: input.repository_name,
            tag_mutability: input
                .image_tag_mutability
                .unwrap_or_else(|| crate::core::MUTABLE.to_owned()),
            tag_mutability_exclusions: exclusion_filters(
                input.image_tag_mutability_exclusion_filters,
            )?,
            scan_on_push: input
                .image_scanning_configuration
                .is_some_and(|config| config.scan_on_push),
            encryption_type,
            kms_key: encryption.and_then(|config| config.kms_key),
            tags: input
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(TagInput::into_tag)
                .collect(),
        },
    )?;
    Ok(json!({ "repository": repository_json(&repository) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DescribeRepositoriesInput {
    repository_names: Option<Vec<String>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) fn describe_repositories(
    registry: &Registry,
    scope: &Scope,
    input: DescribeRepositoriesInput,
) -> Result<Value, ApiError> {
    let max = max_results(input.max_results)?;
    if input.repository_names.is_some() && (max.is_some() || input.next_token.is_some()) {
        return Err(ApiError::invalid(
            "maxResults and nextToken cannot be used together with repositoryNames: name the repositories or page through all of them",
        ));
    }
    if let Some(names) = &input.repository_names {
        super::images::check_list_size("repositoryNames", names.len())?;
    }
    let repositories = registry.describe_repositories(scope, input.repository_names.as_deref())?;
    let (page, next) = Pager::new(registry, scope, "DescribeRepositories").page(
        repositories,
        max,
        input.next_token.as_deref(),
    )?;
    let repositories: Vec<Value> = page.iter().map(repository_json).collect();
    Ok(with_next_token(
        json!({ "repositories": repositories }),
        next,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeleteRepositoryInput {
    repository_name: String,
    #[serde(default)]
    force: bool,
}

pub(super) fn delete_repository(
    registry: &Registry,
    scope: &Scope,
    input: DeleteRepositoryInput,
) -> Result<Value, ApiError> {
    let repository = registry.delete_repository(scope, &input.repository_name, input.force)?;
    Ok(json!({ "repository": repository_json(&repository) }))
}

pub(super) fn get_authorization_token(
    registry: &Registry,
    scope: &Scope,
) -> Result<Value, ApiError> {
    let token = registry.issue_token(scope)?;
    Ok(json!({
        "authorizationData": [{
            "authorizationToken": token.authorization_token,
            "expiresAt": epoch_seconds(token.expires_at),
            "proxyEndpoint": format!("http://{}", registry.settings().registry_host),
        }]
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PutImageTagMutabilityInput {
    repository_name: String,
    image_tag_mutability: String,
    image_tag_mutability_exclusion_filters: Option<Vec<ExclusionFilterInput>>,
}

pub(super) fn put_image_tag_mutability(
    registry: &Registry,
    scope: &Scope,
    input: PutImageTagMutabilityInput,
) -> Result<Value, ApiError> {
    let repository = registry.put_image_tag_mutability(
        scope,
        &input.repository_name,
        &input.image_tag_mutability,
        exclusion_filters(input.image_tag_mutability_exclusion_filters)?,
    )?;
    let mut output = json!({
        "registryId": repository.registry_id,
        "repositoryName": repository.name,
        "imageTagMutability": repository.tag_mutability,
    });
    if !repository.tag_mutability_exclusions.is_empty() {
        output["imageTagMutabilityExclusionFilters"] =
            exclusion_filters_json(&repository.tag_mutability_exclusions);
    }
    Ok(output)
}

/// DescribeRegistry: the registry id, and no replication, which the mock does not offer.
pub(super) fn describe_registry(scope: &Scope) -> Result<Value, ApiError> {
    Ok(json!({
        "registryId": scope.account,
        "replicationConfiguration": { "rules": [] },
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PutImageScanningConfigurationInput {
    repository_name: String,
    image_scanning_configuration: ScanningConfiguration,
}

pub(super) fn put_image_scanning_configuration(
    registry: &Registry,
    scope: &Scope,
    input: PutImageScanningConfigurationInput,
) -> Result<Value, ApiError> {
    let repository = registry.put_image_scanning_configuration(
        scope,
        &input.repository_name,
        input.image_scanning_configuration.scan_on_push,
    )?;
    Ok(json!({
        "registryId": repository.registry_id,
        "repositoryName": repository.name,
        "imageScanningConfiguration": { "scanOnPush": repository.scan_on_push },
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PutAccountSettingInput {
    name: String,
    value: String,
}

pub(super) fn put_account_setting(
    registry: &Registry,
    scope: &Scope,
    input: PutAccountSettingInput,
) -> Result<Value, ApiError> {
    registry.put_account_setting(scope, &input.name, &input.value)?;
    Ok(json!({ "name": input.name, "value": input.value }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetAccountSettingInput {
    name: String,
}

pub(super) fn get_account_setting(
    registry: &Registry,
    scope: &Scope,
    input: GetAccountSettingInput,
) -> Result<Value, ApiError> {
    let value = registry.account_setting(scope, &input.name)?;
    Ok(json!({ "name": input.name, "value": value }))
}
