//! Images on disk for the scanner: an OCI image layout (a directory, or a tar of one) or a
//! `docker save` archive.
//!
//! An OCI image layout (image-spec `image-layout.md`) has an `oci-layout` file, an
//! `index.json` and content-addressed blobs under `blobs/<algorithm>/<hex>`. `docker save`
//! writes a tar with a `manifest.json` that lists each image's config and layer files in
//! order. Docker 25 and later write both, and the OCI layout is then preferred.
//!
//! [`read_image_source`] checks every blob it uses against its digest before returning, so a
//! scan reads each layer twice: once to verify it and once to scan it.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256, Sha512};

use super::{Layer, ScanFailure};
use crate::digest::{Algorithm, Digest};

/// The largest JSON file (index, manifest, image config) read into memory.
const MAX_JSON_BYTES: u64 = 16 * 1024 * 1024;
/// The maximum nesting depth of image indexes. An index of indexes is common, deeper nesting
/// is not.
const MAX_INDEX_DEPTH: usize = 4;
const MAX_SYMLINK_HOPS: usize = 16;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The kind of image found on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// An OCI image layout directory.
    OciLayout,
    /// A tar of an OCI image layout, as `docker save` (25 and later), `skopeo copy
    /// oci-archive:` or `buildah push oci-archive:` write.
    OciArchive,
    /// A `docker save` archive, or a directory it was extracted to, read through
    /// `manifest.json`.
    DockerArchive,
}

/// An image found on disk, whose blobs have been checked against their digests.
#[derive(Debug)]
pub struct ImageSource {
    path: PathBuf,
    format: ImageFormat,
    container: Container,
    manifest_digest: Option<String>,
    platform: Option<String>,
    layers: Vec<LayerBlob>,
}

#[derive(Debug)]
struct LayerBlob {
    media_type: String,
    /// The blob's path inside the directory or archive.
    location: String,
    /// The digest of the blob as stored, when the format names one.
    digest: Option<String>,
}

/// An error opening an image source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },

    #[error("{path} is not an image the scanner reads: {reason}")]
    Unrecognized { path: PathBuf, reason: String },

    #[error("{path}: {file} is invalid: {reason}")]
    Invalid {
        path: PathBuf,
        file: String,
        reason: String,
    },

    #[error("{path}: the blob {location} is missing; the image is incomplete, so export it again")]
    BlobMissing { path: PathBuf, location: String },

    #[error(
        "{path}: {location} has the digest {actual}, but {expected} was expected; the image is corrupt or was modified, so export it again"
    )]
    DigestMismatch {
        path: PathBuf,
        location: String,
        expected: String,
        actual: String,
    },

    /// No image, or more than one, matches the requested or default platform.
    #[error("{path}: {reason}")]
    Platform { path: PathBuf, reason: String },
}

impl ImageSource {
    /// Returns the path the image was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// Returns the digest of the image manifest, for OCI layouts.
    pub fn manifest_digest(&self) -> Option<&str> {
        self.manifest_digest.as_deref()
    }

    /// Returns the chosen image's platform, such as "linux/amd64", when the index or the image
    /// config gives one.
    pub fn platform(&self) -> Option<&str> {
        self.platform.as_deref()
    }

    /// Returns the number of layers.
    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }

    /// Returns the layers in manifest order (base layer first), each a reader over its blob.
    pub fn layers(&self) -> impl Iterator<Item = Result<Layer<'_>, ScanFailure>> + '_ {
        self.layers.iter().enumerate().map(|(index, blob)| {
            let reader = self.container.open(&blob.location).map_err(|error| {
                ScanFailure::Failed(format!(
                    "cannot open layer {} ({}) of {}: {error}",
                    index + 1,
                    blob.digest.as_deref().unwrap_or(&blob.location),
                    self.path.display()
                ))
            })?;
            Ok(Layer::new(blob.media_type.clone(), reader))
        })
    }
}

