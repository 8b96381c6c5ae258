//! Images: manifests, tags, and the rules that guard them.

use super::{
    DeleteFailure, DeletedImageId, Image, MAX_TAGS_PER_IMAGE, Reference, Registry, tag_is_immutable,
};
use crate::digest::{Algorithm, Digest};
use crate::error::CoreError;
use crate::manifest::{Manifest, ManifestKind};
use crate::store::db::{self, ImageRow, Scope};

/// The maximum number of images that manifest GETs keep in memory; reaching it empties the
/// cache.
pub(super) const MANIFEST_READS_CAPACITY: usize = 1024;

/// A manifest whose `subject` names another manifest, as ListImageReferrers reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    /// The size of the referrer's manifest in bytes, as in an OCI referrers index descriptor.
    pub size: i64,
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// The time within which a second pull of an image leaves the recorded pull time unchanged. ECR
/// documents that it "refreshes the last image pull timestamp at least once every 24 hours"
/// (`lastRecordedPullTime`, ECR API Reference, ImageDetail). The mock records it to the
/// second, so a busy client does not cost a database write per pull.
pub const PULL_TIME_RESOLUTION_MILLIS: i64 = 1000;

impl Registry {
    /// Lists the manifests in the repository whose `subject` is `subject`, in push order. The
    /// subject itself need not be in the repository (OCI distribution specification 1.1).
    pub fn referrers(
        &self,
        scope: &Scope,
        repository: &str,
        subject: &Digest,
    ) -> Result<Vec<Referrer>, CoreError> {
        let rows = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::images(tx, scope, repository)
        })?;
        let mut referrers = Vec::new();
        for row in rows {
            let Ok(manifest) = Manifest::parse(&row.manifest, Some(&row.media_type)) else {
                continue;
            };
            if manifest.subject.as_ref().map(|named| &named.digest) != Some(subject) {
                continue;
            }
            referrers.push(Referrer {
                artifact_type: manifest.referrer_artifact_type().map(str::to_owned),
                size: i64::try_from(row.manifest.len()).unwrap_or(i64::MAX),
                media_type: row.media_type,
                digest: row.digest,
                annotations: manifest.annotations,
            });
        }
        Ok(referrers)
    }

    /// Lists a repository's images with their tags.
    pub fn images(&self, scope: &Scope, repository: &str) -> Result<Vec<Image>, CoreError> {
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::images(tx, scope, repository)?
                .into_iter()
                .map(|row| {
                    let tags = db::tags_of(tx, scope, repository, &row.digest)?;
                    Ok(Image { row, tags })
                })
                .collect()
        })
    }

    /// Deletes by tag or digest, as BatchDeleteImage does for one image id: a tag alone removes
    /// that tag, and the image too when it was the image's last tag; a digest removes the image
    /// with all its tags. Returns the image ids removed, or why nothing was.
    pub fn delete_image(
        &self,
        scope: &Scope,
        repository: &str,
        digest: Option<&str>,
        tag: Option<&str>,
    ) -> Result<Result<Vec<DeletedImageId>, DeleteFailure>, CoreError> {
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            let by_tag = match tag {
                Some(tag) => match db::tag_digest(tx, scope, repository, tag)? {
                    Some(found) => Some(found),
                    None => return Ok(Err(DeleteFailure::ImageNotFound)),
                },
                None => None,
            };
            let target = match (digest, &by_tag) {
                (Some(digest), Some(found)) if digest != found => {
                    return Ok(Err(DeleteFailure::TagDoesNotMatchDigest));
                }
                (Some(digest), _) => digest.to_owned(),
                (None, Some(found)) => found.clone(),
                (None, None) => return Ok(Err(DeleteFailure::MissingDigestAndTag)),
            };
            if db::image(tx, scope, repository, &target)?.is_none() {
                return Ok(Err(DeleteFailure::ImageNotFound));
            }
            let tags = db::tags_of(tx, scope, repository, &target)?;

            if let (Some(tag), None) = (tag, digest) {
                db::delete_tag(tx, scope, repository, tag)?;
                if tags.len() == 1 {
                    self.delete_untagged(tx, scope, repository, &target)?;
                }
                return Ok(Ok(vec![DeletedImageId {
                    digest: target,
                    tag: Some(tag.to_owned()),
                }]));
            }
            if self.referenced_by_index(tx, scope, repository, &target)? {
                return Ok(Err(DeleteFailure::ReferencedByManifestList));
            }
            db::delete_image(tx, scope, repository, &target)?;
            if tags.is_empty() {
                return Ok(Ok(vec![DeletedImageId {
                    digest: target,
                    tag: None,
                }]));
            }
            let removed = tags.into_iter().map(|tag| DeletedImageId {
                digest: target.clone(),
                tag: Some(tag),
            });
            Ok(Ok(removed.collect()))
        })
    }

    /// Deletes an image whose last tag was removed, unless an index in the repository still
    /// names it.
    fn delete_untagged(
        &self,
        conn: &rusqlite::Connection,
        scope: &Scope,
        repository: &str,
        digest: &str,
    ) -> Result<(), CoreError> {
        if !self.referenced_by_index(conn, scope, repository, digest)? {
            db::delete_image(conn, scope, repository, digest)?;
        }
        Ok(())
    }

    /// Whether an index or manifest list in the repository names `digest`.
    fn referenced_by_index(
        &self,
        conn: &rusqlite::Connection,
        scope: &Scope,
        repository: &str,
        digest: &str,
    ) -> Result<bool, CoreError> {
        for image in db::images(conn, scope, repository)? {
            let Ok(manifest) = Manifest::parse(&image.manifest, Some(&image.media_type)) else {
                continue;
            };
            if let ManifestKind::Index { manifests } = manifest.kind {
                if manifests
                    .iter()
                    .any(|child| child.digest.to_string() == digest)
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Finds an image by digest, tag or both (which must then agree).
    pub fn find_image(
        &self,
        scope: &Scope,
        repository: &str,
        digest: Option<&str>,
        tag: Option<&str>,
    ) -> Result<Option<Image>, CoreError> {
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            let by_tag = match tag {
                Some(tag) => match db::tag_digest(tx, scope, repository, tag)? {
                    Some(found) => Some(found),
                    None => return Ok(None),
                },
                None => None,
            };
            let digest = match (digest, by_tag) {
                (Some(digest), Some(found)) if digest != found => return Ok(None),
                (Some(digest), _) => digest.to_owned(),
                (None, Some(found)) => found,
                (None, None) => return Ok(None),
            };
            let Some(row) = db::image(tx, scope, repository, &digest)? else {
                return Ok(None);
            };
            let tags = db::tags_of(tx, scope, repository, &digest)?;
            Ok(Some(Image { row, tags }))
        })
    }

    /// Lists a repository's tags in lexical order.
    pub fn tags(&self, scope: &Scope, repository: &str) -> Result<Vec<String>, CoreError> {
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::tags(tx, scope, repository)
        })
    }

    /// Stores a manifest and, for a tag reference, points the tag at it.
    ///
    /// Every blob an image manifest names, and every manifest an index names, must already be
    /// in the repository. Moving an existing tag that [`tag_is_immutable`] reports immutable is
    /// rejected, and a tag that would give an image more than [`MAX_TAGS_PER_IMAGE`] tags is
    /// rejected. Pushing the same manifest under the same tag again succeeds and changes nothing.
    pub fn put_manifest(
        &self,
        scope: &Scope,
        repository: &str,
        reference: &Reference,
        content_type: Option<&str>,
        bytes: &[u8],
    ) -> Result<Digest, CoreError> {
        let no_rejection = |_: &rusqlite::Connection| Ok(None::<std::convert::Infallible>);
        match self.store_manifest(
            scope,
            repository,
            reference,
            content_type,
            bytes,
            no_rejection,
        )? {
            Ok(digest) => Ok(digest),
            Err(never) => match never {},
        }
    }

    /// Stores a manifest as [`Registry::put_manifest`] does, unless `reject`, called once the
    /// repository is known to exist, returns a rejection. `reject` runs in the transaction that
    /// stores the manifest, so no concurrent push can change what it read before the store.
    fn store_manifest<R>(
        &self,
        scope: &Scope,
        repository: &str,
        reference: &Reference,
        content_type: Option<&str>,
        bytes: &[u8],
        reject: impl FnOnce(&rusqlite::Connection) -> Result<Option<R>, CoreError>,
    ) -> Result<Result<Digest, R>, CoreError> {
        if bytes.is_empty() {
            return Err(CoreError::ManifestInvalid {
                reason: "the request body is empty: send the manifest's JSON".to_owned(),
            });
        }
        let digest = Digest::of(bytes);
        if let Reference::Digest(expected) = reference {
            if expected.algorithm() != Algorithm::Sha256 {
                return Err(CoreError::DigestInvalid {
                    digest: expected.to_string(),
                    reason: "ECR identifies images by sha256 digests; push the manifest by tag \
                             or by its sha256 digest"
                        .to_owned(),
                });
            }
            if *expected != digest {
                return Err(CoreError::DigestMismatch {
                    expected: expected.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        let digest_text = digest.to_string();
        let now = self.now_millis();

        // The checks run in the order a client's errors should explain the push: a missing
        // repository first, then a tag the repository will not move, then the manifest itself.
        // So a client that retries an immutable tag in another manifest format (podman and
        // skopeo fall back to schema 1) still reads TAG_INVALID, as from ECR.
        let stored = self.db.transaction(|tx| {
            let repository_row = self.require_repository(tx, scope, repository)?;
            if let Some(rejection) = reject(tx)? {
                return Ok(Err(rejection));
            }
            if let Reference::Tag(tag) = reference {
                let current = db::tag_digest(tx, scope, repository, tag)?;
                if current.as_deref() == Some(digest_text.as_str()) {
                    return Ok(Ok(None));
                }
                let immutable = tag_is_immutable(
                    &repository_row.tag_mutability,
                    &repository_row.tag_mutability_exclusions,
                    tag,
                );
                if current.is_some() && immutable {
                    return Err(CoreError::ImageTagAlreadyExists {
                        tag: tag.clone(),
                        repository: repository.to_owned(),
                    });
                }
            }

            let manifest = Manifest::parse(bytes, content_type)?;
            let size = self.referenced_size(tx, scope, repository, &manifest)?;
            if let Reference::Tag(tag) = reference {
                if db::tags_of(tx, scope, repository, &digest_text)?.len() >= MAX_TAGS_PER_IMAGE {
                    return Err(CoreError::TagLimitExceeded {
                        tag: tag.clone(),
                        repository: repository.to_owned(),
                        registry_id: scope.account.clone(),
                        limit: MAX_TAGS_PER_IMAGE,
                    });
                }
            }

            let mut scan = None;
            if db::image(tx, scope, repository, &digest_text)?.is_none() {
                let row = ImageRow {
                    digest: digest_text.clone(),
                    manifest: bytes.to_vec(),
                    media_type: manifest.media_type.clone(),
                    artifact_media_type: manifest.config_media_type().map(str::to_owned),
                    size,
                    pushed_at: now,
                    last_pulled_at: None,
                };
                db::insert_image(tx, scope, repository, &row)?;
                scan = self.scan_on_push(tx, scope, &repository_row, &digest_text, now)?;
            }
            if let Reference::Tag(tag) = reference {
                db::set_tag(tx, scope, repository, tag, &digest_text)?;
            }
            Ok(Ok(scan))
        })?;
        Ok(stored.map(|scan| {
            if let Some(job) = scan {
                self.queue_scan_on_push(job);
            }
            digest
        }))
    }

    /// Checks that everything a manifest names is in the repository and returns the image size
    /// ECR reports: the sum of the layers' compressed sizes (for an index, of its images).
    fn referenced_size(
        &self,
        conn: &rusqlite::Connection,
        scope: &Scope,
        repository: &str,
        manifest: &Manifest,
    ) -> Result<i64, CoreError> {
        let missing = |digest: &Digest| CoreError::ManifestBlobUnknown {
            digest: digest.to_string(),
            repository: repository.to_owned(),
        };
        match &manifest.kind {
            ManifestKind::Image { config, layers } => {
                let config_key = config.digest.to_string();
                db::layer_size(conn, scope, repository, &config_key)?
                    .ok_or_else(|| missing(&config.digest))?;
                let mut total = 0i64;
                for layer in layers {
                    let stored =
                        db::layer_size(conn, scope, repository, &layer.digest.to_string())?;
                    match stored {
                        Some(size) => total = total.saturating_add(size),
                        None if layer.has_urls => total = total.saturating_add(layer.size),
                        None => return Err(missing(&layer.digest)),
                    }
                }
                Ok(total)
            }
            ManifestKind::Index { manifests } => {
                let mut total = 0i64;
                for child in manifests {
                    let image = db::image(conn, scope, repository, &child.digest.to_string())?
                        .ok_or_else(|| missing(&child.digest))?;
                    total = total.saturating_add(image.size);
                }
                Ok(total)
            }
        }
    }

    /// Returns the manifest a tag or digest names, and records the pull time unless the image
    /// was pulled less than [`PULL_TIME_RESOLUTION_MILLIS`] before.
    ///
    /// The pull time is written in a transaction of its own, so a disk that is full or
    /// read-only only loses the pull time: stored images stay pullable.
    pub fn get_manifest(
        &self,
        scope: &Scope,
        repository: &str,
        reference: &Reference,
    ) -> Result<ImageRow, CoreError> {
        let key = (scope.clone(), repository.to_owned(), reference.to_string());
        let generation = self.db.generation();
        if let Some(image) = self.manifest_reads.get(generation, &key) {
            return self.mark_pulled(scope, repository, image);
        }
        let image = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            let digest = match reference {
                Reference::Digest(digest) => Some(digest.to_string()),
                Reference::Tag(tag) => db::tag_digest(tx, scope, repository, tag)?,
            };
            let image = match digest {
                Some(digest) => db::image(tx, scope, repository, &digest)?,
                None => None,
            };
            image.ok_or_else(|| CoreError::ManifestUnknown {
                reference: reference.to_string(),
            })
        })?;
        self.manifest_reads.insert(generation, key, &image);
        self.mark_pulled(scope, repository, image)
    }

    /// Records the time of a pull, unless one was recorded less than
    /// [`PULL_TIME_RESOLUTION_MILLIS`] ago, and returns the image.
    fn mark_pulled(
        &self,
        scope: &Scope,
        repository: &str,
        image: ImageRow,
    ) -> Result<ImageRow, CoreError> {
        let now = self.now_millis();
        let recent = image
            .last_pulled_at
            .is_some_and(|at| (0..PULL_TIME_RESOLUTION_MILLIS).contains(&(now - at)));
        if recent {
            return Ok(image);
        }
        let marked = self
            .db
            .transaction(|tx| db::mark_pulled(tx, scope, repository, &image.digest, now));
        match marked {
            Ok(()) => {}
            Err(error @ CoreError::StorageFault { .. }) => {
                tracing::warn!(%error, repository, digest = %image.digest, "served a manifest without recording its pull time");
            }
            Err(error) => return Err(error),
        }
        Ok(image)
    }
}

/// A PutImage rejection of a manifest that the registry's manifest PUT accepts or reports with
/// a more general error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PutImageRejection {
    /// The manifest is already in the repository under the same tag.
    #[error(
        "Image with digest '{digest}' and tag '{tag}' already exists in the repository with name '{repository}' in registry with id '{registry_id}'"
    )]
    AlreadyTagged {
        digest: String,
        tag: String,
        repository: String,
        registry_id: String,
    },

    /// A PutImage without a tag names a manifest that is already in the repository.
    #[error(
        "Image with digest '{digest}' already exists in the repository with name '{repository}' in registry with id '{registry_id}'"
    )]
    AlreadyExists {
        digest: String,
        repository: String,
        registry_id: String,
    },

    /// An index or manifest list names a manifest that is not in the repository.
    #[error(
        "The image index references the image with digest '{digest}', which does not exist in the repository with name '{repository}': put that image first"
    )]
    ReferencedImageNotFound { digest: String, repository: String },
}

