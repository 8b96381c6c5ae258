//! Layer download URLs for GetDownloadUrlForLayer.
//!
//! ECR returns from GetDownloadUrlForLayer a pre-signed URL that fetches the layer without
//! registry credentials until it expires. The mock issues a random token instead, remembers
//! which layer it grants until [`DOWNLOAD_URL_LIFETIME`] has passed on the injected clock, and
//! serves the URL on its own port.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::{Duration, OffsetDateTime};

use super::Registry;
use crate::clock::rfc3339;
use crate::digest::Digest;
use crate::error::CoreError;
use crate::manifest::{Manifest, ManifestKind};
use crate::store::db::{self, Scope};

/// How long a download URL stays valid.
///
/// NOTE: the API reference does not state the lifetime of ECR's pre-signed layer URLs; one
/// hour is an assumption.
pub const DOWNLOAD_URL_LIFETIME: Duration = Duration::hours(1);

/// The layer a download token grants, and until when.
#[derive(Debug, Clone)]
struct Grant {
    scope: Scope,
    repository: String,
    digest: Digest,
    expires_at: OffsetDateTime,
}

/// Download tokens issued by this process. They are not stored, so a restart invalidates them.
#[derive(Debug, Default)]
pub(super) struct DownloadGrants {
    grants: Mutex<HashMap<String, Grant>>,
}

impl DownloadGrants {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Grant>> {
        // A panic while the lock is held cannot leave a grant half-written, so a poisoned lock
        // is still safe to use.
        self.grants.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A failure to issue or redeem a download URL.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error(transparent)]
    Core(#[from] CoreError),

    #[error(
        "The layer with digest '{digest}' in the repository with name '{repository}' is not referenced by any image: push a manifest that names it before downloading it"
    )]
    LayerNotReferenced { digest: String, repository: String },

    #[error(
        "The download URL is not valid: it was never issued, or it expired, or the mock restarted since. Call GetDownloadUrlForLayer for a new URL"
    )]
    UrlUnknown,

    #[error("The download URL expired at {expired_at}: call GetDownloadUrlForLayer for a new URL")]
    UrlExpired { expired_at: String },
}

/// A layer that a download URL grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedLayer {
    pub digest: Digest,
    pub size: u64,
}

impl Registry {
    /// Issues a download token for a layer of `repository` and returns it with its expiry
    /// time. The layer must have been uploaded to the repository and be named by one of its
    /// image manifests, as ECR requires ("You can only get URLs for image layers that are
    /// referenced in an image", GetDownloadUrlForLayer API reference).
    pub fn grant_layer_download(
        &self,
        scope: &Scope,
        repository: &str,
        digest: &Digest,
    ) -> Result<(String, OffsetDateTime), DownloadError> {
        let referenced = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            if db::layer_size(tx, scope, repository, &digest.to_string())?.is_none() {
                return Err(CoreError::BlobUnknown {
                    digest: digest.to_string(),
                    repository: repository.to_owned(),
                });
            }
            referenced_by_image(tx, scope, repository, digest)
        })?;
        if !referenced {
            return Err(DownloadError::LayerNotReferenced {
                digest: digest.to_string(),
                repository: repository.to_owned(),
            });
        }

        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = self.clock.now();
        let expires_at = now + DOWNLOAD_URL_LIFETIME;
        let grant = Grant {
            scope: scope.clone(),
            repository: repository.to_owned(),
            digest: digest.clone(),
            expires_at,
        };
        let mut grants = self.download_grants.lock();
        grants.retain(|_, grant| grant.expires_at > now);
        grants.insert(token.clone(), grant);
        Ok((token, expires_at))
    }

    /// Checks a download token and returns the layer it grants, which must still be in its
    /// repository.
    pub fn redeem_layer_download(&self, token: &str) -> Result<GrantedLayer, DownloadError> {
        let grant = self
            .download_grants
            .lock()
            .get(token)
            .cloned()
            .ok_or(DownloadError::UrlUnknown)?;
        if self.clock.now() >= grant.expires_at {
            return Err(DownloadError::UrlExpired {
                expired_at: rfc3339(grant.expires_at),
            });
        }
        let size = self.layer(&grant.scope, &grant.repository, &grant.digest)?;
        Ok(GrantedLayer {
            digest: grant.digest,
            size,
        })
    }
}

/// Returns whether an image manifest in the repository names `digest` as its config or a layer.
fn referenced_by_image(
    conn: &rusqlite::Connection,
    scope: &Scope,
    repository: &str,
    digest: &Digest,
) -> Result<bool, CoreError> {
    for image in db::images(conn, scope, repository)? {
        let Ok(manifest) = Manifest::parse(&image.manifest, Some(&image.media_type)) else {
            continue;
        };
        if let ManifestKind::Image { config, layers } = manifest.kind {
            if config.digest == *digest || layers.iter().any(|layer| layer.digest == *digest) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
