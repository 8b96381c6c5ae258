//! Image scanning operations: StartImageScan, DescribeImageScanFindings, and the registry and
//! repository scanning configurations.

use serde::Deserialize;
use serde_json::{Value, json};

use super::images::ImageIdentifier;
use super::pagination::{Pager, max_results, with_next_token};
use super::{ApiError, epoch_seconds};
use crate::core::{
    ImageScan, MAX_SCANNING_FILTERS, MAX_SCANNING_RULES, Registry, ScanStatus,
    ScanningConfiguration, ScanningRule,
};
use crate::error::CoreError;
use crate::scan::ecr_json::{finding_json, severity_counts_json};
use crate::store::db::Scope;

/// The page size of DescribeImageScanFindings without `maxResults` (ECR API Reference,
/// DescribeImageScanFindings: "returns up to 100 results").
const DEFAULT_FINDINGS_PAGE: usize = 100;

/// The maximum number of repositories in one BatchGetRepositoryScanningConfiguration (ECR API
/// Reference: `repositoryNames`, 1 to 25 items).
const MAX_SCANNING_REPOSITORY_NAMES: usize = 25;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StartImageScanInput {
    repository_name: String,
    image_id: ImageIdentifier,
}

pub(super) fn start_image_scan(
    registry: &Registry,
    scope: &Scope,
    input: StartImageScanInput,
) -> Result<Value, ApiError> {
    let (digest, tag) = input.image_id.parts()?;
    let (digest, scan) = registry.start_image_scan(scope, &input.repository_name, digest, tag)?;
    Ok(json!({
        "registryId": scope.account,
        "repositoryName": input.repository_name,
        "imageId": image_id(&digest, tag),
        "imageScanStatus": status_json(&scan),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DescribeImageScanFindingsInput {
    repository_name: String,
    image_id: ImageIdentifier,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) fn describe_image_scan_findings(
    registry: &Registry,
    scope: &Scope,
    input: DescribeImageScanFindingsInput,
) -> Result<Value, ApiError> {
    let max = max_results(input.max_results)?.unwrap_or(DEFAULT_FINDINGS_PAGE);
    let repository = &input.repository_name;
    let (digest, tag) = input.image_id.parts()?;
    let (digest, scan) = registry.image_scan(scope, repository, digest, tag)?;
    let scan = scan.ok_or_else(|| CoreError::ScanNotFound {
        image: input.image_id.describe(),
        repository: repository.clone(),
        registry_id: scope.account.clone(),
    })?;
    let mut output = json!({
        "registryId": scope.account,
        "repositoryName": repository,
        "imageId": image_id(&digest, tag),
        "imageScanStatus": status_json(&scan),
    });
    if scan.status != ScanStatus::Complete {
        return Ok(output);
    }
    let pager = Pager::new(registry, scope, "DescribeImageScanFindings")
        .bind("repositoryName", repository)
        .bind("imageDigest", &digest);
    let findings: Vec<Value> = scan.findings.iter().map(finding_json).collect();
    let (page, next) = pager.page(findings, Some(max), input.next_token.as_deref())?;
    let mut findings = summary_json(&scan);
    findings["findings"] = json!(page);
    output["imageScanFindings"] = findings;
    Ok(with_next_token(output, next))
}

/// Returns the `imageScanStatus` of DescribeImages, StartImageScan and
/// DescribeImageScanFindings.
pub(super) fn status_json(scan: &ImageScan) -> Value {
    let mut status = json!({ "status": scan.status.as_str() });
    if !scan.description.is_empty() {
        status["description"] = json!(scan.description);
    }
    status
}

/// Returns the findings summary of a completed scan: DescribeImages'
/// `imageScanFindingsSummary`, which DescribeImageScanFindings' `imageScanFindings` extends
/// with the findings.
pub(super) fn summary_json(scan: &ImageScan) -> Value {
    let mut summary = json!({ "findingSeverityCounts": severity_counts_json(&scan.findings) });
    if let Some(completed) = scan.completed_at {
        summary["imageScanCompletedAt"] = json!(epoch_seconds(completed));
    }
    if let Some(updated) = scan.source_updated_at {
        summary["vulnerabilitySourceUpdatedAt"] = json!(epoch_seconds(updated));
    }
    summary
}

fn image_id(digest: &str, tag: Option<&str>) -> Value {
    let mut id = json!({ "imageDigest": digest });
    if let Some(tag) = tag {
        id["imageTag"] = json!(tag);
    }
    id
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PutRegistryScanningConfigurationInput {
    scan_type: Option<String>,
    rules: Option<Vec<RuleInput>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleInput {
    scan_frequency: String,
    repository_filters: Vec<FilterInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterInput {
    filter: String,
    filter_type: String,
}

pub(super) fn put_registry_scanning_configuration(
    registry: &Registry,
    scope: &Scope,
    input: PutRegistryScanningConfigurationInput,
) -> Result<Value, ApiError> {
    let scan_type = input.scan_type.unwrap_or_else(|| "BASIC".to_owned());
    match scan_type.as_str() {
        "BASIC" => {}
        "ENHANCED" => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "ValidationException",
                "Enhanced scanning runs in Amazon Inspector, which mock-ecr does not emulate: use scanType BASIC",
            ));
        }
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at 'scanType' failed to satisfy constraint: 'Member must satisfy enum value set: [BASIC, ENHANCED]' (got '{other}')"
            )));
        }
    }
    let rules = input.rules.unwrap_or_default();
    if rules.len() > MAX_SCANNING_RULES {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'rules' failed to satisfy constraint: 'Member must have length less than or equal to {MAX_SCANNING_RULES}' (got {} rules)",
            rules.len()
        )));
    }
    let mut checked = Vec::with_capacity(rules.len());
    for (index, rule) in rules.into_iter().enumerate() {
        checked.push(check_rule(index, rule)?);
    }
    let configuration = registry.put_scanning_configuration(
        scope,
        ScanningConfiguration {
            scan_type,
            rules: checked,
        },
    )?;
    Ok(json!({
        "registryScanningConfiguration": configuration_json(&configuration),
    }))
}

