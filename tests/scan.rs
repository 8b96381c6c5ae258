//! The scanning step's sample image and `ecrlab scan` on images written to disk in code: OCI
//! image layouts (a directory and a tar), a `docker save` archive, and broken variants of them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ecrlab_core::demo::SampleImage;
use mock_ecr::scan::{Advisories, Layer, Severity, scan_layers};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Scans the sample layer as the mock scans a pushed image.
fn scan_sample(advisories: &Advisories) -> mock_ecr::scan::ScanReport {
    let sample = SampleImage::build_scan_sample().expect("sample image");
    let layer = Layer::new(
        "application/vnd.oci.image.layer.v1.tar",
        sample.layer.as_slice(),
    );
    scan_layers([Ok(layer)], advisories).expect("the sample image scans")
}

#[test]
fn scan_image_has_expected_findings() {
    let report = scan_sample(Advisories::bundled());

    assert_eq!(report.os.id, "debian");
    assert_eq!(report.os.version, "12");
    let packages: Vec<(&str, &str)> = report
        .packages
        .iter()
        .map(|package| (package.name.as_str(), package.version.as_str()))
        .collect();
    assert_eq!(
        packages,
        [
            ("base-files", "12.4+deb12u5"),
            ("libc6", "2.36-9+deb12u4"),
            ("libssl3", "3.0.11-1~deb12u2"),
            ("zlib1g", "1:1.2.13.dfsg-1"),
        ]
    );
    let findings: Vec<(&str, Severity, &str, &str, Option<&str>)> = report
        .findings
        .iter()
        .map(|finding| {
            (
                finding.name.as_str(),
                finding.severity,
                finding.package_name.as_str(),
                finding.package_version.as_str(),
                finding.fixed_version.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            (
                "CVE-2026-28388",
                Severity::High,
                "libssl3",
                "3.0.11-1~deb12u2",
                Some("3.0.19-1~deb12u2")
            ),
            (
                "CVE-2026-4438",
                Severity::Low,
                "libc6",
                "2.36-9+deb12u4",
                Some("2.36-9+deb12u14")
            ),
        ]
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// One image to write into a layout: its layer, media type, config and platform.
struct FixtureImage {
    layer: Vec<u8>,
    layer_media_type: &'static str,
    config: Vec<u8>,
    platform: (&'static str, &'static str),
}

impl FixtureImage {
    fn from_sample(sample: SampleImage, architecture: &'static str) -> FixtureImage {
        FixtureImage {
            layer: sample.layer,
            layer_media_type: "application/vnd.oci.image.layer.v1.tar",
            config: sample.config,
            platform: ("linux", architecture),
        }
    }

    fn scan_sample() -> FixtureImage {
        FixtureImage::from_sample(SampleImage::build_scan_sample().unwrap(), "amd64")
    }

    fn manifest(&self) -> Vec<u8> {
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": format!("sha256:{}", sha256_hex(&self.config)),
                "size": self.config.len(),
            },
            "layers": [{
                "mediaType": self.layer_media_type,
                "digest": format!("sha256:{}", sha256_hex(&self.layer)),
                "size": self.layer.len(),
            }],
        });
        serde_json::to_vec(&manifest).unwrap()
    }
}

/// Writes an OCI image layout of `images` into `folder`, one index entry per image.
fn write_oci_layout(folder: &Path, images: &[FixtureImage]) {
    let blobs = folder.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let mut entries = Vec::new();
    for image in images {
        let manifest = image.manifest();
        for blob in [&image.layer, &image.config, &manifest] {
            std::fs::write(blobs.join(sha256_hex(blob)), blob).unwrap();
        }
        entries.push(json!({
            "mediaType": OCI_MANIFEST,
            "digest": format!("sha256:{}", sha256_hex(&manifest)),
            "size": manifest.len(),
            "platform": {"os": image.platform.0, "architecture": image.platform.1},
            "annotations": {"org.opencontainers.image.ref.name": "scan"},
        }));
    }
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
    std::fs::write(folder.join("index.json"), index.to_string()).unwrap();
    std::fs::write(
        folder.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
}

/// Writes a tar of every file under `folder` to `archive`, with paths relative to `folder`.
fn write_tar_of(folder: &Path, archive: &Path) {
    let mut builder = tar::Builder::new(std::fs::File::create(archive).unwrap());
    builder.append_dir_all(".", folder).unwrap();
    builder.finish().unwrap();
}

/// Writes a `docker save` archive of one image: `manifest.json`, the config and the layer.
fn write_docker_archive(archive: &Path, image: &FixtureImage) {
    let config_name = format!("{}.json", sha256_hex(&image.config));
    let layer_name = format!("{}/layer.tar", sha256_hex(&image.layer));
    let manifest = json!([{
        "Config": config_name,
        "RepoTags": ["my-app:scan"],
        "Layers": [layer_name],
    }]);
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let mut builder = tar::Builder::new(std::fs::File::create(archive).unwrap());
    for (name, bytes) in [
        ("manifest.json", manifest.as_slice()),
        (config_name.as_str(), image.config.as_slice()),
        (layer_name.as_str(), image.layer.as_slice()),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, bytes).unwrap();
    }
    builder.finish().unwrap();
}

