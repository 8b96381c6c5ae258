//! Basic image scanning through the ECR API: scan on push, StartImageScan and its daily quota,
//! DescribeImageScanFindings with its pages, DescribeImages' scan fields, and the registry and
//! repository scanning configurations. The images are real layers with a dpkg database,
//! matched against advisory data written for these tests.

mod common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::{Reply, TestMock, sha256};
use mock_ecr::scan::Advisories;
use serde_json::{Value, json};

/// Advisory data for these tests. The identifiers follow the CVE format, but the entries are
/// made up, so the findings do not change when the bundled data does.
const ADVISORIES: &str = r#"
description = "Test advisories for image_scans.rs"
updated = 2026-11-30

[[advisory]]
id = "CVE-2099-1001"
package = "openssl"
distribution = "debian:12"
fixed_version = "3.0.11-1~deb12u2"
severity = "HIGH"
cvss_score = "7.5"
cvss_vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
cvss_version = 3
description = "A test flaw in openssl."
uri = "https://security-tracker.debian.org/tracker/CVE-2099-1001"
source = ["image_scans.rs"]

[[advisory]]
id = "CVE-2099-1002"
package = "zlib"
distribution = "debian:12"
fixed_version = "1:1.2.13.dfsg-1+deb12u1"
severity = "CRITICAL"
cvss_score = "9.8"
cvss_vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
cvss_version = 3
description = "A test flaw in zlib."
uri = "https://security-tracker.debian.org/tracker/CVE-2099-1002"
source = ["image_scans.rs"]

[[advisory]]
id = "CVE-2099-1003"
package = "bash"
distribution = "debian:12"
fixed_version = "5.2.15-2"
severity = "MEDIUM"
description = "A test flaw in bash, fixed in the installed version."
uri = "https://security-tracker.debian.org/tracker/CVE-2099-1003"
source = ["image_scans.rs"]

[[advisory]]
id = "CVE-2099-1004"
package = "glibc"
distribution = "debian:12"
severity = "LOW"
cvss_score = "5.0"
cvss_vector = "AV:N/AC:L/Au:N/C:N/I:N/A:P"
cvss_version = 2
description = "A test flaw in glibc without a fix."
uri = "https://security-tracker.debian.org/tracker/CVE-2099-1004"
source = ["image_scans.rs"]
"#;

const DPKG_STATUS: &str = "\
Package: libssl3
Status: install ok installed
Source: openssl
Version: 3.0.11-1~deb12u1
Architecture: amd64

Package: zlib1g
Status: install ok installed
Source: zlib
Version: 1:1.2.13.dfsg-1
Architecture: amd64

Package: bash
Status: install ok installed
Version: 5.2.15-2+b2
Architecture: amd64

Package: libc6
Status: install ok installed
Source: glibc
Version: 2.36-9+deb12u3
Architecture: amd64
";

const OS_RELEASE: &str =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";

/// Starts a registry with the test advisories and a running scan worker.
fn scanning_mock() -> TestMock {
    let advisories = Advisories::parse(ADVISORIES, "image_scans.rs").expect("test advisories");
    let mock = TestMock::configured(|registry| registry.with_advisories(Arc::new(advisories)));
    tokio::spawn(mock.registry.clone().run_scans(std::future::pending()));
    mock
}

/// Returns a gzip-compressed tar layer with the given files.
fn layer(files: &[(&str, &str)]) -> Vec<u8> {
    let mut archive = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        archive
            .append_data(&mut header, path, content.as_bytes())
            .expect("tar entry");
    }
    let tar = archive.into_inner().expect("tar");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&tar).expect("gzip");
    gzip.finish().expect("gzip")
}

fn debian_layer() -> Vec<u8> {
    layer(&[
        ("etc/os-release", OS_RELEASE),
        ("var/lib/dpkg/status", DPKG_STATUS),
    ])
}

/// Pushes an image with one gzip layer and returns its digest.
async fn push_image(mock: &TestMock, repository: &str, tag: &str, layer: &[u8]) -> String {
    let auth = mock.login().await;
    let config = format!(r#"{{"architecture":"amd64","os":"linux","tag":"{tag}"}}"#);
    let config_digest = mock.push_blob(&auth, repository, config.as_bytes()).await;
    let layer_digest = mock.push_blob(&auth, repository, layer).await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": layer_digest,
            "size": layer.len(),
        }],
    })
    .to_string()
    .into_bytes();
    let reply = mock.put_manifest(&auth, repository, tag, &manifest).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
    sha256(&manifest)
}

