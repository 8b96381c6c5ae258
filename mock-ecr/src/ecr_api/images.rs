//! Image operations: ListImages, DescribeImages, BatchGetImage, BatchDeleteImage, PutImage.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::pagination::{max_results, paginate, with_next_token};
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

#[derive(Clone, Copy, PartialEq, Eq)]
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
    let (page, next) = paginate(ids, max, input.next_token.as_deref())?;
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

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(digest) = &self.image_digest {
            parts.push(format!("imageDigest={digest}"));
        }
        if let Some(tag) = &self.image_tag {
            parts.push(format!("imageTag={tag}"));
        }
        parts.join(", ")
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
    let details: Vec<Value> = images
        .iter()
        .filter(|image| matches_status(image, status))
        .map(|image| image_detail(scope, repository, image))
        .collect();
    let (page, next) = paginate(details, max, input.next_token.as_deref())?;
    Ok(with_next_token(json!({ "imageDetails": page }), next))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BatchGetImageInput {
    repository_name: String,
    image_ids: Vec<ImageIdentifier>,
}

pub(super) fn batch_get_image(
    registry: &Registry,
    scope: &Scope,
    input: BatchGetImageInput,
) -> Result<Value, ApiError> {
    check_list_size("imageIds", input.image_ids.len())?;
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
        let manifest = String::from_utf8_lossy(&image.row.manifest).into_owned();
        let mut image_id = json!({ "imageDigest": image.row.digest });
        if let Some(tag) = &id.image_tag {
            image_id["imageTag"] = json!(tag);
        }
        images.push(json!({
            "registryId": scope.account,
            "repositoryName": repository,
            "imageId": image_id,
            "imageManifest": manifest,
            "imageManifestMediaType": image.row.media_type,
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
