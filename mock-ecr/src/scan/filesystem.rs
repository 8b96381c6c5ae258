//! The merged view of an image's layers, reduced to the few files the scanner reads.
//!
//! Layers are applied base first, as the OCI image specification's "Image Layer Filesystem
//! Changeset" describes (image-spec `layer.md`). A whiteout file `.wh.<name>` removes `<name>`
//! from lower layers, and `.wh..wh..opq` makes its directory opaque, so that none of the lower
//! layers' entries in it remain. Both apply only to lower layers, never to entries of the same
//! layer. An entry that is not a directory also hides everything a lower layer had below its
//! path.
//!
//! Only kept files are kept in memory (see [`is_kept`]); the rest of every layer is read
//! and discarded.

use std::collections::BTreeMap;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;
use tar::EntryType;

use super::{Layer, ScanFailure};

/// The largest file the scanner keeps in memory. A dpkg status file of a large Debian image is
/// a few MiB, so 64 MiB leaves ample room while bounding the memory a hostile layer can claim.
pub(super) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

pub(super) const OS_RELEASE: &str = "etc/os-release";
pub(super) const USR_OS_RELEASE: &str = "usr/lib/os-release";
pub(super) const ALPINE_RELEASE: &str = "etc/alpine-release";
pub(super) const DEBIAN_VERSION: &str = "etc/debian_version";
pub(super) const DPKG_STATUS: &str = "var/lib/dpkg/status";
pub(super) const DPKG_STATUS_DIR: &str = "var/lib/dpkg/status.d";
pub(super) const APK_INSTALLED: &str = "lib/apk/db/installed";

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";
const MAX_SYMLINK_HOPS: usize = 16;

const KEPT_FILES: [&str; 6] = [
    OS_RELEASE,
    USR_OS_RELEASE,
    ALPINE_RELEASE,
    DEBIAN_VERSION,
    DPKG_STATUS,
    APK_INSTALLED,
];

/// Returns whether the scanner keeps the file at `path` (normalized, relative to the root):
/// one of `KEPT_FILES` or a file directly inside `var/lib/dpkg/status.d`.
fn is_kept(path: &str) -> bool {
    KEPT_FILES.contains(&path)
        || path
            .strip_prefix(DPKG_STATUS_DIR)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| !name.is_empty() && !name.contains('/'))
}

/// Returns whether a kept file can lie below `path`, such as `var/lib` or `etc`.
fn may_contain_kept(path: &str) -> bool {
    let is_strictly_below = |candidate: &str| {
        candidate.starts_with(path) && candidate.as_bytes().get(path.len()) == Some(&b'/')
    };
    KEPT_FILES.into_iter().any(is_strictly_below)
        || DPKG_STATUS_DIR == path
        || is_strictly_below(DPKG_STATUS_DIR)
}

/// The kept files of the merged image, with symlinks and hard links resolved.
#[derive(Debug, Default)]
pub(super) struct Files {
    contents: BTreeMap<String, Vec<u8>>,
    /// Remarks on links the scanner could not follow.
    pub warnings: Vec<String>,
}

impl Files {
    /// Returns the contents of the file at `path`, relative to the root without a leading `/`.
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.contents.get(path).map(Vec::as_slice)
    }

    /// Returns the files directly inside `directory`, sorted by path.
    pub fn children<'a>(
        &'a self,
        directory: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.contents.iter().filter_map(move |(path, contents)| {
            let name = path.strip_prefix(directory)?.strip_prefix('/')?;
            (!name.contains('/')).then_some((path.as_str(), contents.as_slice()))
        })
    }

    #[cfg(test)]
    pub fn paths(&self) -> Vec<&str> {
        self.contents.keys().map(String::as_str).collect()
    }
}

/// A kept entry of the merged view.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    File(Vec<u8>),
    Symlink(String),
    /// A hard link whose target the scanner did not keep.
    UnresolvedHardLink(String),
}

