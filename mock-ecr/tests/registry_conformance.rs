//! Conformance of the registry front end to the OCI distribution specification v1.1, driven in
//! process. The tests follow the specification's four categories (pull, push, content discovery,
//! content management), then digests and error bodies. Quoted section names are those of
//! spec.md in github.com/opencontainers/distribution-spec at tag v1.1.1.
//!
//! Where the specification leaves a choice to the registry, the tests expect ECR's: blobs are
//! never deleted through the registry API, and each repository has its own layers.

mod common;

use axum::http::{Method, StatusCode};
use common::{HOST, Reply, TestMock, image_manifest, sha256};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha512};

/// The repository most tests use. Its name contains `/`, as many ECR repository names do.
const REPOSITORY: &str = "conformance/app";
/// A second repository, for checks that content stays in its own repository.
const OTHER_REPOSITORY: &str = "conformance/other";
/// A repository name that no test creates.
const MISSING_REPOSITORY: &str = "conformance/missing";

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCTET_STREAM: (&str, &str) = ("content-type", "application/octet-stream");

/// The empty JSON blob, which artifacts use as their config.
const EMPTY_JSON: &[u8] = b"{}";

/// The maximum manifest size that mock-ecr accepts. "Pushing Manifests" expects registries to
/// accept at least 4 megabytes.
const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// The codes of the "Error Codes" table, plus `TAG_INVALID` and `MANIFEST_UNVERIFIED`, the legacy
/// Docker codes that the specification warns clients they may encounter.
const OCI_ERROR_CODES: [&str; 16] = [
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
    "TAG_INVALID",
    "MANIFEST_UNVERIFIED",
];

/// The ways to upload a blob that "Pushing blobs" defines.
#[derive(Debug, Clone, Copy)]
enum UploadMethod {
    /// `POST ?digest=` with the whole blob ("Single POST").
    SinglePost,
    /// `POST`, then `PUT ?digest=` with the whole blob ("POST then PUT").
    PostThenPut,
    /// `POST`, two `PATCH` requests with `Content-Range`, then `PUT ?digest=` without a body.
    Chunked,
    /// `POST`, one `PATCH` without `Content-Range`, then `PUT ?digest=` without a body.
    Streamed,
}

const UPLOAD_METHODS: [UploadMethod; 4] = [
    UploadMethod::SinglePost,
    UploadMethod::PostThenPut,
    UploadMethod::Chunked,
    UploadMethod::Streamed,
];

/// A mock with [`REPOSITORY`] and [`OTHER_REPOSITORY`] created, and a logged-in client.
struct Session {
    mock: TestMock,
    auth: String,
}

impl Session {
    async fn start() -> Self {
        let mock = TestMock::new();
        mock.create_repository(REPOSITORY, "MUTABLE").await;
        mock.create_repository(OTHER_REPOSITORY, "MUTABLE").await;
        let auth = mock.login().await;
        Self { mock, auth }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        self.mock
            .registry(method, path, Some(&self.auth), headers, body.to_vec())
            .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[], b"").await
    }

    async fn push_blob(&self, repository: &str, content: &[u8]) -> String {
        self.mock.push_blob(&self.auth, repository, content).await
    }

    /// Uploads a config and a layer to [`REPOSITORY`] and returns an OCI image manifest that
    /// names them.
    async fn oci_image(&self, seed: &str) -> Vec<u8> {
        self.mock
            .push_image_blobs(&self.auth, REPOSITORY, seed)
            .await
    }

    /// Uploads a config and a layer to [`REPOSITORY`] and returns a Docker image manifest
    /// (schema 2) that names them.
    async fn docker_image(&self, seed: &str) -> Vec<u8> {
        let config = format!(r#"{{"architecture":"arm64","os":"linux","seed":"{seed}"}}"#);
        let layer = format!("docker layer for {seed}");
        let config_digest = self.push_blob(REPOSITORY, config.as_bytes()).await;
        let layer_digest = self.push_blob(REPOSITORY, layer.as_bytes()).await;
        to_json(&json!({
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": [{
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "digest": layer_digest,
                "size": layer.len(),
            }],
        }))
    }

    async fn put_manifest(&self, reference: &str, media_type: &str, manifest: &[u8]) -> Reply {
        let path = format!("/v2/{REPOSITORY}/manifests/{reference}");
        let headers = [("content-type", media_type)];
        self.send(Method::PUT, &path, &headers, manifest).await
    }

    /// Pushes a manifest that the test needs as a fixture, and fails unless it is stored.
    async fn store_manifest(&self, reference: &str, media_type: &str, manifest: &[u8]) {
        let reply = self.put_manifest(reference, media_type, manifest).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "storing {reference}: {}",
            body_text(&reply)
        );
    }

    async fn get_manifest(&self, reference: &str, accept: &str) -> Reply {
        let path = format!("/v2/{REPOSITORY}/manifests/{reference}");
        self.send(Method::GET, &path, &[("accept", accept)], b"")
            .await
    }

    async fn delete_manifest(&self, reference: &str) -> Reply {
        let path = format!("/v2/{REPOSITORY}/manifests/{reference}");
        self.send(Method::DELETE, &path, &[], b"").await
    }

    async fn tags(&self) -> Value {
        let reply = self.get(&format!("/v2/{REPOSITORY}/tags/list")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", body_text(&reply));
        reply.json()["tags"].clone()
    }

    async fn referrers(&self, subject: &str) -> Reply {
        self.get(&format!("/v2/{REPOSITORY}/referrers/{subject}"))
            .await
    }

    /// Starts an upload session in `repository` and returns the path its `Location` names.
    async fn start_upload(&self, repository: &str) -> String {
        let path = format!("/v2/{repository}/blobs/uploads/");
        let reply = self.send(Method::POST, &path, &[], b"").await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", body_text(&reply));
        location(&reply)
    }

    /// Sends one chunk with `Content-Range: <start>-<end>` and returns the response.
    async fn patch_chunk(&self, upload: &str, start: usize, chunk: &[u8]) -> Reply {
        let range = format!("{start}-{}", start + chunk.len() - 1);
        let headers = [OCTET_STREAM, ("content-range", range.as_str())];
        self.send(Method::PATCH, upload, &headers, chunk).await
    }

    /// Uploads `content` to [`REPOSITORY`] with `method`, naming `digest` as its digest, and
    /// returns the response to the request that completes the upload. The steps before it must
    /// succeed. [`UploadMethod::Chunked`] needs at least 2 bytes of content.
    async fn upload(&self, method: UploadMethod, content: &[u8], digest: &str) -> Reply {
        match method {
            UploadMethod::SinglePost => {
                let path = with_digest(&format!("/v2/{REPOSITORY}/blobs/uploads/"), digest);
                self.send(Method::POST, &path, &[OCTET_STREAM], content)
                    .await
            }
            UploadMethod::PostThenPut => {
                let upload = self.start_upload(REPOSITORY).await;
                let path = with_digest(&upload, digest);
                self.send(Method::PUT, &path, &[OCTET_STREAM], content)
                    .await
            }
            UploadMethod::Chunked => {
                assert!(content.len() >= 2, "a chunked upload needs two chunks");
                let middle = content.len() / 2;
                let mut upload = self.start_upload(REPOSITORY).await;
                for (start, chunk) in [(0, &content[..middle]), (middle, &content[middle..])] {
                    let reply = self.patch_chunk(&upload, start, chunk).await;
                    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", body_text(&reply));
                    let end = start + chunk.len() - 1;
                    assert_eq!(reply.header("range"), Some(format!("0-{end}").as_str()));
                    upload = location(&reply);
                }
                self.send(Method::PUT, &with_digest(&upload, digest), &[], b"")
                    .await
            }
            UploadMethod::Streamed => {
                let upload = self.start_upload(REPOSITORY).await;
                let reply = self
                    .send(Method::PATCH, &upload, &[OCTET_STREAM], content)
                    .await;
                assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", body_text(&reply));
                let end = content.len().saturating_sub(1);
                assert_eq!(reply.header("range"), Some(format!("0-{end}").as_str()));
                let upload = location(&reply);
                self.send(Method::PUT, &with_digest(&upload, digest), &[], b"")
                    .await
            }
        }
    }

    /// Follows the `Location` of a completed upload and checks that it serves `content`.
    async fn assert_blob_at_location(&self, reply: &Reply, content: &[u8], case: &str) {
        let pulled = self.get(&location(reply)).await;
        assert_eq!(
            pulled.status,
            StatusCode::OK,
            "{case}: {}",
            body_text(&pulled)
        );
        assert_eq!(pulled.body, content, "{case}");
    }
}

