//! Scanning interop: a real container client pushes the scanning step's sample image to a
//! repository of mock-ecr that scans on push. Every AWS CLI then waits for the scan and reads
//! the findings, and `ecrlab scan` must find the same CVEs in an archive of the same image.
//!
//! The image is pushed with docker when `docker info` succeeds, else with podman (as root, vfs
//! storage driver), else with skopeo from an OCI image layout that the test writes. The AWS
//! CLIs are those of `ECRLAB_AWS_CLIS`, as in the interop tests. Under `CI=true` a missing AWS
//! CLI version, or no client to push with, fails the test. Elsewhere the test prints on
//! standard error that it is skipped.

#[allow(dead_code, reason = "this target uses a part of the helpers")]
#[path = "interop/clients.rs"]
mod clients;
#[allow(dead_code, reason = "this target uses a part of the harness")]
#[path = "interop/harness.rs"]
mod harness;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clients::{AwsCli, ContainerCli, Skopeo};
use ecrlab_core::demo::SampleImage;
use harness::{MockLab, Run, assert_lab_check_passes, unique_image_name};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::process::Command;

/// The repository and tag that the lab's scanning step pushes to.
const REPOSITORY: &str = "my-app";
const TAG: &str = "scan";

/// The findings of the sample image with the advisory data bundled with mock-ecr, as
/// `labs/push-to-ecr/scan-image/README.md` lists them: CVE id, severity, package and installed
/// version. `tests/scan.rs` pins the same findings without a server.
const EXPECTED_FINDINGS: [(&str, &str, &str, &str); 2] = [
    ("CVE-2026-28388", "HIGH", "libssl3", "3.0.11-1~deb12u2"),
    ("CVE-2026-4438", "LOW", "libc6", "2.36-9+deb12u4"),
];

/// The client that pushes the sample image.
enum Pusher {
    /// docker or podman, which build the image from its build context.
    Engine(ContainerCli),
    /// skopeo, which copies an OCI image layout that the test writes.
    Skopeo(Skopeo),
}

impl Pusher {
    /// Picks docker when its engine runs, else podman, else skopeo. Returns `None`, after the
    /// missing-client policy, when none of them is installed.
    fn find(case: &str, lab: &MockLab) -> Option<Self> {
        if let Some(docker) = ContainerCli::docker(case, lab) {
            return Some(Self::Engine(docker));
        }
        if harness::find_on_path("podman").is_some() {
            return ContainerCli::podman(case, lab).map(Self::Engine);
        }
        if harness::find_on_path("skopeo").is_some() {
            return Skopeo::find(case, lab).map(Self::Skopeo);
        }
        harness::client_missing(
            case,
            "a container client",
            "docker is not running and neither podman nor skopeo is on PATH",
        );
        None
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Engine(client) => client.name(),
            Self::Skopeo(_) => "skopeo",
        }
    }

    /// Logs in and pushes the scan sample to `target` (`host/repository:tag`), and returns the
    /// manifest digest that the push reports.
    fn push(&self, lab: &MockLab, target: &str, password: &str) -> String {
        match self {
            Self::Engine(client) => {
                client
                    .login(lab, lab.registry_host(), password)
                    .assert_success();
                let local_image = unique_image_name(client.name());
                client.build_scan_sample(lab, &local_image).assert_success();
                client.tag(lab, &local_image, target).assert_success();
                let (push, digest) = client.push(lab, target);
                push.assert_success();
                digest.unwrap_or_else(|| panic!("the push reported no digest:\n{push}"))
            }
            Self::Skopeo(skopeo) => {
                let layout = lab.scratch_dir("scan-layout");
                write_scan_sample_layout(&layout);
                let source = format!("oci:{}:{TAG}", layout.display());
                let destination = format!("docker://{target}");
                skopeo
                    .copy(lab, &source, None, &destination, Some(password))
                    .assert_success();
                skopeo.inspect_digest(lab, &destination, password)
            }
        }
    }

    /// Writes the pushed image to disk in a form that `ecrlab scan` reads, and returns its
    /// path: `docker save`, `podman save --format docker-archive`, or `skopeo copy` from the
    /// registry to an `oci:` layout.
    fn save(&self, lab: &MockLab, target: &str, password: &str) -> PathBuf {
        match self {
            Self::Engine(client) => {
                let archive = lab.scratch_dir("archives").join("scan.tar");
                client
                    .save_docker_archive(lab, target, &archive)
                    .assert_success();
                archive
            }
            Self::Skopeo(skopeo) => {
                let layout = lab.scratch_dir("pulled-layout");
                let destination = format!("oci:{}:{TAG}", layout.display());
                skopeo
                    .copy(
                        lab,
                        &format!("docker://{target}"),
                        Some(password),
                        &destination,
                        None,
                    )
                    .assert_success();
                layout
            }
        }
    }
}

