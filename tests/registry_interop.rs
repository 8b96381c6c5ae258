//! Registry interop tests: docker, podman, skopeo and oras-py push images and artifacts to
//! mock-ecr's registry and pull them back. Each test then reads the registry on its own (skopeo
//! `inspect --raw`, the referrers API, DescribeImages, the journal) to show what was stored.
//!
//! Clients and where they come from:
//! - docker: the cases run when `docker info` succeeds, and are announced as not run otherwise.
//! - podman (as root, vfs storage driver) and skopeo: from `PATH`.
//! - oras-py (PyPI `oras`): the Python of the virtual environment `ECRLAB_PYTHON_VENV`, by
//!   default `/opt/ecrlab-python`, runs `registry_interop/oras_client.py`.
//! - AWS CLI v1 and v2 for the ECR API, found as in the interop tests (`ECRLAB_AWS_CLIS`).
//!
//! Every image is built FROM scratch with COPY only, so nothing is pulled from the internet and
//! an arm64 image builds on an amd64 machine without emulation. Under `CI=true` a missing
//! client other than docker fails the test; elsewhere the test is announced on standard error
//! as skipped.
//!
//! The tests named `*_ecr_host_name*` reach the mock as `123456789012.dkr.ecr.us-east-1.amazonaws.com`,
//! which must resolve to 127.0.0.1 through an /etc/hosts line. `.ci/run` adds that line, and
//! the same policy as for a missing client applies when the name does not resolve there.

#[allow(dead_code, reason = "this target uses a part of the helpers")]
#[path = "interop/clients.rs"]
mod clients;
#[allow(dead_code, reason = "this target uses a part of the harness")]
#[path = "interop/harness.rs"]
mod harness;
#[path = "registry_interop/oras_py.rs"]
mod oras_py;
#[path = "registry_interop/registry_lab.rs"]
mod registry_lab;

use std::collections::BTreeSet;

use clients::{AwsCli, ContainerCli, Skopeo};
use ecrlab_core::evidence::{Outcome, Source};
use ecrlab_core::hosts::{self, HostMapping};
use harness::{ACCOUNT_ID, MockLab, REGION, Run, assert_push_steps_pass, unique_image_name};
use oras_py::OrasPy;
use registry_lab::{RegistryLab, inspect_config, inspect_raw, sha256_digest};
use serde_json::{Value, json};

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// The name podman gives the sample image it builds in each test's own storage.
const LOCAL_IMAGE: &str = "localhost/ecrlab-sample:latest";

// ---------------------------------------------------------------------------------------------
// podman: Docker and OCI manifests, and a multi-architecture index
// ---------------------------------------------------------------------------------------------

#[test]
fn podman_docker_format_round_trip() {
    check_podman_format_round_trip(
        "podman_docker_format_round_trip",
        "v2s2",
        &ImageTypes {
            manifest: DOCKER_MANIFEST,
            config: DOCKER_CONFIG,
            layer: DOCKER_LAYER_GZIP,
        },
    );
}

#[test]
fn podman_oci_format_round_trip() {
    check_podman_format_round_trip(
        "podman_oci_format_round_trip",
        "oci",
        &ImageTypes {
            manifest: OCI_MANIFEST,
            config: OCI_CONFIG,
            layer: OCI_LAYER_GZIP,
        },
    );
}

/// The media types of an image manifest and of the blobs it names.
struct ImageTypes {
    manifest: &'static str,
    config: &'static str,
    layer: &'static str,
}

/// Pushes the sample image with `podman push --format <format>`, checks the manifest that the
/// registry stores, then pulls the image back into empty storage by tag and by digest.
fn check_podman_format_round_trip(case: &str, format: &str, expected: &ImageTypes) {
    let Some(setup) = RegistryLab::start(case, "team/formats") else {
        return;
    };
    let Some(podman) = Podman::find(case, &setup) else {
        return;
    };
    let Some(skopeo) = Skopeo::find(case, &setup.lab) else {
        return;
    };
    podman.build_sample();
    let target = setup.tagged("v1");
    let digest = podman.push(LOCAL_IMAGE, &target, &["--format", format]);

    let stored = inspect_raw(
        &skopeo,
        &setup.lab,
        &format!("docker://{target}"),
        &setup.password,
    );
    assert_eq!(stored.digest, digest, "podman reported another digest");
    assert_eq!(
        stored.json["mediaType"], expected.manifest,
        "{}",
        stored.text
    );
    assert_eq!(
        stored.json["config"]["mediaType"], expected.config,
        "{}",
        stored.text
    );
    let layers = stored.json["layers"].as_array().expect("layers array");
    assert_eq!(layers.len(), 1, "{}", stored.text);
    assert_eq!(layers[0]["mediaType"], expected.layer, "{}", stored.text);

    let detail = setup.image_detail(&digest);
    assert_eq!(
        detail["imageManifestMediaType"], expected.manifest,
        "{detail:#}"
    );
    assert_eq!(detail["imageTags"], json!(["v1"]), "{detail:#}");

    let config_digest = stored.json["config"]["digest"]
        .as_str()
        .expect("config digest");
    for reference in [target.clone(), setup.by_digest(&digest)] {
        podman.remove_all_images();
        podman.pull(&reference, &[]);
        let pulled = podman.inspect_image(&reference);
        assert_eq!(
            pulled["Digest"],
            digest.as_str(),
            "pulled {reference}: {pulled:#}"
        );
        assert_eq!(
            pulled["ManifestType"], expected.manifest,
            "pulled {reference}: {pulled:#}"
        );
        let image_id = format!("sha256:{}", pulled["Id"].as_str().unwrap_or_default());
        assert_eq!(image_id, config_digest, "pulled {reference}: {pulled:#}");
    }
}