fn body_text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

fn to_json(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a JSON value serializes")
}

fn sha512(bytes: &[u8]) -> String {
    format!("sha512:{}", hex::encode(Sha512::digest(bytes)))
}

/// Returns the path and query that a client requests when it follows `reference`, which may be
/// an absolute URL or an absolute path ("POST then PUT" allows both).
///
/// NOTE: a relative-path reference such as `uploads/<id>` is valid too, but resolving it needs
/// the request URL, so it fails here. The mock sends absolute paths.
fn resolve(reference: &str) -> String {
    let path = match reference.split_once("://") {
        Some((_scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            assert_eq!(authority, HOST, "{reference} names another host");
            path
        }
        None => reference,
    };
    assert!(
        path.starts_with("/v2/"),
        "{reference} is not an absolute URL or path under /v2/"
    );
    path.to_owned()
}

/// Returns the path that the response's `Location` header names.
fn location(reply: &Reply) -> String {
    let value = reply.header("location").unwrap_or_else(|| {
        panic!(
            "a {} response has no Location header: {}",
            reply.status,
            body_text(reply)
        )
    });
    resolve(value)
}

/// Adds `digest=<digest>` to the query of `path`, which may already have one.
fn with_digest(path: &str, digest: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}digest={digest}")
}

/// Returns the target of a `Link: <target>; rel="next"` header, if there is one ("Listing
/// Tags" requires the RFC 5988 form).
fn next_link(reply: &Reply) -> Option<String> {
    let link = reply.header("link")?;
    let (target, parameters) = link
        .split_once(';')
        .unwrap_or_else(|| panic!("Link header {link:?} has no parameters"));
    assert_eq!(parameters.trim(), r#"rel="next""#, "Link header {link:?}");
    let target = target
        .trim()
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or_else(|| panic!("Link header {link:?} does not enclose its target in <>"));
    Some(resolve(target))
}

/// Checks that the body is an OCI error envelope, `{"errors":[{"code":...,"message":...}]}`,
/// sent as JSON, whose codes are all in the specification's table.
fn assert_error_envelope(reply: &Reply, case: &str) {
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{case}"
    );
    let body = reply.json();
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{case}: no errors array in {body}"));
    assert!(!errors.is_empty(), "{case}: the errors array is empty");
    for error in errors {
        let code = error["code"].as_str().unwrap_or_default();
        assert!(
            OCI_ERROR_CODES.contains(&code),
            "{case}: {error} has no error code from the specification"
        );
        assert!(
            error["message"].is_string(),
            "{case}: {error} has no message"
        );
    }
}

/// Checks an error response's status, its OCI error envelope and its first error code.
fn assert_error(reply: &Reply, status: StatusCode, code: &str, case: &str) {
    assert_eq!(reply.status, status, "{case}: {}", body_text(reply));
    assert_error_envelope(reply, case);
    assert_eq!(reply.json()["errors"][0]["code"], code, "{case}");
}

fn error_message(reply: &Reply) -> String {
    reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Builds an OCI image index that lists `manifests`, given as (digest, size) pairs.
fn index_manifest(manifests: &[(&str, usize)]) -> Vec<u8> {
    let descriptors: Vec<Value> = manifests
        .iter()
        .map(|(digest, size)| json!({ "mediaType": OCI_MANIFEST, "digest": digest, "size": size }))
        .collect();
    to_json(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": descriptors,
    }))
}

/// The fields of an OCI image manifest that refers to another manifest through `subject`, as
/// signatures and SBOMs do.
struct Referrer<'a> {
    subject: &'a str,
    subject_size: usize,
    /// The digest of the [`EMPTY_JSON`] blob, used as the config.
    config: &'a str,
    config_media_type: &'a str,
    artifact_type: Option<&'a str>,
    annotations: Value,
}

impl Referrer<'_> {
    fn manifest(&self) -> Vec<u8> {
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": self.config_media_type,
                "digest": self.config,
                "size": EMPTY_JSON.len(),
            },
            "layers": [],
            "subject": {
                "mediaType": OCI_MANIFEST,
                "digest": self.subject,
                "size": self.subject_size,
            },
            "annotations": self.annotations,
        });
        if let Some(artifact_type) = self.artifact_type {
            manifest["artifactType"] = json!(artifact_type);
        }
        to_json(&manifest)
    }
}

/// Builds an OCI image manifest without layers, padded with an annotation to exactly `size`
/// bytes.
fn padded_manifest(config: &str, config_size: usize, size: usize) -> Vec<u8> {
    let with_padding = |padding: &str| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_size}}},"layers":[],"annotations":{{"padding":"{padding}"}}}}"#
        )
    };
    let overhead = with_padding("").len();
    let manifest = with_padding(&"x".repeat(size - overhead));
    assert_eq!(manifest.len(), size);
    manifest.into_bytes()
}

// Pull ("Pulling manifests", "Pulling blobs", "Checking if content exists in the registry").

#[tokio::test]
async fn manifest_pull_by_tag_and_digest() {
    let session = Session::start().await;
    let oci = session.oci_image("oci").await;
    let docker = session.docker_image("docker").await;
    let oci_digest = sha256(&oci);
    session
        .store_manifest(&oci_digest, OCI_MANIFEST, &oci)
        .await;
    let index = index_manifest(&[(&oci_digest, oci.len())]);

    let cases = [
        ("oci-image", OCI_MANIFEST, oci),
        ("docker-image", DOCKER_MANIFEST, docker),
        ("oci-index", OCI_INDEX, index),
    ];
    for (tag, media_type, manifest) in &cases {
        session.store_manifest(tag, media_type, manifest).await;
        let digest = sha256(manifest);
        for reference in [*tag, digest.as_str()] {
            let path = format!("/v2/{REPOSITORY}/manifests/{reference}");
            for method in [Method::GET, Method::HEAD] {
                let case = format!("{method} {tag} by {reference}");
                let headers = [("accept", *media_type)];
                let reply = session.send(method.clone(), &path, &headers, b"").await;

                assert_eq!(reply.status, StatusCode::OK, "{case}");
                assert_eq!(reply.header("content-type"), Some(*media_type), "{case}");
                assert_eq!(
                    reply.header("docker-content-digest"),
                    Some(digest.as_str()),
                    "{case}"
                );
                let length = manifest.len().to_string();
                assert_eq!(
                    reply.header("content-length"),
                    Some(length.as_str()),
                    "{case}"
                );
                let body: &[u8] = if method == Method::HEAD {
                    b""
                } else {
                    manifest
                };
                assert_eq!(reply.body, body, "{case}");
            }
        }
    }
}

/// Pulls see every change at once, although the mock keeps the manifests it served in memory
/// while the database is unchanged.
#[tokio::test]
async fn pulls_follow_tag_moves_and_deletes() {
    let session = Session::start().await;
    let first = session.oci_image("first").await;
    let second = session.oci_image("second").await;
    session.store_manifest("moving", OCI_MANIFEST, &first).await;

    for pull in 0..3 {
        let reply = session.get_manifest("moving", OCI_MANIFEST).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "pull {pull} of the first image"
        );
        assert_eq!(reply.body, first, "pull {pull} of the first image");
    }

    session
        .store_manifest("moving", OCI_MANIFEST, &second)
        .await;
    let reply = session.get_manifest("moving", OCI_MANIFEST).await;
    assert_eq!(reply.status, StatusCode::OK, "pull after the tag moved");
    assert_eq!(reply.body, second, "pull after the tag moved");

    let reply = session.delete_manifest(&sha256(&second)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", body_text(&reply));
    let reply = session.get_manifest("moving", OCI_MANIFEST).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "pull after the delete");
    let reply = session.get_manifest(&sha256(&second), OCI_MANIFEST).await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "pull by digest after the delete"
    );
    let reply = session.get_manifest(&sha256(&first), OCI_MANIFEST).await;
    assert_eq!(reply.status, StatusCode::OK, "the untagged first image");
}

