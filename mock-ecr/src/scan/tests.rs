//! Layer fixtures built in code, and tests of whole scans.

use std::io::{Cursor, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{EntryType, Header};

use super::filesystem::{Files, collect_files};
use super::*;

pub(super) const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub(super) const TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Builds a layer tar in memory.
pub(super) struct LayerBuilder {
    builder: tar::Builder<Vec<u8>>,
}

impl LayerBuilder {
    pub fn new() -> Self {
        Self {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    fn header(entry_type: EntryType, size: u64) -> Header {
        let mut header = Header::new_gnu();
        header.set_entry_type(entry_type);
        header.set_size(size);
        header.set_mode(if entry_type == EntryType::Directory {
            0o755
        } else {
            0o644
        });
        header.set_mtime(1_700_000_000);
        header
    }

    pub fn file(mut self, path: &str, contents: impl AsRef<[u8]>) -> Self {
        let contents = contents.as_ref();
        let mut header = Self::header(EntryType::Regular, contents.len() as u64);
        self.builder
            .append_data(&mut header, path, contents)
            .unwrap();
        self
    }

    /// Adds a file whose header name is written byte for byte, such as `./etc/os-release`,
    /// which `tar::Builder` would normalize.
    pub fn file_with_raw_name(mut self, name: &str, contents: impl AsRef<[u8]>) -> Self {
        let contents = contents.as_ref();
        let mut header = Self::header(EntryType::Regular, contents.len() as u64);
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        self.builder.append(&header, contents).unwrap();
        self
    }

    pub fn directory(mut self, path: &str) -> Self {
        let mut header = Self::header(EntryType::Directory, 0);
        self.builder
            .append_data(&mut header, path, std::io::empty())
            .unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut header = Self::header(EntryType::Symlink, 0);
        self.builder.append_link(&mut header, path, target).unwrap();
        self
    }

    pub fn hard_link(mut self, path: &str, target: &str) -> Self {
        let mut header = Self::header(EntryType::Link, 0);
        self.builder.append_link(&mut header, path, target).unwrap();
        self
    }

    /// Adds a file whose path is in a PAX extended header (POSIX.1-2001 `path` record), with a
    /// placeholder in the ustar name field.
    pub fn pax_path_file(mut self, path: &str, contents: impl AsRef<[u8]>) -> Self {
        let record_body = format!(" path={path}\n");
        // The record's length prefix counts its own digits.
        let mut length = record_body.len() + 1;
        while length.to_string().len() + record_body.len() != length {
            length += 1;
        }
        let record = format!("{length}{record_body}");
        let mut pax_header = Self::header(EntryType::XHeader, record.len() as u64);
        pax_header.set_path("PaxHeaders/placeholder").unwrap();
        pax_header.set_cksum();
        self.builder.append(&pax_header, record.as_bytes()).unwrap();

        let contents = contents.as_ref();
        let mut header = Self::header(EntryType::Regular, contents.len() as u64);
        header.set_path("placeholder").unwrap();
        header.set_cksum();
        self.builder.append(&header, contents).unwrap();
        self
    }

    pub fn tar(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }

    pub fn gzip(self) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(&self.tar()).unwrap();
        encoder.finish().unwrap()
    }
}

/// Returns an uncompressed layer over `bytes`.
pub(super) fn layer(media_type: &str, bytes: Vec<u8>) -> Result<Layer<'static>, ScanFailure> {
    Ok(Layer::new(media_type, Cursor::new(bytes)))
}

/// Collects the kept files of uncompressed layers.
pub(super) fn collect(layers: Vec<LayerBuilder>) -> Result<Files, ScanFailure> {
    collect_files(layers.into_iter().map(|builder| layer(TAR, builder.tar())))
}

fn scan(layers: Vec<Result<Layer<'static>, ScanFailure>>) -> Result<ScanReport, ScanFailure> {
    scan_layers(layers, &test_advisories())
}

pub(super) fn test_advisories() -> Advisories {
    Advisories::parse(
        r#"
description = "advisories for the scanner's tests"
updated = 2024-05-01

[[advisory]]
id = "CVE-2023-5678"
package = "openssl"
distribution = "debian:12"
fixed_version = "3.0.13-1~deb12u1"
severity = "MEDIUM"
cvss_score = "5.3"
cvss_vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"
cvss_version = 3
description = "Slow DH key generation and checks."
uri = "https://security-tracker.debian.org/tracker/CVE-2023-5678"

[[advisory]]
id = "CVE-2023-45853"
package = "zlib"
distribution = "debian:12"
severity = "CRITICAL"
description = "Integer overflow in MiniZip."
uri = "https://security-tracker.debian.org/tracker/CVE-2023-45853"

[[advisory]]
id = "CVE-2023-42366"
package = "busybox"
distribution = "alpine:3.19"
fixed_version = "1.36.1-r16"
severity = "MEDIUM"
description = "A heap buffer overflow in awk."
uri = "https://security.alpinelinux.org/vuln/CVE-2023-42366"
"#,
        "test advisories",
    )
    .unwrap()
}

const DEBIAN_OS_RELEASE: &str = "\
PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"12\"
VERSION=\"12 (bookworm)\"
ID=debian
";

const DEBIAN_STATUS: &str = "\
Package: libssl3
Status: install ok installed
Source: openssl
Version: 3.0.11-1~deb12u2

Package: zlib1g
Status: install ok installed
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: base-files
Status: install ok installed
Version: 12.4+deb12u5
";

pub(super) const ALPINE_INSTALLED: &str = "\
P:busybox
V:1.36.1-r15
o:busybox

P:ssl_client
V:1.36.1-r15
o:busybox

P:musl
V:1.2.4_git20230717-r4
o:musl
";

fn debian_base() -> LayerBuilder {
    LayerBuilder::new()
        .directory("etc")
        .file("usr/lib/os-release", DEBIAN_OS_RELEASE)
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("etc/debian_version", "12.5\n")
        .file("var/lib/dpkg/status", DEBIAN_STATUS)
        .file("usr/bin/true", vec![0u8; 4096])
}

pub(super) fn alpine_base() -> LayerBuilder {
    LayerBuilder::new()
        .file(
            "etc/os-release",
            "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
        )
        .file("etc/alpine-release", "3.19.1\n")
        .file("lib/apk/db/installed", ALPINE_INSTALLED)
}

fn finding_summary(report: &ScanReport) -> Vec<(&str, &str, Severity)> {
    report
        .findings
        .iter()
        .map(|finding| {
            (
                finding.name.as_str(),
                finding.package_name.as_str(),
                finding.severity,
            )
        })
        .collect()
}

#[test]
fn debian_image_findings() {
    let report = scan(vec![layer(TAR_GZIP, debian_base().gzip())]).unwrap();
    assert_eq!(
        report.os,
        OperatingSystem {
            id: "debian".into(),
            version: "12".into(),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        }
    );
    assert_eq!(report.packages.len(), 3);
    assert_eq!(
        finding_summary(&report),
        vec![
            ("CVE-2023-45853", "zlib1g", Severity::Critical),
            ("CVE-2023-5678", "libssl3", Severity::Medium),
        ]
    );
    let openssl = &report.findings[1];
    assert_eq!(openssl.package_version, "3.0.11-1~deb12u2");
    assert_eq!(openssl.fixed_version.as_deref(), Some("3.0.13-1~deb12u1"));
    assert_eq!(openssl.cvss.as_ref().unwrap().score, "5.3");
    assert_eq!(report.warnings, Vec::<String>::new());
}

#[test]
fn upgrade_layer_removes_finding() {
    let upgraded = DEBIAN_STATUS.replace("3.0.11-1~deb12u2", "3.0.13-1~deb12u1");
    let upper = LayerBuilder::new().file("var/lib/dpkg/status", upgraded);
    let report = scan(vec![
        layer(TAR_GZIP, debian_base().gzip()),
        layer(TAR, upper.tar()),
    ])
    .unwrap();
    assert_eq!(
        finding_summary(&report),
        vec![("CVE-2023-45853", "zlib1g", Severity::Critical)]
    );
}

#[test]
fn deleted_database_removes_packages() {
    let upper = LayerBuilder::new()
        .file("var/lib/dpkg/.wh.status", "")
        .file(
            "var/lib/dpkg/status.d/libssl3",
            "Package: libssl3\nVersion: 3.0.13-1~deb12u1\nSource: openssl\n",
        );
    let report = scan(vec![
        layer(TAR, debian_base().tar()),
        layer(TAR, upper.tar()),
    ])
    .unwrap();
    let names: Vec<&str> = report.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["libssl3"]);
    assert!(report.findings.is_empty());
}