/// Opens an OCI image layout directory, a tar of one, or a `docker save` archive, picks one
/// image and checks its blobs against their digests.
///
/// `platform` (`os/architecture[/variant]`, such as "linux/arm64/v8") picks an image from an
/// index or archive that has several. Without it, the only image is taken, or else the
/// linux/amd64 one.
///
/// Errors: the path cannot be read or is neither format, a JSON file is invalid, a blob is
/// missing or does not match its digest, or no single image matches the platform.
pub fn read_image_source(path: &Path, platform: Option<&str>) -> Result<ImageSource, SourceError> {
    let requested = platform
        .map(|text| {
            Platform::parse(text).ok_or_else(|| SourceError::Platform {
                path: path.to_owned(),
                reason: format!(
                    "invalid platform '{text}'; write os/architecture[/variant], such as linux/amd64 or linux/arm64/v8"
                ),
            })
        })
        .transpose()?;
    let reader = Reader {
        path: path.to_owned(),
        container: Container::from_path(path)?,
    };

    let is_oci = reader.container.exists("oci-layout") && reader.container.exists("index.json");
    if is_oci {
        let format = match reader.container {
            Container::Directory(_) => ImageFormat::OciLayout,
            Container::Tar { .. } => ImageFormat::OciArchive,
        };
        reader.read_oci_layout(format, requested.as_ref())
    } else if reader.container.exists("manifest.json") {
        reader.read_docker_archive(requested.as_ref())
    } else {
        Err(SourceError::Unrecognized {
            path: path.to_owned(),
            reason: "it has neither oci-layout and index.json (an OCI image layout) nor manifest.json (a docker save archive)".to_owned(),
        })
    }
}