/// Whatever a pull by tag returns for an `Accept` header, its `Docker-Content-Digest`,
/// `Content-Length` and `Content-Type` describe the bytes sent, because clients verify them
/// ("Pulling manifests"). A pull by digest returns the bytes with that digest.
#[tokio::test]
async fn manifest_headers_match_served_bytes() {
    let session = Session::start().await;
    let stored = session.docker_image("negotiated").await;
    session.store_manifest("v1", DOCKER_MANIFEST, &stored).await;
    let stored_digest = sha256(&stored);

    let accepts = [
        DOCKER_MANIFEST,
        OCI_MANIFEST,
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
        "*/*",
    ];
    for accept in accepts {
        for reference in ["v1", stored_digest.as_str()] {
            let case = format!("{reference} with Accept {accept}");
            let reply = session.get_manifest(reference, accept).await;
            assert_eq!(reply.status, StatusCode::OK, "{case}");

            let digest = sha256(&reply.body);
            assert_eq!(
                reply.header("docker-content-digest"),
                Some(digest.as_str()),
                "{case}"
            );
            let length = reply.body.len().to_string();
            assert_eq!(
                reply.header("content-length"),
                Some(length.as_str()),
                "{case}"
            );
            let media_type = reply.json()["mediaType"].clone();
            assert_eq!(reply.header("content-type"), media_type.as_str(), "{case}");
            if reference == stored_digest {
                assert_eq!(reply.body, stored, "{case}");
            }
        }
    }
}

/// "The registry MUST store the manifest in the exact byte representation provided by the
/// client." The manifest has no layers, which "Pushing Manifests" allows.
#[tokio::test]
async fn manifest_bytes_kept_exactly() {
    let session = Session::start().await;
    let config = session.push_blob(REPOSITORY, EMPTY_JSON).await;
    // Key order, indentation and a trailing newline that a registry re-serializing the
    // manifest would change.
    let manifest = format!(
        "{{\n    \"layers\" : [ ],\n    \"schemaVersion\" : 2,\n    \"config\" : {{\"size\": 2, \"digest\": \"{config}\", \"mediaType\": \"{OCI_EMPTY}\"}},\n    \"mediaType\" : \"{OCI_MANIFEST}\"\n}}\n"
    )
    .into_bytes();
    session
        .store_manifest("spaced", OCI_MANIFEST, &manifest)
        .await;

    let reply = session.get_manifest("spaced", OCI_MANIFEST).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, manifest);
    let digest = sha256(&manifest);
    assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
}

#[tokio::test]
async fn blob_pull_and_head() {
    let session = Session::start().await;
    let content = b"blob content for pulling";
    let digest = session.push_blob(REPOSITORY, content).await;
    let path = format!("/v2/{REPOSITORY}/blobs/{digest}");

    for method in [Method::GET, Method::HEAD] {
        let case = format!("{method} blob");
        let reply = session.send(method.clone(), &path, &[], b"").await;
        assert_eq!(reply.status, StatusCode::OK, "{case}");
        assert_eq!(
            reply.header("docker-content-digest"),
            Some(digest.as_str()),
            "{case}"
        );
        let length = content.len().to_string();
        assert_eq!(
            reply.header("content-length"),
            Some(length.as_str()),
            "{case}"
        );
        let body: &[u8] = if method == Method::HEAD { b"" } else { content };
        assert_eq!(reply.body, body, "{case}");
    }
}

#[tokio::test]
async fn missing_content_returns_404() {
    let session = Session::start().await;
    let unknown = sha256(b"never pushed");
    // (case, path, code, whether the specification defines HEAD on the path)
    let cases = [
        (
            "manifest by tag",
            format!("/v2/{REPOSITORY}/manifests/no-such-tag"),
            "MANIFEST_UNKNOWN",
            true,
        ),
        (
            "manifest by digest",
            format!("/v2/{REPOSITORY}/manifests/{unknown}"),
            "MANIFEST_UNKNOWN",
            true,
        ),
        (
            "blob",
            format!("/v2/{REPOSITORY}/blobs/{unknown}"),
            "BLOB_UNKNOWN",
            true,
        ),
        (
            "manifest in a missing repository",
            format!("/v2/{MISSING_REPOSITORY}/manifests/latest"),
            "NAME_UNKNOWN",
            true,
        ),
        (
            "blob in a missing repository",
            format!("/v2/{MISSING_REPOSITORY}/blobs/{unknown}"),
            "NAME_UNKNOWN",
            true,
        ),
        (
            "tags of a missing repository",
            format!("/v2/{MISSING_REPOSITORY}/tags/list"),
            "NAME_UNKNOWN",
            false,
        ),
        (
            "referrers in a missing repository",
            format!("/v2/{MISSING_REPOSITORY}/referrers/{unknown}"),
            "NAME_UNKNOWN",
            false,
        ),
    ];
    for (case, path, code, head_defined) in &cases {
        let get = session.get(path).await;
        assert_error(&get, StatusCode::NOT_FOUND, code, &format!("GET {case}"));
        if *head_defined {
            let head = session.send(Method::HEAD, path, &[], b"").await;
            assert_eq!(head.status, StatusCode::NOT_FOUND, "HEAD {case}");
        }
    }
}

/// ECR keeps layers per repository, so a blob pushed to one repository is unknown in another.
#[tokio::test]
async fn blob_of_other_repository_unknown() {
    let session = Session::start().await;
    let digest = session
        .push_blob(OTHER_REPOSITORY, b"only in the other repository")
        .await;

    let reply = session
        .get(&format!("/v2/{REPOSITORY}/blobs/{digest}"))
        .await;
    assert_error(
        &reply,
        StatusCode::NOT_FOUND,
        "BLOB_UNKNOWN",
        "other repository",
    );
}

/// "A registry SHOULD support the `Range` request header in accordance with RFC 9110."
#[tokio::test]
async fn blob_range_requests() {
    let session = Session::start().await;
    let content: Vec<u8> = (0..1000_u32)
        .map(|index| u8::try_from(index * 7 % 251).expect("below 251"))
        .collect();
    let digest = session.push_blob(REPOSITORY, &content).await;
    let path = format!("/v2/{REPOSITORY}/blobs/{digest}");

    let satisfiable = [
        ("bytes=100-399", 100, 399),
        ("bytes=900-", 900, 999),
        ("bytes=-250", 750, 999),
        ("bytes=700-5000", 700, 999),
        ("bytes=0-0", 0, 0),
    ];
    for (range, first, last) in satisfiable {
        let reply = session
            .send(Method::GET, &path, &[("range", range)], b"")
            .await;
        assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(reply.body, &content[first..=last], "{range}");
        let content_range = format!("bytes {first}-{last}/1000");
        assert_eq!(
            reply.header("content-range"),
            Some(content_range.as_str()),
            "{range}"
        );
        let length = (last - first + 1).to_string();
        assert_eq!(
            reply.header("content-length"),
            Some(length.as_str()),
            "{range}"
        );
    }

    // A 416 to a byte-range request names the blob's length as `Content-Range: bytes
    // */<length>` (RFC 2616, section 10.4.17).
    for range in ["bytes=300-10", "bytes=1000-1200"] {
        let reply = session
            .send(Method::GET, &path, &[("range", range)], b"")
            .await;
        assert_eq!(reply.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(
            reply.header("content-range"),
            Some("bytes */1000"),
            "{range}"
        );
    }
}

/// "A successful response MUST contain the size in bytes of the uploaded blob or manifest in the
/// header `Content-Length`", so a HEAD request reports the whole blob even with a `Range`.
#[tokio::test]
async fn blob_head_ignores_range() {
    let session = Session::start().await;
    let digest = session.push_blob(REPOSITORY, &[7; 1000]).await;
    let path = format!("/v2/{REPOSITORY}/blobs/{digest}");

    let head = session
        .send(Method::HEAD, &path, &[("range", "bytes=100-399")], b"")
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), Some("1000"));
    assert_eq!(head.header("content-range"), None);
}

// Push ("Pushing blobs", "Pushing Manifests").

#[tokio::test]
async fn every_upload_method_stores_blob() {
    let session = Session::start().await;
    for method in UPLOAD_METHODS {
        let case = format!("{method:?}");
        let content = format!("blob uploaded with {method:?}").into_bytes();
        let digest = sha256(&content);
        let reply = session.upload(method, &content, &digest).await;

        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{case}: {}",
            body_text(&reply)
        );
        assert_eq!(
            reply.header("docker-content-digest"),
            Some(digest.as_str()),
            "{case}"
        );
        session
            .assert_blob_at_location(&reply, &content, &case)
            .await;
    }
}