/// Writes an OCI image layout of the scan sample, with its one manifest named `scan`.
fn write_scan_sample_layout(folder: &Path) {
    let sample = SampleImage::build_scan_sample().expect("scan sample");
    let blobs = folder.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("blobs folder");
    for blob in [&sample.layer, &sample.config, &sample.manifest] {
        let hex = format!("{:x}", Sha256::digest(blob));
        std::fs::write(blobs.join(hex), blob).expect("blob written");
    }
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": sample.manifest_digest,
            "size": sample.manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": TAG},
        }],
    });
    std::fs::write(folder.join("index.json"), index.to_string()).expect("index written");
    std::fs::write(
        folder.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout written");
}

#[test]
fn scan_findings_match_across_clients() {
    let case = "scan_findings_match_across_clients";
    let lab = MockLab::start();
    let clis = AwsCli::all(case);
    if clis.is_empty() {
        harness::client_missing(case, "an AWS CLI", "no AWS CLI was found");
        return;
    }
    let Some(pusher) = Pusher::find(case, &lab) else {
        return;
    };
    harness::announce(&format!("NOTE {case}: pushes with {}", pusher.name()));

    let aws = &clis[0];
    aws.ecr_json(
        &lab,
        &[
            "create-repository",
            "--repository-name",
            REPOSITORY,
            "--image-tag-mutability",
            "IMMUTABLE",
            "--image-scanning-configuration",
            "scanOnPush=true",
        ],
    );
    let password = aws.login_password(&lab);
    let target = format!("{}/{REPOSITORY}:{TAG}", lab.registry_host());
    let digest = pusher.push(&lab, &target, &password);

    // Each CLI must print the expected findings, so the first CLI's list stands for all.
    let served: Vec<BTreeSet<(String, String)>> = clis
        .iter()
        .map(|cli| check_cli_reads_findings(&lab, cli, &digest))
        .collect();

    let saved = pusher.save(&lab, &target, &password);
    let scanned = ecrlab_scan_findings(&lab, &saved);
    assert_eq!(
        scanned,
        served[0],
        "ecrlab scan on {} and the server disagree",
        saved.display()
    );

    assert_lab_check_passes(&lab);
    check_quiz_grades_finding(&lab);
}

