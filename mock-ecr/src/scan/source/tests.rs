use std::fs;

use serde_json::json;
use tempfile::TempDir;

use super::*;
use crate::manifest::{OCI_INDEX, OCI_MANIFEST};
use crate::scan::tests::{LayerBuilder, TAR, TAR_GZIP, alpine_base, test_advisories};
use crate::scan::{Severity, scan_layers};

fn sha256(bytes: &[u8]) -> String {
    Digest::of(bytes).to_string()
}

/// Writes a blob into an OCI layout and returns its descriptor.
fn write_blob(root: &Path, media_type: &str, bytes: &[u8]) -> serde_json::Value {
    let digest = sha256(bytes);
    let path = root.join(blob_location(&Digest::parse(&digest).unwrap()));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    json!({ "mediaType": media_type, "digest": digest, "size": bytes.len() })
}

/// Writes an image (config and manifest) for `architecture` and returns the manifest's
/// descriptor, without a platform.
fn write_image(root: &Path, architecture: &str, layers: &[Vec<u8>]) -> serde_json::Value {
    let config = json!({
        "architecture": architecture,
        "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": [] },
    });
    let config = write_blob(
        root,
        "application/vnd.oci.image.config.v1+json",
        config.to_string().as_bytes(),
    );
    let layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|layer| write_blob(root, TAR_GZIP, layer))
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": layers,
    });
    write_blob(root, OCI_MANIFEST, manifest.to_string().as_bytes())
}

fn write_index(root: &Path, manifests: Vec<serde_json::Value>) {
    fs::write(
        root.join("oci-layout"),
        json!({ "imageLayoutVersion": "1.0.0" }).to_string(),
    )
    .unwrap();
    let index = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests });
    fs::write(root.join("index.json"), index.to_string()).unwrap();
}

/// Creates an OCI layout with one Alpine image for linux/amd64, as `docker save` 25 writes it.
/// The index entry has no platform, so the platform comes from the image config.
fn alpine_layout() -> TempDir {
    let directory = tempfile::tempdir().unwrap();
    let manifest = write_image(directory.path(), "amd64", &[alpine_base().gzip()]);
    write_index(directory.path(), vec![manifest]);
    directory
}

/// Packs a directory into a tar file next to it and returns the tar's path.
fn tar_directory(directory: &Path, name: &str) -> PathBuf {
    let path = directory.parent().unwrap().join(name);
    let mut builder = tar::Builder::new(File::create(&path).unwrap());
    builder.append_dir_all(".", directory).unwrap();
    builder.finish().unwrap();
    path
}

fn assert_alpine_scan(image: &ImageSource) {
    let report = scan_layers(image.layers(), &test_advisories()).unwrap();
    assert_eq!(report.os.distribution(), "alpine:3.19");
    let findings: Vec<(&str, &str, Severity)> = report
        .findings
        .iter()
        .map(|f| (f.name.as_str(), f.package_name.as_str(), f.severity))
        .collect();
    assert_eq!(
        findings,
        vec![
            ("CVE-2023-42366", "busybox", Severity::Medium),
            ("CVE-2023-42366", "ssl_client", Severity::Medium),
        ]
    );
}

#[test]
fn oci_layout_directory() {
    let layout = alpine_layout();
    let image = read_image_source(layout.path(), None).unwrap();
    assert_eq!(image.format(), ImageFormat::OciLayout);
    assert_eq!(image.platform(), Some("linux/amd64"));
    assert_eq!(image.layer_count(), 1);
    assert!(image.manifest_digest().unwrap().starts_with("sha256:"));
    assert_alpine_scan(&image);
}

#[test]
fn oci_layout_tar() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("layout");
    fs::create_dir(&root).unwrap();
    let manifest = write_image(&root, "amd64", &[alpine_base().gzip()]);
    write_index(&root, vec![manifest]);
    let archive = tar_directory(&root, "image.tar");

    let image = read_image_source(&archive, None).unwrap();
    assert_eq!(image.format(), ImageFormat::OciArchive);
    assert_alpine_scan(&image);
}