/// The empty blob and the empty JSON blob, which image and artifact manifests use.
#[tokio::test]
async fn empty_and_json_blobs_upload() {
    let session = Session::start().await;
    for content in [b"".as_slice(), EMPTY_JSON] {
        for method in [UploadMethod::SinglePost, UploadMethod::PostThenPut] {
            let case = format!("{method:?} of {:?}", String::from_utf8_lossy(content));
            let digest = sha256(content);
            let reply = session.upload(method, content, &digest).await;
            assert_eq!(
                reply.status,
                StatusCode::CREATED,
                "{case}: {}",
                body_text(&reply)
            );

            let head = session
                .send(Method::HEAD, &location(&reply), &[], b"")
                .await;
            let length = content.len().to_string();
            assert_eq!(head.status, StatusCode::OK, "{case}");
            assert_eq!(
                head.header("content-length"),
                Some(length.as_str()),
                "{case}"
            );
            session
                .assert_blob_at_location(&reply, content, &case)
                .await;
        }
    }
}

/// "The `<blob-push-location>` MUST contain a UUID representing a unique session ID."
#[tokio::test]
async fn upload_location_contains_uuid() {
    let session = Session::start().await;
    let path = format!("/v2/{REPOSITORY}/blobs/uploads/");
    let first = session.send(Method::POST, &path, &[], b"").await;
    let second = session.send(Method::POST, &path, &[], b"").await;

    for reply in [&first, &second] {
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        let id = reply
            .header("docker-upload-uuid")
            .expect("Docker-Upload-UUID");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id} is not a UUID");
        assert!(
            location(reply).contains(id),
            "{:?}",
            reply.header("location")
        );
    }
    assert_ne!(
        location(&first),
        location(&second),
        "each session is unique"
    );
}

#[tokio::test]
async fn chunked_upload_final_chunk_in_put() {
    let session = Session::start().await;
    let content = b"first chunk, then the last chunk in the PUT";
    let digest = sha256(content);
    let upload = session.start_upload(REPOSITORY).await;

    let first = session.patch_chunk(&upload, 0, &content[..12]).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_eq!(first.header("range"), Some("0-11"));

    let range = format!("12-{}", content.len() - 1);
    let headers = [OCTET_STREAM, ("content-range", range.as_str())];
    let path = with_digest(&location(&first), &digest);
    let done = session
        .send(Method::PUT, &path, &headers, &content[12..])
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", body_text(&done));
    session
        .assert_blob_at_location(&done, content, "final chunk in PUT")
        .await;
}

/// "If a chunk is uploaded out of order, the registry MUST respond with a `416`", and the
/// upload continues from the bytes it already contains.
#[tokio::test]
async fn out_of_order_chunk_gets_416() {
    let session = Session::start().await;
    let content = b"0123456789abcdefghij";
    let digest = sha256(content);
    let cases = [
        ("chunk that skips ahead", 15, &content[15..]),
        ("first chunk sent again", 0, &content[..10]),
        ("chunk that overlaps the held bytes", 5, &content[5..15]),
    ];
    for (case, start, chunk) in cases {
        let upload = session.start_upload(REPOSITORY).await;
        let first = session.patch_chunk(&upload, 0, &content[..10]).await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "{case}");
        let upload = location(&first);

        let rejected = session.patch_chunk(&upload, start, chunk).await;
        assert_eq!(
            rejected.status,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "{case}: {}",
            body_text(&rejected)
        );
        assert_error_envelope(&rejected, case);
        assert_eq!(rejected.header("range"), Some("0-9"), "{case}");

        let status = session.get(&upload).await;
        assert_eq!(status.status, StatusCode::NO_CONTENT, "{case}");
        assert_eq!(status.header("range"), Some("0-9"), "{case}");

        let next = session
            .patch_chunk(&location(&status), 10, &content[10..])
            .await;
        assert_eq!(next.status, StatusCode::ACCEPTED, "{case}");
        let path = with_digest(&location(&next), &digest);
        let done = session.send(Method::PUT, &path, &[], b"").await;
        assert_eq!(
            done.status,
            StatusCode::CREATED,
            "{case}: {}",
            body_text(&done)
        );
    }
}

/// "If the final chunk is uploaded out of order, the registry MUST respond with a `416`."
#[tokio::test]
async fn out_of_order_closing_put_gets_416() {
    let session = Session::start().await;
    let content = b"0123456789abcdefghij";
    let digest = sha256(content);
    let upload = session.start_upload(REPOSITORY).await;
    let first = session.patch_chunk(&upload, 0, &content[..10]).await;
    let upload = location(&first);

    let headers = [OCTET_STREAM, ("content-range", "15-19")];
    let path = with_digest(&upload, &digest);
    let rejected = session
        .send(Method::PUT, &path, &headers, &content[15..])
        .await;
    assert_eq!(
        rejected.status,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "{}",
        body_text(&rejected)
    );
    assert_eq!(rejected.header("range"), Some("0-9"));

    let status = session.get(&upload).await;
    assert_eq!(
        status.status,
        StatusCode::NO_CONTENT,
        "the upload continues"
    );
    assert_eq!(status.header("range"), Some("0-9"));
}

/// A chunk's `Content-Range` covers exactly the chunk ("Pushing a blob in chunks"), so a body
/// of another length is rejected and nothing of it is kept.
#[tokio::test]
async fn chunk_length_must_match_range() {
    let session = Session::start().await;
    let cases = [
        ("body shorter than the range", "10-19", b"abcd".as_slice()),
        (
            "body longer than the range",
            "10-12",
            b"abcdefghij".as_slice(),
        ),
    ];
    for (case, range, body) in cases {
        let upload = session.start_upload(REPOSITORY).await;
        let first = session.patch_chunk(&upload, 0, b"0123456789").await;
        let upload = location(&first);

        let headers = [OCTET_STREAM, ("content-range", range)];
        let reply = session.send(Method::PATCH, &upload, &headers, body).await;
        let rejected = [StatusCode::BAD_REQUEST, StatusCode::RANGE_NOT_SATISFIABLE];
        assert!(
            rejected.contains(&reply.status),
            "{case}: got {} {}",
            reply.status,
            body_text(&reply)
        );
        assert_error_envelope(&reply, case);

        let status = session.get(&upload).await;
        assert_eq!(status.header("range"), Some("0-9"), "{case}");
    }
}

/// "The response to an active upload `<blob-push-location>` MUST be a `204 No Content`
/// response code, and MUST have the following headers: Location, Range."
#[tokio::test]
async fn upload_status_reports_progress() {
    let session = Session::start().await;
    let started = session
        .send(
            Method::POST,
            &format!("/v2/{REPOSITORY}/blobs/uploads/"),
            &[],
            b"",
        )
        .await;
    let id = started
        .header("docker-upload-uuid")
        .expect("Docker-Upload-UUID")
        .to_owned();
    let first = session
        .patch_chunk(&location(&started), 0, b"0123456789")
        .await;

    let status = session.get(&location(&first)).await;
    assert_eq!(status.status, StatusCode::NO_CONTENT);
    assert_eq!(status.header("range"), Some("0-9"));
    assert_eq!(status.header("docker-upload-uuid"), Some(id.as_str()));
    assert!(status.body.is_empty());

    let next = session.patch_chunk(&location(&status), 10, b"abcdef").await;
    assert_eq!(
        next.status,
        StatusCode::ACCEPTED,
        "the status Location continues the upload"
    );
    assert_eq!(next.header("range"), Some("0-15"));
}

/// "Cancel a blob upload": DELETE returns 204, and the session is gone afterwards.
#[tokio::test]
async fn cancelled_upload_is_unknown() {
    let session = Session::start().await;
    let upload = session.start_upload(REPOSITORY).await;
    let first = session.patch_chunk(&upload, 0, b"0123456789").await;
    let upload = location(&first);

    let cancel = session.send(Method::DELETE, &upload, &[], b"").await;
    assert_eq!(
        cancel.status,
        StatusCode::NO_CONTENT,
        "{}",
        body_text(&cancel)
    );

    let digest = sha256(b"0123456789");
    let requests = [
        (Method::GET, upload.clone(), Vec::new()),
        (Method::PATCH, upload.clone(), b"more".to_vec()),
        (Method::PUT, with_digest(&upload, &digest), Vec::new()),
        (Method::DELETE, upload.clone(), Vec::new()),
    ];
    for (method, path, body) in requests {
        let case = format!("{method} after cancel");
        let reply = session.send(method, &path, &[], &body).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN", &case);
    }
}