/// The platforms of the multi-architecture image, as podman's `--platform` and as an index's
/// `platform` object.
const PLATFORMS: [(&str, &str, &str); 2] = [
    ("linux/amd64", "linux", "amd64"),
    ("linux/arm64", "linux", "arm64"),
];

#[test]
fn podman_multi_arch_index_push() {
    let case = "podman_multi_arch_index_push";
    let Some(setup) = RegistryLab::start(case, "team/multi-arch") else {
        return;
    };
    let Some(podman) = Podman::find(case, &setup) else {
        return;
    };
    let Some(skopeo) = Skopeo::find(case, &setup.lab) else {
        return;
    };
    let list = "localhost/ecrlab-multi-arch:list";
    podman.run(&["manifest", "create", list]).assert_success();
    for (platform, _, architecture) in PLATFORMS {
        let image = format!("localhost/ecrlab-multi-arch:{architecture}");
        podman.build_for_platform(&image, platform);
        let source = format!("containers-storage:{image}");
        podman
            .run(&["manifest", "add", list, &source])
            .assert_success();
    }
    let target = setup.tagged("multi");
    let digest_file = setup.lab.scratch_dir("podman-digests").join("multi");
    let digest_file_arg = format!("--digestfile={}", digest_file.display());
    podman
        .run(&[
            "manifest",
            "push",
            "--all",
            "--tls-verify=false",
            &digest_file_arg,
            list,
            &format!("docker://{target}"),
        ])
        .assert_success();
    let pushed_digest = read_digest_file(&digest_file);

    let index = inspect_raw(
        &skopeo,
        &setup.lab,
        &format!("docker://{target}"),
        &setup.password,
    );
    assert_eq!(
        index.digest, pushed_digest,
        "podman reported another digest"
    );
    let index_type = index.json["mediaType"].as_str().unwrap_or_default();
    assert!(
        [OCI_INDEX, DOCKER_MANIFEST_LIST].contains(&index_type),
        "the tag names no index: {}",
        index.text
    );
    let children = index.json["manifests"].as_array().expect("manifests array");
    let platforms: BTreeSet<(String, String)> = children
        .iter()
        .map(|child| {
            let os = child["platform"]["os"].as_str().unwrap_or_default();
            let architecture = child["platform"]["architecture"]
                .as_str()
                .unwrap_or_default();
            (os.to_owned(), architecture.to_owned())
        })
        .collect();
    let expected_platforms: BTreeSet<(String, String)> = PLATFORMS
        .iter()
        .map(|(_, os, architecture)| ((*os).to_owned(), (*architecture).to_owned()))
        .collect();
    assert_eq!(children.len(), 2, "{}", index.text);
    assert_eq!(platforms, expected_platforms, "{}", index.text);

    for child in children {
        check_platform_manifest(&setup, &skopeo, child);
    }
    check_index_images(&setup, &pushed_digest, children);

    let arm64 = children
        .iter()
        .find(|child| child["platform"]["architecture"] == "arm64")
        .and_then(|child| child["digest"].as_str())
        .expect("an arm64 manifest");
    podman.remove_all_images();
    podman.pull(&target, &["--platform", "linux/arm64"]);
    let pulled = podman.inspect_image(&target);
    assert_eq!(pulled["Architecture"], "arm64", "{pulled:#}");
    let repo_digests = pulled["RepoDigests"].as_array().expect("RepoDigests array");
    assert!(
        repo_digests.contains(&json!(setup.by_digest(arm64))),
        "the pulled image is not the arm64 manifest {arm64}: {pulled:#}"
    );
}