fn check_rule(index: usize, rule: RuleInput) -> Result<ScanningRule, ApiError> {
    let field = format!("rules.{}", index + 1);
    match rule.scan_frequency.as_str() {
        "SCAN_ON_PUSH" | "MANUAL" => {}
        "CONTINUOUS_SCAN" => {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at '{field}.scanFrequency': CONTINUOUS_SCAN needs scanType ENHANCED; basic scanning supports SCAN_ON_PUSH and MANUAL"
            )));
        }
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at '{field}.scanFrequency' failed to satisfy constraint: 'Member must satisfy enum value set: [SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL]' (got '{other}')"
            )));
        }
    }
    if rule.repository_filters.len() > MAX_SCANNING_FILTERS {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at '{field}.repositoryFilters' failed to satisfy constraint: 'Member must have length less than or equal to {MAX_SCANNING_FILTERS}' (got {} filters)",
            rule.repository_filters.len()
        )));
    }
    let mut filters = Vec::with_capacity(rule.repository_filters.len());
    for filter in rule.repository_filters {
        if filter.filter_type != "WILDCARD" {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at '{field}.repositoryFilters.filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD]' (got '{}')",
                filter.filter_type
            )));
        }
        if !valid_filter(&filter.filter) {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at '{field}.repositoryFilters.filter' failed to satisfy constraint: 'Member must have length between 1 and 255 and contain only lowercase letters, digits, '.', '_', '-', '/' and '*'' (got '{}')",
                filter.filter
            )));
        }
        filters.push(filter.filter);
    }
    Ok(ScanningRule {
        scan_frequency: rule.scan_frequency,
        filters,
    })
}

/// Checks a scanning filter against ECR's `ScanningRepositoryFilterValue`: 1 to 255
/// characters from a repository name's alphabet and `*`.
fn valid_filter(filter: &str) -> bool {
    (1..=255).contains(&filter.len())
        && filter.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"._-/*".contains(&byte)
        })
}

fn configuration_json(configuration: &ScanningConfiguration) -> Value {
    let rules: Vec<Value> = configuration
        .rules
        .iter()
        .map(|rule| {
            json!({
                "scanFrequency": rule.scan_frequency,
                "repositoryFilters": filters_json(&rule.filters),
            })
        })
        .collect();
    json!({ "scanType": configuration.scan_type, "rules": rules })
}

fn filters_json(filters: &[String]) -> Vec<Value> {
    filters
        .iter()
        .map(|filter| json!({ "filter": filter, "filterType": "WILDCARD" }))
        .collect()
}

pub(super) fn get_registry_scanning_configuration(
    registry: &Registry,
    scope: &Scope,
) -> Result<Value, ApiError> {
    let configuration = registry.scanning_configuration(scope)?;
    Ok(json!({
        "registryId": scope.account,
        "scanningConfiguration": configuration_json(&configuration),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BatchGetRepositoryScanningConfigurationInput {
    repository_names: Vec<String>,
}

pub(super) fn batch_get_repository_scanning_configuration(
    registry: &Registry,
    scope: &Scope,
    input: BatchGetRepositoryScanningConfigurationInput,
) -> Result<Value, ApiError> {
    let count = input.repository_names.len();
    if !(1..=MAX_SCANNING_REPOSITORY_NAMES).contains(&count) {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must have length between 1 and {MAX_SCANNING_REPOSITORY_NAMES}' (got {count} names)"
        )));
    }
    let mut configurations = Vec::new();
    let mut failures = Vec::new();
    for result in registry.repository_scanning(scope, &input.repository_names)? {
        match result {
            Ok(scanning) => configurations.push(json!({
                "repositoryArn": scanning.repository.arn(),
                "repositoryName": scanning.repository.name,
                "scanOnPush": scanning.scan_on_push,
                "scanFrequency": scanning.scan_frequency,
                "appliedScanFilters": filters_json(&scanning.applied_filters),
            })),
            Err(name) => failures.push(json!({
                "repositoryName": name,
                "failureCode": "REPOSITORY_NOT_FOUND",
                "failureReason": format!(
                    "The repository with name '{name}' does not exist in the registry with id '{}'",
                    scope.account
                ),
            })),
        }
    }
    Ok(json!({
        "scanningConfigurations": configurations,
        "failures": failures,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_follow_the_model_pattern() {
        for filter in ["*", "prod", "team/web-*", "a.b_c-d"] {
            assert!(valid_filter(filter), "{filter}");
        }
        for filter in ["", "Prod", "web app", "web?", &"a".repeat(256)] {
            assert!(!valid_filter(filter), "{filter}");
        }
    }
}
