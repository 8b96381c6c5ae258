//! The lab's sample images, built in memory from the files of their build contexts, which are
//! embedded in the binary so that the demo works from any directory.

use std::io;

use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciImageManifest};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The files that the sample Containerfile copies into its only layer, in its COPY order.
const HELLO_FILES: [(&str, &[u8]); 2] = [
    (
        "hello.txt",
        include_bytes!("../../../../labs/push-to-ecr/image/hello.txt"),
    ),
    (
        "about.txt",
        include_bytes!("../../../../labs/push-to-ecr/image/about.txt"),
    ),
];

/// The files of `labs/push-to-ecr/scan-image/rootfs/`, which its Containerfile copies to `/`:
/// the os-release and dpkg database of a Debian 12 image with an old libssl3.
const SCAN_FILES: [(&str, &[u8]); 2] = [
    (
        "etc/os-release",
        include_bytes!("../../../../labs/push-to-ecr/scan-image/rootfs/etc/os-release"),
    ),
    (
        "var/lib/dpkg/status",
        include_bytes!("../../../../labs/push-to-ecr/scan-image/rootfs/var/lib/dpkg/status"),
    ),
];

/// The contents of one sample image: the files of its only layer and the `created_by` of its
/// history entry.
struct Contents {
    files: &'static [(&'static str, &'static [u8])],
    created_by: &'static str,
}

const HELLO: Contents = Contents {
    files: &HELLO_FILES,
    created_by: "COPY hello.txt about.txt / # ecrlab demo",
};

const SCAN: Contents = Contents {
    files: &SCAN_FILES,
    created_by: "COPY rootfs/ / # ecrlab demo",
};

/// The modification time of every file in the sample layer: the Unix epoch, so that the layer,
/// and with it every digest of the sample image, is the same on every machine.
const LAYER_MTIME: u64 = 0;

/// A sample image of the lab: one uncompressed layer, an OCI image config and an OCI image
/// manifest, with their digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleImage {
    pub layer: Vec<u8>,
    pub layer_digest: String,
    pub config: Vec<u8>,
    pub config_digest: String,
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
}

impl SampleImage {
    /// Builds the image of `labs/push-to-ecr/image/` from the embedded files. The result is the
    /// same on every call.
    pub fn build() -> io::Result<Self> {
        SampleImage::from_contents(&HELLO)
    }

    /// Builds the image of `labs/push-to-ecr/scan-image/`, whose package database has packages
    /// with known vulnerabilities, from the embedded files. The result is the same on every call.
    pub fn build_scan_sample() -> io::Result<Self> {
        SampleImage::from_contents(&SCAN)
    }

    fn from_contents(contents: &Contents) -> io::Result<Self> {
        let layer = build_layer(contents.files)?;
        let layer_digest = sha256_digest(&layer);
        let config = build_config(&layer_digest, contents.created_by)?;
        let config_digest = sha256_digest(&config);
        let manifest = build_manifest(&layer, &config)?;
        let manifest_digest = sha256_digest(&manifest);
        Ok(SampleImage {
            layer,
            layer_digest,
            config,
            config_digest,
            manifest,
            manifest_digest,
        })
    }
}

/// Packs the embedded files into a tar archive, as the Containerfile's COPY does: files owned
/// by root with mode 0644, each preceded by the directories above it that no earlier entry
/// made, with mode 0755.
fn build_layer(files: &[(&str, &[u8])]) -> io::Result<Vec<u8>> {
    let mut archive = tar::Builder::new(Vec::new());
    let mut directories: Vec<String> = Vec::new();
    for (name, contents) in files {
        for (end, _) in name.match_indices('/') {
            let directory = format!("{}/", &name[..end]);
            if directories.contains(&directory) {
                continue;
            }
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            header.set_mode(0o755);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(LAYER_MTIME);
            archive.append_data(&mut header, &directory, io::empty())?;
            directories.push(directory);
        }
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(LAYER_MTIME);
        archive.append_data(&mut header, name, *contents)?;
    }
    archive.into_inner()
}

/// Writes the OCI image config. The architecture is fixed at amd64, whatever the host, so that
/// the digests stay the same everywhere. The image contains no program, so it never runs.
fn build_config(layer_digest: &str, created_by: &'static str) -> io::Result<Vec<u8>> {
    let config = ImageConfig {
        architecture: "amd64",
        os: "linux",
        config: EmptyObject {},
        rootfs: RootFs {
            kind: "layers",
            diff_ids: [layer_digest],
        },
        history: [History { created_by }],
    };
    serde_json::to_vec(&config).map_err(io::Error::other)
}

/// The OCI image config (OCI image spec, "Image Configuration"). It is a struct rather than a
/// `serde_json::Value` because struct fields serialize in declaration order, while a `Value`'s key
/// order depends on whether serde_json's `preserve_order` feature is on in the build.
#[derive(Serialize)]
struct ImageConfig<'a> {
    architecture: &'static str,
    os: &'static str,
    config: EmptyObject,
    rootfs: RootFs<'a>,
    history: [History; 1],
}

#[derive(Serialize)]
struct EmptyObject {}

#[derive(Serialize)]
struct RootFs<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    diff_ids: [&'a str; 1],
}

#[derive(Serialize)]
struct History {
    created_by: &'static str,
}