/// An upload whose content does not have the digest the client names fails with 400
/// DIGEST_INVALID, and nothing is stored under that digest.
#[tokio::test]
async fn wrong_digest_is_digest_invalid() {
    let session = Session::start().await;
    let content = b"the bytes actually sent";
    let claimed = sha256(b"the bytes the client meant to send");
    for method in UPLOAD_METHODS {
        let case = format!("{method:?}");
        let reply = session.upload(method, content, &claimed).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "DIGEST_INVALID", &case);

        let blob = session
            .send(
                Method::HEAD,
                &format!("/v2/{REPOSITORY}/blobs/{claimed}"),
                &[],
                b"",
            )
            .await;
        assert_eq!(blob.status, StatusCode::NOT_FOUND, "{case}");
    }
}

/// "Mounting a blob from another repository": a registry that cannot mount returns 202 with an
/// upload session instead of 201.
#[tokio::test]
async fn mount_mounts_or_starts_upload() {
    let session = Session::start().await;
    let shared = b"layer in the other repository";
    let shared_digest = session.push_blob(OTHER_REPOSITORY, shared).await;
    let missing = b"layer in no repository";
    let missing_digest = sha256(missing);

    let cases = [
        (
            "blob in the source repository",
            shared.as_slice(),
            &shared_digest,
        ),
        ("blob in no repository", missing.as_slice(), &missing_digest),
    ];
    for (case, content, digest) in cases {
        let path =
            format!("/v2/{REPOSITORY}/blobs/uploads/?mount={digest}&from={OTHER_REPOSITORY}");
        let reply = session.send(Method::POST, &path, &[], b"").await;
        match reply.status {
            StatusCode::CREATED => {
                session.assert_blob_at_location(&reply, content, case).await;
            }
            StatusCode::ACCEPTED => {
                let put = with_digest(&location(&reply), digest);
                let done = session
                    .send(Method::PUT, &put, &[OCTET_STREAM], content)
                    .await;
                assert_eq!(
                    done.status,
                    StatusCode::CREATED,
                    "{case}: {}",
                    body_text(&done)
                );
            }
            other => panic!("{case}: mount returned {other}: {}", body_text(&reply)),
        }
    }
}

#[tokio::test]
async fn manifest_push_by_digest_and_tag() {
    let session = Session::start().await;
    let manifest = session.oci_image("pushed").await;
    let digest = sha256(&manifest);

    // (reference, tags listed afterwards): a push by digest tags nothing.
    let cases = [(digest.as_str(), json!([])), ("v1", json!(["v1"]))];
    for (reference, tags) in cases {
        let put = session
            .put_manifest(reference, OCI_MANIFEST, &manifest)
            .await;
        assert_eq!(
            put.status,
            StatusCode::CREATED,
            "{reference}: {}",
            body_text(&put)
        );
        assert_eq!(
            put.header("docker-content-digest"),
            Some(digest.as_str()),
            "{reference}"
        );

        let pulled = session
            .send(
                Method::GET,
                &location(&put),
                &[("accept", OCI_MANIFEST)],
                b"",
            )
            .await;
        assert_eq!(pulled.status, StatusCode::OK, "{reference}");
        assert_eq!(pulled.body, manifest, "{reference}");
        assert_eq!(
            pulled.header("content-type"),
            Some(OCI_MANIFEST),
            "{reference}"
        );
        assert_eq!(session.tags().await, tags, "{reference}");
    }
}

/// "The registry SHOULD ignore parameters on the `Content-Type` header" of a push, and "SHOULD NOT
/// include parameters on the `Content-Type` header" of a pull.
#[tokio::test]
async fn manifest_content_type_parameters_ignored() {
    let session = Session::start().await;
    let manifest = session.oci_image("parameters").await;
    let content_type = format!("{OCI_MANIFEST}; charset=utf-8");
    session.store_manifest("v1", &content_type, &manifest).await;

    let pulled = session.get_manifest("v1", OCI_MANIFEST).await;
    assert_eq!(pulled.header("content-type"), Some(OCI_MANIFEST));
}

/// A manifest that names content missing from the repository fails with MANIFEST_BLOB_UNKNOWN
/// ("Push"), and is not stored.
#[tokio::test]
async fn manifest_naming_missing_content() {
    let session = Session::start().await;
    let config = session.push_blob(REPOSITORY, b"{\"os\":\"linux\"}").await;
    let layer = session.push_blob(REPOSITORY, b"present layer").await;
    let missing = sha256(b"never uploaded");

    let cases = [
        (
            "missing config",
            OCI_MANIFEST,
            image_manifest(&missing, 10, &layer, 13),
        ),
        (
            "missing layer",
            OCI_MANIFEST,
            image_manifest(&config, 14, &missing, 10),
        ),
        (
            "index naming a missing manifest",
            OCI_INDEX,
            index_manifest(&[(&missing, 10)]),
        ),
    ];
    for (case, media_type, manifest) in cases {
        let reply = session.put_manifest("v1", media_type, &manifest).await;
        assert_error(
            &reply,
            StatusCode::BAD_REQUEST,
            "MANIFEST_BLOB_UNKNOWN",
            case,
        );

        let stored = session.get_manifest(&sha256(&manifest), media_type).await;
        assert_eq!(stored.status, StatusCode::NOT_FOUND, "{case}");
    }
}

/// "Client and registry implementations SHOULD expect to be able to support manifest pushes of
/// at least 4 megabytes."
#[tokio::test]
async fn manifest_of_4_mib_accepted() {
    let session = Session::start().await;
    let config = session.push_blob(REPOSITORY, EMPTY_JSON).await;
    let manifest = padded_manifest(&config, EMPTY_JSON.len(), MAX_MANIFEST_BYTES);

    session
        .store_manifest("large", OCI_MANIFEST, &manifest)
        .await;
    let pulled = session.get_manifest("large", OCI_MANIFEST).await;
    assert_eq!(pulled.status, StatusCode::OK);
    assert_eq!(pulled.body.len(), MAX_MANIFEST_BYTES);
}

/// "A registry that enforces this limit SHOULD respond to a request to push a manifest over
/// this limit with a response code `413 Payload Too Large`."
#[tokio::test]
async fn manifest_over_4_mib_gets_413() {
    let session = Session::start().await;
    let config = session.push_blob(REPOSITORY, EMPTY_JSON).await;
    for size in [MAX_MANIFEST_BYTES + 1, 5 * 1024 * 1024] {
        let case = format!("{size} bytes");
        let manifest = padded_manifest(&config, EMPTY_JSON.len(), size);
        let reply = session.put_manifest("large", OCI_MANIFEST, &manifest).await;

        assert_eq!(
            reply.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{case}: {}",
            body_text(&reply)
        );
        assert_error_envelope(&reply, &case);
        let message = error_message(&reply);
        assert!(
            message.contains(&MAX_MANIFEST_BYTES.to_string()),
            "{case}: {message:?} does not name the limit"
        );
    }
}

/// "Pushing Manifests with Subject": a registry with the referrers API responds to a push of a
/// manifest with a `subject` with `OCI-Subject: <subject digest>`. It accepts a subject that is
/// not in the repository yet.
#[tokio::test]
async fn subject_push_gets_oci_subject() {
    let session = Session::start().await;
    let image = session.oci_image("subject").await;
    session.store_manifest("v1", OCI_MANIFEST, &image).await;
    let config = session.push_blob(REPOSITORY, EMPTY_JSON).await;
    let later = sha256(b"a subject pushed later");

    let cases = [
        ("subject in the repository", sha256(&image), image.len()),
        ("subject not pushed yet", later.clone(), 512),
    ];
    for (case, subject, subject_size) in &cases {
        let referrer = Referrer {
            subject,
            subject_size: *subject_size,
            config: &config,
            config_media_type: OCI_EMPTY,
            artifact_type: Some("application/vnd.example.signature"),
            annotations: json!({ "case": case }),
        }
        .manifest();
        let reply = session
            .put_manifest(&sha256(&referrer), OCI_MANIFEST, &referrer)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{case}: {}",
            body_text(&reply)
        );
        assert_eq!(
            reply.header("oci-subject"),
            Some(subject.as_str()),
            "{case}"
        );
    }

    let plain = session.oci_image("no subject").await;
    let reply = session.put_manifest("plain", OCI_MANIFEST, &plain).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.header("oci-subject"), None);

    let listed = session.referrers(&later).await.json();
    assert_eq!(
        listed["manifests"].as_array().map(Vec::len),
        Some(1),
        "the referrer of a subject pushed later is listed: {listed}"
    );
}