/// The changes that one layer makes to the layers below it.
#[derive(Debug, Default)]
struct LayerChanges {
    /// Wanted paths the layer adds or replaces.
    added: BTreeMap<String, Node>,
    /// Paths that may contain kept files but that the layer sets to a non-directory, such
    /// as a file or symlink. They hide every lower entry below them.
    non_directories: Vec<String>,
    /// Wanted paths that the layer sets to an entry the scanner does not keep, such as a
    /// directory or a device. They hide the lower entry at the same path.
    replaced: Vec<String>,
    /// Paths removed by `.wh.<name>` files.
    removed: Vec<String>,
    /// Directories made opaque by `.wh..wh..opq` files.
    opaque: Vec<String>,
}

/// Reads every layer, in order, and returns the kept files of the merged view.
pub(super) fn collect_files<'a>(
    layers: impl IntoIterator<Item = Result<Layer<'a>, ScanFailure>>,
) -> Result<Files, ScanFailure> {
    let mut merged = BTreeMap::new();
    for (index, layer) in layers.into_iter().enumerate() {
        let layer = layer?;
        let label = format!("layer {} ({})", index + 1, layer.media_type);
        let changes = read_layer(layer, &merged).map_err(|error| match error {
            LayerError::Tar(error) => {
                ScanFailure::Failed(format!("{label} is not a valid tar: {error}"))
            }
            LayerError::Rejected(reason) => ScanFailure::Failed(format!("{label}: {reason}")),
        })?;
        apply(&mut merged, changes);
    }
    Ok(resolve_links(merged))
}

enum LayerError {
    /// The tar or gzip stream is corrupt.
    Tar(io::Error),
    /// The layer is readable but the scanner does not accept it.
    Rejected(String),
}

fn decompressed<'a>(layer: Layer<'a>) -> Result<Box<dyn Read + 'a>, LayerError> {
    let media_type = layer.media_type.as_str();
    // Media types from the OCI image specification ("Image Layer Filesystem Changeset") and
    // Docker's image manifest v2 schema 2, including their non-distributable variants.
    match media_type {
        "application/vnd.oci.image.layer.v1.tar"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar"
        | "application/vnd.docker.image.rootfs.diff.tar" => Ok(layer.reader),
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip"
        | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
            Ok(Box::new(MultiGzDecoder::new(layer.reader)))
        }
        _ if media_type.ends_with("+zstd") || media_type.ends_with(".zstd") => {
            Err(LayerError::Rejected(format!(
                "zstd-compressed layers ({media_type}) are not supported; push the image with gzip or uncompressed layers"
            )))
        }
        _ => Err(LayerError::Rejected(format!(
            "unsupported layer media type '{media_type}'; the scanner reads OCI and Docker tar layers, uncompressed or gzip-compressed"
        ))),
    }
}

fn read_layer(
    layer: Layer<'_>,
    lower: &BTreeMap<String, Node>,
) -> Result<LayerChanges, LayerError> {
    let mut archive = tar::Archive::new(decompressed(layer)?);
    let mut changes = LayerChanges::default();
    for entry in archive.entries().map_err(LayerError::Tar)? {
        let mut entry = entry.map_err(LayerError::Tar)?;
        let raw_path = entry.path().map_err(LayerError::Tar)?;
        let path = normalize(&raw_path.to_string_lossy());
        if path.is_empty() {
            continue;
        }
        let (parent, name) = split_parent(&path);

        if name == OPAQUE_WHITEOUT {
            changes.opaque.push(parent.to_owned());
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            // Other `.wh..wh.` names are AUFS metadata, not whiteouts.
            if !hidden.starts_with(WHITEOUT_PREFIX) {
                changes.removed.push(join(parent, hidden));
            }
            continue;
        }

        let entry_type = entry.header().entry_type();
        if entry_type != EntryType::Directory && may_contain_kept(&path) {
            changes.non_directories.push(path.clone());
        }
        if !is_kept(&path) {
            continue;
        }
        let node = match entry_type {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                Node::File(read_capped(&mut entry, &path)?)
            }
            EntryType::Symlink => match entry.link_name().map_err(LayerError::Tar)? {
                Some(target) => Node::Symlink(target.to_string_lossy().into_owned()),
                None => continue,
            },
            EntryType::Link => {
                let Some(target) = entry.link_name().map_err(LayerError::Tar)? else {
                    continue;
                };
                let target = normalize(&target.to_string_lossy());
                // A hard link names an earlier entry of the archive, of this layer or (for
                // layers built by diffing) of a lower one.
                match changes.added.get(&target).or_else(|| lower.get(&target)) {
                    Some(node) => node.clone(),
                    None => Node::UnresolvedHardLink(target),
                }
            }
            _ => {
                changes.added.remove(&path);
                changes.replaced.push(path);
                continue;
            }
        };
        changes.added.insert(path, node);
    }
    // Read past the end-of-archive blocks to the end of the blob, so that gzip's trailer is
    // checked: a corrupt stream can otherwise decode into an early end of the archive.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(LayerError::Tar)?;
    Ok(changes)
}