impl Registry {
    /// Stores a manifest for PutImage through [`Registry::put_manifest`], the function behind
    /// the registry's manifest PUT, so both front ends apply the same rules.
    ///
    /// PutImage differs from the PUT in two ways, following the API model's error list. A
    /// manifest already stored under the same tag is rejected as
    /// [`PutImageRejection::AlreadyTagged`], and without a tag, a manifest already stored at all
    /// is rejected as [`PutImageRejection::AlreadyExists`]. An index that names a missing image
    /// is rejected as [`PutImageRejection::ReferencedImageNotFound`] instead of a missing blob.
    /// With both `tag` and `digest`, the digest must match the manifest and the tag is set.
    pub fn put_image(
        &self,
        scope: &Scope,
        repository: &str,
        tag: Option<&str>,
        digest: Option<&Digest>,
        media_type: Option<&str>,
        bytes: &[u8],
    ) -> Result<Result<Digest, PutImageRejection>, CoreError> {
        let actual = Digest::of(bytes);
        if let Some(expected) = digest {
            if *expected != actual {
                return Err(CoreError::DigestMismatch {
                    expected: expected.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
        let reference = match tag {
            Some(tag) => Reference::Tag(tag.to_owned()),
            None => Reference::Digest(actual.clone()),
        };
        // The check for an earlier identical put runs in the storing transaction, so of two
        // identical PutImage calls at the same time exactly one is accepted.
        let already_put =
            |conn: &rusqlite::Connection| self.already_put(conn, scope, repository, tag, &actual);
        match self.store_manifest(
            scope,
            repository,
            &reference,
            media_type,
            bytes,
            already_put,
        ) {
            Ok(stored) => Ok(stored),
            Err(CoreError::ManifestBlobUnknown { digest, repository })
                if is_index(bytes, media_type) =>
            {
                Ok(Err(PutImageRejection::ReferencedImageNotFound {
                    digest,
                    repository,
                }))
            }
            Err(error) => Err(error),
        }
    }

    /// Returns the rejection for a PutImage that would change nothing.
    fn already_put(
        &self,
        conn: &rusqlite::Connection,
        scope: &Scope,
        repository: &str,
        tag: Option<&str>,
        digest: &Digest,
    ) -> Result<Option<PutImageRejection>, CoreError> {
        let digest = digest.to_string();
        let rejection = match tag {
            Some(tag) => (db::tag_digest(conn, scope, repository, tag)?.as_deref()
                == Some(digest.as_str()))
            .then(|| PutImageRejection::AlreadyTagged {
                digest: digest.clone(),
                tag: tag.to_owned(),
                repository: repository.to_owned(),
                registry_id: scope.account.clone(),
            }),
            None => db::image(conn, scope, repository, &digest)?.map(|_| {
                PutImageRejection::AlreadyExists {
                    digest: digest.clone(),
                    repository: repository.to_owned(),
                    registry_id: scope.account.clone(),
                }
            }),
        };
        Ok(rejection)
    }
}

fn is_index(bytes: &[u8], media_type: Option<&str>) -> bool {
    Manifest::parse(bytes, media_type)
        .is_ok_and(|manifest| matches!(manifest.kind, ManifestKind::Index { .. }))
}