// Content discovery ("Listing Tags", "Listing Referrers").

/// "The tags MUST be in lexical (i.e. case-insensitive alphanumeric order) or
/// "ASCIIbetical" order."
#[tokio::test]
async fn tag_list_is_ordered() {
    let session = Session::start().await;
    let manifest = session.oci_image("ordered").await;
    let pushed = ["b", "A", "_x", "a", "B", "1", "a-b", "a.b"];
    for tag in pushed {
        session.store_manifest(tag, OCI_MANIFEST, &manifest).await;
    }

    let mut ascii: Vec<String> = pushed.iter().map(|tag| (*tag).to_owned()).collect();
    ascii.sort();
    let mut lexical = ascii.clone();
    lexical.sort_by_key(|tag| tag.to_lowercase());
    let listed: Vec<String> = serde_json::from_value(session.tags().await).expect("tag names");
    assert!(
        listed == ascii || listed == lexical,
        "{listed:?} is in neither order"
    );
}

#[tokio::test]
async fn tag_list_pages_follow_link() {
    let session = Session::start().await;
    let manifest = session.oci_image("paged").await;
    for tag in ["delta", "alpha", "echo", "charlie", "bravo"] {
        session.store_manifest(tag, OCI_MANIFEST, &manifest).await;
    }

    let mut path = format!("/v2/{REPOSITORY}/tags/list?n=2");
    let mut listed = Vec::new();
    for page in 1.. {
        assert!(page <= 5, "the Link headers do not end");
        let reply = session.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "page {page}");
        assert_eq!(reply.json()["name"], REPOSITORY, "page {page}");
        let tags: Vec<String> =
            serde_json::from_value(reply.json()["tags"].clone()).expect("tag names");
        assert!(
            tags.len() <= 2,
            "page {page} has more than n tags: {tags:?}"
        );
        listed.extend(tags);
        match next_link(&reply) {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(listed, ["alpha", "bravo", "charlie", "delta", "echo"]);
}

#[tokio::test]
async fn tag_list_n_and_last() {
    let session = Session::start().await;
    let manifest = session.oci_image("n and last").await;
    for tag in ["alpha", "bravo", "charlie"] {
        session.store_manifest(tag, OCI_MANIFEST, &manifest).await;
    }

    let cases = [
        ("n=0", json!([])),
        ("n=1", json!(["alpha"])),
        ("n=10", json!(["alpha", "bravo", "charlie"])),
        ("last=alpha", json!(["bravo", "charlie"])),
        ("n=1&last=alpha", json!(["bravo"])),
        ("n=5&last=charlie", json!([])),
    ];
    for (query, tags) in cases {
        let reply = session
            .get(&format!("/v2/{REPOSITORY}/tags/list?{query}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{query}");
        assert_eq!(reply.json()["tags"], tags, "{query}");
    }

    // "When `n` is zero, this endpoint MUST return an empty list, and MUST NOT include a `Link`
    // header."
    let zero = session
        .get(&format!("/v2/{REPOSITORY}/tags/list?n=0"))
        .await;
    assert_eq!(zero.header("link"), None);
}

#[tokio::test]
async fn tag_list_of_empty_repository() {
    let session = Session::start().await;
    let reply = session.get(&format!("/v2/{REPOSITORY}/tags/list")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "name": REPOSITORY, "tags": [] }));
}

/// "If a query results in no matching referrers, an empty manifest list MUST be returned."
#[tokio::test]
async fn referrers_of_unknown_subject_empty() {
    let session = Session::start().await;
    let reply = session.referrers(&sha256(b"nothing refers to this")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some(OCI_INDEX));
    let index = reply.json();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["mediaType"], OCI_INDEX);
    assert_eq!(index["manifests"], json!([]));
}

/// Each descriptor carries the referrer's `artifactType` (else its config's media type, and
/// none for an index without one) and its annotations ("Listing Referrers").
#[tokio::test]
async fn referrers_list_descriptors() {
    let session = Session::start().await;
    let image = session.oci_image("described").await;
    session.store_manifest("v1", OCI_MANIFEST, &image).await;
    let subject = sha256(&image);
    let config = session.push_blob(REPOSITORY, EMPTY_JSON).await;

    let sbom = Referrer {
        subject: &subject,
        subject_size: image.len(),
        config: &config,
        config_media_type: OCI_EMPTY,
        artifact_type: Some("application/vnd.example.sbom"),
        annotations: json!({ "org.example.format": "json" }),
    }
    .manifest();
    let signature = Referrer {
        subject: &subject,
        subject_size: image.len(),
        config: &config,
        config_media_type: "application/vnd.example.signature.config",
        artifact_type: None,
        annotations: json!({}),
    }
    .manifest();
    let index = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [],
        "subject": { "mediaType": OCI_MANIFEST, "digest": subject, "size": image.len() },
        "annotations": { "org.example.kind": "index" },
    }));
    // (manifest, media type, expected artifactType, expected annotations). Null means no
    // annotations, and the check treats an empty object as none.
    let cases = [
        (
            &sbom,
            OCI_MANIFEST,
            Some("application/vnd.example.sbom"),
            json!({ "org.example.format": "json" }),
        ),
        (
            &signature,
            OCI_MANIFEST,
            Some("application/vnd.example.signature.config"),
            Value::Null,
        ),
        (
            &index,
            OCI_INDEX,
            None,
            json!({ "org.example.kind": "index" }),
        ),
    ];
    for (manifest, media_type, _, _) in &cases {
        session
            .store_manifest(&sha256(manifest), media_type, manifest)
            .await;
    }

    let listed = session.referrers(&subject).await.json();
    let descriptors = listed["manifests"].as_array().expect("manifests").clone();
    assert_eq!(descriptors.len(), cases.len(), "{listed}");
    for (manifest, media_type, artifact_type, annotations) in &cases {
        let digest = sha256(manifest);
        let descriptor = descriptors
            .iter()
            .find(|descriptor| descriptor["digest"] == digest.as_str())
            .unwrap_or_else(|| panic!("{digest} is not listed: {listed}"));
        assert_eq!(descriptor["mediaType"], *media_type, "{digest}");
        assert_eq!(descriptor["size"], manifest.len(), "{digest}");
        assert_eq!(
            descriptor["artifactType"].as_str(),
            *artifact_type,
            "{digest}"
        );
        let listed_annotations = match &descriptor["annotations"] {
            Value::Object(map) if map.is_empty() => &Value::Null,
            other => other,
        };
        assert_eq!(listed_annotations, annotations, "{digest}");
    }
}

/// "If filtering is requested and applied, the response MUST include a header
/// `OCI-Filters-Applied: artifactType`."
#[tokio::test]
async fn referrers_filter_by_artifact_type() {
    let session = Session::start().await;
    let image = session.oci_image("filtered").await;
    session.store_manifest("v1", OCI_MANIFEST, &image).await;
    let subject = sha256(&image);
    let config = session.push_blob(REPOSITORY, EMPTY_JSON).await;
    for artifact_type in [
        "application/vnd.example.sbom",
        "application/vnd.example.signature",
    ] {
        let referrer = Referrer {
            subject: &subject,
            subject_size: image.len(),
            config: &config,
            config_media_type: OCI_EMPTY,
            artifact_type: Some(artifact_type),
            annotations: json!({}),
        }
        .manifest();
        session
            .store_manifest(&sha256(&referrer), OCI_MANIFEST, &referrer)
            .await;
    }

    let cases = [
        ("application/vnd.example.sbom", 1),
        ("application/vnd.example.unknown", 0),
    ];
    for (artifact_type, count) in cases {
        let path = format!("/v2/{REPOSITORY}/referrers/{subject}?artifactType={artifact_type}");
        let reply = session.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{artifact_type}");
        assert_eq!(
            reply.header("oci-filters-applied"),
            Some("artifactType"),
            "{artifact_type}"
        );
        let manifests = reply.json()["manifests"]
            .as_array()
            .expect("manifests")
            .clone();
        assert_eq!(manifests.len(), count, "{artifact_type}");
        for descriptor in manifests {
            assert_eq!(descriptor["artifactType"], artifact_type);
        }
    }

    let unfiltered = session.referrers(&subject).await;
    assert_eq!(unfiltered.header("oci-filters-applied"), None);
    assert_eq!(
        unfiltered.json()["manifests"].as_array().map(Vec::len),
        Some(2)
    );
}