/// Checks that the registry serves the platform manifest that the index entry `child` names,
/// with a config for that platform.
fn check_platform_manifest(setup: &RegistryLab, skopeo: &Skopeo, child: &Value) {
    let digest = child["digest"].as_str().expect("child digest");
    let reference = format!("docker://{}", setup.by_digest(digest));
    let manifest = inspect_raw(skopeo, &setup.lab, &reference, &setup.password);
    assert_eq!(manifest.digest, digest, "{}", manifest.text);
    assert_eq!(
        manifest.json["mediaType"], child["mediaType"],
        "{}",
        manifest.text
    );

    let config = inspect_config(skopeo, &setup.lab, &reference, &setup.password);
    let config_digest = manifest.json["config"]["digest"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(sha256_digest(config.as_bytes()), config_digest, "{config}");
    let config: Value = serde_json::from_str(&config).expect("the config is JSON");
    assert_eq!(
        config["architecture"], child["platform"]["architecture"],
        "{config:#}"
    );
    assert_eq!(config["os"], child["platform"]["os"], "{config:#}");
}

/// Checks that DescribeImages lists the index under its tag and both platform manifests
/// without tags.
fn check_index_images(setup: &RegistryLab, index_digest: &str, children: &[Value]) {
    let images = setup.describe_images();
    assert_eq!(images.len(), 3, "{images:#?}");
    let index = setup.image_detail(index_digest);
    assert_eq!(index["imageTags"], json!(["multi"]), "{index:#}");
    for child in children {
        let digest = child["digest"].as_str().expect("child digest");
        let detail = setup.image_detail(digest);
        assert_eq!(detail.get("imageTags"), None, "{detail:#}");
        assert_eq!(
            detail["imageManifestMediaType"], child["mediaType"],
            "{detail:#}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// skopeo: copies from an OCI layout and from a docker-archive
// ---------------------------------------------------------------------------------------------

#[test]
fn skopeo_copy_from_oci_layout() {
    let case = "skopeo_copy_from_oci_layout";
    let Some(setup) = RegistryLab::start(case, "team/from-layout") else {
        return;
    };
    let Some(podman) = Podman::find(case, &setup) else {
        return;
    };
    let Some(skopeo) = Skopeo::find(case, &setup.lab) else {
        return;
    };
    podman.build_sample();
    let layouts = setup.lab.scratch_dir("oci-layouts");
    let layout = format!("oci:{}:v1", layouts.join("built").display());
    podman.run(&["push", LOCAL_IMAGE, &layout]).assert_success();
    let source = inspect_raw(&skopeo, &setup.lab, &layout, &setup.password);
    assert_eq!(source.json["mediaType"], OCI_MANIFEST, "{}", source.text);

    let target = format!("docker://{}", setup.tagged("v1"));
    skopeo
        .copy(&setup.lab, &layout, None, &target, Some(&setup.password))
        .assert_success();

    // The layout contains an OCI manifest with compressed layers, which a registry accepts as it
    // is, so skopeo copies the manifest without changing a byte.
    let stored = inspect_raw(&skopeo, &setup.lab, &target, &setup.password);
    assert_eq!(
        stored.text, source.text,
        "the registry stores another manifest"
    );
    let detail = setup.image_detail(&source.digest);
    assert_eq!(detail["imageManifestMediaType"], OCI_MANIFEST, "{detail:#}");
    assert_eq!(detail["imageTags"], json!(["v1"]), "{detail:#}");

    // Copying back out reads every blob, and skopeo checks each one against its digest.
    let copied_back = format!("oci:{}:v1", layouts.join("copied-back").display());
    skopeo
        .copy(
            &setup.lab,
            &target,
            Some(&setup.password),
            &copied_back,
            None,
        )
        .assert_success();
    let round_trip = inspect_raw(&skopeo, &setup.lab, &copied_back, &setup.password);
    assert_eq!(round_trip.text, source.text, "the copy back differs");
}

#[test]
fn skopeo_copy_from_docker_archive() {
    let case = "skopeo_copy_from_docker_archive";
    let Some(setup) = RegistryLab::start(case, "team/from-archive") else {
        return;
    };
    let Some(podman) = Podman::find(case, &setup) else {
        return;
    };
    let Some(skopeo) = Skopeo::find(case, &setup.lab) else {
        return;
    };
    podman.build_sample();
    let archive = setup.lab.scratch_dir("archives").join("sample.tar");
    let archive_text = archive.display().to_string();
    podman
        .run(&[
            "save",
            "--format",
            "docker-archive",
            "-o",
            &archive_text,
            LOCAL_IMAGE,
        ])
        .assert_success();
    let source_reference = format!("docker-archive:{archive_text}");
    let source = inspect_raw(&skopeo, &setup.lab, &source_reference, &setup.password);
    let source_config = source.json["config"]["digest"]
        .as_str()
        .expect("config digest");
    let source_layers = source.json["layers"]
        .as_array()
        .expect("layers array")
        .len();

    let target = format!("docker://{}", setup.tagged("v1"));
    skopeo
        .copy(
            &setup.lab,
            &source_reference,
            None,
            &target,
            Some(&setup.password),
        )
        .assert_success();

    // A docker-archive contains uncompressed layers, which skopeo compresses on the way to a
    // registry, so the manifest changes but the config stays byte for byte the same.
    let stored = inspect_raw(&skopeo, &setup.lab, &target, &setup.password);
    assert_eq!(stored.json["mediaType"], DOCKER_MANIFEST, "{}", stored.text);
    assert_eq!(
        stored.json["config"]["digest"], source_config,
        "{}",
        stored.text
    );
    let layers = stored.json["layers"].as_array().expect("layers array");
    assert_eq!(layers.len(), source_layers, "{}", stored.text);
    for layer in layers {
        assert_eq!(layer["mediaType"], DOCKER_LAYER_GZIP, "{}", stored.text);
    }
    let config = inspect_config(&skopeo, &setup.lab, &target, &setup.password);
    assert_eq!(sha256_digest(config.as_bytes()), source_config, "{config}");

    let detail = setup.image_detail(&stored.digest);
    assert_eq!(
        detail["imageManifestMediaType"], DOCKER_MANIFEST,
        "{detail:#}"
    );
    assert_eq!(detail["imageTags"], json!(["v1"]), "{detail:#}");
}

// ---------------------------------------------------------------------------------------------
// oras-py: an artifact and a referrer
// ---------------------------------------------------------------------------------------------

/// The `artifactType` of the artifact that `oras_client.py` pushes.
const NOTE_ARTIFACT_TYPE: &str = "application/vnd.ecrlab.interop.note.v1";
/// The config media type of the referrer, which the referrers API reports as its
/// `artifactType` because the manifest has none.
const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.ecrlab.interop.signature.config.v1+json";

#[test]
fn oras_py_artifact_and_referrer() {
    let case = "oras_py_artifact_and_referrer";
    let Some(setup) = RegistryLab::start(case, "team/artifacts") else {
        return;
    };
    let Some(oras) = OrasPy::find(case) else {
        return;
    };
    let run = oras.run(
        &setup.lab,
        "artifact-and-referrer",
        &setup.repository,
        &setup.password,
    );
    run.assert_success();
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("the script printed no JSON report ({error}):\n{run}"));

    let artifact = &report["artifact"];
    let artifact_digest = artifact["digest"].as_str().expect("artifact digest");
    assert_eq!(
        artifact["manifest"]["artifactType"], NOTE_ARTIFACT_TYPE,
        "{report:#}"
    );
    assert_eq!(
        artifact["files"],
        json!({ "note.txt": "Hello from the ecrlab registry interop test.\n" }),
        "{report:#}"
    );

    let referrer = &report["referrer"];
    let referrer_digest = referrer["digest"].as_str().expect("referrer digest");
    assert_eq!(
        referrer["manifest"]["subject"]["digest"], artifact_digest,
        "{report:#}"
    );
    assert_eq!(
        referrer["files"],
        json!({ "note.sig": "not a real signature, only its bytes\n" }),
        "{report:#}"
    );

    check_stored_artifacts(&setup, &report);
    check_referrers_api(&setup, artifact_digest, referrer_digest);
}

/// Checks the two manifests that the registry stores: their bytes (by digest) and what
/// DescribeImages reports of them.
fn check_stored_artifacts(setup: &RegistryLab, report: &Value) {
    let artifact_digest = report["artifact"]["digest"].as_str().expect("digest");
    let path = format!("/v2/{}/manifests/{artifact_digest}", setup.repository);
    let stored = setup.registry_get(&path);
    assert_eq!(
        sha256_digest(stored.body.as_bytes()),
        artifact_digest,
        "{}",
        stored.body
    );
    assert_eq!(
        report["subject"]["size"],
        json!(stored.body.len()),
        "the referrer's subject names another size"
    );

    for (part, tag) in [("artifact", "note-v1"), ("referrer", "note-v1-signature")] {
        let digest = report[part]["digest"].as_str().expect("digest");
        let detail = setup.image_detail(digest);
        assert_eq!(detail["imageTags"], json!([tag]), "{detail:#}");
        assert_eq!(detail["imageManifestMediaType"], OCI_MANIFEST, "{detail:#}");
    }
}

/// Checks `GET /v2/<name>/referrers/<digest>` (OCI distribution specification 1.1, "Listing
/// Referrers"): the artifact lists the referrer, and an `artifactType` filter applies.
fn check_referrers_api(setup: &RegistryLab, artifact_digest: &str, referrer_digest: &str) {
    let path = format!("/v2/{}/referrers/{artifact_digest}", setup.repository);
    let listing = setup.registry_get(&path).json();
    assert_eq!(listing["mediaType"], OCI_INDEX, "{listing:#}");
    let referrers = listing["manifests"].as_array().expect("manifests array");
    assert_eq!(referrers.len(), 1, "{listing:#}");
    let entry = &referrers[0];
    assert_eq!(entry["digest"], referrer_digest, "{listing:#}");
    assert_eq!(entry["mediaType"], OCI_MANIFEST, "{listing:#}");
    assert_eq!(
        entry["artifactType"], SIGNATURE_ARTIFACT_TYPE,
        "{listing:#}"
    );
    assert_eq!(
        entry["annotations"],
        json!({ "org.ecrlab.interop.kind": "signature" }),
        "{listing:#}"
    );
    let manifest_path = format!("/v2/{}/manifests/{referrer_digest}", setup.repository);
    let referrer_manifest = setup.registry_get(&manifest_path);
    assert_eq!(
        entry["size"],
        json!(referrer_manifest.body.len()),
        "{listing:#}"
    );

    let matching = setup.registry_get(&format!(
        "{path}?artifactType={}",
        encode_query_value(SIGNATURE_ARTIFACT_TYPE)
    ));
    assert_eq!(matching.filters_applied.as_deref(), Some("artifactType"));
    assert_eq!(
        matching.json()["manifests"],
        json!([entry]),
        "{}",
        matching.body
    );
    let other = setup.registry_get(&format!(
        "{path}?artifactType={}",
        encode_query_value(NOTE_ARTIFACT_TYPE)
    ));
    assert_eq!(other.filters_applied.as_deref(), Some("artifactType"));
    assert_eq!(other.json()["manifests"], json!([]), "{}", other.body);

    let of_referrer = format!("/v2/{}/referrers/{referrer_digest}", setup.repository);
    let nothing = setup.registry_get(&of_referrer).json();
    assert_eq!(nothing["manifests"], json!([]), "{nothing:#}");
}

/// Percent-encodes a media type for a query string, where `+` stands for a space under the
/// `application/x-www-form-urlencoded` rules that the mock's query parser applies.
fn encode_query_value(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('+', "%2B")
        .replace('&', "%26")
}

// ---------------------------------------------------------------------------------------------
// Errors as each client prints them
// ---------------------------------------------------------------------------------------------

/// ECR's message for a registry request with an expired token, which it returns with `403`
/// and the code `DENIED`.
const EXPIRED_TOKEN_MESSAGE: &str =
    "Your authorization token has expired. Reauthenticate and try again.";

/// How far the tests move the mock's clock to expire a token, which is valid for 12 hours
/// (GetAuthorizationToken in the Amazon ECR API Reference).
const PAST_TOKEN_EXPIRY: time::Duration = time::Duration::hours(13);

#[test]
fn podman_expired_token_denied() {
    let case = "podman_expired_token_denied";
    let Some(setup) = RegistryLab::start(case, "team/expiry") else {
        return;
    };
    let Some(podman) = Podman::find(case, &setup) else {
        return;
    };
    podman.build_sample();
    let first = setup.tagged("v1");
    let digest = podman.push(LOCAL_IMAGE, &first, &[]);
    setup.lab.advance_clock(PAST_TOKEN_EXPIRY);

    // podman's first request of a push is `HEAD` on a blob, and a response to HEAD has no body,
    // so podman prints only the status. The journal shows the reason.
    let second = setup.tagged("v2");
    podman.push_run(LOCAL_IMAGE, &second, &[]).assert_rejected(
        Some(125),
        "failed to read from destination repository team/expiry: 403 (Forbidden)",
    );
    let denied = setup.rejected_registry_requests("DENIED");
    assert!(
        denied
            .iter()
            .any(|event| event.message.as_deref() == Some(EXPIRED_TOKEN_MESSAGE)),
        "no request rejected for the expired token in the journal: {denied:#?}"
    );
    let images = setup.describe_images();
    assert_eq!(images.len(), 1, "{images:#?}");
    assert_eq!(images[0]["imageDigest"], digest.as_str(), "{images:#?}");
    assert_eq!(images[0]["imageTags"], json!(["v1"]), "{images:#?}");

    // A pull starts with `GET` on the manifest, whose response carries ECR's message.
    podman
        .run(&["pull", "--tls-verify=false", &first])
        .assert_rejected(
            Some(125),
            &format!(
                "reading manifest v1 in {}: denied: {EXPIRED_TOKEN_MESSAGE}",
                setup.repository_uri()
            ),
        );
    podman
        .cli
        .login(&setup.lab, setup.lab.registry_host(), &setup.password)
        .assert_rejected(
            Some(125),
            "invalid status code from registry 403 (Forbidden)",
        );

    // Reauthenticating with a new token from GetAuthorizationToken, as the message tells the
    // user, makes the push succeed.
    let password = setup.aws.login_password(&setup.lab);
    podman
        .cli
        .login(&setup.lab, setup.lab.registry_host(), &password)
        .assert_success();
    podman.push(LOCAL_IMAGE, &second, &[]);
}

#[test]
fn oras_py_push_expired_token_denied() {
    let case = "oras_py_push_expired_token_denied";
    let Some(setup) = RegistryLab::start(case, "team/expiry") else {
        return;
    };
    let Some(oras) = OrasPy::find(case) else {
        return;
    };
    setup.lab.advance_clock(PAST_TOKEN_EXPIRY);

    // oras-py's push starts an upload with `POST` after a `HEAD` on the blob fails, and it
    // prints the error body of the POST when the registry starts no upload.
    let run = oras.run(&setup.lab, "push-file", &setup.repository, &setup.password);
    run.assert_rejected(
        Some(1),
        &format!("'code': 'DENIED', 'message': '{EXPIRED_TOKEN_MESSAGE}'"),
    );
    let denied = setup.rejected_registry_requests("DENIED");
    assert!(
        denied.iter().any(|event| event.action == "BlobUpload"
            && event.message.as_deref() == Some(EXPIRED_TOKEN_MESSAGE)),
        "no BlobUpload rejected for the expired token in the journal: {denied:#?}"
    );
    assert_eq!(setup.describe_images(), Vec::<Value>::new());
}

#[test]
fn oras_py_blob_digest_mismatch_rejected() {
    let case = "oras_py_blob_digest_mismatch_rejected";
    let Some(setup) = RegistryLab::start(case, "team/artifacts") else {
        return;
    };
    let Some(oras) = OrasPy::find(case) else {
        return;
    };
    let run = oras.run(&setup.lab, "bad-digest", &setup.repository, &setup.password);
    let digests = first_line_json(&run);
    let uploaded = digests["uploaded"].as_str().expect("uploaded digest");
    let named = digests["named"].as_str().expect("named digest");
    // oras-py logs the registry's message, then raises ValueError with the HTTP reason.
    run.assert_rejected(
        Some(1),
        &format!(
            "Uploaded content has digest {uploaded}, not the digest {named} named by the request"
        ),
    )
    .assert_rejected(Some(1), "Bad Request");

    let rejected = setup.rejected_registry_requests("DIGEST_INVALID");
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!(rejected[0].action, "BlobUpload", "{rejected:#?}");
    for digest in [uploaded, named] {
        let path = format!("/v2/{}/blobs/{digest}", setup.repository);
        let blob = setup.registry_get(&path);
        assert_eq!(blob.status, 404, "GET {path} found a blob: {}", blob.body);
    }
}

#[test]
fn oras_py_manifest_blob_unknown_rejected() {
    let case = "oras_py_manifest_blob_unknown_rejected";
    let Some(setup) = RegistryLab::start(case, "team/artifacts") else {
        return;
    };
    let Some(oras) = OrasPy::find(case) else {
        return;
    };
    let run = oras.run(
        &setup.lab,
        "unknown-blob",
        &setup.repository,
        &setup.password,
    );
    let digests = first_line_json(&run);
    let layer = digests["layer"].as_str().expect("layer digest");
    run.assert_rejected(
        Some(1),
        &format!(
            "Manifest references blob {layer}, which has not been uploaded to repository 'team/artifacts'"
        ),
    )
    .assert_rejected(Some(1), "Bad Request");

    let rejected = setup.rejected_registry_requests("MANIFEST_BLOB_UNKNOWN");
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!(rejected[0].action, "ManifestPut", "{rejected:#?}");
    assert_eq!(
        rejected[0].reference.as_deref(),
        Some("unknown-blob"),
        "{rejected:#?}"
    );
    assert_eq!(setup.describe_images(), Vec::<Value>::new());
}

/// The largest number of tags one image may have in ECR, whose rejection of one more names
/// "the maximum allowed number of tags per image which is '1000'".
const MAX_TAGS_PER_IMAGE: usize = 1000;

#[test]
fn podman_push_over_tag_limit_denied() {
    let case = "podman_push_over_tag_limit_denied";
    let Some(setup) = RegistryLab::start(case, "team/tags") else {
        return;
    };
    let Some(podman) = Podman::find(case, &setup) else {
        return;
    };
    podman.build_sample();
    let first_tag = tag_name(0);
    let digest = podman.push(LOCAL_IMAGE, &setup.tagged(&first_tag), &[]);
    let manifest = setup
        .registry_get(&format!("/v2/{}/manifests/{digest}", setup.repository))
        .body;

    let extra_tags: Vec<String> = (1..MAX_TAGS_PER_IMAGE).map(tag_name).collect();
    put_image_tags(&setup, &manifest, &extra_tags);
    let images = setup.describe_images();
    assert_eq!(images.len(), 1, "PutImage created another image");
    let tag_count = images[0]["imageTags"].as_array().map_or(0, Vec::len);
    assert_eq!(tag_count, MAX_TAGS_PER_IMAGE);

    // podman prints the OCI error code `DENIED` as `denied`, then ECR's message.
    let over_limit = tag_name(MAX_TAGS_PER_IMAGE);
    let message = tag_limit_message(&over_limit);
    podman
        .push_run(LOCAL_IMAGE, &setup.tagged(&over_limit), &[])
        .assert_rejected(Some(125), &format!("denied: {message}"));

    // The status, which podman does not print, comes from the same manifest PUT sent directly.
    let media_type =
        serde_json::from_str::<Value>(&manifest).expect("the manifest is JSON")["mediaType"]
            .as_str()
            .expect("the manifest names its mediaType")
            .to_owned();
    let direct_tag = tag_name(MAX_TAGS_PER_IMAGE + 1);
    let path = format!("/v2/{}/manifests/{direct_tag}", setup.repository);
    let direct = setup.registry_put(&path, &media_type, &manifest);
    assert_eq!(direct.status, 403, "PUT {path}: {}", direct.body);
    assert_eq!(
        direct.parse_body(),
        json!({ "errors": [{ "code": "DENIED", "message": tag_limit_message(&direct_tag) }] }),
        "PUT {path}"
    );

    let images = setup.describe_images();
    let tags = images[0]["imageTags"].as_array().expect("imageTags array");
    assert_eq!(tags.len(), MAX_TAGS_PER_IMAGE, "the tag count changed");
    for rejected in [&over_limit, &direct_tag] {
        assert!(!tags.contains(&json!(rejected)), "{rejected} was added");
    }
    let denied = setup.rejected_registry_requests("DENIED");
    assert!(
        denied.iter().any(|event| event.action == "ManifestPut"
            && event.reference.as_deref() == Some(over_limit.as_str())),
        "no ManifestPut of {over_limit} rejected with DENIED in the journal: {denied:#?}"
    );
}

/// ECR's message for a tag that would give an image of `team/tags` more than
/// [`MAX_TAGS_PER_IMAGE`] tags.
fn tag_limit_message(tag: &str) -> String {
    format!(
        "Adding tag '{tag}' to an image in the repository with name 'team/tags' in registry with id '123456789012' exceeds the maximum allowed number of tags per image which is '1000'"
    )
}

fn tag_name(number: usize) -> String {
    format!("t{number:04}")
}

/// Adds each of `tags` to the image `manifest` with PutImage, through aws-sdk-ecr in the test
/// process, because a thousand AWS CLI processes would take minutes.
fn put_image_tags(setup: &RegistryLab, manifest: &str, tags: &[String]) {
    let settings = ecrlab_core::clients::EcrSettings::for_mock(setup.lab.endpoint())
        .expect("the mock's endpoint is a valid URL");
    setup.lab.block_on(async {
        let ecr = settings.ecr_client();
        for tag in tags {
            ecr.put_image()
                .repository_name(&setup.repository)
                .image_manifest(manifest)
                .image_tag(tag)
                .send()
                .await
                .unwrap_or_else(|error| {
                    panic!(
                        "PutImage of tag {tag} failed: {}",
                        aws_sdk_ecr::error::DisplayErrorContext(&error)
                    )
                });
        }
    });
}

// ---------------------------------------------------------------------------------------------
// ECR's own host name: pushes to <account>.dkr.ecr.<region>.amazonaws.com:PORT
// ---------------------------------------------------------------------------------------------

/// The registry host name of the mock's default account and region. The tests need it to
/// resolve to 127.0.0.1 through an /etc/hosts line, which `.ci/run` adds under `CI=true`.
const ECR_HOST_NAME: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// A region other than the mock's default [`REGION`]. The mock rejects its tokens in requests
/// to the us-east-1 host name.
const OTHER_REGION: &str = "eu-west-1";

/// The repository name that the lab's instructions use.
const LAB_REPOSITORY: &str = "my-app";

#[test]
fn docker_push_by_ecr_host_name() {
    let case = "docker_push_by_ecr_host_name";
    let Some(lab) = start_on_ecr_host_name(case) else {
        return;
    };
    let Some(docker) = ContainerCli::docker(case, &lab) else {
        return;
    };
    // docker runs with AWS CLI v2 and podman with v1, so the repositoryUri of both versions
    // is checked.
    let Some(aws) = AwsCli::one(case, 2) else {
        return;
    };
    push_by_ecr_host_name(&lab, &aws, &docker);
}

#[test]
fn podman_push_by_ecr_host_name() {
    let case = "podman_push_by_ecr_host_name";
    let Some(lab) = start_on_ecr_host_name(case) else {
        return;
    };
    let Some(podman) = ContainerCli::podman(case, &lab) else {
        return;
    };
    let Some(aws) = AwsCli::one(case, 1) else {
        return;
    };
    push_by_ecr_host_name(&lab, &aws, &podman);
}

/// Performs the lab's steps against [`ECR_HOST_NAME`] as a student does, then proves the push:
/// DescribeImages lists the tag, the journal records the push with that `Host`, and
/// `ecrlab check` passes every lab step.
fn push_by_ecr_host_name(lab: &MockLab, aws: &AwsCli, client: &ContainerCli) {
    let host = expected_registry_host(lab);
    let created = aws.ecr_json(
        lab,
        &[
            "create-repository",
            "--repository-name",
            LAB_REPOSITORY,
            "--image-tag-mutability",
            "IMMUTABLE",
            "--image-scanning-configuration",
            "scanOnPush=true",
        ],
    );
    let uri = created["repository"]["repositoryUri"]
        .as_str()
        .unwrap_or_else(|| panic!("create-repository printed no repositoryUri: {created:#}"));
    assert!(
        uri.starts_with(&format!("{host}/")),
        "the repositoryUri does not start with {host}/: {created:#}"
    );
    assert_eq!(uri, format!("{host}/{LAB_REPOSITORY}"), "{created:#}");

    // As in `aws ecr get-login-password | docker login --password-stdin`, the client reads
    // exactly what the AWS CLI printed, trailing newline included.
    let password_output = aws.ecr(lab, &["get-login-password"]);
    password_output.assert_success();
    client
        .login(lab, &host, &password_output.stdout)
        .assert_success();

    let local_image = unique_image_name(client.name());
    client.build_sample(lab, &local_image, 1).assert_success();
    let target = format!("{uri}:v1");
    client.tag(lab, &local_image, &target).assert_success();
    let (push, digest) = client.push(lab, &target);
    push.assert_success();
    let digest = digest.unwrap_or_else(|| panic!("the push reported no digest:\n{push}"));

    let images = aws.ecr_json(
        lab,
        &["describe-images", "--repository-name", LAB_REPOSITORY],
    );
    let details = images["imageDetails"]
        .as_array()
        .expect("imageDetails array");
    assert_eq!(details.len(), 1, "{images:#}");
    assert_eq!(details[0]["imageDigest"], digest.trim(), "{images:#}");
    assert_eq!(details[0]["imageTags"], json!(["v1"]), "{images:#}");

    check_push_event_host(lab, &host);
    assert_push_steps_pass(lab);
}

/// Checks that the journal records the accepted push of `my-app:v1` with `host` as its `Host`
/// header, in the account and region that the host name names, and that no registry request
/// of the test used another host.
fn check_push_event_host(lab: &MockLab, host: &str) {
    let journal = lab.journal();
    let registry_events: Vec<_> = journal
        .iter()
        .filter(|event| event.source == Source::Registry)
        .collect();
    let push = registry_events
        .iter()
        .find(|event| {
            event.action == "ManifestPut"
                && event.outcome == Outcome::Ok
                && event.repository.as_deref() == Some(LAB_REPOSITORY)
                && event.reference.as_deref() == Some("v1")
        })
        .unwrap_or_else(|| panic!("no accepted ManifestPut of my-app:v1: {journal:#?}"));
    assert_eq!(push.host.as_deref(), Some(host), "{push:#?}");
    assert_eq!(push.account, ACCOUNT_ID, "{push:#?}");
    assert_eq!(push.region, REGION, "{push:#?}");

    let other_hosts: Vec<_> = registry_events
        .iter()
        .filter(|event| event.host.as_deref() != Some(host))
        .collect();
    assert!(
        other_hosts.is_empty(),
        "registry requests addressed to another host than {host}: {other_hosts:#?}"
    );
}

#[test]
fn ecr_host_name_rejects_token_of_other_region() {
    let case = "ecr_host_name_rejects_token_of_other_region";
    let Some(lab) = start_on_ecr_host_name(case) else {
        return;
    };
    let Some(podman) = ContainerCli::podman(case, &lab) else {
        return;
    };
    let Some(aws) = AwsCli::one(case, 2) else {
        return;
    };
    let host = expected_registry_host(&lab);

    // `ecr_command` puts `--region us-east-1` before `ecr`. AWS CLI 1.46 and 2.9 use the last
    // `--region` given, and the journal check below fails if another version does not.
    let other_password = aws.ecr(&lab, &["get-login-password", "--region", OTHER_REGION]);
    other_password.assert_success();
    let journal = lab.journal();
    let token_call = journal
        .iter()
        .rfind(|event| event.action == "GetAuthorizationToken")
        .unwrap_or_else(|| panic!("no GetAuthorizationToken in the journal: {journal:#?}"));
    assert_eq!(token_call.region, OTHER_REGION, "{token_call:#?}");

    // podman 4.3 reports a 401 to its `GET /v2/` as a wrong password and prints the error body,
    // the mock's message, only at the debug log level. docker 20.10 prints only the status, so
    // this case uses podman.
    podman
        .login(&lab, &host, &other_password.stdout)
        .assert_rejected(Some(125), "invalid username/password");
    let message = format!(
        "the password is a token for account {ACCOUNT_ID} in {OTHER_REGION}, but this request is addressed to '{host}' (account {ACCOUNT_ID} in {REGION}); get a password for that registry with 'aws ecr get-login-password --region {REGION}'"
    );
    let password_arg = format!("--password={}", other_password.stdout.trim());
    podman
        .run(
            &lab,
            &[
                "--log-level=debug",
                "login",
                "--username=AWS",
                &password_arg,
                "--tls-verify=false",
                &host,
            ],
        )
        .assert_rejected(Some(125), &format!("denied: login rejected: {message}"));

    let journal = lab.journal();
    let rejected = journal
        .iter()
        .find(|event| {
            event.source == Source::Registry && event.error_code.as_deref() == Some("DENIED")
        })
        .unwrap_or_else(|| panic!("no registry request rejected with DENIED: {journal:#?}"));
    assert_eq!(rejected.action, "Login", "{rejected:#?}");
    assert_eq!(
        rejected.host.as_deref(),
        Some(host.as_str()),
        "{rejected:#?}"
    );
    assert!(
        rejected
            .message
            .as_deref()
            .is_some_and(|text| text.contains(&message)),
        "the journal records another message: {rejected:#?}"
    );

    // A us-east-1 token, from the command that the message names, logs in to the same name.
    let password = aws.login_password(&lab);
    podman.login(&lab, &host, &password).assert_success();
}

/// Starts a mock whose repository URIs name [`ECR_HOST_NAME`], or applies the missing-client
/// policy for `case` when that name does not resolve to this machine only: under `CI=true` the
/// test fails, elsewhere it is announced as skipped.
fn start_on_ecr_host_name(case: &str) -> Option<MockLab> {
    let lab = MockLab::start_with_public_host(ECR_HOST_NAME);
    let mapping = lab.block_on(hosts::check_registry_host(
        ECR_HOST_NAME,
        ACCOUNT_ID,
        REGION,
    ));
    if matches!(mapping, HostMapping::Mapped { .. }) {
        return Some(lab);
    }
    let advice = mapping.advice();
    assert!(
        !harness::in_ci(),
        "{case}: {advice} Under CI=true, .ci/run adds that line, so its /etc/hosts step failed or did not run."
    );
    harness::announce(&format!("SKIPPED {case}: {advice}"));
    None
}

/// Returns `<ECR_HOST_NAME>:<port of the mock>`, asserting that the mock names it as its
/// registry host.
fn expected_registry_host(lab: &MockLab) -> String {
    let port = lab
        .endpoint()
        .rsplit(':')
        .next()
        .expect("the endpoint ends with a port");
    let host = format!("{ECR_HOST_NAME}:{port}");
    assert_eq!(
        lab.registry_host(),
        host,
        "the mock names another registry host"
    );
    host
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// podman with its own storage, logged in to the lab's registry.
struct Podman<'a> {
    cli: ContainerCli,
    lab: &'a MockLab,
}

impl<'a> Podman<'a> {
    /// Returns podman logged in with the lab's password, or applies the missing-client policy.
    fn find(case: &str, setup: &'a RegistryLab) -> Option<Self> {
        let cli = ContainerCli::podman(case, &setup.lab)?;
        cli.login(&setup.lab, setup.lab.registry_host(), &setup.password)
            .assert_success();
        Some(Self {
            cli,
            lab: &setup.lab,
        })
    }

    fn run(&self, args: &[&str]) -> Run {
        self.cli.run(self.lab, args)
    }

    /// Builds the lab's sample image as [`LOCAL_IMAGE`].
    fn build_sample(&self) {
        self.cli
            .build_sample(self.lab, LOCAL_IMAGE, 1)
            .assert_success();
    }

    /// Builds the sample image for `platform` as `image`. The Containerfile only copies files,
    /// so an image for another architecture builds without emulation.
    fn build_for_platform(&self, image: &str, platform: &str) {
        let context = harness::sample_image_context();
        let containerfile = context.join("Containerfile").display().to_string();
        let context = context.display().to_string();
        // Without --no-cache, podman 4.3 reuses the first platform's build for the second,
        // which leaves both images with the first platform's architecture.
        self.run(&[
            "build",
            "--no-cache",
            "--platform",
            platform,
            "-t",
            image,
            "-f",
            &containerfile,
            &context,
        ])
        .assert_success();
        let built = self.inspect_image(image);
        let expected_architecture = platform.rsplit('/').next().unwrap_or_default();
        assert_eq!(built["Architecture"], expected_architecture, "{built:#}");
    }

    /// Runs `podman push <source> <target>` with `extra` flags and returns the run.
    fn push_run(&self, source: &str, target: &str, extra: &[&str]) -> Run {
        let digest_file = self.digest_file();
        // A digest file left by an earlier push must not pass for this push's digest.
        let _ = std::fs::remove_file(&digest_file);
        let digest_file_arg = format!("--digestfile={}", digest_file.display());
        let mut args = vec!["push", "--tls-verify=false", &digest_file_arg];
        args.extend(extra);
        args.extend([source, target]);
        self.run(&args)
    }

    /// Pushes `source` to `target`, asserts success and returns the manifest digest.
    fn push(&self, source: &str, target: &str, extra: &[&str]) -> String {
        self.push_run(source, target, extra).assert_success();
        read_digest_file(&self.digest_file())
    }

    fn digest_file(&self) -> std::path::PathBuf {
        self.lab.scratch_dir("podman-digests").join("push")
    }

    /// Removes every local image, so the next pull downloads all blobs again.
    fn remove_all_images(&self) {
        self.run(&["rmi", "--all", "--force"]).assert_success();
        let left = self.run(&["images", "--quiet"]);
        left.assert_success();
        assert_eq!(left.stdout.trim(), "", "images are left:\n{left}");
    }

    fn pull(&self, reference: &str, extra: &[&str]) {
        let mut args = vec!["pull", "--tls-verify=false"];
        args.extend(extra);
        args.push(reference);
        self.run(&args).assert_success();
    }

    /// Returns `podman image inspect`'s object for `image`.
    fn inspect_image(&self, image: &str) -> Value {
        let run = self.run(&["image", "inspect", image]);
        run.assert_success();
        let inspected: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|error| panic!("podman printed invalid JSON ({error}):\n{run}"));
        inspected[0].clone()
    }
}

fn read_digest_file(path: &std::path::Path) -> String {
    let digest = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("podman wrote no digest to {}: {error}", path.display()));
    digest.trim().to_owned()
}

/// Parses the first line of the script's standard output, the JSON that names its digests.
fn first_line_json(run: &Run) -> Value {
    let line = run.stdout.lines().next().unwrap_or_default();
    serde_json::from_str(line)
        .unwrap_or_else(|error| panic!("the script printed no JSON line ({error}):\n{run}"))
}
