//! Image operations: ListImages, DescribeImages, BatchGetImage, BatchDeleteImage, PutImage,
//! ListImageReferrers.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::pagination::{Pager, max_results, max_results_up_to, with_next_token};
use super::{ApiError, epoch_seconds};
use crate::core::Image;
use crate::core::PutImageRejection;
use crate::core::Registry;
use crate::error::CoreError;
use crate::manifest::MAX_MANIFEST_BYTES;
use crate::store::db::Scope;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TagStatusFilter {
    tag_status: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum TagStatus {
    Tagged,
    Untagged,
    Any,
}

pub(super) fn tag_status(filter: Option<&TagStatusFilter>) -> Result<TagStatus, ApiError> {
    match filter.and_then(|filter| filter.tag_status.as_deref()) {
        None | Some("ANY") => Ok(TagStatus::Any),
        Some("TAGGED") => Ok(TagStatus::Tagged),
        Some("UNTAGGED") => Ok(TagStatus::Untagged),
        Some(other) => Err(ApiError::invalid(format!(
            "Invalid parameter at 'filter.tagStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]' (got '{other}')"
        ))),
    }
}

pub(super) fn matches_status(image: &Image, status: TagStatus) -> bool {
    match status {
        TagStatus::Any => true,
        TagStatus::Tagged => !image.tags.is_empty(),
        TagStatus::Untagged => image.tags.is_empty(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListImagesInput {
    repository_name: String,
    filter: Option<TagStatusFilter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) fn list_images(
    registry: &Registry,
    scope: &Scope,
    input: ListImagesInput,
) -> Result<Value, ApiError> {
    let max = max_results(input.max_results)?;
    let status = tag_status(input.filter.as_ref())?;
    let mut ids = Vec::new();
    for image in registry.images(scope, &input.repository_name)? {
        if !matches_status(&image, status) {
            continue;
        }
        if image.tags.is_empty() {
            ids.push(json!({ "imageDigest": image.row.digest }));
        }
        for tag in &image.tags {
            ids.push(json!({ "imageDigest": image.row.digest, "imageTag": tag }));
        }
    }
    let pager = Pager::new(registry, scope, "ListImages")
        .bind("repositoryName", &input.repository_name)
        .bind("tagStatus", &format!("{status:?}"));
    let (page, next) = pager.page(ids, max, input.next_token.as_deref())?;
    Ok(with_next_token(json!({ "imageIds": page }), next))
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(super) struct ImageIdentifier {
    image_digest: Option<String>,
    image_tag: Option<String>,
}

impl ImageIdentifier {
    fn to_json(&self) -> Value {
        let mut id = json!({});
        if let Some(digest) = &self.image_digest {
            id["imageDigest"] = json!(digest);
        }
        if let Some(tag) = &self.image_tag {
            id["imageTag"] = json!(tag);
        }
        id
    }

    /// Returns the digest and the tag, at least one of which an operation on one image
    /// needs.
    pub(super) fn parts(&self) -> Result<(Option<&str>, Option<&str>), ApiError> {
        if self.image_digest.is_none() && self.image_tag.is_none() {
            return Err(ApiError::invalid(
                "Invalid parameter at 'imageId': name the image with imageDigest, imageTag or both",
            ));
        }
        Ok((self.image_digest.as_deref(), self.image_tag.as_deref()))
    }

    pub(super) fn describe(&self) -> String {
        crate::core::describe_image_id(self.image_digest.as_deref(), self.image_tag.as_deref())
    }
}

pub(super) fn image_detail(scope: &Scope, repository: &str, image: &Image) -> Value {
    let mut detail = json!({
        "registryId": scope.account,
        "repositoryName": repository,
        "imageDigest": image.row.digest,
        "imageSizeInBytes": image.row.size,
        "imagePushedAt": epoch_seconds(crate::clock::from_unix_millis(image.row.pushed_at)),
        "imageManifestMediaType": image.row.media_type,
    });
    if !image.tags.is_empty() {
        detail["imageTags"] = json!(image.tags);
    }
    if let Some(artifact) = &image.row.artifact_media_type {
        detail["artifactMediaType"] = json!(artifact);
    }
    if let Some(pulled) = image.row.last_pulled_at {
        detail["lastRecordedPullTime"] =
            json!(epoch_seconds(crate::clock::from_unix_millis(pulled)));
    }
    detail
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DescribeImagesInput {
    repository_name: String,
    image_ids: Option<Vec<ImageIdentifier>>,
    filter: Option<TagStatusFilter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) fn describe_images(
    registry: &Registry,
    scope: &Scope,
    input: DescribeImagesInput,
) -> Result<Value, ApiError> {
    let max = max_results(input.max_results)?;
    let status = tag_status(input.filter.as_ref())?;
    let repository = &input.repository_name;
    let images = match &input.image_ids {
        Some(ids) => {
            check_list_size("imageIds", ids.len())?;
            if max.is_some() || input.next_token.is_some() {
                return Err(ApiError::invalid(
                    "maxResults and nextToken cannot be used together with imageIds",
                ));
            }
            let mut found = Vec::new();
            for id in ids {
                let image = registry
                    .find_image(
                        scope,
                        repository,
                        id.image_digest.as_deref(),
                        id.image_tag.as_deref(),
                    )?
                    .ok_or_else(|| CoreError::ImageNotFound {
                        image: id.describe(),
                        repository: repository.clone(),
                        registry_id: scope.account.clone(),
                    })?;
                if !found.contains(&image) {
                    found.push(image);
                }
            }
            found
        }
        None => registry.images(scope, repository)?,
    };
    let scans = registry.image_scans(scope, repository)?;
    let details: Vec<Value> = images
        .iter()
        .filter(|image| matches_status(image, status))
        .map(|image| {
            let mut detail = image_detail(scope, repository, image);
            if let Some(scan) = scans.get(&image.row.digest) {
                detail["imageScanStatus"] = super::scans::status_json(scan);
                if scan.status == crate::core::ScanStatus::Complete {
                    detail["imageScanFindingsSummary"] = super::scans::summary_json(scan);
                }
            }
            detail
        })
        .collect();
    let pager = Pager::new(registry, scope, "DescribeImages")
        .bind("repositoryName", repository)
        .bind("tagStatus", &format!("{status:?}"));
    let (page, next) = pager.page(details, max, input.next_token.as_deref())?;
    Ok(with_next_token(json!({ "imageDetails": page }), next))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BatchGetImageInput {
    repository_name: String,
    image_ids: Vec<ImageIdentifier>,
    accepted_media_types: Option<Vec<String>>,
}

pub(super) fn batch_get_image(
    registry: &Registry,
    scope: &Scope,
    input: BatchGetImageInput,
) -> Result<Value, ApiError> {
    check_list_size("imageIds", input.image_ids.len())?;
    let accepted = input.accepted_media_types.as_deref();
    if let Some(accepted) = accepted {
        check_media_types(accepted)?;
    }
    let repository = &input.repository_name;
    registry.repository(scope, repository)?;
    let mut images = Vec::new();
    let mut failures = Vec::new();
    let failure = |id: &ImageIdentifier, code: &str, reason: &str| json!({ "imageId": id.to_json(), "failureCode": code, "failureReason": reason });
    for id in &input.image_ids {
        if id.image_digest.is_none() && id.image_tag.is_none() {
            failures.push(failure(
                id,
                "MissingDigestAndTag",
                "Missing image digest and tag",
            ));
            continue;
        }
        if let Some(digest) = &id.image_digest {
            if crate::digest::Digest::parse(digest).is_err() {
                failures.push(failure(id, "InvalidImageDigest", "Invalid image digest"));
                continue;
            }
        }
        let found = registry.find_image(
            scope,
            repository,
            id.image_digest.as_deref(),
            id.image_tag.as_deref(),
        )?;
        let Some(image) = found else {
            let tag_elsewhere = id.image_digest.is_some()
                && id.image_tag.is_some()
                && registry
                    .find_image(scope, repository, None, id.image_tag.as_deref())?
                    .is_some();
            if tag_elsewhere {
                failures.push(failure(
                    id,
                    "ImageTagDoesNotMatchDigest",
                    "Image tag does not match digest",
                ));
            } else {
                failures.push(failure(id, "ImageNotFound", "Requested image not found"));
            }
            continue;
        };
        let mut manifest = image.row.manifest.clone();
        let mut media_type = image.row.media_type.clone();
        if let Some(accepted) = accepted.filter(|accepted| !accepted.contains(&media_type)) {
            // Requested by tag alone, ECR converts between Docker schema 2 and OCI image
            // manifests as for a registry pull ("Container image manifest format support in
            // Amazon ECR"); see crate::conversion.
            let lowercase: Vec<String> = accepted
                .iter()
                .map(|item| item.to_ascii_lowercase())
                .collect();
            let converted = id
                .image_digest
                .is_none()
                .then(|| crate::conversion::convert_for(&manifest, &media_type, &lowercase))
                .flatten();
            if let Some((bytes, converted_type)) = converted {
                manifest = bytes;
                media_type = converted_type.to_owned();
            } else {
                // NOTE: ECR converts a Docker schema 2 manifest to schema 1 when only schema 1
                // is accepted (BatchGetImage documentation); the mock stores no schema 1 form,
                // so it reports the image as not found in an accepted media type. The API
                // model's ImageFailureCode has no code for this case.
                let reason = format!(
                    "Requested image not found in an accepted media type: its manifest is {}; add that type to acceptedMediaTypes",
                    image.row.media_type
                );
                failures.push(failure(id, "ImageNotFound", &reason));
                continue;
            }
        }
        let manifest = String::from_utf8_lossy(&manifest).into_owned();
        let mut image_id = json!({ "imageDigest": image.row.digest });
        if let Some(tag) = &id.image_tag {
            image_id["imageTag"] = json!(tag);
        }
        images.push(json!({
            "registryId": scope.account,
            "repositoryName": repository,
            "imageId": image_id,
            "imageManifest": manifest,
            "imageManifestMediaType": media_type,
        }));
    }
    Ok(json!({ "images": images, "failures": failures }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BatchDeleteImageInput {
    repository_name: String,
    image_ids: Vec<ImageIdentifier>,
}

pub(super) fn batch_delete_image(
    registry: &Registry,
    scope: &Scope,
    input: BatchDeleteImageInput,
) -> Result<Value, ApiError> {
    check_list_size("imageIds", input.image_ids.len())?;
    let repository = &input.repository_name;
    registry.repository(scope, repository)?;

    let mut deleted = Vec::new();
    let mut failures = Vec::new();
    for id in &input.image_ids {
        if let Some(digest) = &id.image_digest {
            if crate::digest::Digest::parse(digest).is_err() {
                failures.push(json!({
                    "imageId": id.to_json(),
                    "failureCode": "InvalidImageDigest",
                    "failureReason": "Invalid image digest",
                }));
                continue;
            }
        }
        let outcome = registry.delete_image(
            scope,
            repository,
            id.image_digest.as_deref(),
            id.image_tag.as_deref(),
        )?;
        match outcome {
            Ok(removed) => {
                for removed in removed {
                    let mut image_id = json!({ "imageDigest": removed.digest });
                    if let Some(tag) = removed.tag {
                        image_id["imageTag"] = json!(tag);
                    }
                    deleted.push(image_id);
                }
            }
            Err(failure) => {
                let (code, reason) = failure.code_and_reason();
                failures.push(json!({
                    "imageId": id.to_json(),
                    "failureCode": code,
                    "failureReason": reason,
                }));
            }
        }
    }
    Ok(json!({ "imageIds": deleted, "failures": failures }))
}

/// Checks `acceptedMediaTypes` against the API model's `MediaTypeList`: 1 to 100 media types.
fn check_media_types(accepted: &[String]) -> Result<(), ApiError> {
    check_list_size("acceptedMediaTypes", accepted.len())?;
    for media_type in accepted {
        if media_type.is_empty() || !media_type.contains('/') {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at 'acceptedMediaTypes': '{media_type}' is not a media type; use a manifest type such as application/vnd.oci.image.manifest.v1+json"
            )));
        }
    }
    Ok(())
}

/// Checks the size of a list parameter against the API model's 1 to 100 items.
pub(super) fn check_list_size(field: &str, count: usize) -> Result<(), ApiError> {
    if (1..=100).contains(&count) {
        return Ok(());
    }
    Err(ApiError::invalid(format!(
        "Invalid parameter at '{field}' failed to satisfy constraint: 'Member must have length between 1 and 100' (got {count} items)"
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PutImageInput {
    repository_name: String,
    image_manifest: String,
    image_manifest_media_type: Option<String>,
    image_tag: Option<String>,
    image_digest: Option<String>,
}

pub(super) fn put_image(
    registry: &Registry,
    scope: &Scope,
    input: PutImageInput,
) -> Result<Value, ApiError> {
    let manifest = input.image_manifest.as_bytes();
    if manifest.is_empty() || manifest.len() > MAX_MANIFEST_BYTES {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must have length between 1 and {MAX_MANIFEST_BYTES}' (got {} bytes)",
            manifest.len()
        )));
    }
    if let Some(tag) = &input.image_tag {
        crate::names::validate_tag(tag)?;
    }
    let digest = match &input.image_digest {
        Some(text) => Some(crate::digest::Digest::parse(text)?),
        None => None,
    };

    let repository = &input.repository_name;
    let outcome = registry.put_image(
        scope,
        repository,
        input.image_tag.as_deref(),
        digest.as_ref(),
        input.image_manifest_media_type.as_deref(),
        manifest,
    )?;
    let stored = outcome.map_err(|rejection| {
        let kind = match rejection {
            PutImageRejection::AlreadyTagged { .. } | PutImageRejection::AlreadyExists { .. } => {
                "ImageAlreadyExistsException"
            }
            PutImageRejection::ReferencedImageNotFound { .. } => {
                "ReferencedImagesNotFoundException"
            }
        };
        ApiError::new(StatusCode::BAD_REQUEST, kind, rejection.to_string())
    })?;

    let image = registry
        .find_image(scope, repository, Some(&stored.to_string()), None)?
        .ok_or_else(|| CoreError::ManifestUnknown {
            reference: stored.to_string(),
        })?;
    let mut image_id = json!({ "imageDigest": image.row.digest });
    if let Some(tag) = &input.image_tag {
        image_id["imageTag"] = json!(tag);
    }
    Ok(json!({
        "image": {
            "registryId": scope.account,
            "repositoryName": repository,
            "imageId": image_id,
            "imageManifest": input.image_manifest,
            "imageManifestMediaType": image.row.media_type,
        }
    }))
}

/// The largest `maxResults` of ListImageReferrers (the API model's `FiftyMaxResults`).
const MAX_REFERRER_RESULTS: i64 = 50;

/// The most artifact types one filter names (the API model's `ArtifactTypeList`).
const MAX_ARTIFACT_TYPES: usize = 5;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SubjectIdentifier {
    image_digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReferrersFilter {
    artifact_types: Option<Vec<String>>,
    artifact_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListImageReferrersInput {
    repository_name: String,
    subject_id: SubjectIdentifier,
    filter: Option<ReferrersFilter>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// Reads the filter into the artifact types to keep (empty keeps all) and whether `ACTIVE`
/// artifacts, the only status the mock has, are selected.
fn referrers_filter(filter: Option<&ReferrersFilter>) -> Result<(Vec<String>, bool), ApiError> {
    let types = filter
        .and_then(|filter| filter.artifact_types.clone())
        .unwrap_or_default();
    if types.len() > MAX_ARTIFACT_TYPES {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'filter.artifactTypes' failed to satisfy constraint: 'Member must have length less than or equal to {MAX_ARTIFACT_TYPES}' (got {} items)",
            types.len()
        )));
    }
    if let Some(bad) = types.iter().find(|kind| !(1..=255).contains(&kind.len())) {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'filter.artifactTypes' failed to satisfy constraint: 'Member must have length between 1 and 255' (got '{bad}')"
        )));
    }
    let active = match filter.and_then(|filter| filter.artifact_status.as_deref()) {
        None | Some("ACTIVE") | Some("ANY") => true,
        Some("ARCHIVED") | Some("ACTIVATING") => false,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at 'filter.artifactStatus' failed to satisfy constraint: 'Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]' (got '{other}')"
            )));
        }
    };
    Ok((types, active))
}

pub(super) fn list_image_referrers(
    registry: &Registry,
    scope: &Scope,
    input: ListImageReferrersInput,
) -> Result<Value, ApiError> {
    let max = max_results_up_to(input.max_results, MAX_REFERRER_RESULTS)?;
    let subject = crate::digest::Digest::parse(&input.subject_id.image_digest)?;
    let (types, active) = referrers_filter(input.filter.as_ref())?;
    let repository = &input.repository_name;

    // The mock never archives images, so every referrer is ACTIVE.
    let referrers: Vec<Value> = registry
        .referrers(scope, repository, &subject)?
        .into_iter()
        .filter(|_| active)
        .filter(|referrer| {
            types.is_empty()
                || referrer
                    .artifact_type
                    .as_ref()
                    .is_some_and(|kind| types.contains(kind))
        })
        .map(|referrer| {
            let mut output = json!({
                "digest": referrer.digest,
                "mediaType": referrer.media_type,
                "size": referrer.size,
                "artifactStatus": "ACTIVE",
            });
            if let Some(kind) = referrer.artifact_type {
                output["artifactType"] = json!(kind);
            }
            if !referrer.annotations.is_empty() {
                output["annotations"] = json!(referrer.annotations);
            }
            output
        })
        .collect();

    let status = input
        .filter
        .as_ref()
        .and_then(|filter| filter.artifact_status.as_deref())
        .unwrap_or("ACTIVE");
    let pager = Pager::new(registry, scope, "ListImageReferrers")
        .bind("repositoryName", repository)
        .bind("subjectId", &subject.to_string())
        .bind("artifactTypes", &types.join("\n"))
        .bind("artifactStatus", status);
    let (page, next) = pager.page(referrers, max, input.next_token.as_deref())?;
    Ok(with_next_token(json!({ "referrers": page }), next))
}