#[test]
fn alpine_image_findings() {
    let report = scan(vec![layer(TAR_GZIP, alpine_base().gzip())]).unwrap();
    assert_eq!(report.os.id, "alpine");
    assert_eq!(report.os.version, "3.19");
    assert_eq!(
        finding_summary(&report),
        vec![
            ("CVE-2023-42366", "busybox", Severity::Medium),
            ("CVE-2023-42366", "ssl_client", Severity::Medium),
        ]
    );
}

#[test]
fn docker_media_types_are_read() {
    let layers = vec![
        layer(
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            alpine_base().gzip(),
        ),
        layer(
            "application/vnd.docker.image.rootfs.diff.tar",
            LayerBuilder::new().file("etc/motd", "hi").tar(),
        ),
    ];
    let report = scan(layers).unwrap();
    assert_eq!(report.packages.len(), 3);
}

#[test]
fn dot_slash_names_are_normalized() {
    let base = LayerBuilder::new()
        .file_with_raw_name("./etc/os-release", "ID=alpine\nVERSION_ID=3.19.0\n")
        .file_with_raw_name("./lib/apk/db/installed", ALPINE_INSTALLED);
    let report = scan(vec![layer(TAR, base.tar())]).unwrap();
    assert_eq!(report.os.distribution(), "alpine:3.19");
    assert_eq!(report.findings.len(), 2);
}

