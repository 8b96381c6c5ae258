//! Parsing of the manifests the registry accepts: Docker image manifest schema 2, Docker
//! manifest lists, OCI image manifests and OCI image indexes.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::digest::Digest;
use crate::error::CoreError;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The largest manifest ECR accepts: 4 MiB (Amazon ECR service quotas, "Image manifest size").
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// The content a manifest references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestKind {
    /// An image manifest: a config blob and layer blobs, which must be in the repository.
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
    /// An index or manifest list: other manifests, which must be in the repository.
    Index { manifests: Vec<Descriptor> },
}

/// A parsed manifest with the media type it was stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub media_type: String,
    pub kind: ManifestKind,
    /// The manifest this one refers to (OCI image specification 1.1, `subject`), which makes
    /// this manifest a referrer of it, such as a signature or an SBOM.
    pub subject: Option<Descriptor>,
    /// The manifest's own `artifactType` (OCI image specification 1.1).
    pub artifact_type: Option<String>,
    /// The manifest's `annotations`.
    pub annotations: BTreeMap<String, String>,
}

/// A content descriptor (OCI image specification, "Descriptors").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: i64,
    /// Layers with `urls` are fetched from elsewhere and need not be uploaded.
    pub has_urls: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<i64>,
    media_type: Option<String>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
    manifests: Option<Vec<RawDescriptor>>,
    subject: Option<RawDescriptor>,
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: Option<String>,
    digest: String,
    size: i64,
    #[serde(default)]
    urls: Vec<String>,
}

impl Manifest {
    /// Parses manifest bytes sent with `content_type` (the request's `Content-Type`, if any).
    ///
    /// The media type comes from `content_type` when it names a manifest type, else from the
    /// manifest's own `mediaType` field, else from its shape (`manifests` for an index, `config`
    /// for an image), as the OCI image specification allows.
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Self, CoreError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(CoreError::ManifestTooLarge {
                size: bytes.len(),
                limit: MAX_MANIFEST_BYTES,
            });
        }
        let raw: RawManifest =
            serde_json::from_slice(bytes).map_err(|error| CoreError::ManifestInvalid {
                reason: format!("not a JSON manifest: {error}"),
            })?;
        let media_type = media_type_of(&raw, content_type)?;
        if raw.schema_version != Some(2) {
            return Err(CoreError::ManifestInvalid {
                reason: format!(
                    "schemaVersion must be 2, found {}",
                    raw.schema_version
                        .map_or("none".to_owned(), |version| version.to_string())
                ),
            });
        }

        let kind = if media_type == DOCKER_MANIFEST_LIST || media_type == OCI_INDEX {
            let manifests = raw.manifests.ok_or_else(|| CoreError::ManifestInvalid {
                reason: format!("an index of type {media_type} needs a 'manifests' array"),
            })?;
            ManifestKind::Index {
                manifests: descriptors(manifests)?,
            }
        } else {
            let config = raw.config.ok_or_else(|| CoreError::ManifestInvalid {
                reason: format!("an image manifest of type {media_type} needs a 'config'"),
            })?;
            ManifestKind::Image {
                config: descriptor(config)?,
                layers: descriptors(raw.layers.unwrap_or_default())?,
            }
        };
        let subject = raw.subject.map(descriptor).transpose()?;
        Ok(Self {
            media_type,
            kind,
            subject,
            artifact_type: raw.artifact_type,
            annotations: raw.annotations,
        })
    }

    /// The artifact type a referrers listing reports: `artifactType`, else the config blob's
    /// media type (OCI distribution specification 1.1, "Listing Referrers").
    pub fn referrer_artifact_type(&self) -> Option<&str> {
        self.artifact_type
            .as_deref()
            .or_else(|| self.config_media_type())
    }

    /// The media type of the config blob, which ECR reports as `artifactMediaType`.
    pub fn config_media_type(&self) -> Option<&str> {
        match &self.kind {
            ManifestKind::Image { config, .. } => Some(&config.media_type),
            ManifestKind::Index { .. } => None,
        }
    }
}

fn media_type_of(raw: &RawManifest, content_type: Option<&str>) -> Result<String, CoreError> {
    let header = content_type
        .map(|value| value.split(';').next().unwrap_or("").trim())
        .filter(|value| !value.is_empty() && *value != "application/json");
    let declared = raw.media_type.as_deref();

    let media_type = match (header, declared) {
        (Some(header), Some(declared)) if header != declared => {
            return Err(CoreError::ManifestInvalid {
                reason: format!(
                    "Content-Type '{header}' does not match the manifest's mediaType '{declared}'"
                ),
            });
        }
        (Some(media_type), _) | (None, Some(media_type)) => media_type.to_owned(),
        (None, None) if raw.manifests.is_some() => OCI_INDEX.to_owned(),
        (None, None) => OCI_MANIFEST.to_owned(),
    };
    if [
        DOCKER_MANIFEST,
        DOCKER_MANIFEST_LIST,
        OCI_MANIFEST,
        OCI_INDEX,
    ]
    .contains(&media_type.as_str())
    {
        Ok(media_type)
    } else {
        Err(CoreError::ManifestUnsupported { media_type })
    }
}