/// Writes the OCI image manifest. The layer is uncompressed, so its digest is also its diff ID.
fn build_manifest(layer: &[u8], config: &[u8]) -> io::Result<Vec<u8>> {
    let layers = [ImageLayer::oci_v1(layer.to_vec(), None)];
    let config = Config::oci_v1(config.to_vec(), None);
    let mut manifest = OciImageManifest::build(&layers, &config, None);
    manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_owned());
    serde_json::to_vec(&manifest).map_err(io::Error::other)
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn sample_image_matches_containerfile() {
        let containerfile = include_str!("../../../../labs/push-to-ecr/image/Containerfile");
        let copy_line = containerfile
            .lines()
            .find(|line| line.starts_with("COPY "))
            .expect("the Containerfile has a COPY line");
        let names: Vec<&str> = HELLO_FILES.iter().map(|(name, _)| *name).collect();
        assert_eq!(copy_line, format!("COPY {} /", names.join(" ")));
        assert!(containerfile.lines().any(|line| line == "FROM scratch"));
    }

    #[test]
    fn sample_layer_holds_embedded_files() {
        let image = SampleImage::build().unwrap();
        let mut archive = tar::Archive::new(image.layer.as_slice());
        let mut found = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut contents = Vec::new();
            entry.read_to_end(&mut contents).unwrap();
            assert_eq!(header.mode().unwrap(), 0o644, "mode of {path}");
            assert_eq!(header.uid().unwrap(), 0, "owner of {path}");
            assert_eq!(header.mtime().unwrap(), LAYER_MTIME, "mtime of {path}");
            found.push((path, contents));
        }
        let expected: Vec<(String, Vec<u8>)> = HELLO_FILES
            .iter()
            .map(|(name, contents)| ((*name).to_owned(), contents.to_vec()))
            .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn sample_config_has_fixed_bytes() {
        let image = SampleImage::build().unwrap();
        let expected = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["{}"]}},"history":[{{"created_by":"COPY hello.txt about.txt / # ecrlab demo"}}]}}"#,
            image.layer_digest
        );
        assert_eq!(String::from_utf8(image.config).unwrap(), expected);
    }

    #[test]
    fn sample_image_is_reproducible() {
        let first = SampleImage::build().unwrap();
        let second = SampleImage::build().unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn sample_manifest_names_layer_and_config() {
        let image = SampleImage::build().unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(&image.manifest).unwrap();
        let config: serde_json::Value = serde_json::from_slice(&image.config).unwrap();

        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["mediaType"], OCI_IMAGE_MEDIA_TYPE);
        assert_eq!(
            manifest["config"]["mediaType"],
            "application/vnd.oci.image.config.v1+json"
        );
        assert_eq!(manifest["config"]["digest"], image.config_digest.as_str());
        assert_eq!(manifest["config"]["size"], image.config.len());
        assert_eq!(
            manifest["layers"][0]["mediaType"],
            "application/vnd.oci.image.layer.v1.tar"
        );
        assert_eq!(manifest["layers"][0]["digest"], image.layer_digest.as_str());
        assert_eq!(manifest["layers"][0]["size"], image.layer.len());
        assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(1));
        assert_eq!(config["rootfs"]["diff_ids"][0], image.layer_digest.as_str());
        assert_eq!(image.manifest_digest, sha256_digest(&image.manifest));
    }

    #[test]
    fn scan_sample_matches_containerfile() {
        let containerfile = include_str!("../../../../labs/push-to-ecr/scan-image/Containerfile");
        let instructions: Vec<&str> = containerfile
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .collect();
        assert_eq!(instructions, ["FROM scratch", "COPY rootfs/ /"]);
    }

    #[test]
    fn scan_sample_layer_has_directories_then_files() {
        let image = SampleImage::build_scan_sample().unwrap();
        let mut archive = tar::Archive::new(image.layer.as_slice());
        let mut found = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut contents = Vec::new();
            entry.read_to_end(&mut contents).unwrap();
            let mode = header.mode().unwrap();
            found.push((path, header.entry_type(), mode, contents.len()));
        }
        let directory = tar::EntryType::Directory;
        let file = tar::EntryType::Regular;
        let expected = [
            ("etc/", directory, 0o755, 0),
            ("etc/os-release", file, 0o644, SCAN_FILES[0].1.len()),
            ("var/", directory, 0o755, 0),
            ("var/lib/", directory, 0o755, 0),
            ("var/lib/dpkg/", directory, 0o755, 0),
            ("var/lib/dpkg/status", file, 0o644, SCAN_FILES[1].1.len()),
        ]
        .map(|(path, kind, mode, size)| (path.to_owned(), kind, mode, size));
        assert_eq!(found, expected);
    }

    #[test]
    fn scan_sample_differs_from_hello_image() {
        let hello = SampleImage::build().unwrap();
        let scan = SampleImage::build_scan_sample().unwrap();
        assert_ne!(hello.manifest_digest, scan.manifest_digest);
        assert_eq!(scan, SampleImage::build_scan_sample().unwrap());
        let config: serde_json::Value = serde_json::from_slice(&scan.config).unwrap();
        assert_eq!(
            config["history"][0]["created_by"],
            "COPY rootfs/ / # ecrlab demo"
        );
    }
}