#[test]
fn missing_os_release_uses_release_file() {
    let base = LayerBuilder::new()
        .file("etc/alpine-release", "3.19.1\n")
        .file("lib/apk/db/installed", ALPINE_INSTALLED);
    let report = scan(vec![layer(TAR, base.tar())]).unwrap();
    assert_eq!(report.os.distribution(), "alpine:3.19");
    assert_eq!(report.os.pretty_name, None);
    assert_eq!(report.findings.len(), 2);
    assert!(report.warnings[0].contains("no os-release; assumed alpine 3.19"));
}

#[test]
fn missing_release_lists_packages_only() {
    let base = LayerBuilder::new().file("var/lib/dpkg/status", DEBIAN_STATUS);
    let report = scan(vec![layer(TAR, base.tar())]).unwrap();
    assert_eq!(report.os.id, "debian");
    assert_eq!(report.os.version, "");
    assert_eq!(report.packages.len(), 3);
    assert!(report.findings.is_empty());
    assert!(report.warnings[0].contains("without a release no advisories could be matched"));
}

#[test]
fn image_without_database_is_unsupported() {
    let base = LayerBuilder::new()
        .file(
            "etc/os-release",
            "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n",
        )
        .file("app/server", "binary");
    let failure = scan(vec![layer(TAR, base.tar())]).unwrap_err();
    assert_eq!(
        failure,
        ScanFailure::UnsupportedImage(
            "no operating-system package database found (os-release: Debian GNU/Linux 12): looked for /var/lib/dpkg/status, /var/lib/dpkg/status.d/ and /lib/apk/db/installed".into()
        )
    );
}

#[test]
fn empty_image_is_unsupported() {
    let failure = scan(Vec::new()).unwrap_err();
    assert!(
        matches!(failure, ScanFailure::UnsupportedImage(_)),
        "{failure}"
    );
}

#[test]
fn unsupported_distribution() {
    let base = LayerBuilder::new()
        .file(
            "etc/os-release",
            "ID=kali\nPRETTY_NAME=\"Kali GNU/Linux Rolling\"\n",
        )
        .file("var/lib/dpkg/status", DEBIAN_STATUS);
    let failure = scan(vec![layer(TAR, base.tar())]).unwrap_err();
    let ScanFailure::UnsupportedImage(reason) = failure else {
        panic!("expected UnsupportedImage, got {failure:?}");
    };
    assert!(reason.contains("Kali GNU/Linux Rolling (os-release ID 'kali') is not supported"));
}