fn read_capped(entry: &mut impl Read, path: &str) -> Result<Vec<u8>, LayerError> {
    let mut contents = Vec::new();
    entry
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut contents)
        .map_err(LayerError::Tar)?;
    if contents.len() as u64 > MAX_FILE_BYTES {
        return Err(LayerError::Rejected(format!(
            "/{path} is larger than the scanner's limit of {} MiB per file",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    Ok(contents)
}

/// Applies one layer's changes to the merged view of the layers below it.
fn apply(merged: &mut BTreeMap<String, Node>, changes: LayerChanges) {
    for directory in &changes.opaque {
        remove_below(merged, directory);
    }
    for path in &changes.removed {
        merged.remove(path);
        remove_below(merged, path);
    }
    for path in &changes.non_directories {
        remove_below(merged, path);
    }
    for path in &changes.replaced {
        merged.remove(path);
    }
    merged.extend(changes.added);
}

/// Removes every entry strictly below `directory` ("" is the root).
fn remove_below(merged: &mut BTreeMap<String, Node>, directory: &str) {
    if directory.is_empty() {
        merged.clear();
        return;
    }
    let prefix = format!("{directory}/");
    merged.retain(|path, _| !path.starts_with(&prefix));
}

/// Replaces symlinks and hard links by the contents of their targets.
fn resolve_links(merged: BTreeMap<String, Node>) -> Files {
    let mut files = Files::default();
    for (path, node) in &merged {
        match resolve(&merged, path, node) {
            Ok(contents) => {
                files.contents.insert(path.clone(), contents.clone());
            }
            Err(reason) => files
                .warnings
                .push(format!("/{path} was skipped because {reason}")),
        }
    }
    files
}

fn resolve<'m>(
    merged: &'m BTreeMap<String, Node>,
    path: &str,
    node: &'m Node,
) -> Result<&'m Vec<u8>, String> {
    let mut current_path = path.to_owned();
    let mut current = node;
    for _ in 0..MAX_SYMLINK_HOPS {
        match current {
            Node::File(contents) => return Ok(contents),
            Node::UnresolvedHardLink(target) => {
                return Err(format!(
                    "it is a hard link to /{target}, a file the scanner does not keep"
                ));
            }
            Node::Symlink(target) => {
                let (parent, _) = split_parent(&current_path);
                let target_path = if target.starts_with('/') {
                    normalize(target)
                } else {
                    normalize(&join(parent, target))
                };
                current = merged.get(&target_path).ok_or_else(|| {
                    format!(
                        "it is a symlink to /{target_path}, which is missing or not a file the scanner keeps"
                    )
                })?;
                current_path = target_path;
            }
        }
    }
    Err(format!(
        "it is a chain of more than {MAX_SYMLINK_HOPS} symlinks"
    ))
}

/// Normalizes a tar path to the form `a/b/c`: no leading `/` or `./`, no `.` components or
/// trailing `/`, and `..` resolved without leaving the root.
fn normalize(path: &str) -> String {
    let mut components: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            other => components.push(other),
        }
    }
    components.join("/")
}