/// A temporary folder for image fixtures.
struct Fixtures {
    folder: tempfile::TempDir,
}

impl Fixtures {
    fn new() -> Fixtures {
        Fixtures {
            folder: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.folder.path().join(name)
    }

    fn oci_layout(&self, images: &[FixtureImage]) -> PathBuf {
        let folder = self.path("layout");
        write_oci_layout(&folder, images);
        folder
    }

    /// Runs `ecrlab scan` with `arguments` and returns its output with this fixture folder's
    /// path replaced by `<fixtures>`.
    fn scan(&self, arguments: &[&str]) -> Scanned {
        let output = Command::new(env!("CARGO_BIN_EXE_ecrlab"))
            .arg("scan")
            .args(arguments)
            .env("NO_COLOR", "1")
            .output()
            .expect("run ecrlab scan");
        Scanned::new(output, self.folder.path())
    }
}

struct Scanned {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Scanned {
    fn new(output: Output, folder: &Path) -> Scanned {
        let folder = folder.display().to_string();
        let text = |bytes: Vec<u8>| {
            String::from_utf8(bytes)
                .expect("UTF-8 output")
                .replace(&folder, "<fixtures>")
        };
        Scanned {
            code: output.status.code(),
            stdout: text(output.stdout),
            stderr: text(output.stderr),
        }
    }
}

fn text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary path")
}

#[test]
fn scan_oci_layout_text() {
    let fixtures = Fixtures::new();
    let layout = fixtures.oci_layout(&[FixtureImage::scan_sample()]);

    let scanned = fixtures.scan(&[text(&layout)]);

    assert_eq!(scanned.code, Some(0), "stderr: {}", scanned.stderr);
    assert_eq!(scanned.stderr, "");
    insta::assert_snapshot!("scan_oci_layout_text", scanned.stdout);
}

#[test]
fn scan_docker_archive_and_oci_tar_agree() {
    let fixtures = Fixtures::new();
    let layout = fixtures.oci_layout(&[FixtureImage::scan_sample()]);
    let oci_tar = fixtures.path("scan-oci.tar");
    write_tar_of(&layout, &oci_tar);
    let docker_tar = fixtures.path("scan-docker.tar");
    write_docker_archive(&docker_tar, &FixtureImage::scan_sample());

    let from_layout = fixtures.scan(&[text(&layout)]);
    let from_oci_tar = fixtures.scan(&[text(&oci_tar)]);
    let from_docker = fixtures.scan(&[text(&docker_tar)]);

    assert_eq!(from_oci_tar.code, Some(0), "{}", from_oci_tar.stderr);
    assert_eq!(from_docker.code, Some(0), "{}", from_docker.stderr);
    let after_first_line = |output: &str| output.split_once('\n').unwrap().1.to_owned();
    assert_eq!(
        after_first_line(&from_oci_tar.stdout),
        after_first_line(&from_layout.stdout)
    );
    assert_eq!(
        after_first_line(&from_docker.stdout),
        after_first_line(&from_layout.stdout)
    );
    assert!(
        from_oci_tar
            .stdout
            .starts_with("Image: <fixtures>/scan-oci.tar (OCI archive, linux/amd64)\n"),
        "{}",
        from_oci_tar.stdout
    );
    assert!(
        from_docker
            .stdout
            .starts_with("Image: <fixtures>/scan-docker.tar (docker archive"),
        "{}",
        from_docker.stdout
    );
}

#[test]
fn scan_json_has_ecr_findings_shape() {
    let fixtures = Fixtures::new();
    let layout = fixtures.oci_layout(&[FixtureImage::scan_sample()]);

    let scanned = fixtures.scan(&[text(&layout), "--format", "json"]);

    assert_eq!(scanned.code, Some(0), "stderr: {}", scanned.stderr);
    let mut findings: Value = serde_json::from_str(&scanned.stdout).expect("JSON output");
    let completed = findings["imageScanCompletedAt"]
        .as_str()
        .expect("imageScanCompletedAt")
        .to_owned();
    assert!(completed.ends_with("+00:00"), "{completed}");
    findings["imageScanCompletedAt"] = json!("<now>");
    // serde_json keeps insertion order when another package of the build turns on its
    // `preserve_order` feature, as a workspace build does, so the snapshot sorts the keys.
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("scan_json", findings);
    });
}