async fn create_repository(mock: &TestMock, name: &str, scan_on_push: bool) {
    let reply = mock
        .api(
            "CreateRepository",
            json!({
                "repositoryName": name,
                "imageScanningConfiguration": { "scanOnPush": scan_on_push },
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

fn error_type(reply: &Reply) -> String {
    reply.json()["__type"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn findings(mock: &TestMock, repository: &str, tag: &str) -> Reply {
    mock.api(
        "DescribeImageScanFindings",
        json!({ "repositoryName": repository, "imageId": { "imageTag": tag } }),
    )
    .await
}

/// Polls DescribeImageScanFindings until the scan leaves IN_PROGRESS, and returns the output.
async fn wait_for_scan(mock: &TestMock, repository: &str, tag: &str) -> Value {
    for _ in 0..200 {
        let reply = findings(mock, repository, tag).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
        let output = reply.json();
        if output["imageScanStatus"]["status"] != "IN_PROGRESS" {
            return output;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the scan of {repository}:{tag} did not finish within 5 seconds");
}

fn attribute<'a>(finding: &'a Value, key: &str) -> Option<&'a str> {
    finding["attributes"]
        .as_array()?
        .iter()
        .find(|attribute| attribute["key"] == key)?["value"]
        .as_str()
}

#[tokio::test]
async fn scan_on_push_reports_findings() {
    let mock = scanning_mock();
    create_repository(&mock, "web", true).await;
    let digest = push_image(&mock, "web", "v1", &debian_layer()).await;

    let output = wait_for_scan(&mock, "web", "v1").await;
    assert_eq!(output["imageScanStatus"]["status"], "COMPLETE");
    assert_eq!(
        output["imageScanStatus"]["description"],
        "The scan was completed successfully."
    );
    assert_eq!(output["imageId"]["imageDigest"], digest.as_str());
    assert_eq!(output["imageId"]["imageTag"], "v1");
    assert_eq!(output["registryId"], "123456789012");
    let scan = &output["imageScanFindings"];
    assert_eq!(
        scan["findingSeverityCounts"],
        json!({ "CRITICAL": 1, "HIGH": 1, "LOW": 1 })
    );
    // The fixed clock reads 2026-12-04 12:00 UTC, and the data file's `updated` is a date.
    assert_eq!(scan["imageScanCompletedAt"], json!(1_796_385_600.0));
    assert_eq!(scan["vulnerabilitySourceUpdatedAt"], json!(1_795_996_800.0));

    let names: Vec<&str> = scan["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["CVE-2099-1002", "CVE-2099-1001", "CVE-2099-1004"]);

    let zlib = &scan["findings"][0];
    assert_eq!(zlib["severity"], "CRITICAL");
    assert_eq!(
        zlib["uri"],
        "https://security-tracker.debian.org/tracker/CVE-2099-1002"
    );
    assert_eq!(zlib["description"], "A test flaw in zlib.");
    assert_eq!(attribute(zlib, "package_name"), Some("zlib1g"));
    assert_eq!(attribute(zlib, "package_version"), Some("1:1.2.13.dfsg-1"));
    assert_eq!(attribute(zlib, "CVSS3_SCORE"), Some("9.8"));
    assert_eq!(
        attribute(zlib, "CVSS3_VECTOR"),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );
    let glibc = &scan["findings"][2];
    assert_eq!(attribute(glibc, "package_name"), Some("libc6"));
    assert_eq!(attribute(glibc, "CVSS2_SCORE"), Some("5.0"));
    assert_eq!(attribute(glibc, "CVSS3_SCORE"), None);

    let described = mock
        .api("DescribeImages", json!({ "repositoryName": "web" }))
        .await
        .json();
    let detail = &described["imageDetails"][0];
    assert_eq!(detail["imageScanStatus"]["status"], "COMPLETE");
    assert_eq!(
        detail["imageScanFindingsSummary"]["findingSeverityCounts"],
        json!({ "CRITICAL": 1, "HIGH": 1, "LOW": 1 })
    );
    assert_eq!(
        detail["imageScanFindingsSummary"]["imageScanCompletedAt"],
        json!(1_796_385_600.0)
    );

    let journal = mock.journal().await;
    let scanner: Vec<(&str, &str)> = journal
        .iter()
        .filter(|event| event["source"] == "scanner")
        .map(|event| {
            (
                event["action"].as_str().unwrap_or_default(),
                event["digest"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        scanner,
        [
            ("ImageScanStarted", digest.as_str()),
            ("ImageScanCompleted", digest.as_str())
        ]
    );
    let read = journal
        .iter()
        .find(|event| event["action"] == "DescribeImageScanFindings")
        .expect("DescribeImageScanFindings is journaled");
    assert_eq!(read["digest"], digest.as_str());
    assert_eq!(read["repository"], "web");
}

#[tokio::test]
async fn findings_before_any_scan_not_found() {
    let mock = scanning_mock();
    create_repository(&mock, "plain", false).await;
    push_image(&mock, "plain", "v1", &debian_layer()).await;

    let reply = findings(&mock, "plain", "v1").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&reply), "ScanNotFoundException");
    let message = reply.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("imageTag=v1"), "{message}");
    assert!(message.contains("StartImageScan"), "{message}");

    let described = mock
        .api("DescribeImages", json!({ "repositoryName": "plain" }))
        .await
        .json();
    let detail = &described["imageDetails"][0];
    assert!(detail.get("imageScanStatus").is_none(), "{detail}");
    assert!(detail.get("imageScanFindingsSummary").is_none(), "{detail}");

    let reply = findings(&mock, "plain", "v2").await;
    assert_eq!(error_type(&reply), "ImageNotFoundException");
    let reply = findings(&mock, "missing", "v1").await;
    assert_eq!(error_type(&reply), "RepositoryNotFoundException");
    let reply = mock
        .api(
            "DescribeImageScanFindings",
            json!({ "repositoryName": "plain", "imageId": {} }),
        )
        .await;
    assert_eq!(error_type(&reply), "InvalidParameterException");
}

#[tokio::test]
async fn start_image_scan_once_a_day() {
    let mock = scanning_mock();
    create_repository(&mock, "manual", false).await;
    let digest = push_image(&mock, "manual", "v1", &debian_layer()).await;
    let start = json!({ "repositoryName": "manual", "imageId": { "imageDigest": digest } });

    let reply = mock.api("StartImageScan", start.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let output = reply.json();
    assert_eq!(output["imageScanStatus"]["status"], "IN_PROGRESS");
    assert_eq!(output["imageId"]["imageDigest"], digest.as_str());
    assert_eq!(output["repositoryName"], "manual");
    let output = wait_for_scan(&mock, "manual", "v1").await;
    assert_eq!(output["imageScanStatus"]["status"], "COMPLETE");

    let reply = mock.api("StartImageScan", start.clone()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&reply), "LimitExceededException");
    let message = reply.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("2026-12-05T12:00:00"), "{message}");

    mock.clock.advance(time::Duration::hours(23));
    let reply = mock.api("StartImageScan", start.clone()).await;
    assert_eq!(
        error_type(&reply),
        "LimitExceededException",
        "after 23 hours"
    );

    mock.clock.advance(time::Duration::hours(1));
    let reply = mock.api("StartImageScan", start).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "after 24 hours: {}",
        text(&reply)
    );
    let output = wait_for_scan(&mock, "manual", "v1").await;
    assert_eq!(
        output["imageScanFindings"]["imageScanCompletedAt"],
        json!(1_796_472_000.0),
        "the second scan completed a day later"
    );
}

#[tokio::test]
async fn scan_on_push_counts_toward_quota() {
    let mock = scanning_mock();
    create_repository(&mock, "pushed", true).await;
    push_image(&mock, "pushed", "v1", &debian_layer()).await;
    wait_for_scan(&mock, "pushed", "v1").await;

    let reply = mock
        .api(
            "StartImageScan",
            json!({ "repositoryName": "pushed", "imageId": { "imageTag": "v1" } }),
        )
        .await;
    assert_eq!(error_type(&reply), "LimitExceededException");

    let reply = mock
        .api(
            "StartImageScan",
            json!({ "repositoryName": "pushed", "imageId": { "imageTag": "v9" } }),
        )
        .await;
    assert_eq!(error_type(&reply), "ImageNotFoundException");
}

#[tokio::test]
async fn image_without_package_database_unsupported() {
    let mock = scanning_mock();
    create_repository(&mock, "static", true).await;
    let binary = layer(&[("app/server", "#!/bin/false\n")]);
    push_image(&mock, "static", "v1", &binary).await;

    let output = wait_for_scan(&mock, "static", "v1").await;
    assert_eq!(output["imageScanStatus"]["status"], "UNSUPPORTED_IMAGE");
    let description = output["imageScanStatus"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.starts_with(
            "UnsupportedImageError: The operating system and/or package manager are not supported."
        ),
        "{description}"
    );
    assert!(description.contains("var/lib/dpkg/status"), "{description}");
    assert!(output.get("imageScanFindings").is_none(), "{output}");

    let described = mock
        .api("DescribeImages", json!({ "repositoryName": "static" }))
        .await
        .json();
    let detail = &described["imageDetails"][0];
    assert_eq!(detail["imageScanStatus"]["status"], "UNSUPPORTED_IMAGE");
    assert!(detail.get("imageScanFindingsSummary").is_none(), "{detail}");

    let journal = mock.journal().await;
    let completed = journal
        .iter()
        .find(|event| event["action"] == "ImageScanCompleted")
        .expect("completion journaled");
    assert_eq!(completed["outcome"], "error");
    assert_eq!(completed["errorCode"], "UNSUPPORTED_IMAGE");
}

#[tokio::test]
async fn corrupt_layer_fails_scan() {
    let mock = scanning_mock();
    create_repository(&mock, "broken", true).await;
    push_image(&mock, "broken", "v1", b"not a gzip stream").await;

    let output = wait_for_scan(&mock, "broken", "v1").await;
    assert_eq!(output["imageScanStatus"]["status"], "FAILED");
    let description = output["imageScanStatus"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(description.starts_with("ScanFailed: "), "{description}");
    assert!(description.contains("layer 1"), "{description}");
}

#[tokio::test]
async fn index_cannot_be_scanned() {
    let mock = scanning_mock();
    create_repository(&mock, "multi", false).await;
    let digest = push_image(&mock, "multi", "amd64", &debian_layer()).await;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": 100,
            "platform": { "os": "linux", "architecture": "amd64" },
        }],
    })
    .to_string();
    let auth = mock.login().await;
    let reply = mock
        .registry(
            axum::http::Method::PUT,
            "/v2/multi/manifests/latest",
            Some(&auth),
            &[("content-type", "application/vnd.oci.image.index.v1+json")],
            index.into_bytes(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));

    let reply = mock
        .api(
            "StartImageScan",
            json!({ "repositoryName": "multi", "imageId": { "imageTag": "latest" } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_type(&reply), "UnsupportedImageTypeException");
    let message = reply.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("image index"), "{message}");
}

#[tokio::test]
async fn findings_come_in_pages() {
    let mock = scanning_mock();
    create_repository(&mock, "paged", true).await;
    push_image(&mock, "paged", "v1", &debian_layer()).await;
    wait_for_scan(&mock, "paged", "v1").await;

    let mut names = Vec::new();
    let mut token: Option<String> = None;
    for page in 1..=3 {
        let mut input = json!({
            "repositoryName": "paged",
            "imageId": { "imageTag": "v1" },
            "maxResults": 1,
        });
        if let Some(token) = &token {
            input["nextToken"] = json!(token);
        }
        let reply = mock.api("DescribeImageScanFindings", input).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "page {page}: {}",
            text(&reply)
        );
        let output = reply.json();
        let scan = &output["imageScanFindings"];
        assert_eq!(
            scan["findingSeverityCounts"],
            json!({ "CRITICAL": 1, "HIGH": 1, "LOW": 1 }),
            "page {page} counts every finding"
        );
        let findings = scan["findings"].as_array().expect("findings");
        assert_eq!(findings.len(), 1, "page {page}");
        names.push(findings[0]["name"].as_str().unwrap_or_default().to_owned());
        token = output["nextToken"].as_str().map(str::to_owned);
        assert_eq!(token.is_some(), page < 3, "page {page} nextToken");
    }
    assert_eq!(names, ["CVE-2099-1002", "CVE-2099-1001", "CVE-2099-1004"]);

    let reply = mock
        .api(
            "DescribeImageScanFindings",
            json!({ "repositoryName": "paged", "imageId": { "imageTag": "v1" }, "maxResults": 0 }),
        )
        .await;
    assert_eq!(error_type(&reply), "InvalidParameterException");
    let reply = mock
        .api(
            "DescribeImageScanFindings",
            json!({ "repositoryName": "paged", "imageId": { "imageTag": "v1" }, "nextToken": "forged" }),
        )
        .await;
    assert_eq!(error_type(&reply), "InvalidParameterException");
}

#[tokio::test]
async fn registry_rules_scan_matching_repositories() {
    let mock = scanning_mock();
    create_repository(&mock, "web-app", false).await;
    create_repository(&mock, "batch", false).await;
    create_repository(&mock, "legacy", true).await;

    let reply = mock
        .api("GetRegistryScanningConfiguration", json!({}))
        .await;
    assert_eq!(
        reply.json(),
        json!({
            "registryId": "123456789012",
            "scanningConfiguration": { "scanType": "BASIC", "rules": [] },
        })
    );

    let configuration = json!({
        "scanType": "BASIC",
        "rules": [{
            "scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{ "filter": "web-*", "filterType": "WILDCARD" }],
        }],
    });
    let reply = mock
        .api("PutRegistryScanningConfiguration", configuration.clone())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(
        reply.json(),
        json!({ "registryScanningConfiguration": configuration })
    );
    let reply = mock
        .api("GetRegistryScanningConfiguration", json!({}))
        .await;
    assert_eq!(reply.json()["scanningConfiguration"], configuration);

    let reply = mock
        .api(
            "BatchGetRepositoryScanningConfiguration",
            json!({ "repositoryNames": ["web-app", "batch", "legacy", "missing"] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let output = reply.json();
    assert_eq!(
        output["scanningConfigurations"],
        json!([
            {
                "repositoryArn": "arn:aws:ecr:us-east-1:123456789012:repository/web-app",
                "repositoryName": "web-app",
                "scanOnPush": true,
                "scanFrequency": "SCAN_ON_PUSH",
                "appliedScanFilters": [{ "filter": "web-*", "filterType": "WILDCARD" }],
            },
            {
                "repositoryArn": "arn:aws:ecr:us-east-1:123456789012:repository/batch",
                "repositoryName": "batch",
                "scanOnPush": false,
                "scanFrequency": "MANUAL",
                "appliedScanFilters": [],
            },
            {
                "repositoryArn": "arn:aws:ecr:us-east-1:123456789012:repository/legacy",
                "repositoryName": "legacy",
                "scanOnPush": true,
                "scanFrequency": "SCAN_ON_PUSH",
                "appliedScanFilters": [],
            },
        ])
    );
    assert_eq!(output["failures"][0]["repositoryName"], "missing");
    assert_eq!(output["failures"][0]["failureCode"], "REPOSITORY_NOT_FOUND");

    push_image(&mock, "web-app", "v1", &debian_layer()).await;
    let output = wait_for_scan(&mock, "web-app", "v1").await;
    assert_eq!(output["imageScanStatus"]["status"], "COMPLETE");
    push_image(&mock, "batch", "v1", &debian_layer()).await;
    let reply = findings(&mock, "batch", "v1").await;
    assert_eq!(error_type(&reply), "ScanNotFoundException");
}

#[tokio::test]
async fn scanning_configuration_checks_values() {
    let mock = scanning_mock();
    let rule = |frequency: &str, filter: &str, filter_type: &str| {
        json!({
            "scanFrequency": frequency,
            "repositoryFilters": [{ "filter": filter, "filterType": filter_type }],
        })
    };
    let cases = [
        (
            json!({ "scanType": "ENHANCED", "rules": [] }),
            "ValidationException",
            "Amazon Inspector",
        ),
        (
            json!({ "scanType": "FULL" }),
            "InvalidParameterException",
            "scanType",
        ),
        (
            json!({ "rules": [rule("CONTINUOUS_SCAN", "*", "WILDCARD")] }),
            "InvalidParameterException",
            "needs scanType ENHANCED",
        ),
        (
            json!({ "rules": [rule("DAILY", "*", "WILDCARD")] }),
            "InvalidParameterException",
            "scanFrequency",
        ),
        (
            json!({ "rules": [rule("SCAN_ON_PUSH", "Web App", "WILDCARD")] }),
            "InvalidParameterException",
            "'Web App'",
        ),
        (
            json!({ "rules": [rule("SCAN_ON_PUSH", "web", "PREFIX")] }),
            "InvalidParameterException",
            "filterType",
        ),
        (
            json!({ "rules": [
                rule("SCAN_ON_PUSH", "a", "WILDCARD"),
                rule("SCAN_ON_PUSH", "b", "WILDCARD"),
                rule("MANUAL", "c", "WILDCARD"),
            ] }),
            "InvalidParameterException",
            "got 3 rules",
        ),
    ];
    for (input, expected, fragment) in cases {
        let reply = mock
            .api("PutRegistryScanningConfiguration", input.clone())
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{input}");
        assert_eq!(error_type(&reply), expected, "{input}");
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(fragment), "{input}: {message}");
    }
    let reply = mock
        .api("GetRegistryScanningConfiguration", json!({}))
        .await;
    assert_eq!(
        reply.json()["scanningConfiguration"]["rules"],
        json!([]),
        "rejected configurations leave the stored one"
    );

    let reply = mock
        .api(
            "BatchGetRepositoryScanningConfiguration",
            json!({ "repositoryNames": [] }),
        )
        .await;
    assert_eq!(error_type(&reply), "InvalidParameterException");
}

#[tokio::test]
async fn interrupted_scan_resumes_after_restart() {
    let advisories = Advisories::parse(ADVISORIES, "image_scans.rs").expect("test advisories");
    let advisories = Arc::new(advisories);
    let first = TestMock::configured(|registry| registry.with_advisories(advisories.clone()));
    create_repository(&first, "resumed", true).await;
    push_image(&first, "resumed", "v1", &debian_layer()).await;
    // No scan worker runs, as after a stop in the middle of a scan.
    let output = findings(&first, "resumed", "v1").await.json();
    assert_eq!(output["imageScanStatus"]["status"], "IN_PROGRESS");
    first.registry.flush_journal();
    let data = first.data;
    drop(first.registry);

    let second = TestMock::in_folder_with(data, |registry| {
        registry.with_advisories(advisories.clone())
    });
    tokio::spawn(second.registry.clone().run_scans(std::future::pending()));
    let output = wait_for_scan(&second, "resumed", "v1").await;
    assert_eq!(output["imageScanStatus"]["status"], "COMPLETE");
    assert_eq!(
        output["imageScanFindings"]["findingSeverityCounts"]["CRITICAL"],
        1
    );
}

#[tokio::test]
async fn deleted_image_loses_scan() {
    let mock = scanning_mock();
    create_repository(&mock, "cycle", true).await;
    let digest = push_image(&mock, "cycle", "v1", &debian_layer()).await;
    wait_for_scan(&mock, "cycle", "v1").await;

    let reply = mock
        .api(
            "BatchDeleteImage",
            json!({ "repositoryName": "cycle", "imageIds": [{ "imageDigest": digest }] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));

    let again = push_image(&mock, "cycle", "v1", &debian_layer()).await;
    assert_eq!(again, digest, "the same image pushed again");
    let output = wait_for_scan(&mock, "cycle", "v1").await;
    assert_eq!(
        output["imageScanStatus"]["status"], "COMPLETE",
        "a pushed image is scanned again after a delete"
    );
}

#[tokio::test]
async fn scan_warnings_reach_description() {
    let mock = scanning_mock();
    create_repository(&mock, "guessed", true).await;
    // A dpkg database without os-release or debian_version: the release is unknown, so no
    // advisory can match, and the description reports that instead of looking clean.
    let layer = layer(&[("var/lib/dpkg/status", DPKG_STATUS)]);
    push_image(&mock, "guessed", "v1", &layer).await;

    let output = wait_for_scan(&mock, "guessed", "v1").await;
    assert_eq!(output["imageScanStatus"]["status"], "COMPLETE");
    let description = output["imageScanStatus"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.starts_with("The scan was completed successfully. Warnings: "),
        "{description}"
    );
    assert_eq!(
        output["imageScanFindings"]["findingSeverityCounts"],
        json!({})
    );
}

#[tokio::test]
async fn scan_start_follows_push_in_journal() {
    let mock = scanning_mock();
    create_repository(&mock, "ordered", true).await;
    let digest = push_image(&mock, "ordered", "v1", &debian_layer()).await;
    wait_for_scan(&mock, "ordered", "v1").await;

    let journal = mock.journal().await;
    let position = |action: &str| {
        journal
            .iter()
            .position(|event| event["action"] == action && event["digest"] == digest.as_str())
            .unwrap_or_else(|| panic!("no {action} row for {digest}"))
    };
    assert!(position("ManifestPut") < position("ImageScanStarted"));
    assert!(position("ImageScanStarted") < position("ImageScanCompleted"));
}