/// Splits `a/b/c` into `("a/b", "c")` and `c` into `("", "c")`.
fn split_parent(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::scan::tests::{LayerBuilder, collect};

    #[test]
    fn normalize_strips_prefixes_and_dots() {
        assert_eq!(normalize("./etc/os-release"), "etc/os-release");
        assert_eq!(normalize("/etc//os-release"), "etc/os-release");
        assert_eq!(normalize("etc/../usr/lib/os-release"), "usr/lib/os-release");
        assert_eq!(normalize("../../etc/os-release"), "etc/os-release");
        assert_eq!(normalize("var/lib/dpkg/"), "var/lib/dpkg");
        assert_eq!(normalize("./"), "");
    }

    #[test]
    fn directory_replaces_lower_file() {
        let base = LayerBuilder::new().file("var/lib/dpkg/status.d/a", "Package: a\n");
        let upper = LayerBuilder::new().directory("var/lib/dpkg/status.d/a");
        let files = collect(vec![base, upper]).unwrap();
        assert_eq!(files.paths(), Vec::<&str>::new());
    }

    #[test]
    fn ancestors_of_kept_paths() {
        assert!(may_contain_kept("var"));
        assert!(may_contain_kept("var/lib/dpkg"));
        assert!(may_contain_kept("var/lib/dpkg/status.d"));
        assert!(may_contain_kept("etc"));
        assert!(!may_contain_kept("var/lib/dpkg/status"));
        assert!(!may_contain_kept("va"));
        assert!(!may_contain_kept("usr/bin"));
    }

    #[test]
    fn kept_paths() {
        assert!(is_kept("var/lib/dpkg/status"));
        assert!(is_kept("var/lib/dpkg/status.d/libc6"));
        assert!(!is_kept("var/lib/dpkg/status.d"));
        assert!(!is_kept("var/lib/dpkg/status.d/sub/file"));
        assert!(!is_kept("var/lib/dpkg/status-old"));
        assert!(!is_kept("usr/bin/ls"));
    }

    #[test]
    fn upper_layer_replaces_file() {
        let base = LayerBuilder::new().file("etc/os-release", "ID=debian\n");
        let upper = LayerBuilder::new().file("./etc/os-release", "ID=ubuntu\n");
        let files = collect(vec![base, upper]).unwrap();
        assert_eq!(files.get(OS_RELEASE), Some(&b"ID=ubuntu\n"[..]));
    }

    #[test]
    fn whiteout_removes_lower_file() {
        let base = LayerBuilder::new()
            .file("var/lib/dpkg/status", "Package: a\n")
            .file("etc/os-release", "ID=debian\n");
        let upper = LayerBuilder::new().file("var/lib/dpkg/.wh.status", "");
        let files = collect(vec![base, upper]).unwrap();
        assert_eq!(files.get(DPKG_STATUS), None);
        assert!(files.get(OS_RELEASE).is_some());
    }

    #[test]
    fn whiteout_of_directory_removes_contents() {
        let base = LayerBuilder::new()
            .file("var/lib/dpkg/status", "Package: a\n")
            .file("var/lib/dpkg/status.d/b", "Package: b\n");
        let upper = LayerBuilder::new().file("var/lib/.wh.dpkg", "");
        let files = collect(vec![base, upper]).unwrap();
        assert_eq!(files.paths(), Vec::<&str>::new());
    }

    #[test]
    fn whiteout_spares_same_layer() {
        // A whiteout applies only to lower layers, whatever its position in the tar.
        let layer = LayerBuilder::new()
            .file("var/lib/dpkg/status", "Package: a\n")
            .file("var/lib/dpkg/.wh.status", "");
        let files = collect(vec![layer]).unwrap();
        assert!(files.get(DPKG_STATUS).is_some());
    }

    #[test]
    fn opaque_directory_hides_lower_entries() {
        let base = LayerBuilder::new()
            .file("var/lib/dpkg/status.d/old", "Package: old\n")
            .file("var/lib/dpkg/status", "Package: a\n");
        let upper = LayerBuilder::new()
            .file("var/lib/dpkg/status.d/.wh..wh..opq", "")
            .file("var/lib/dpkg/status.d/new", "Package: new\n");
        let files = collect(vec![base, upper]).unwrap();
        assert_eq!(
            files.paths(),
            vec!["var/lib/dpkg/status", "var/lib/dpkg/status.d/new"]
        );
    }

    #[test]
    fn file_over_directory_hides_it() {
        let base = LayerBuilder::new().file("var/lib/dpkg/status.d/a", "Package: a\n");
        let upper = LayerBuilder::new().file("var/lib/dpkg/status.d", "not a directory");
        let files = collect(vec![base, upper]).unwrap();
        assert_eq!(files.paths(), Vec::<&str>::new());
    }

    #[test]
    fn symlink_to_usr_lib_os_release() {
        let layer = LayerBuilder::new()
            .file("usr/lib/os-release", "ID=debian\n")
            .symlink("etc/os-release", "../usr/lib/os-release");
        let files = collect(vec![layer]).unwrap();
        assert_eq!(files.get(OS_RELEASE), Some(&b"ID=debian\n"[..]));
    }

    #[test]
    fn absolute_symlink_across_layers() {
        let base = LayerBuilder::new().symlink("etc/os-release", "/usr/lib/os-release");
        let upper = LayerBuilder::new().file("usr/lib/os-release", "ID=alpine\n");
        let files = collect(vec![base, upper]).unwrap();
        assert_eq!(files.get(OS_RELEASE), Some(&b"ID=alpine\n"[..]));
    }

    #[test]
    fn dangling_symlink_is_a_warning() {
        let layer = LayerBuilder::new().symlink("etc/os-release", "/nowhere");
        let files = collect(vec![layer]).unwrap();
        assert_eq!(files.get(OS_RELEASE), None);
        assert_eq!(files.warnings.len(), 1);
        assert!(files.warnings[0].contains("symlink to /nowhere"));
    }

    #[test]
    fn symlink_loop_is_a_warning() {
        let layer = LayerBuilder::new()
            .symlink("etc/os-release", "../usr/lib/os-release")
            .symlink("usr/lib/os-release", "../../etc/os-release");
        let files = collect(vec![layer]).unwrap();
        assert_eq!(files.get(OS_RELEASE), None);
        assert!(files.warnings[0].contains("chain of more than"));
    }

    #[test]
    fn hard_link_copies_kept_file() {
        let layer = LayerBuilder::new()
            .file("usr/lib/os-release", "ID=debian\n")
            .hard_link("etc/os-release", "usr/lib/os-release");
        let files = collect(vec![layer]).unwrap();
        assert_eq!(files.get(OS_RELEASE), Some(&b"ID=debian\n"[..]));
    }

    #[test]
    fn hard_link_to_unkept_file_is_a_warning() {
        let layer = LayerBuilder::new()
            .file("opt/release", "ID=debian\n")
            .hard_link("etc/os-release", "opt/release");
        let files = collect(vec![layer]).unwrap();
        assert_eq!(files.get(OS_RELEASE), None);
        assert!(files.warnings[0].contains("hard link to /opt/release"));
    }

    #[test]
    fn long_pax_path_is_read() {
        let layer = LayerBuilder::new().pax_path_file(DPKG_STATUS, "Package: a\n");
        let files = collect(vec![layer]).unwrap();
        assert_eq!(files.get(DPKG_STATUS), Some(&b"Package: a\n"[..]));
    }

    #[test]
    fn oversized_file_fails() {
        let contents = vec![b'x'; MAX_FILE_BYTES as usize + 1];
        let layer = LayerBuilder::new().file(DPKG_STATUS, contents);
        let error = collect(vec![layer]).unwrap_err();
        assert!(
            error
                .reason()
                .contains("/var/lib/dpkg/status is larger than"),
            "{error}"
        );
    }

    #[test]
    fn large_other_file_is_skipped() {
        let contents = vec![0u8; MAX_FILE_BYTES as usize + 1];
        let layer = LayerBuilder::new().file("usr/lib/big.so", contents);
        let files = collect(vec![layer]).unwrap();
        assert_eq!(files.paths(), Vec::<&str>::new());
    }
}