#[test]
fn corrupt_gzip_fails() {
    let mut bytes = debian_base().gzip();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 64].fill(0xAB);
    let failure = scan(vec![layer(TAR_GZIP, bytes)]).unwrap_err();
    let ScanFailure::Failed(reason) = failure else {
        panic!("expected Failed, got {failure:?}");
    };
    assert!(
        reason.starts_with(&format!("layer 1 ({TAR_GZIP}) is not a valid tar: ")),
        "{reason}"
    );
}

#[test]
fn not_gzip_fails() {
    let failure = scan(vec![layer(TAR_GZIP, debian_base().tar())]).unwrap_err();
    assert!(
        failure
            .reason()
            .starts_with(&format!("layer 1 ({TAR_GZIP}) is not a valid tar: ")),
        "{failure}"
    );
}

#[test]
fn corrupt_tar_header_fails() {
    let mut bytes = debian_base().tar();
    // The second header's checksum no longer matches.
    bytes[512 + 10] ^= 0xFF;
    let failure = scan(vec![
        layer(TAR, LayerBuilder::new().file("a", "b").tar()),
        layer(TAR, bytes),
    ])
    .unwrap_err();
    assert!(
        failure
            .reason()
            .starts_with(&format!("layer 2 ({TAR}) is not a valid tar: ")),
        "{failure}"
    );
}

#[test]
fn truncated_tar_fails() {
    let bytes = debian_base().tar();
    // Cut inside the data of the last file, a 4 KiB binary.
    let truncated = bytes[..bytes.len() - 1024 - 2048].to_vec();
    let failure = scan(vec![layer(TAR, truncated)]).unwrap_err();
    assert!(failure.reason().contains("is not a valid tar"), "{failure}");
}

#[test]
fn random_bytes_do_not_panic() {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for length in [0usize, 1, 511, 512, 513, 1024, 4096] {
        let bytes: Vec<u8> = (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        for media_type in [TAR, TAR_GZIP] {
            // Any result is fine; the scan must return instead of panicking.
            let _ = scan(vec![layer(media_type, bytes.clone())]);
        }
    }
}

#[test]
fn zstd_layer_fails() {
    let media_type = "application/vnd.oci.image.layer.v1.tar+zstd";
    let failure = scan(vec![layer(media_type, Vec::new())]).unwrap_err();
    assert_eq!(
        failure,
        ScanFailure::Failed(format!(
            "layer 1 ({media_type}): zstd-compressed layers ({media_type}) are not supported; push the image with gzip or uncompressed layers"
        ))
    );
}

#[test]
fn unknown_media_type_fails() {
    let media_type = "application/vnd.example.layer";
    let failure = scan(vec![layer(media_type, Vec::new())]).unwrap_err();
    assert!(
        failure
            .reason()
            .contains("unsupported layer media type 'application/vnd.example.layer'"),
        "{failure}"
    );
}

#[test]
fn layer_error_is_returned() {
    let failure = scan(vec![
        layer(TAR, debian_base().tar()),
        Err(ScanFailure::Failed("layer 2: blob missing".into())),
    ])
    .unwrap_err();
    assert_eq!(failure, ScanFailure::Failed("layer 2: blob missing".into()));
}

#[test]
fn severity_order_and_names() {
    assert!(Severity::Critical > Severity::High);
    assert!(Severity::Informational > Severity::Undefined);
    assert_eq!(Severity::Informational.as_str(), "INFORMATIONAL");
    for severity in Severity::ALL {
        assert_eq!(Severity::parse(severity.as_str()), Some(severity));
        let json = serde_json::to_string(&severity).unwrap();
        assert_eq!(json, format!("\"{}\"", severity.as_str()));
    }
    assert_eq!(Severity::parse("high"), None);
}

#[test]
fn finding_json_shape() {
    let report = scan(vec![layer(TAR, alpine_base().tar())]).unwrap();
    let json = serde_json::to_value(&report.findings[0]).unwrap();
    assert_eq!(json["name"], "CVE-2023-42366");
    assert_eq!(json["severity"], "MEDIUM");
    assert_eq!(json["package_version"], "1.36.1-r15");
    assert_eq!(json["fixed_version"], "1.36.1-r16");
    let back: Finding = serde_json::from_value(json).unwrap();
    assert_eq!(back, report.findings[0]);
}