/// A platform as the OCI image index and image config describe it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Platform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl Platform {
    fn parse(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.split('/').collect();
        if parts.iter().any(|part| part.is_empty()) {
            return None;
        }
        match parts[..] {
            [os, architecture] => Some(Self {
                os: os.to_owned(),
                architecture: architecture.to_owned(),
                variant: None,
            }),
            [os, architecture, variant] => Some(Self {
                os: os.to_owned(),
                architecture: architecture.to_owned(),
                variant: Some(variant.to_owned()),
            }),
            _ => None,
        }
    }

    /// Returns whether `self` satisfies `requested`. A request without a variant matches every
    /// variant.
    fn matches(&self, requested: &Platform) -> bool {
        self.os == requested.os
            && self.architecture == requested.architecture
            && (requested.variant.is_none() || self.variant == requested.variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(formatter, "/{variant}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: Option<String>,
    digest: String,
    platform: Option<Platform>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct RawIndexOrManifest {
    manifests: Option<Vec<RawDescriptor>>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
}

#[derive(Debug, Deserialize)]
struct RawImageConfig {
    os: Option<String>,
    architecture: Option<String>,
    variant: Option<String>,
    rootfs: Option<RawRootfs>,
}

impl RawImageConfig {
    fn platform(&self) -> Option<Platform> {
        Some(Platform {
            os: self.os.clone()?,
            architecture: self.architecture.clone()?,
            variant: self.variant.clone(),
        })
    }
}

#[derive(Debug, Deserialize)]
struct RawRootfs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawDockerImage {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RawOciLayout {
    #[serde(rename = "imageLayoutVersion")]
    image_layout_version: String,
}

/// An image manifest found by walking the index, with its platform if known.
struct Candidate {
    digest: Digest,
    platform: Option<Platform>,
    manifest: RawIndexOrManifest,
}

/// Reads one image source: its path for messages and its container.
struct Reader {
    path: PathBuf,
    container: Container,
}

impl Reader {
    fn invalid(&self, file: &str, reason: impl Into<String>) -> SourceError {
        SourceError::Invalid {
            path: self.path.clone(),
            file: file.to_owned(),
            reason: reason.into(),
        }
    }

    fn read_error(&self, error: io::Error) -> SourceError {
        SourceError::Read {
            path: self.path.clone(),
            source: error,
        }
    }

    /// Opens a file of the container; a missing one is reported as a missing blob.
    fn open_blob(&self, location: &str) -> Result<Box<dyn Read + '_>, SourceError> {
        self.container.open(location).map_err(|error| {
            if error.kind() == io::ErrorKind::NotFound {
                SourceError::BlobMissing {
                    path: self.path.clone(),
                    location: location.to_owned(),
                }
            } else {
                self.read_error(error)
            }
        })
    }

    /// Reads a small file whole, or fails when it is missing or over `MAX_JSON_BYTES`.
    fn read_small(&self, location: &str) -> Result<Vec<u8>, SourceError> {
        let mut reader = self.open_blob(location)?;
        let mut bytes = Vec::new();
        (&mut reader)
            .take(MAX_JSON_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| self.read_error(error))?;
        if bytes.len() as u64 > MAX_JSON_BYTES {
            return Err(self.invalid(
                location,
                format!("it is larger than {} MiB", MAX_JSON_BYTES / (1024 * 1024)),
            ));
        }
        Ok(bytes)
    }

    fn read_json<T: DeserializeOwned>(&self, location: &str) -> Result<T, SourceError> {
        let bytes = self.read_small(location)?;
        serde_json::from_slice(&bytes).map_err(|error| self.invalid(location, error.to_string()))
    }

    /// Reads a blob of an OCI layout whole and checks its digest.
    fn read_verified_json<T: DeserializeOwned>(&self, digest: &Digest) -> Result<T, SourceError> {
        let location = blob_location(digest);
        let bytes = self.read_small(&location)?;
        let actual = digest_of(digest.algorithm(), &mut bytes.as_slice())
            .map_err(|error| self.read_error(error))?;
        self.check_digest(&location, digest, &actual)?;
        serde_json::from_slice(&bytes).map_err(|error| self.invalid(&location, error.to_string()))
    }

    /// Hashes a blob without keeping it and checks the result against `expected`.
    fn verify_blob(&self, location: &str, expected: &Digest) -> Result<(), SourceError> {
        let actual = self.hash_blob(location, expected.algorithm(), false)?;
        self.check_digest(location, expected, &actual)
    }

    fn hash_blob(
        &self,
        location: &str,
        algorithm: Algorithm,
        decompress: bool,
    ) -> Result<Digest, SourceError> {
        let reader = self.open_blob(location)?;
        let result = if decompress {
            digest_of(algorithm, &mut MultiGzDecoder::new(reader))
        } else {
            digest_of(algorithm, &mut { reader })
        };
        result.map_err(|error| self.invalid(location, format!("reading it failed: {error}")))
    }

    fn check_digest(
        &self,
        location: &str,
        expected: &Digest,
        actual: &Digest,
    ) -> Result<(), SourceError> {
        if expected == actual {
            return Ok(());
        }
        Err(SourceError::DigestMismatch {
            path: self.path.clone(),
            location: location.to_owned(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        })
    }

    fn parse_digest(&self, file: &str, text: &str) -> Result<Digest, SourceError> {
        Digest::parse(text).map_err(|error| self.invalid(file, error.to_string()))
    }

    fn read_oci_layout(
        self,
        format: ImageFormat,
        requested: Option<&Platform>,
    ) -> Result<ImageSource, SourceError> {
        let layout: RawOciLayout = self.read_json("oci-layout")?;
        if !layout.image_layout_version.starts_with("1.") {
            return Err(self.invalid(
                "oci-layout",
                format!(
                    "imageLayoutVersion '{}' is not supported; the scanner reads version 1.0.0",
                    layout.image_layout_version
                ),
            ));
        }
        let index: RawIndexOrManifest = self.read_json("index.json")?;
        let descriptors = index
            .manifests
            .ok_or_else(|| self.invalid("index.json", "it has no manifests list"))?;

        let mut candidates = Vec::new();
        self.collect_candidates("index.json", &descriptors, None, 0, &mut candidates)?;
        for candidate in candidates.iter_mut().filter(|c| c.platform.is_none()) {
            candidate.platform = self.config_platform(&candidate.manifest)?;
        }
        let candidate = self.choose(candidates, requested)?;

        let location = blob_location(&candidate.digest);
        let layers = candidate
            .manifest
            .layers
            .as_ref()
            .ok_or_else(|| self.invalid(&location, "the image manifest has no layers list"))?;
        let mut blobs = Vec::with_capacity(layers.len());
        for descriptor in layers {
            let digest = self.parse_digest(&location, &descriptor.digest)?;
            let media_type = descriptor.media_type.clone().ok_or_else(|| {
                self.invalid(&location, format!("layer {digest} has no mediaType"))
            })?;
            let blob_path = blob_location(&digest);
            self.verify_blob(&blob_path, &digest)?;
            blobs.push(LayerBlob {
                media_type,
                location: blob_path,
                digest: Some(digest.to_string()),
            });
        }
        Ok(ImageSource {
            path: self.path,
            format,
            container: self.container,
            manifest_digest: Some(candidate.digest.to_string()),
            platform: candidate.platform.map(|platform| platform.to_string()),
            layers: blobs,
        })
    }

    /// Walks index descriptors down to image manifests. Attestation manifests, which buildx
    /// stores with the platform unknown/unknown, are skipped.
    fn collect_candidates(
        &self,
        file: &str,
        descriptors: &[RawDescriptor],
        inherited: Option<&Platform>,
        depth: usize,
        candidates: &mut Vec<Candidate>,
    ) -> Result<(), SourceError> {
        if depth > MAX_INDEX_DEPTH {
            return Err(self.invalid(
                file,
                format!("image indexes are nested more than {MAX_INDEX_DEPTH} deep"),
            ));
        }
        for descriptor in descriptors {
            let is_attestation = descriptor
                .annotations
                .get("vnd.docker.reference.type")
                .is_some_and(|kind| kind == "attestation-manifest")
                || descriptor
                    .platform
                    .as_ref()
                    .is_some_and(|platform| platform.os == "unknown");
            if is_attestation {
                continue;
            }
            let digest = self.parse_digest(file, &descriptor.digest)?;
            let manifest: RawIndexOrManifest = self.read_verified_json(&digest)?;
            let platform = descriptor.platform.as_ref().or(inherited);
            if let Some(children) = &manifest.manifests {
                let location = blob_location(&digest);
                self.collect_candidates(&location, children, platform, depth + 1, candidates)?;
            } else if manifest.layers.is_some() {
                candidates.push(Candidate {
                    digest,
                    platform: platform.cloned(),
                    manifest,
                });
            }
        }
        Ok(())
    }

    /// Reads the platform of an image from its config, and checks the config's digest.
    fn config_platform(
        &self,
        manifest: &RawIndexOrManifest,
    ) -> Result<Option<Platform>, SourceError> {
        let Some(config) = &manifest.config else {
            return Ok(None);
        };
        let digest = self.parse_digest("image manifest", &config.digest)?;
        let config: RawImageConfig = self.read_verified_json(&digest)?;
        Ok(config.platform())
    }

    fn choose(
        &self,
        mut candidates: Vec<Candidate>,
        requested: Option<&Platform>,
    ) -> Result<Candidate, SourceError> {
        let platforms = describe_platforms(candidates.iter().map(|c| c.platform.as_ref()));
        let platform_error = |reason: String| SourceError::Platform {
            path: self.path.clone(),
            reason,
        };
        if candidates.is_empty() {
            return Err(self.invalid("index.json", "it references no image manifest"));
        }
        let default = Platform {
            os: "linux".to_owned(),
            architecture: "amd64".to_owned(),
            variant: None,
        };
        let selected = match requested {
            Some(requested) => requested,
            None if candidates.len() == 1 => return Ok(candidates.remove(0)),
            None => &default,
        };
        let mut matching: Vec<Candidate> = candidates
            .into_iter()
            .filter(|c| c.platform.as_ref().is_some_and(|p| p.matches(selected)))
            .collect();
        match matching.len() {
            1 => Ok(matching.remove(0)),
            0 if requested.is_some() => Err(platform_error(format!(
                "no image for the platform {selected}; the index has {platforms}"
            ))),
            0 => Err(platform_error(format!(
                "the index has images for {platforms} but none for linux/amd64; choose one with the platform argument, such as {}",
                platforms.split(", ").next().unwrap_or("linux/arm64")
            ))),
            _ => Err(platform_error(format!(
                "{} images match {selected} ({}); give one of these platforms with its variant",
                matching.len(),
                describe_platforms(matching.iter().map(|c| c.platform.as_ref()))
            ))),
        }
    }

    fn read_docker_archive(self, requested: Option<&Platform>) -> Result<ImageSource, SourceError> {
        let images: Vec<RawDockerImage> = self.read_json("manifest.json")?;
        let mut configs = Vec::with_capacity(images.len());
        for image in &images {
            configs.push(self.read_docker_config(&image.config)?);
        }
        let index = self.choose_docker_image(&images, &configs, requested)?;
        let (image, config) = (&images[index], &configs[index]);

        let diff_ids = config
            .rootfs
            .as_ref()
            .map(|rootfs| rootfs.diff_ids.as_slice())
            .unwrap_or_default();
        if diff_ids.len() != image.layers.len() {
            return Err(self.invalid(
                &image.config,
                format!(
                    "rootfs.diff_ids lists {} layers, but manifest.json lists {}",
                    diff_ids.len(),
                    image.layers.len()
                ),
            ));
        }
        let mut blobs = Vec::with_capacity(image.layers.len());
        for (location, diff_id) in image.layers.iter().zip(diff_ids) {
            blobs.push(self.verify_docker_layer(&image.config, location, diff_id)?);
        }
        Ok(ImageSource {
            path: self.path,
            format: ImageFormat::DockerArchive,
            container: self.container,
            manifest_digest: None,
            platform: config.platform().map(|platform| platform.to_string()),
            layers: blobs,
        })
    }

    /// Reads an image config of a docker archive. Its name, `<hex>.json` before Docker 25 and
    /// `blobs/sha256/<hex>` after, encodes the config's SHA-256 digest, which is checked.
    fn read_docker_config(&self, location: &str) -> Result<RawImageConfig, SourceError> {
        let bytes = self.read_small(location)?;
        if let Some(expected) = digest_in_name(location) {
            let actual = digest_of(Algorithm::Sha256, &mut bytes.as_slice())
                .map_err(|error| self.read_error(error))?;
            self.check_digest(location, &expected, &actual)?;
        }
        serde_json::from_slice(&bytes).map_err(|error| self.invalid(location, error.to_string()))
    }

    fn choose_docker_image(
        &self,
        images: &[RawDockerImage],
        configs: &[RawImageConfig],
        requested: Option<&Platform>,
    ) -> Result<usize, SourceError> {
        if images.is_empty() {
            return Err(self.invalid("manifest.json", "it lists no image"));
        }
        let matching: Vec<usize> = match requested {
            Some(requested_platform) => (0..images.len())
                .filter(|&i| {
                    configs[i]
                        .platform()
                        .is_some_and(|p| p.matches(requested_platform))
                })
                .collect(),
            None if images.len() == 1 => vec![0],
            None => Vec::new(),
        };
        if let [index] = matching[..] {
            return Ok(index);
        }
        let tags: Vec<String> = images
            .iter()
            .map(|image| match &image.repo_tags {
                Some(tags) if !tags.is_empty() => tags.join(" "),
                _ => image.config.clone(),
            })
            .collect();
        Err(SourceError::Platform {
            path: self.path.clone(),
            reason: format!(
                "the archive has {} images ({}) and the platform does not pick exactly one; save one image per archive",
                images.len(),
                tags.join(", ")
            ),
        })
    }

    /// Checks a docker-archive layer: a `blobs/sha256/<hex>` name against the blob, and the
    /// config's diff_id against the uncompressed content (which is the blob itself unless it
    /// is gzip-compressed).
    fn verify_docker_layer(
        &self,
        config: &str,
        location: &str,
        diff_id: &str,
    ) -> Result<LayerBlob, SourceError> {
        let expected_diff_id = self.parse_digest(config, diff_id)?;
        let gzip = self.starts_with_gzip_magic(location)?;
        let stored_digest = digest_in_name(location);
        if let Some(expected) = &stored_digest {
            self.verify_blob(location, expected)?;
        }
        let actual = self.hash_blob(location, expected_diff_id.algorithm(), gzip)?;
        self.check_digest(location, &expected_diff_id, &actual)?;
        Ok(LayerBlob {
            media_type: if gzip {
                DOCKER_LAYER_GZIP
            } else {
                DOCKER_LAYER_TAR
            }
            .to_owned(),
            location: location.to_owned(),
            digest: Some(stored_digest.unwrap_or(expected_diff_id).to_string()),
        })
    }

    fn starts_with_gzip_magic(&self, location: &str) -> Result<bool, SourceError> {
        let mut reader = self.open_blob(location)?;
        let mut magic = [0u8; 2];
        match reader.read_exact(&mut magic) {
            Ok(()) => Ok(magic == GZIP_MAGIC),
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
            Err(error) => Err(self.read_error(error)),
        }
    }
}

fn describe_platforms<'a>(platforms: impl Iterator<Item = Option<&'a Platform>>) -> String {
    platforms
        .map(|platform| {
            platform.map_or_else(|| "an unknown platform".to_owned(), Platform::to_string)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Returns the path of a blob in an OCI layout, `blobs/<algorithm>/<hex>`.
fn blob_location(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm_name(), digest.hex())
}

/// Returns the SHA-256 digest that a docker-archive file name encodes: `<hex>.json` for
/// configs before Docker 25, `blobs/sha256/<hex>` after. Names such as `<id>/layer.tar` encode
/// none, because the directory is a layer id rather than a digest of the file.
fn digest_in_name(location: &str) -> Option<Digest> {
    let hex = location
        .strip_prefix("blobs/sha256/")
        .or_else(|| location.strip_suffix(".json"))?;
    Digest::parse(&format!("sha256:{hex}")).ok()
}

fn digest_of(algorithm: Algorithm, reader: &mut dyn Read) -> io::Result<Digest> {
    let mut buffer = vec![0u8; 64 * 1024];
    match algorithm {
        Algorithm::Sha256 => {
            let mut hasher = Sha256::new();
            loop {
                let count = reader.read(&mut buffer)?;
                if count == 0 {
                    return Ok(Digest::from_hasher(hasher));
                }
                hasher.update(&buffer[..count]);
            }
        }
        Algorithm::Sha512 => {
            let mut hasher = Sha512::new();
            loop {
                let count = reader.read(&mut buffer)?;
                if count == 0 {
                    return Ok(Digest::from_sha512_hasher(hasher));
                }
                hasher.update(&buffer[..count]);
            }
        }
    }
}

/// A directory, or a tar file indexed by member path.
#[derive(Debug)]
enum Container {
    Directory(PathBuf),
    Tar {
        path: PathBuf,
        members: HashMap<String, Member>,
    },
}

#[derive(Debug, Clone)]
enum Member {
    /// A regular file's data: its offset in the tar and its size.
    File { offset: u64, size: u64 },
    /// A symlink or hard link to another member, as a normalized member path.
    Link(String),
}

impl Container {
    fn from_path(path: &Path) -> Result<Self, SourceError> {
        let read_error = |source| SourceError::Read {
            path: path.to_owned(),
            source,
        };
        let metadata = std::fs::metadata(path).map_err(read_error)?;
        if metadata.is_dir() {
            return Ok(Self::Directory(path.to_owned()));
        }
        let mut file = File::open(path).map_err(read_error)?;
        let mut magic = [0u8; 2];
        if file.read_exact(&mut magic).is_ok() && magic == GZIP_MAGIC {
            return Err(SourceError::Unrecognized {
                path: path.to_owned(),
                reason: "it is gzip-compressed; decompress it first (gunzip), as docker save and skopeo write uncompressed archives".to_owned(),
            });
        }
        file.rewind().map_err(read_error)?;
        let members = index_tar(file).map_err(|error| SourceError::Unrecognized {
            path: path.to_owned(),
            reason: format!("it is neither a directory nor a valid tar archive: {error}"),
        })?;
        Ok(Self::Tar {
            path: path.to_owned(),
            members,
        })
    }

    fn exists(&self, name: &str) -> bool {
        match self {
            Self::Directory(root) => is_safe_member(name) && root.join(name).is_file(),
            Self::Tar { members, .. } => members.contains_key(name),
        }
    }

    /// Opens a file of the container for reading. A name that leaves the container, such as
    /// one with `..`, is reported as not found.
    fn open(&self, name: &str) -> io::Result<Box<dyn Read + '_>> {
        let not_found = || io::Error::new(io::ErrorKind::NotFound, format!("{name} not found"));
        match self {
            Self::Directory(root) => {
                if !is_safe_member(name) {
                    return Err(not_found());
                }
                Ok(Box::new(BufReader::new(File::open(root.join(name))?)))
            }
            Self::Tar { path, members } => {
                let mut current = name.to_owned();
                for _ in 0..MAX_SYMLINK_HOPS {
                    match members.get(&current).ok_or_else(not_found)? {
                        Member::Link(target) => current = target.clone(),
                        Member::File { offset, size } => {
                            let mut file = File::open(path)?;
                            file.seek(SeekFrom::Start(*offset))?;
                            return Ok(Box::new(BufReader::new(file).take(*size)));
                        }
                    }
                }
                Err(io::Error::other(format!(
                    "{name} is a chain of more than {MAX_SYMLINK_HOPS} links"
                )))
            }
        }
    }
}

fn is_safe_member(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// Lists a tar's regular files with their data offsets, and its links.
fn index_tar(file: File) -> io::Result<HashMap<String, Member>> {
    let mut archive = tar::Archive::new(BufReader::new(file));
    let mut members = HashMap::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let name = normalize_member(&entry.path()?.to_string_lossy());
        let entry_type = entry.header().entry_type();
        let member = if entry_type.is_file() || entry_type == tar::EntryType::Continuous {
            Member::File {
                offset: entry.raw_file_position(),
                size: entry.size(),
            }
        } else if entry_type.is_symlink() || entry_type.is_hard_link() {
            let Some(target) = entry.link_name()? else {
                continue;
            };
            let target = target.to_string_lossy();
            // A symlink is relative to its directory, a hard link to the archive's root.
            let resolved = if entry_type.is_symlink() && !target.starts_with('/') {
                let parent = name.rsplit_once('/').map_or("", |(parent, _)| parent);
                normalize_member(&format!("{parent}/{target}"))
            } else {
                normalize_member(&target)
            };
            Member::Link(resolved)
        } else {
            continue;
        };
        members.insert(name, member);
    }
    Ok(members)
}

/// Normalizes a member path: no leading `/` or `./`, `.` dropped and `..` resolved.
fn normalize_member(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests;