#[test]
fn fail_on_sets_exit_status() {
    let fixtures = Fixtures::new();
    let layout = fixtures.oci_layout(&[FixtureImage::scan_sample()]);

    let high = fixtures.scan(&[text(&layout), "--fail-on", "high"]);
    assert_eq!(high.code, Some(1));
    assert_eq!(
        high.stderr,
        "ecrlab: 1 findings of severity HIGH or above (--fail-on HIGH)\n"
    );
    assert!(high.stdout.contains("CVE-2026-28388"), "{}", high.stdout);

    let low = fixtures.scan(&[text(&layout), "--fail-on", "LOW"]);
    assert_eq!(low.code, Some(1));
    assert!(low.stderr.contains("2 findings of severity LOW or above"));

    let critical = fixtures.scan(&[text(&layout), "--fail-on", "CRITICAL"]);
    assert_eq!(critical.code, Some(0), "{}", critical.stderr);
    assert_eq!(critical.stderr, "");

    let invalid = fixtures.scan(&[text(&layout), "--fail-on", "severe"]);
    assert_eq!(invalid.code, Some(2));
    assert!(
        invalid.stderr.contains(
            "invalid severity \"severe\"; use one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED"
        ),
        "{}",
        invalid.stderr
    );
}

#[test]
fn platform_picks_image_from_index() {
    let fixtures = Fixtures::new();
    let hello = FixtureImage::from_sample(SampleImage::build().unwrap(), "arm64");
    let layout = fixtures.oci_layout(&[FixtureImage::scan_sample(), hello]);

    let default = fixtures.scan(&[text(&layout)]);
    assert_eq!(default.code, Some(0), "{}", default.stderr);
    assert!(default.stdout.contains("linux/amd64"), "{}", default.stdout);

    let arm = fixtures.scan(&[text(&layout), "--platform", "linux/arm64"]);
    assert_eq!(arm.code, Some(3));
    assert!(
        arm.stderr
            .starts_with("ecrlab: error: scan status UNSUPPORTED_IMAGE for <fixtures>/layout: "),
        "{}",
        arm.stderr
    );
    assert_eq!(arm.stdout, "");

    let missing = fixtures.scan(&[text(&layout), "--platform", "linux/s390x"]);
    assert_eq!(missing.code, Some(3));
    assert!(missing.stderr.contains("linux/s390x"), "{}", missing.stderr);

    for malformed in ["bogus", "linux/", "linux/arm64/v8/extra"] {
        let rejected = fixtures.scan(&[text(&layout), "--platform", malformed]);
        assert_eq!(rejected.code, Some(2), "--platform {malformed}");
        assert!(
            rejected.stderr.contains("os/architecture[/variant]"),
            "--platform {malformed}: {}",
            rejected.stderr
        );
    }
}

#[test]
fn own_advisory_file_replaces_bundled_data() {
    let fixtures = Fixtures::new();
    let layout = fixtures.oci_layout(&[FixtureImage::scan_sample()]);
    let advisories = fixtures.path("advisories.toml");
    std::fs::write(
        &advisories,
        r#"description = "One made-up entry for a test."
updated = 2026-01-02

[[advisory]]
id = "CVE-2099-0001"
package = "zlib"
distribution = "debian:12"
fixed_version = "1:1.3.dfsg-1"
severity = "CRITICAL"
description = "A made-up vulnerability for a test."
uri = "https://security-tracker.debian.org/tracker/CVE-2099-0001"
"#,
    )
    .unwrap();

    let scanned = fixtures.scan(&[
        text(&layout),
        "--advisories",
        text(&advisories),
        "--format",
        "json",
    ]);

    assert_eq!(scanned.code, Some(0), "{}", scanned.stderr);
    let findings: Value = serde_json::from_str(&scanned.stdout).unwrap();
    assert_eq!(findings["findingSeverityCounts"], json!({"CRITICAL": 1}));
    assert_eq!(findings["findings"][0]["name"], "CVE-2099-0001");
    assert_eq!(
        findings["findings"][0]["attributes"][1],
        json!({"key": "package_name", "value": "zlib1g"})
    );
    assert_eq!(
        findings["vulnerabilitySourceUpdatedAt"],
        "2026-01-02T00:00:00+00:00"
    );

    std::fs::write(&advisories, "description = \"no date\"\n").unwrap();
    let invalid = fixtures.scan(&[text(&layout), "--advisories", text(&advisories)]);
    assert_eq!(invalid.code, Some(3));
    assert!(
        invalid
            .stderr
            .starts_with("ecrlab: error: the advisory file <fixtures>/advisories.toml"),
        "{}",
        invalid.stderr
    );
}