// Content management ("Deleting tags", "Deleting Manifests", "Deleting Blobs").

/// "Once deleted, a `GET` to `/v2/<name>/manifests/<digest>` and any tag pointing to that
/// digest will return a 404."
#[tokio::test]
async fn delete_manifest_by_digest() {
    let session = Session::start().await;
    let manifest = session.oci_image("deleted").await;
    let digest = sha256(&manifest);
    for tag in ["v1", "stable"] {
        session.store_manifest(tag, OCI_MANIFEST, &manifest).await;
    }

    let deleted = session.delete_manifest(&digest).await;
    assert_eq!(
        deleted.status,
        StatusCode::ACCEPTED,
        "{}",
        body_text(&deleted)
    );

    for reference in [digest.as_str(), "v1", "stable"] {
        let reply = session.get_manifest(reference, OCI_MANIFEST).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN", reference);
    }
    assert_eq!(session.tags().await, json!([]));
}

/// "Deleting tags": the tag is gone, and the image stays while another tag names it.
#[tokio::test]
async fn delete_tag_keeps_tagged_image() {
    let session = Session::start().await;
    let manifest = session.oci_image("untagged").await;
    let digest = sha256(&manifest);
    for tag in ["v1", "v2"] {
        session.store_manifest(tag, OCI_MANIFEST, &manifest).await;
    }

    let deleted = session.delete_manifest("v1").await;
    assert_eq!(
        deleted.status,
        StatusCode::ACCEPTED,
        "{}",
        body_text(&deleted)
    );

    let deleted_tag = session.get_manifest("v1", OCI_MANIFEST).await;
    assert_error(
        &deleted_tag,
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
        "deleted tag",
    );
    for reference in ["v2", digest.as_str()] {
        let remaining = session.get_manifest(reference, OCI_MANIFEST).await;
        assert_eq!(remaining.status, StatusCode::OK, "{reference}");
        assert_eq!(remaining.body, manifest, "{reference}");
    }
    assert_eq!(session.tags().await, json!(["v2"]));
}

/// A deleted referrer leaves its subject's referrers list ("Listing Referrers" lists manifests
/// in the repository).
#[tokio::test]
async fn deleted_referrer_is_not_listed() {
    let session = Session::start().await;
    let image = session.oci_image("referred").await;
    session.store_manifest("v1", OCI_MANIFEST, &image).await;
    let subject = sha256(&image);
    let config = session.push_blob(REPOSITORY, EMPTY_JSON).await;
    let referrer = Referrer {
        subject: &subject,
        subject_size: image.len(),
        config: &config,
        config_media_type: OCI_EMPTY,
        artifact_type: Some("application/vnd.example.sbom"),
        annotations: json!({}),
    }
    .manifest();
    let referrer_digest = sha256(&referrer);
    session
        .store_manifest(&referrer_digest, OCI_MANIFEST, &referrer)
        .await;

    let deleted = session.delete_manifest(&referrer_digest).await;
    assert_eq!(
        deleted.status,
        StatusCode::ACCEPTED,
        "{}",
        body_text(&deleted)
    );
    let listed = session.referrers(&subject).await.json();
    assert_eq!(listed["manifests"], json!([]));
}

#[tokio::test]
async fn delete_manifest_errors() {
    let session = Session::start().await;
    let unknown = sha256(b"never pushed");
    let cases = [
        (
            "unknown digest",
            format!("/v2/{REPOSITORY}/manifests/{unknown}"),
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
        ),
        (
            "unknown tag",
            format!("/v2/{REPOSITORY}/manifests/no-such-tag"),
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
        ),
        (
            "missing repository",
            format!("/v2/{MISSING_REPOSITORY}/manifests/{unknown}"),
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
        ),
        (
            "malformed digest",
            format!("/v2/{REPOSITORY}/manifests/sha256:abc"),
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
        ),
    ];
    for (case, path, status, code) in &cases {
        let reply = session.send(Method::DELETE, path, &[], b"").await;
        assert_error(&reply, *status, code, case);
    }
}

/// "If blob deletion is disabled, the registry MUST respond with either a `400 Bad Request` or a
/// `405 Method Not Allowed`." ECR does not delete layers through the registry API.
#[tokio::test]
async fn blob_delete_is_unsupported() {
    let session = Session::start().await;
    let content = b"a layer that stays";
    let digest = session.push_blob(REPOSITORY, content).await;
    let path = format!("/v2/{REPOSITORY}/blobs/{digest}");

    let reply = session.send(Method::DELETE, &path, &[], b"").await;
    assert_error(
        &reply,
        StatusCode::METHOD_NOT_ALLOWED,
        "UNSUPPORTED",
        "blob delete",
    );
    let pulled = session.get(&path).await;
    assert_eq!(pulled.status, StatusCode::OK);
    assert_eq!(pulled.body, content);
}

// Digests. The encoded part of a sha256 digest is 64 and of a sha512 digest 128 lower-case hex
// digits (OCI image specification v1.1.1, descriptor.md, "Registered algorithms"). "If the
// client provided digest is invalid or uses an unsupported algorithm, the registry SHOULD
// respond with a response code `400 Bad Request`" ("Pushing blobs").

#[tokio::test]
async fn malformed_digests_are_digest_invalid() {
    let session = Session::start().await;
    let manifest = session.oci_image("digests").await;
    let malformed = [
        format!("sha256:{}", "a".repeat(63)),
        format!("sha256:{}", "a".repeat(65)),
        format!("sha256:{}", "A".repeat(64)),
        sha256(b"upper").to_uppercase().replace("SHA256", "sha256"),
        format!("sha512:{}", "b".repeat(64)),
        format!("sha512:{}", "b".repeat(127)),
        format!("sha512:{}", "B".repeat(128)),
        format!("sha256:{}", "g".repeat(64)),
    ];
    for digest in &malformed {
        let manifests = format!("/v2/{REPOSITORY}/manifests/{digest}");
        let manifest_type = ("content-type", OCI_MANIFEST);
        // (method, path, headers, body)
        let requests = [
            (
                Method::GET,
                format!("/v2/{REPOSITORY}/blobs/{digest}"),
                None,
                Vec::new(),
            ),
            (Method::GET, manifests.clone(), None, Vec::new()),
            (
                Method::GET,
                format!("/v2/{REPOSITORY}/referrers/{digest}"),
                None,
                Vec::new(),
            ),
            (Method::DELETE, manifests.clone(), None, Vec::new()),
            (
                Method::PUT,
                manifests.clone(),
                Some(manifest_type),
                manifest.clone(),
            ),
            (
                Method::POST,
                with_digest(&format!("/v2/{REPOSITORY}/blobs/uploads/"), digest),
                Some(OCTET_STREAM),
                b"content".to_vec(),
            ),
            (
                Method::PUT,
                with_digest(&session.start_upload(REPOSITORY).await, digest),
                Some(OCTET_STREAM),
                b"content".to_vec(),
            ),
        ];
        for (method, path, header, body) in requests {
            let case = format!("{method} {path}");
            let headers: Vec<(&str, &str)> = header.into_iter().collect();
            let reply = session.send(method, &path, &headers, &body).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, "DIGEST_INVALID", &case);
        }

        let head = session
            .send(
                Method::HEAD,
                &format!("/v2/{REPOSITORY}/blobs/{digest}"),
                &[],
                b"",
            )
            .await;
        assert_eq!(head.status, StatusCode::BAD_REQUEST, "HEAD blob {digest}");
    }
}