/// Writes a `docker save` archive in the format before Docker 25: `<id>/layer.tar` files and
/// a `<config digest hex>.json` config. The second layer is a symlink to the first, as docker
/// writes for identical layers.
fn write_docker_archive(path: &Path, corrupt_layer: bool) {
    let base = alpine_base().tar();
    let empty = LayerBuilder::new().file("etc/motd", "welcome\n").tar();
    let diff_ids = [sha256(&base), sha256(&empty), sha256(&base)];
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    })
    .to_string();
    let config_name = format!("{}.json", Digest::of(config.as_bytes()).hex());
    let manifest = json!([{
        "Config": config_name,
        "RepoTags": ["app:1"],
        "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"],
    }])
    .to_string();

    let mut builder = tar::Builder::new(File::create(path).unwrap());
    let mut append = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, bytes).unwrap();
    };
    let mut stored_base = base.clone();
    if corrupt_layer {
        let last = stored_base.len() - 1;
        stored_base[last] ^= 1;
    }
    append("aaa/layer.tar", &stored_base);
    append("bbb/layer.tar", &empty);
    append(&config_name, config.as_bytes());
    append("manifest.json", manifest.as_bytes());
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    builder
        .append_link(&mut link, "ccc/layer.tar", "../aaa/layer.tar")
        .unwrap();
    builder.finish().unwrap();
}

#[test]
fn docker_archive() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("image.tar");
    write_docker_archive(&path, false);

    let image = read_image_source(&path, None).unwrap();
    assert_eq!(image.format(), ImageFormat::DockerArchive);
    assert_eq!(image.platform(), Some("linux/amd64"));
    assert_eq!(image.layer_count(), 3);
    assert_eq!(image.manifest_digest(), None);
    assert_alpine_scan(&image);
}

#[test]
fn docker_archive_diff_id_mismatch() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("image.tar");
    write_docker_archive(&path, true);

    let error = read_image_source(&path, None).unwrap_err();
    let SourceError::DigestMismatch { location, .. } = &error else {
        panic!("expected DigestMismatch, got {error:?}");
    };
    assert_eq!(location, "aaa/layer.tar");
    assert!(
        error
            .to_string()
            .contains("was expected; the image is corrupt")
    );
}

#[test]
fn docker_25_archive_prefers_oci_layout() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("layout");
    fs::create_dir(&root).unwrap();
    let manifest = write_image(&root, "amd64", &[alpine_base().gzip()]);
    write_index(&root, vec![manifest]);
    // A manifest.json that would fail if it were read.
    fs::write(root.join("manifest.json"), "[]").unwrap();
    let archive = tar_directory(&root, "image.tar");

    let image = read_image_source(&archive, None).unwrap();
    assert_eq!(image.format(), ImageFormat::OciArchive);
}

#[test]
fn layer_digest_mismatch() {
    let layout = alpine_layout();
    let blobs = layout.path().join("blobs/sha256");
    let layer_digest = sha256(&alpine_base().gzip());
    let layer_path = blobs.join(layer_digest.strip_prefix("sha256:").unwrap());
    let mut bytes = fs::read(&layer_path).unwrap();
    bytes.push(0);
    fs::write(&layer_path, bytes).unwrap();

    let error = read_image_source(layout.path(), None).unwrap_err();
    let SourceError::DigestMismatch {
        location, expected, ..
    } = &error
    else {
        panic!("expected DigestMismatch, got {error:?}");
    };
    assert_eq!(*expected, layer_digest);
    assert!(location.starts_with("blobs/sha256/"));
}

#[test]
fn missing_blob() {
    let layout = alpine_layout();
    let layer_digest = sha256(&alpine_base().gzip());
    let hex = layer_digest.strip_prefix("sha256:").unwrap();
    fs::remove_file(layout.path().join("blobs/sha256").join(hex)).unwrap();

    let error = read_image_source(layout.path(), None).unwrap_err();
    assert!(
        matches!(error, SourceError::BlobMissing { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains(&format!("the blob blobs/sha256/{hex} is missing"))
    );
}

/// Creates a layout whose index points to a nested index of images with platforms, plus a
/// buildx attestation manifest.
fn multi_platform_layout(architectures: &[(&str, Option<&str>)]) -> TempDir {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    let mut manifests = Vec::new();
    for (architecture, variant) in architectures {
        let mut descriptor = write_image(root, architecture, &[alpine_base().gzip()]);
        let mut platform = json!({ "os": "linux", "architecture": architecture });
        if let Some(variant) = variant {
            platform["variant"] = json!(variant);
        }
        descriptor["platform"] = platform;
        manifests.push(descriptor);
    }
    let mut attestation = write_image(root, "unknown", &[]);
    attestation["platform"] = json!({ "os": "unknown", "architecture": "unknown" });
    attestation["annotations"] = json!({ "vnd.docker.reference.type": "attestation-manifest" });
    manifests.push(attestation);

    let nested = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests });
    let nested = write_blob(root, OCI_INDEX, nested.to_string().as_bytes());
    write_index(root, vec![nested]);
    directory
}

