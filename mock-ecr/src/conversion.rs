//! Manifest conversion on pull by tag, as ECR does it.
//!
//! ECR returns the stored manifest when the client's `Accept` header names its media type.
//! Otherwise it converts between Docker image manifest schema 2 and the OCI image manifest,
//! in either direction, when the client accepts the other format ("Container image manifest
//! format support in Amazon ECR", conversion table). A pull by digest is never converted.
//! ECR also converts schema 2 to the signed schema 1 for Docker 1.9 and older; mock-ecr does
//! not, and returns the stored manifest instead.

use serde_json::{Map, Value};

use crate::manifest::{DOCKER_MANIFEST, OCI_MANIFEST};

const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// Layer media types with a counterpart in the other format: (Docker schema 2, OCI).
const LAYER_TYPES: [(&str, &str); 3] = [
    (
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.oci.image.layer.v1.tar+gzip",
    ),
    (
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.oci.image.layer.v1.tar",
    ),
];

/// Lists the media types of `Accept` header values, without parameters such as `q=`.
pub fn accepted_types<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    values
        .flat_map(|value| value.split(','))
        .filter_map(|item| {
            let media_type = item.split(';').next().unwrap_or("").trim();
            (!media_type.is_empty()).then(|| media_type.to_ascii_lowercase())
        })
        .collect()
}

/// Returns the manifest to serve in place of `stored`, with its media type, when the client
/// does not accept `stored_type` and ECR would convert it. `None` means serve what is stored.
pub fn convert_for(
    stored: &[u8],
    stored_type: &str,
    accepted: &[String],
) -> Option<(Vec<u8>, &'static str)> {
    let accepts = |media_type: &str| accepted.iter().any(|item| item == media_type);
    if accepted.is_empty() || accepts(stored_type) || accepts("*/*") {
        return None;
    }
    let target = match stored_type {
        DOCKER_MANIFEST if accepts(OCI_MANIFEST) => OCI_MANIFEST,
        OCI_MANIFEST if accepts(DOCKER_MANIFEST) => DOCKER_MANIFEST,
        _ => return None,
    };
    let converted = convert(stored, target)?;
    Some((converted, target))
}

/// Rewrites an image manifest's media types for `target`. Returns `None` when a part has no
/// counterpart: a config that is not an image config, a layer type the other format lacks, or
/// OCI 1.1 fields (`subject`, `artifactType`) that Docker schema 2 cannot carry.
fn convert(stored: &[u8], target: &str) -> Option<Vec<u8>> {
    let Value::Object(mut manifest) = serde_json::from_slice::<Value>(stored).ok()? else {
        return None;
    };
    let to_oci = target == OCI_MANIFEST;
    if !to_oci {
        if manifest.contains_key("subject") || manifest.contains_key("artifactType") {
            return None;
        }
        // Docker schema 2 defines no annotations on the manifest or its descriptors.
        manifest.remove("annotations");
    }
    manifest.insert("mediaType".to_owned(), Value::from(target));

    let config = manifest.get_mut("config")?.as_object_mut()?;
    let (from, to) = if to_oci {
        (DOCKER_CONFIG, OCI_CONFIG)
    } else {
        (OCI_CONFIG, DOCKER_CONFIG)
    };
    retype(config, &[(from, to)])?;

    let pairs: Vec<(&str, &str)> = LAYER_TYPES
        .iter()
        .map(|&(docker, oci)| if to_oci { (docker, oci) } else { (oci, docker) })
        .collect();
    if let Some(layers) = manifest.get_mut("layers") {
        for layer in layers.as_array_mut()? {
            let layer = layer.as_object_mut()?;
            if !to_oci {
                layer.remove("annotations");
            }
            retype(layer, &pairs)?;
        }
    }
    serde_json::to_vec_pretty(&Value::Object(manifest)).ok()
}