/// A sha512 digest of 128 hex digits is well formed, so lookups of unknown content find
/// nothing instead of rejecting the digest.
#[tokio::test]
async fn sha512_digests_are_valid() {
    let session = Session::start().await;
    let digest = sha512(b"never pushed");
    let manifest_path = format!("/v2/{REPOSITORY}/manifests/{digest}");
    let blob_path = format!("/v2/{REPOSITORY}/blobs/{digest}");

    let cases = [
        (Method::GET, &blob_path, "BLOB_UNKNOWN"),
        (Method::GET, &manifest_path, "MANIFEST_UNKNOWN"),
        (Method::DELETE, &manifest_path, "MANIFEST_UNKNOWN"),
    ];
    for (method, path, code) in cases {
        let case = format!("{method} {path}");
        let reply = session.send(method, path, &[], b"").await;
        assert_error(&reply, StatusCode::NOT_FOUND, code, &case);
    }
    for path in [&blob_path, &manifest_path] {
        let head = session.send(Method::HEAD, path, &[], b"").await;
        assert_eq!(head.status, StatusCode::NOT_FOUND, "HEAD {path}");
    }
    let referrers = session.referrers(&digest).await;
    assert_eq!(
        referrers.status,
        StatusCode::OK,
        "{}",
        body_text(&referrers)
    );
    assert_eq!(referrers.json()["manifests"], json!([]));
}

#[tokio::test]
async fn sha512_blob_upload_and_pull() {
    let session = Session::start().await;
    for method in UPLOAD_METHODS {
        let case = format!("{method:?}");
        let content = format!("sha512 blob uploaded with {method:?}").into_bytes();
        let digest = sha512(&content);
        let reply = session.upload(method, &content, &digest).await;

        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{case}: {}",
            body_text(&reply)
        );
        assert_eq!(
            reply.header("docker-content-digest"),
            Some(digest.as_str()),
            "{case}"
        );
        session
            .assert_blob_at_location(&reply, &content, &case)
            .await;
        let head = session
            .send(
                Method::HEAD,
                &format!("/v2/{REPOSITORY}/blobs/{digest}"),
                &[],
                b"",
            )
            .await;
        assert_eq!(head.status, StatusCode::OK, "{case}");
        assert_eq!(
            head.header("docker-content-digest"),
            Some(digest.as_str()),
            "{case}"
        );
    }

    let claimed = sha512(b"other content");
    let wrong = session
        .upload(UploadMethod::SinglePost, b"content", &claimed)
        .await;
    assert_error(
        &wrong,
        StatusCode::BAD_REQUEST,
        "DIGEST_INVALID",
        "wrong sha512",
    );
}

// Error bodies ("Error Codes").

/// One request that fails, with the status it must get and the value its message must name.
struct ErrorCase {
    name: &'static str,
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: StatusCode,
    value: String,
}

/// Every error body is an OCI error envelope whose message names the value that failed, so a
/// user can tell which tag, digest, repository or upload the registry means.
#[tokio::test]
async fn error_messages_name_the_value() {
    let session = Session::start().await;
    let unknown = sha256(b"never pushed");
    let config = session.push_blob(REPOSITORY, EMPTY_JSON).await;
    let missing_layer = image_manifest(&config, 2, &unknown, 10);
    let manifest = session.oci_image("errors").await;
    let mismatched = sha256(b"not the manifest");
    let long_tag = "t".repeat(129);
    let upload_id = uuid::Uuid::new_v4().to_string();
    let claimed = sha256(b"claimed content");
    let started = session.start_upload(REPOSITORY).await;

    let cases = [
        ErrorCase {
            name: "manifest by unknown tag",
            method: Method::GET,
            path: format!("/v2/{REPOSITORY}/manifests/no-such-tag"),
            content_type: None,
            body: Vec::new(),
            status: StatusCode::NOT_FOUND,
            value: "no-such-tag".to_owned(),
        },
        ErrorCase {
            name: "manifest by unknown digest",
            method: Method::GET,
            path: format!("/v2/{REPOSITORY}/manifests/{unknown}"),
            content_type: None,
            body: Vec::new(),
            status: StatusCode::NOT_FOUND,
            value: unknown.clone(),
        },
        ErrorCase {
            name: "delete of an unknown tag",
            method: Method::DELETE,
            path: format!("/v2/{REPOSITORY}/manifests/no-such-tag"),
            content_type: None,
            body: Vec::new(),
            status: StatusCode::NOT_FOUND,
            value: "no-such-tag".to_owned(),
        },
        ErrorCase {
            name: "unknown blob",
            method: Method::GET,
            path: format!("/v2/{REPOSITORY}/blobs/{unknown}"),
            content_type: None,
            body: Vec::new(),
            status: StatusCode::NOT_FOUND,
            value: unknown.clone(),
        },
        ErrorCase {
            name: "missing repository",
            method: Method::GET,
            path: format!("/v2/{MISSING_REPOSITORY}/tags/list"),
            content_type: None,
            body: Vec::new(),
            status: StatusCode::NOT_FOUND,
            value: MISSING_REPOSITORY.to_owned(),
        },
        ErrorCase {
            name: "unknown upload",
            method: Method::PATCH,
            path: format!("/v2/{REPOSITORY}/blobs/uploads/{upload_id}"),
            content_type: None,
            body: b"chunk".to_vec(),
            status: StatusCode::NOT_FOUND,
            value: upload_id.clone(),
        },
        ErrorCase {
            name: "malformed digest",
            method: Method::GET,
            path: format!("/v2/{REPOSITORY}/blobs/sha256:abc"),
            content_type: None,
            body: Vec::new(),
            status: StatusCode::BAD_REQUEST,
            value: "sha256:abc".to_owned(),
        },
        ErrorCase {
            name: "content that does not match its digest",
            method: Method::PUT,
            path: with_digest(&started, &claimed),
            content_type: None,
            body: b"other content".to_vec(),
            status: StatusCode::BAD_REQUEST,
            value: claimed.clone(),
        },
        ErrorCase {
            name: "manifest that does not match its digest",
            method: Method::PUT,
            path: format!("/v2/{REPOSITORY}/manifests/{mismatched}"),
            content_type: Some(OCI_MANIFEST),
            body: manifest.clone(),
            status: StatusCode::BAD_REQUEST,
            value: mismatched.clone(),
        },
        ErrorCase {
            name: "manifest naming a missing layer",
            method: Method::PUT,
            path: format!("/v2/{REPOSITORY}/manifests/v1"),
            content_type: Some(OCI_MANIFEST),
            body: missing_layer,
            status: StatusCode::BAD_REQUEST,
            value: unknown.clone(),
        },
        ErrorCase {
            name: "tag of 129 characters",
            method: Method::PUT,
            path: format!("/v2/{REPOSITORY}/manifests/{long_tag}"),
            content_type: Some(OCI_MANIFEST),
            body: manifest.clone(),
            status: StatusCode::BAD_REQUEST,
            value: long_tag.clone(),
        },
    ];

    let mut unnamed = Vec::new();
    for case in cases {
        let headers: Vec<(&str, &str)> = case
            .content_type
            .map(|value| ("content-type", value))
            .into_iter()
            .collect();
        let reply = session
            .send(case.method, &case.path, &headers, &case.body)
            .await;
        assert_eq!(
            reply.status,
            case.status,
            "{}: {}",
            case.name,
            body_text(&reply)
        );
        assert_error_envelope(&reply, case.name);
        let message = error_message(&reply);
        if !message.contains(&case.value) {
            unnamed.push(format!(
                "{}: {message:?} does not name {:?}",
                case.name, case.value
            ));
        }
    }
    assert!(unnamed.is_empty(), "{}", unnamed.join("\n"));
}

/// "Throughout this document, `<tag-or-digest>` as a tag MUST be at most 128 characters."
#[tokio::test]
async fn tag_of_128_characters_accepted() {
    let session = Session::start().await;
    let manifest = session.oci_image("long tag").await;
    let tag = format!("_{}", "t".repeat(127));

    session.store_manifest(&tag, OCI_MANIFEST, &manifest).await;
    let pulled = session.get_manifest(&tag, OCI_MANIFEST).await;
    assert_eq!(pulled.status, StatusCode::OK);
    assert_eq!(session.tags().await, json!([tag]));
}