#[test]
fn platform_defaults_to_linux_amd64() {
    let layout = multi_platform_layout(&[("arm64", Some("v8")), ("amd64", None)]);
    let image = read_image_source(layout.path(), None).unwrap();
    assert_eq!(image.platform(), Some("linux/amd64"));
    assert_alpine_scan(&image);
}

#[test]
fn platform_argument_picks_image() {
    let layout = multi_platform_layout(&[("arm64", Some("v8")), ("amd64", None)]);
    let image = read_image_source(layout.path(), Some("linux/arm64")).unwrap();
    assert_eq!(image.platform(), Some("linux/arm64/v8"));
    let image = read_image_source(layout.path(), Some("linux/arm64/v8")).unwrap();
    assert_eq!(image.platform(), Some("linux/arm64/v8"));
}

#[test]
fn platform_not_found() {
    let layout = multi_platform_layout(&[("arm64", Some("v8")), ("amd64", None)]);
    let error = read_image_source(layout.path(), Some("linux/s390x")).unwrap_err();
    assert!(matches!(error, SourceError::Platform { .. }));
    assert!(
        error.to_string().contains(
            "no image for the platform linux/s390x; the index has linux/arm64/v8, linux/amd64"
        ),
        "{error}"
    );
}

#[test]
fn platform_required_without_amd64() {
    let layout = multi_platform_layout(&[("arm64", Some("v8")), ("arm", Some("v7"))]);
    let error = read_image_source(layout.path(), None).unwrap_err();
    assert!(
        error.to_string().contains(
            "the index has images for linux/arm64/v8, linux/arm/v7 but none for linux/amd64; choose one with the platform argument, such as linux/arm64/v8"
        ),
        "{error}"
    );
}

#[test]
fn platform_ambiguous_without_variant() {
    let layout = multi_platform_layout(&[("arm", Some("v6")), ("arm", Some("v7"))]);
    let error = read_image_source(layout.path(), Some("linux/arm")).unwrap_err();
    assert!(
        error.to_string().contains("2 images match linux/arm"),
        "{error}"
    );
}

#[test]
fn invalid_platform_argument() {
    let layout = alpine_layout();
    for platform in ["linux", "linux/", "linux/arm/v7/x"] {
        let error = read_image_source(layout.path(), Some(platform)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains(&format!("invalid platform '{platform}'")),
            "{error}"
        );
    }
}

#[test]
fn unrecognized_sources() {
    let directory = tempfile::tempdir().unwrap();
    let error = read_image_source(directory.path(), None).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("neither oci-layout and index.json"),
        "{error}"
    );

    let gzip = directory.path().join("image.tar.gz");
    fs::write(&gzip, LayerBuilder::new().file("a", "b").gzip()).unwrap();
    let error = read_image_source(&gzip, None).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("gzip-compressed; decompress it first"),
        "{error}"
    );

    let garbage = directory.path().join("garbage.tar");
    fs::write(&garbage, vec![0x55u8; 2048]).unwrap();
    let error = read_image_source(&garbage, None).unwrap_err();
    assert!(
        error.to_string().contains("nor a valid tar archive"),
        "{error}"
    );

    let missing = directory.path().join("missing");
    let error = read_image_source(&missing, None).unwrap_err();
    assert!(matches!(error, SourceError::Read { .. }), "{error:?}");
}

#[test]
fn invalid_index_json() {
    let layout = alpine_layout();
    fs::write(layout.path().join("index.json"), "{\"manifests\": 5}").unwrap();
    let error = read_image_source(layout.path(), None).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("index.json is invalid: invalid type"),
        "{error}"
    );
}

#[test]
fn member_paths_cannot_escape() {
    let layout = alpine_layout();
    let container = Container::from_path(layout.path()).unwrap();
    assert!(container.exists("index.json"));
    assert!(!container.exists("../index.json"));
    assert!(!container.exists("/etc/passwd"));
    assert!(container.open("blobs/../index.json").is_err());
}

#[test]
fn uncompressed_oci_layer() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    let layer = write_blob(root, TAR, &alpine_base().tar());
    let config = write_blob(
        root,
        "application/vnd.oci.image.config.v1+json",
        br#"{"architecture":"amd64","os":"linux"}"#,
    );
    let manifest = json!({ "schemaVersion": 2, "config": config, "layers": [layer] });
    let manifest = write_blob(root, OCI_MANIFEST, manifest.to_string().as_bytes());
    write_index(root, vec![manifest]);

    let image = read_image_source(root, None).unwrap();
    assert_alpine_scan(&image);
}