/// Replaces a descriptor's `mediaType` by its counterpart in `pairs` (from, to).
fn retype(descriptor: &mut Map<String, Value>, pairs: &[(&str, &str)]) -> Option<()> {
    let current = descriptor.get("mediaType")?.as_str()?;
    let (_, replacement) = pairs.iter().find(|(from, _)| *from == current)?;
    descriptor.insert("mediaType".to_owned(), Value::from(*replacement));
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Manifest, OCI_INDEX};

    const CONFIG: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    const LAYER: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn docker_manifest() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}",
                "config":{{"mediaType":"{DOCKER_CONFIG}","digest":"{CONFIG}","size":2}},
                "layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"{LAYER}","size":0}}]}}"#
        )
    }

    fn accept(values: &[&str]) -> Vec<String> {
        accepted_types(values.iter().copied())
    }

    #[test]
    fn accept_lists_drop_parameters_and_split_on_commas() {
        assert_eq!(
            accept(&["application/json; q=0.5, Application/Vnd.OCI.Image.Manifest.v1+json"]),
            [
                "application/json",
                "application/vnd.oci.image.manifest.v1+json"
            ]
        );
        assert!(accept(&[""]).is_empty());
    }

    #[test]
    fn docker_manifest_converts_to_oci_and_back() {
        let stored = docker_manifest();
        let (oci, media_type) =
            convert_for(stored.as_bytes(), DOCKER_MANIFEST, &accept(&[OCI_MANIFEST])).unwrap();
        assert_eq!(media_type, OCI_MANIFEST);
        let parsed = Manifest::parse(&oci, None).unwrap();
        assert_eq!(parsed.media_type, OCI_MANIFEST);
        assert_eq!(parsed.config_media_type(), Some(OCI_CONFIG));
        let text = String::from_utf8(oci.clone()).unwrap();
        assert!(
            text.contains("application/vnd.oci.image.layer.v1.tar+gzip"),
            "{text}"
        );
        assert!(text.contains(LAYER), "{text}");

        let (docker, media_type) =
            convert_for(&oci, OCI_MANIFEST, &accept(&[DOCKER_MANIFEST])).unwrap();
        assert_eq!(media_type, DOCKER_MANIFEST);
        let parsed = Manifest::parse(&docker, None).unwrap();
        assert_eq!(parsed.config_media_type(), Some(DOCKER_CONFIG));
    }

    #[test]
    fn accepted_or_unconvertible_types_served_as_stored() {
        let stored = docker_manifest();
        let cases: [(&str, &[&str]); 5] = [
            (DOCKER_MANIFEST, &[]),
            (DOCKER_MANIFEST, &[DOCKER_MANIFEST, OCI_MANIFEST]),
            (DOCKER_MANIFEST, &["*/*"]),
            // Schema 1 is what ECR would convert to; mock-ecr serves what is stored.
            (
                DOCKER_MANIFEST,
                &["application/vnd.docker.distribution.manifest.v1+prettyjws"],
            ),
            (OCI_INDEX, &[OCI_MANIFEST]),
        ];
        for (stored_type, accepted) in cases {
            assert_eq!(
                convert_for(stored.as_bytes(), stored_type, &accept(accepted)),
                None,
                "{stored_type} with Accept {accepted:?}"
            );
        }
    }

    #[test]
    fn artifacts_and_referrers_do_not_convert_to_docker() {
        let artifact = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}",
                "config":{{"mediaType":"application/vnd.example.config","digest":"{CONFIG}","size":2}},
                "layers":[]}}"#
        );
        let referrer = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","artifactType":"application/vnd.example",
                "config":{{"mediaType":"{OCI_CONFIG}","digest":"{CONFIG}","size":2}},
                "layers":[],"subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{LAYER}","size":1}}}}"#
        );
        let zstd = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}",
                "config":{{"mediaType":"{OCI_CONFIG}","digest":"{CONFIG}","size":2}},
                "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"{LAYER}","size":0}}]}}"#
        );
        for stored in [artifact, referrer, zstd] {
            assert_eq!(
                convert_for(stored.as_bytes(), OCI_MANIFEST, &accept(&[DOCKER_MANIFEST])),
                None,
                "{stored}"
            );
        }
    }
}