#[test]
fn unreadable_sources_exit_with_three() {
    let fixtures = Fixtures::new();
    let not_an_image = fixtures.path("empty-folder");
    std::fs::create_dir_all(&not_an_image).unwrap();
    let text_file = fixtures.path("notes.txt");
    std::fs::write(&text_file, "not an image").unwrap();

    let cases = [
        (
            fixtures.path("missing.tar"),
            "ecrlab: error: cannot read <fixtures>/missing.tar",
        ),
        (
            not_an_image,
            "ecrlab: error: <fixtures>/empty-folder is not an image the scanner reads",
        ),
        (text_file, "ecrlab: error: <fixtures>/notes.txt"),
    ];
    for (path, expected) in cases {
        let scanned = fixtures.scan(&[text(&path)]);
        assert_eq!(
            scanned.code,
            Some(3),
            "{}: {}",
            path.display(),
            scanned.stderr
        );
        assert!(
            scanned.stderr.starts_with(expected),
            "{}: {}",
            path.display(),
            scanned.stderr
        );
        assert_eq!(scanned.stdout, "");
    }
}

#[test]
fn digest_mismatch_is_reported() {
    let fixtures = Fixtures::new();
    let image = FixtureImage::scan_sample();
    let layer_hex = sha256_hex(&image.layer);
    let layout = fixtures.oci_layout(&[image]);
    let layer_path = layout.join("blobs/sha256").join(&layer_hex);
    let mut layer = std::fs::read(&layer_path).unwrap();
    layer[600] ^= 0x20;
    std::fs::write(&layer_path, layer).unwrap();

    let scanned = fixtures.scan(&[text(&layout)]);

    assert_eq!(scanned.code, Some(3));
    assert!(
        scanned
            .stderr
            .contains(&format!("but sha256:{layer_hex} was expected")),
        "{}",
        scanned.stderr
    );
    assert!(
        scanned.stderr.contains("export it again"),
        "{}",
        scanned.stderr
    );
}

#[test]
fn failed_scan_names_media_type() {
    let fixtures = Fixtures::new();
    let mut image = FixtureImage::scan_sample();
    image.layer_media_type = "application/vnd.oci.image.layer.v1.tar+zstd";
    let layout = fixtures.oci_layout(&[image]);

    let scanned = fixtures.scan(&[text(&layout)]);

    assert_eq!(scanned.code, Some(3));
    assert!(
        scanned
            .stderr
            .starts_with("ecrlab: error: scan status FAILED for <fixtures>/layout: "),
        "{}",
        scanned.stderr
    );
    assert!(scanned.stderr.contains("+zstd"), "{}", scanned.stderr);
}

#[test]
fn hello_image_is_unsupported() {
    let fixtures = Fixtures::new();
    let hello = FixtureImage::from_sample(SampleImage::build().unwrap(), "amd64");
    let layout = fixtures.oci_layout(&[hello]);

    let scanned = fixtures.scan(&[text(&layout), "--fail-on", "LOW"]);

    assert_eq!(scanned.code, Some(3));
    assert!(
        scanned.stderr.contains("UNSUPPORTED_IMAGE"),
        "{}",
        scanned.stderr
    );
    assert!(
        scanned
            .stderr
            .contains("reads the dpkg and apk package databases"),
        "{}",
        scanned.stderr
    );
}

#[test]
fn unknown_release_says_nothing_matches() {
    let fixtures = Fixtures::new();
    // A dpkg database with no os-release or debian_version: the scanner assumes Debian but
    // cannot tell the release.
    let mut archive = tar::Builder::new(Vec::new());
    let status = b"Package: libssl3\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(status.len() as u64);
    header.set_mode(0o644);
    archive
        .append_data(&mut header, "var/lib/dpkg/status", &status[..])
        .unwrap();
    let mut image = FixtureImage::scan_sample();
    image.layer = archive.into_inner().unwrap();
    let layout = fixtures.oci_layout(&[image]);

    let scanned = fixtures.scan(&[text(&layout)]);
    assert_eq!(scanned.code, Some(0), "{}", scanned.stderr);
    assert!(
        scanned
            .stdout
            .contains("OS: debian, no release, so no advisory can match\n"),
        "{}",
        scanned.stdout
    );
}