/// Runs `aws ecr wait image-scan-complete` and `aws ecr describe-image-scan-findings` with
/// `cli`, checks the output against ECR's shape and the expected findings, and returns the
/// (CVE, package) pairs it printed.
fn check_cli_reads_findings(
    lab: &MockLab,
    cli: &AwsCli,
    digest: &str,
) -> BTreeSet<(String, String)> {
    let image = format!("imageTag={TAG}");
    let image_args = ["--repository-name", REPOSITORY, "--image-id", &image];
    let wait = cli.ecr(
        lab,
        &[&["wait", "image-scan-complete"][..], &image_args].concat(),
    );
    wait.assert_success();

    let output = cli.ecr_json(
        lab,
        &[&["describe-image-scan-findings"][..], &image_args].concat(),
    );
    let context = format!("AWS CLI {}: {output:#}", cli.version);
    assert_eq!(output["imageScanStatus"]["status"], "COMPLETE", "{context}");
    assert_eq!(output["imageId"]["imageDigest"], digest, "{context}");
    assert_eq!(output["imageId"]["imageTag"], TAG, "{context}");
    assert_eq!(output["repositoryName"], REPOSITORY, "{context}");
    assert_eq!(output["registryId"], harness::ACCOUNT_ID, "{context}");

    let findings = &output["imageScanFindings"];
    assert_eq!(
        findings["findingSeverityCounts"],
        json!({"HIGH": 1, "LOW": 1}),
        "{context}"
    );
    // The AWS config of the interop clients prints timestamps as epoch seconds.
    assert!(findings["imageScanCompletedAt"].is_number(), "{context}");
    let updated = mock_ecr::scan::Advisories::bundled()
        .updated_at()
        .unix_timestamp();
    assert_eq!(
        findings["vulnerabilitySourceUpdatedAt"].as_f64(),
        Some(updated as f64),
        "{context}"
    );

    let list = findings["findings"].as_array().expect("findings array");
    let printed: Vec<(String, String, String, String)> = list
        .iter()
        .map(|finding| {
            (
                text(&finding["name"]),
                text(&finding["severity"]),
                attribute(finding, "package_name"),
                attribute(finding, "package_version"),
            )
        })
        .collect();
    let expected: Vec<(String, String, String, String)> = EXPECTED_FINDINGS
        .iter()
        .map(|(name, severity, package, version)| {
            (
                (*name).to_owned(),
                (*severity).to_owned(),
                (*package).to_owned(),
                (*version).to_owned(),
            )
        })
        .collect();
    assert_eq!(printed, expected, "{context}");

    let high = &list[0];
    assert_eq!(attribute(high, "CVSS3_SCORE"), "7.5", "{context}");
    assert_eq!(
        attribute(high, "CVSS3_VECTOR"),
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        "{context}"
    );
    assert_eq!(
        high["uri"], "https://security-tracker.debian.org/tracker/CVE-2026-28388",
        "{context}"
    );
    assert!(!text(&high["description"]).is_empty(), "{context}");

    printed
        .into_iter()
        .map(|(name, _, package, _)| (name, package))
        .collect()
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
        .to_owned()
}

/// Returns the value of the attribute `key` of a finding, which ECR lists as
/// `{"key": ..., "value": ...}` objects.
fn attribute(finding: &Value, key: &str) -> String {
    let attributes = finding["attributes"]
        .as_array()
        .unwrap_or_else(|| panic!("the finding has no attributes: {finding:#}"));
    attributes
        .iter()
        .find(|attribute| attribute["key"] == key)
        .map(|attribute| text(&attribute["value"]))
        .unwrap_or_else(|| panic!("the finding has no attribute {key}: {finding:#}"))
}

/// Runs `ecrlab scan --format json` on `source` and returns the (CVE, package) pairs it found.
fn ecrlab_scan_findings(lab: &MockLab, source: &Path) -> BTreeSet<(String, String)> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecrlab"));
    command.arg("scan").arg(source).args(["--format", "json"]);
    let run = lab.run(&mut command, None);
    run.assert_success();
    let output: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("`ecrlab scan` printed invalid JSON ({error}):\n{run}"));
    output["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("`ecrlab scan` printed no findings array:\n{run}"))
        .iter()
        .map(|finding| (text(&finding["name"]), attribute(finding, "package_name")))
        .collect()
}

/// Answers the lab's finding question with `ecrlab quiz --answers`, which grades it against the
/// findings that the mock holds.
fn check_quiz_grades_finding(lab: &MockLab) {
    let state = lab.scratch_dir("ecrlab-state");
    let answers = state.join("answers.toml");
    std::fs::write(&answers, "scan-finding = \"libssl3\"\n").expect("answers file written");
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecrlab"));
    command
        .args(["quiz", "--endpoint", lab.endpoint(), "--answers"])
        .arg(&answers)
        .env("ECRLAB_STATE_DIR", &state)
        .env("NO_COLOR", "1");
    let run: Run = lab.run(&mut command, None);

    let question = run
        .stdout
        .split("\nQuestion ")
        .find(|section| section.contains("(scan-finding)"))
        .unwrap_or_else(|| panic!("the quiz did not grade scan-finding:\n{run}"));
    assert!(
        question.contains("  Your answer: libssl3\n  Correct."),
        "{run}"
    );
    assert!(
        !run.stderr.contains("warning"),
        "the quiz could not read the mock:\n{run}"
    );
}