fn descriptors(raw: Vec<RawDescriptor>) -> Result<Vec<Descriptor>, CoreError> {
    raw.into_iter().map(descriptor).collect()
}

fn descriptor(raw: RawDescriptor) -> Result<Descriptor, CoreError> {
    if raw.size < 0 {
        return Err(CoreError::ManifestInvalid {
            reason: format!("descriptor {} has negative size {}", raw.digest, raw.size),
        });
    }
    Ok(Descriptor {
        media_type: raw.media_type.unwrap_or_default(),
        digest: Digest::parse(&raw.digest)?,
        size: raw.size,
        has_urls: !raw.urls.is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    const LAYER: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn image_manifest(media_type: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{media_type}",
                "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{CONFIG}","size":2}},
                "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{LAYER}","size":0}}]}}"#
        )
    }

    #[test]
    fn parses_oci_and_docker_image_manifests() {
        for media_type in [OCI_MANIFEST, DOCKER_MANIFEST] {
            let manifest = Manifest::parse(image_manifest(media_type).as_bytes(), None).unwrap();
            assert_eq!(manifest.media_type, media_type);
            let ManifestKind::Image { config, layers } = manifest.kind else {
                panic!("expected an image manifest");
            };
            assert_eq!(config.digest.to_string(), CONFIG);
            assert_eq!(layers.len(), 1);
        }
    }

    #[test]
    fn rejects_content_type_mismatch() {
        let error = Manifest::parse(
            image_manifest(OCI_MANIFEST).as_bytes(),
            Some(DOCKER_MANIFEST),
        )
        .unwrap_err();
        assert!(
            matches!(error, CoreError::ManifestInvalid { .. }),
            "{error}"
        );
    }

    #[test]
    fn rejects_schema_one() {
        let body = r#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#;
        let error = Manifest::parse(
            body.as_bytes(),
            Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
        )
        .unwrap_err();
        assert!(
            matches!(error, CoreError::ManifestUnsupported { .. }),
            "{error}"
        );
    }

    #[test]
    fn rejects_oversized_and_malformed_manifests() {
        let huge = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert!(matches!(
            Manifest::parse(&huge, None),
            Err(CoreError::ManifestTooLarge { .. })
        ));
        assert!(matches!(
            Manifest::parse(b"not json", None),
            Err(CoreError::ManifestInvalid { .. })
        ));
        let bad_digest = image_manifest(OCI_MANIFEST).replace(LAYER, "sha256:nothex");
        assert!(matches!(
            Manifest::parse(bad_digest.as_bytes(), None),
            Err(CoreError::DigestInvalid { .. })
        ));
    }

    #[test]
    fn index_lists_child_manifests() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
                {{"mediaType":"{OCI_MANIFEST}","digest":"{CONFIG}","size":10}}]}}"#
        );
        let manifest = Manifest::parse(body.as_bytes(), None).unwrap();
        assert!(
            matches!(manifest.kind, ManifestKind::Index { ref manifests } if manifests.len() == 1)
        );
        assert_eq!(manifest.config_media_type(), None);
    }

    #[test]
    fn reads_subject_and_artifact_type() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","artifactType":"application/vnd.example.sbom",
                "config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{CONFIG}","size":2}},
                "layers":[],
                "subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{LAYER}","size":100}},
                "annotations":{{"org.example.kind":"sbom"}}}}"#
        );
        let manifest = Manifest::parse(body.as_bytes(), None).unwrap();
        let subject = manifest.subject.as_ref().expect("a subject");
        assert_eq!(subject.digest.to_string(), LAYER);
        assert_eq!(
            manifest.referrer_artifact_type(),
            Some("application/vnd.example.sbom")
        );
        assert_eq!(manifest.annotations["org.example.kind"], "sbom");

        let plain = Manifest::parse(image_manifest(OCI_MANIFEST).as_bytes(), None).unwrap();
        assert_eq!(plain.subject, None);
        assert_eq!(
            plain.referrer_artifact_type(),
            Some("application/vnd.oci.image.config.v1+json")
        );
    }
}
