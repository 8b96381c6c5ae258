//! ECR API parity: one scenario of ECR API calls, run through aws-sdk-ecr (Rust), boto3, AWS CLI
//! v1 and AWS CLI v2, each against its own in-process mock on 127.0.0.1.
//!
//! The scenario is a table of steps: an operation, its input in the API's JSON member names,
//! the credentials that sign it, and the expected outcome, which is either an exception name
//! or the members the output must contain. Every client runs the same table and is checked
//! against the same expectations, so they all see the same exception names and the same data.
//!
//! How each client runs the table:
//! - aws-sdk-ecr: one typed call per step, its output converted back to the API's JSON.
//! - boto3: one Python process, `tests/api_parity/boto3_scenario.py`, which reads the table on
//!   standard input and prints every step's outcome as JSON.
//! - AWS CLI v1 and v2: one `aws ecr <operation> --cli-input-json <input>` per step, with
//!   `--no-paginate` so `maxResults` returns one page, and the layer part as a `fileb://` file.
//!
//! boto3 comes from the virtual environment that `.ci/run` builds (`$ECRLAB_PYTHON_VENV`,
//! default `/opt/ecrlab-python`), the AWS CLIs from `ECRLAB_AWS_CLIS` as in the interop tests.
//! Under `CI=true` a missing client fails its test; elsewhere it is announced as skipped.

#[path = "interop/clients.rs"]
#[allow(dead_code)]
mod clients;
#[path = "interop/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_ecr::primitives::{Blob, DateTime};
use aws_sdk_ecr::types::{
    ImageDetail, ImageFailure, ImageIdentifier, ImageScanningConfiguration, ImageTagMutability,
    Repository, SubjectIdentifier, Tag,
};
use base64::Engine as _;
use clients::AwsCli;
use ecrlab_core::clients::EcrSettings;
use harness::{ACCESS_KEY_ID, ACCOUNT_ID, MockLab, REGION, SECRET_ACCESS_KEY};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use tokio::process::Command;

// ---------------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------------

/// Marks an expected member that must be a number, such as a timestamp in epoch seconds.
const ANY_NUMBER: &str = "<any number>";
/// Marks an expected member that must be a non-empty string whose value varies, such as an id.
const ANY_STRING: &str = "<any string>";
/// Marks a member that the output must not contain.
const ABSENT: &str = "<absent>";
/// Marks `expiresAt`: epoch seconds 12 hours after now, the token lifetime that the
/// GetAuthorizationToken API reference states.
const TWELVE_HOURS_AHEAD: &str = "<12 hours ahead>";
/// Marks `authorizationToken`: base64 of `AWS:<password>` with a non-empty password.
const AWS_PASSWORD_TOKEN: &str = "<base64 of AWS:password>";

/// Slack around the 12-hour expiry for the time the scenario takes to run.
const EXPIRY_TOLERANCE_SECONDS: f64 = 300.0;

const APP: &str = "parity/app";
const LOCKED: &str = "parity/locked";
const WRONG_SECRET: &str = "not-the-secret-of-this-key";
const UNKNOWN_ACCESS_KEY_ID: &str = "AKIAECRLABUNKNOWN999";

const CONFIG_BLOB: &[u8] =
    br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
const LAYER_BLOB: &[u8] = b"ecrlab api parity layer\n";
/// A layer that no step uploads, for LayersNotFoundException.
const MISSING_LAYER_BLOB: &[u8] = b"this layer is never uploaded\n";

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The `artifactType` of the referrer that the scenario attaches to the first image.
const NOTE_ARTIFACT_TYPE: &str = "application/vnd.ecrlab.parity.note";

/// A pseudo-operation that the runners carry out themselves: an unauthenticated HTTP GET of
/// `input.url`, whose output is the response's `status` and the body's `sha256` digest.
const FETCH_URL: &str = "FetchUrl";

/// Operations newer than some supported clients: Debian 12's AWS CLI 2.9.19 does not know
/// ListImageReferrers. A client that lacks one of these is reported as skipping the step, and any
/// other unknown operation fails the test.
const NEWER_OPERATIONS: [&str; 1] = ["ListImageReferrers"];

/// The credentials that sign a step's request.
#[derive(Clone, Copy)]
enum Signer {
    /// The mock's test key pair.
    TestKey,
    /// The test access key with a secret that does not belong to it.
    WrongSecret,
    /// An access key that the mock does not know.
    UnknownKey,
}

impl Signer {
    fn access_key_id(self) -> &'static str {
        match self {
            Signer::TestKey | Signer::WrongSecret => ACCESS_KEY_ID,
            Signer::UnknownKey => UNKNOWN_ACCESS_KEY_ID,
        }
    }

    fn secret_access_key(self) -> &'static str {
        match self {
            Signer::TestKey | Signer::UnknownKey => SECRET_ACCESS_KEY,
            Signer::WrongSecret => WRONG_SECRET,
        }
    }
}

/// What a step must produce.
enum Expected {
    /// Output containing these members; see [`compare`] for the markers it may use.
    Output(Value),
    /// An error with this exception name.
    Error(&'static str),
}

struct Step {
    name: &'static str,
    operation: &'static str,
    input: Value,
    signer: Signer,
    expected: Expected,
}

fn step(name: &'static str, operation: &'static str, input: Value, expected: Expected) -> Step {
    Step {
        name,
        operation,
        input,
        signer: Signer::TestKey,
        expected,
    }
}

/// Builds a reference that the runners replace with the member at the JSON `pointer` of an
/// earlier step's output.
fn earlier(step: &str, pointer: &str) -> Value {
    json!({ "$ref": step, "pointer": pointer })
}

fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256:{hex}")
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Returns an OCI image manifest naming the config blob and `layer`; `annotation` makes
/// manifests with the same blobs differ.
fn image_manifest(annotation: &str, layer: &[u8]) -> String {
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(CONFIG_BLOB),
            "size": CONFIG_BLOB.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": sha256(layer),
            "size": layer.len(),
        }],
        "annotations": { "org.ecrlab.parity": annotation },
    });
    manifest.to_string()
}

/// Builds the scenario for a mock whose registry host is `registry_host` (`localhost:PORT`).
fn scenario(registry_host: &str) -> Vec<Step> {
    use Expected::{Error, Output};

    let first = image_manifest("first", LAYER_BLOB);
    let second = image_manifest("second", LAYER_BLOB);
    let missing_layer = image_manifest("missing-layer", MISSING_LAYER_BLOB);
    let first_digest = sha256(first.as_bytes());
    let second_digest = sha256(second.as_bytes());
    // The mock lists images by push time, then by digest. Two pushes within one millisecond
    // fall back to the digest, so the expected order below needs this order of digests.
    assert!(
        first_digest < second_digest,
        "the scenario's paging expectations need the first image's digest to sort first"
    );
    let referrer = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": NOTE_ARTIFACT_TYPE,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(CONFIG_BLOB),
            "size": CONFIG_BLOB.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": sha256(LAYER_BLOB),
            "size": LAYER_BLOB.len(),
        }],
        "subject": {
            "mediaType": OCI_MANIFEST,
            "digest": first_digest,
            "size": first.len(),
        },
    })
    .to_string();
    let referrer_digest = sha256(referrer.as_bytes());
    let app_arn = format!("arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/{APP}");
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowPull",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT_ID}:root") },
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        }],
    })
    .to_string();
    // Keeps the newest image, so the preview expires the first image and keeps the second.
    let lifecycle_policy = json!({
        "rules": [{
            "rulePriority": 1,
            "description": "Keep only the newest image",
            "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1 },
            "action": { "type": "expire" },
        }],
    })
    .to_string();

    let mut steps = vec![
        step(
            "create-app",
            "CreateRepository",
            json!({ "repositoryName": APP }),
            Output(json!({ "repository": {
                "repositoryName": APP,
                "repositoryArn": app_arn,
                "registryId": ACCOUNT_ID,
                "repositoryUri": format!("{registry_host}/{APP}"),
                "createdAt": ANY_NUMBER,
                "imageTagMutability": "MUTABLE",
                "imageScanningConfiguration": { "scanOnPush": false },
                "encryptionConfiguration": { "encryptionType": "AES256" },
            }})),
        ),
        step(
            "create-app-again",
            "CreateRepository",
            json!({ "repositoryName": APP }),
            Error("RepositoryAlreadyExistsException"),
        ),
        step(
            "create-invalid-name",
            "CreateRepository",
            json!({ "repositoryName": "Parity/App" }),
            Error("InvalidParameterException"),
        ),
        step(
            "create-locked",
            "CreateRepository",
            json!({
                "repositoryName": LOCKED,
                "imageTagMutability": "IMMUTABLE",
                "imageScanningConfiguration": { "scanOnPush": true },
            }),
            Output(json!({ "repository": {
                "repositoryName": LOCKED,
                "imageTagMutability": "IMMUTABLE",
                "imageScanningConfiguration": { "scanOnPush": true },
            }})),
        ),
        step(
            "describe-app",
            "DescribeRepositories",
            json!({ "repositoryNames": [APP] }),
            Output(json!({ "repositories": [{
                "repositoryName": APP,
                "repositoryUri": format!("{registry_host}/{APP}"),
                "imageTagMutability": "MUTABLE",
            }]})),
        ),
        step(
            "describe-missing",
            "DescribeRepositories",
            json!({ "repositoryNames": ["parity/missing"] }),
            Error("RepositoryNotFoundException"),
        ),
        step(
            "authorization-token",
            "GetAuthorizationToken",
            json!({}),
            Output(json!({ "authorizationData": [{
                "authorizationToken": AWS_PASSWORD_TOKEN,
                "expiresAt": TWELVE_HOURS_AHEAD,
                "proxyEndpoint": format!("http://{registry_host}"),
            }]})),
        ),
        step(
            "describe-registry",
            "DescribeRegistry",
            json!({}),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "replicationConfiguration": { "rules": [] },
            })),
        ),
    ];
    steps.extend(layer_upload_steps("config", CONFIG_BLOB));
    steps.extend(layer_upload_steps("layer", LAYER_BLOB));
    steps.extend([
        step(
            "put-first",
            "PutImage",
            json!({ "repositoryName": APP, "imageManifest": first, "imageTag": "v1" }),
            Output(json!({ "image": {
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "imageId": { "imageDigest": first_digest, "imageTag": "v1" },
                "imageManifest": first,
                "imageManifestMediaType": OCI_MANIFEST,
            }})),
        ),
        step(
            "put-first-again",
            "PutImage",
            json!({ "repositoryName": APP, "imageManifest": first, "imageTag": "v1" }),
            Error("ImageAlreadyExistsException"),
        ),
        step(
            "put-first-as-latest",
            "PutImage",
            json!({ "repositoryName": APP, "imageManifest": first, "imageTag": "latest" }),
            Output(json!({ "image": {
                "imageId": { "imageDigest": first_digest, "imageTag": "latest" },
            }})),
        ),
        step(
            "put-second",
            "PutImage",
            json!({ "repositoryName": APP, "imageManifest": second, "imageTag": "v2" }),
            Output(json!({ "image": {
                "imageId": { "imageDigest": second_digest, "imageTag": "v2" },
            }})),
        ),
        step(
            "put-wrong-digest",
            "PutImage",
            json!({
                "repositoryName": APP,
                "imageManifest": first,
                "imageTag": "v9",
                "imageDigest": second_digest,
            }),
            Error("ImageDigestDoesNotMatchException"),
        ),
        step(
            "put-missing-layer",
            "PutImage",
            json!({ "repositoryName": APP, "imageManifest": missing_layer, "imageTag": "v9" }),
            Error("LayersNotFoundException"),
        ),
        step(
            "list-images-page-1",
            "ListImages",
            json!({ "repositoryName": APP, "maxResults": 2 }),
            Output(json!({
                "imageIds": [
                    { "imageDigest": first_digest, "imageTag": "latest" },
                    { "imageDigest": first_digest, "imageTag": "v1" },
                ],
                "nextToken": ANY_STRING,
            })),
        ),
        step(
            "list-images-page-2",
            "ListImages",
            json!({
                "repositoryName": APP,
                "maxResults": 2,
                "nextToken": earlier("list-images-page-1", "/nextToken"),
            }),
            Output(json!({
                "imageIds": [{ "imageDigest": second_digest, "imageTag": "v2" }],
                "nextToken": ABSENT,
            })),
        ),
        step(
            "describe-images-page-1",
            "DescribeImages",
            json!({ "repositoryName": APP, "maxResults": 1 }),
            Output(json!({
                "imageDetails": [{
                    "registryId": ACCOUNT_ID,
                    "repositoryName": APP,
                    "imageDigest": first_digest,
                    "imageTags": ["latest", "v1"],
                    "imageSizeInBytes": LAYER_BLOB.len(),
                    "imagePushedAt": ANY_NUMBER,
                    "imageManifestMediaType": OCI_MANIFEST,
                }],
                "nextToken": ANY_STRING,
            })),
        ),
        step(
            "describe-images-page-2",
            "DescribeImages",
            json!({
                "repositoryName": APP,
                "maxResults": 1,
                "nextToken": earlier("describe-images-page-1", "/nextToken"),
            }),
            Output(json!({
                "imageDetails": [{ "imageDigest": second_digest, "imageTags": ["v2"] }],
                "nextToken": ABSENT,
            })),
        ),
        step(
            "batch-get-image",
            "BatchGetImage",
            json!({
                "repositoryName": APP,
                "imageIds": [{ "imageTag": "v1" }, { "imageTag": "v404" }],
            }),
            Output(json!({
                "images": [{
                    "registryId": ACCOUNT_ID,
                    "repositoryName": APP,
                    "imageId": { "imageDigest": first_digest, "imageTag": "v1" },
                    "imageManifest": first,
                    "imageManifestMediaType": OCI_MANIFEST,
                }],
                "failures": [{
                    "imageId": { "imageTag": "v404" },
                    "failureCode": "ImageNotFound",
                    "failureReason": ANY_STRING,
                }],
            })),
        ),
        step(
            "get-missing-lifecycle-policy",
            "GetLifecyclePolicy",
            json!({ "repositoryName": APP }),
            Error("LifecyclePolicyNotFoundException"),
        ),
        step(
            "put-lifecycle-policy",
            "PutLifecyclePolicy",
            json!({ "repositoryName": APP, "lifecyclePolicyText": lifecycle_policy }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "lifecyclePolicyText": lifecycle_policy,
            })),
        ),
        step(
            "get-lifecycle-policy",
            "GetLifecyclePolicy",
            json!({ "repositoryName": APP }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "lifecyclePolicyText": lifecycle_policy,
                "lastEvaluatedAt": ABSENT,
            })),
        ),
        step(
            "get-missing-lifecycle-preview",
            "GetLifecyclePolicyPreview",
            json!({ "repositoryName": APP }),
            Error("LifecyclePolicyPreviewNotFoundException"),
        ),
        step(
            "start-lifecycle-preview",
            "StartLifecyclePolicyPreview",
            json!({ "repositoryName": APP }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "lifecyclePolicyText": lifecycle_policy,
                "status": "COMPLETE",
            })),
        ),
        step(
            "get-lifecycle-preview",
            "GetLifecyclePolicyPreview",
            json!({ "repositoryName": APP }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "status": "COMPLETE",
                "previewResults": [{
                    "imageDigest": first_digest,
                    "imageTags": ["latest", "v1"],
                    "imagePushedAt": ANY_NUMBER,
                    "action": { "type": "EXPIRE" },
                    "appliedRulePriority": 1,
                }],
                "summary": { "expiringImageTotalCount": 1 },
            })),
        ),
        step(
            "delete-lifecycle-policy",
            "DeleteLifecyclePolicy",
            json!({ "repositoryName": APP }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "lifecyclePolicyText": lifecycle_policy,
            })),
        ),
        step(
            "delete-lifecycle-policy-again",
            "DeleteLifecyclePolicy",
            json!({ "repositoryName": APP }),
            Error("LifecyclePolicyNotFoundException"),
        ),
        step(
            "batch-check-layer-availability",
            "BatchCheckLayerAvailability",
            json!({
                "repositoryName": APP,
                "layerDigests": [sha256(LAYER_BLOB), sha256(MISSING_LAYER_BLOB)],
            }),
            Output(json!({
                "layers": [
                    {
                        "layerDigest": sha256(LAYER_BLOB),
                        "layerAvailability": "AVAILABLE",
                        "layerSize": LAYER_BLOB.len(),
                    },
                    {
                        "layerDigest": sha256(MISSING_LAYER_BLOB),
                        "layerAvailability": "UNAVAILABLE",
                    },
                ],
            })),
        ),
        step(
            "get-download-url-for-layer",
            "GetDownloadUrlForLayer",
            json!({ "repositoryName": APP, "layerDigest": sha256(LAYER_BLOB) }),
            Output(json!({
                "downloadUrl": ANY_STRING,
                "layerDigest": sha256(LAYER_BLOB),
            })),
        ),
        step(
            "fetch-download-url",
            FETCH_URL,
            json!({ "url": earlier("get-download-url-for-layer", "/downloadUrl") }),
            Output(json!({ "status": 200, "sha256": sha256(LAYER_BLOB) })),
        ),
        step(
            "get-download-url-for-missing-layer",
            "GetDownloadUrlForLayer",
            json!({ "repositoryName": APP, "layerDigest": sha256(MISSING_LAYER_BLOB) }),
            Error("LayersNotFoundException"),
        ),
        step(
            "put-referrer",
            "PutImage",
            json!({ "repositoryName": APP, "imageManifest": referrer }),
            Output(json!({ "image": {
                "imageId": { "imageDigest": referrer_digest },
                "imageManifestMediaType": OCI_MANIFEST,
            }})),
        ),
        step(
            "list-image-referrers",
            "ListImageReferrers",
            json!({ "repositoryName": APP, "subjectId": { "imageDigest": first_digest } }),
            Output(json!({
                "referrers": [{
                    "digest": referrer_digest,
                    "mediaType": OCI_MANIFEST,
                    "artifactType": NOTE_ARTIFACT_TYPE,
                    "size": referrer.len(),
                    "artifactStatus": "ACTIVE",
                }],
            })),
        ),
        step(
            "batch-delete-image",
            "BatchDeleteImage",
            json!({
                "repositoryName": APP,
                "imageIds": [
                    { "imageTag": "v2" },
                    { "imageTag": "v404" },
                    { "imageDigest": "sha256:not-hex" },
                ],
            }),
            Output(json!({
                "imageIds": [{ "imageDigest": second_digest, "imageTag": "v2" }],
                "failures": [
                    {
                        "imageId": { "imageTag": "v404" },
                        "failureCode": "ImageNotFound",
                        "failureReason": ANY_STRING,
                    },
                    {
                        "imageId": { "imageDigest": "sha256:not-hex" },
                        "failureCode": "InvalidImageDigest",
                        "failureReason": ANY_STRING,
                    },
                ],
            })),
        ),
        step(
            "tag-resource",
            "TagResource",
            json!({
                "resourceArn": app_arn,
                "tags": [{ "Key": "team", "Value": "platform" }],
            }),
            Output(json!({})),
        ),
        step(
            "list-tags-for-resource",
            "ListTagsForResource",
            json!({ "resourceArn": app_arn }),
            Output(json!({ "tags": [{ "Key": "team", "Value": "platform" }] })),
        ),
        step(
            "untag-resource",
            "UntagResource",
            json!({ "resourceArn": app_arn, "tagKeys": ["team"] }),
            Output(json!({})),
        ),
        step(
            "list-tags-after-untag",
            "ListTagsForResource",
            json!({ "resourceArn": app_arn }),
            Output(json!({ "tags": [] })),
        ),
        step(
            "set-repository-policy",
            "SetRepositoryPolicy",
            json!({ "repositoryName": APP, "policyText": policy }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "policyText": policy,
            })),
        ),
        step(
            "get-repository-policy",
            "GetRepositoryPolicy",
            json!({ "repositoryName": APP }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "policyText": policy,
            })),
        ),
        step(
            "delete-repository-policy",
            "DeleteRepositoryPolicy",
            json!({ "repositoryName": APP }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "policyText": policy,
            })),
        ),
        step(
            "get-deleted-repository-policy",
            "GetRepositoryPolicy",
            json!({ "repositoryName": APP }),
            Error("RepositoryPolicyNotFoundException"),
        ),
        step(
            "make-app-immutable",
            "PutImageTagMutability",
            json!({ "repositoryName": APP, "imageTagMutability": "IMMUTABLE" }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "imageTagMutability": "IMMUTABLE",
            })),
        ),
        step(
            "move-immutable-tag",
            "PutImage",
            json!({ "repositoryName": APP, "imageManifest": second, "imageTag": "v1" }),
            Error("ImageTagAlreadyExistsException"),
        ),
        step(
            "turn-on-scan-on-push",
            "PutImageScanningConfiguration",
            json!({
                "repositoryName": APP,
                "imageScanningConfiguration": { "scanOnPush": true },
            }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "imageScanningConfiguration": { "scanOnPush": true },
            })),
        ),
        step(
            "delete-app-with-images",
            "DeleteRepository",
            json!({ "repositoryName": APP }),
            Error("RepositoryNotEmptyException"),
        ),
        step(
            "delete-locked",
            "DeleteRepository",
            json!({ "repositoryName": LOCKED }),
            Output(json!({ "repository": { "repositoryName": LOCKED } })),
        ),
        step(
            "delete-locked-again",
            "DeleteRepository",
            json!({ "repositoryName": LOCKED }),
            Error("RepositoryNotFoundException"),
        ),
        step(
            "delete-app-with-force",
            "DeleteRepository",
            json!({ "repositoryName": APP, "force": true }),
            Output(json!({ "repository": { "repositoryName": APP } })),
        ),
        Step {
            signer: Signer::WrongSecret,
            ..step(
                "wrong-secret-key",
                "DescribeRepositories",
                json!({}),
                Error("InvalidSignatureException"),
            )
        },
        Step {
            signer: Signer::UnknownKey,
            ..step(
                "unknown-access-key",
                "DescribeRepositories",
                json!({}),
                Error("UnrecognizedClientException"),
            )
        },
    ]);
    steps
}

/// Uploads `blob` to the `parity/app` repository in one part through the layer API.
fn layer_upload_steps(label: &'static str, blob: &[u8]) -> [Step; 3] {
    let (initiate, upload, complete) = match label {
        "config" => ("initiate-config", "upload-config", "complete-config"),
        _ => ("initiate-layer", "upload-layer", "complete-layer"),
    };
    use Expected::Output;
    let last_byte = blob.len() - 1;
    [
        step(
            initiate,
            "InitiateLayerUpload",
            json!({ "repositoryName": APP }),
            Output(json!({ "uploadId": ANY_STRING, "partSize": 10_485_760 })),
        ),
        step(
            upload,
            "UploadLayerPart",
            json!({
                "repositoryName": APP,
                "uploadId": earlier(initiate, "/uploadId"),
                "partFirstByte": 0,
                "partLastByte": last_byte,
                "layerPartBlob": base64(blob),
            }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "uploadId": ANY_STRING,
                "lastByteReceived": last_byte,
            })),
        ),
        step(
            complete,
            "CompleteLayerUpload",
            json!({
                "repositoryName": APP,
                "uploadId": earlier(initiate, "/uploadId"),
                "layerDigests": [sha256(blob)],
            }),
            Output(json!({
                "registryId": ACCOUNT_ID,
                "repositoryName": APP,
                "layerDigest": sha256(blob),
            })),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Outcomes and their comparison with the table
// ---------------------------------------------------------------------------------------------

/// What one client reported for one step, in the API's JSON forms.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
enum Outcome {
    Output(Value),
    /// The exception name of an error that the service returned.
    Error(String),
    /// The client failed without an exception name, for example before sending the request.
    ClientError(String),
    /// The client does not know the operation, because its service model predates it.
    Unsupported(String),
}

/// Replaces every `{"$ref": STEP, "pointer": POINTER}` in `input` with that member of an
/// earlier step's output.
fn resolve(input: &Value, outputs: &HashMap<String, Value>) -> Value {
    match input {
        Value::Object(members) => {
            if let Some(Value::String(step)) = members.get("$ref") {
                let pointer = members["pointer"].as_str().expect("pointer is a string");
                let output = outputs.get(step).unwrap_or_else(|| {
                    panic!("step {step} produced no output to take {pointer} from")
                });
                return output
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("the output of step {step} has no {pointer}"))
                    .clone();
            }
            let resolved: Map<String, Value> = members
                .iter()
                .map(|(key, value)| (key.clone(), resolve(value, outputs)))
                .collect();
            Value::Object(resolved)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| resolve(item, outputs)).collect())
        }
        other => other.clone(),
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs_f64()
}

/// Appends to `problems` every way in which `actual` differs from `expected` at `path`.
///
/// Objects match when each expected member matches, and other members of `actual` are ignored.
/// A member marked [`ABSENT`] must be missing. Arrays match when they have the same length and
/// match item by item. The markers [`ANY_NUMBER`], [`ANY_STRING`], [`TWELVE_HOURS_AHEAD`] and
/// [`AWS_PASSWORD_TOKEN`] match a class of values; anything else must be equal.
fn compare(expected: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, expected_member) in expected {
                let member_path = format!("{path}/{key}");
                match actual.get(key) {
                    Some(found) if expected_member == ABSENT => {
                        problems.push(format!("{member_path} should be absent but is {found}"));
                    }
                    Some(found) => compare(expected_member, found, &member_path, problems),
                    None if expected_member == ABSENT => {}
                    None => problems.push(format!("{member_path} is missing")),
                }
            }
        }
        (Value::Array(expected), Value::Array(actual)) => {
            if expected.len() != actual.len() {
                problems.push(format!(
                    "{path} has {} items, expected {}: {}",
                    actual.len(),
                    expected.len(),
                    Value::Array(actual.clone())
                ));
                return;
            }
            for (index, (expected_item, item)) in expected.iter().zip(actual).enumerate() {
                compare(expected_item, item, &format!("{path}/{index}"), problems);
            }
        }
        (Value::String(marker), actual) if marker == ANY_NUMBER => {
            if !actual.is_number() {
                problems.push(format!("{path} should be a number but is {actual}"));
            }
        }
        (Value::String(marker), actual) if marker == ANY_STRING => {
            if actual.as_str().is_none_or(str::is_empty) {
                problems.push(format!(
                    "{path} should be a non-empty string but is {actual}"
                ));
            }
        }
        (Value::String(marker), actual) if marker == TWELVE_HOURS_AHEAD => {
            let expected_at = unix_now() + 12.0 * 3600.0;
            let in_range = actual
                .as_f64()
                .is_some_and(|at| (at - expected_at).abs() <= EXPIRY_TOLERANCE_SECONDS);
            if !in_range {
                problems.push(format!(
                    "{path} should be about {expected_at} (12 hours from now) but is {actual}"
                ));
            }
        }
        (Value::String(marker), actual) if marker == AWS_PASSWORD_TOKEN => {
            let decoded = actual
                .as_str()
                .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
                .and_then(|bytes| String::from_utf8(bytes).ok());
            let has_password = decoded
                .as_deref()
                .and_then(|text| text.strip_prefix("AWS:"))
                .is_some_and(|password| !password.is_empty());
            if !has_password {
                problems.push(format!(
                    "{path} should be base64 of AWS:<password> but is {actual}"
                ));
            }
        }
        (expected, actual) => {
            if expected != actual {
                problems.push(format!("{path} is {actual}, expected {expected}"));
            }
        }
    }
}

/// Asserts that `client` produced the expected outcome in every step of `steps`.
fn assert_matches_scenario(client: &str, steps: &[Step], outcomes: &[Outcome]) {
    assert_eq!(
        outcomes.len(),
        steps.len(),
        "{client} reported {} outcomes for {} steps: {outcomes:#?}",
        outcomes.len(),
        steps.len()
    );
    let mut problems = Vec::new();
    for (step, outcome) in steps.iter().zip(outcomes) {
        let mut step_problems = Vec::new();
        match (&step.expected, outcome) {
            (Expected::Output(expected), Outcome::Output(actual)) => {
                compare(expected, actual, "", &mut step_problems);
            }
            (Expected::Error(expected), Outcome::Error(actual)) => {
                if expected != actual {
                    step_problems.push(format!("raised {actual}, expected {expected}"));
                }
            }
            (Expected::Output(_), Outcome::Error(code)) => {
                step_problems.push(format!("raised {code}, expected success"));
            }
            (Expected::Error(expected), Outcome::Output(output)) => {
                step_problems.push(format!("succeeded with {output}, expected {expected}"));
            }
            (_, Outcome::ClientError(text)) => {
                step_problems.push(format!("failed in the client: {text}"));
            }
            (_, Outcome::Unsupported(text)) if NEWER_OPERATIONS.contains(&step.operation) => {
                harness::announce(&format!(
                    "{client} skipped step {} because it predates {}: {text}",
                    step.name, step.operation
                ));
            }
            (_, Outcome::Unsupported(text)) => {
                step_problems.push(format!("is not supported by the client: {text}"));
            }
        }
        problems.extend(
            step_problems
                .into_iter()
                .map(|problem| format!("{} ({}): {problem}", step.name, step.operation)),
        );
    }
    assert!(
        problems.is_empty(),
        "{client} differs from the scenario in {} places:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// Carries out a [`FETCH_URL`] step: GETs `input.url` without credentials and returns the
/// status and the body's digest, or a client error naming the URL.
fn fetch_url(input: &Value) -> Outcome {
    let url = text(input, "url");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("failed to build a tokio runtime for the URL fetch");
    let fetched = runtime.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build()?;
        let response = client.get(&url).send().await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, body))
    });
    match fetched {
        Ok((status, body)) => Outcome::Output(json!({ "status": status, "sha256": sha256(&body) })),
        Err(error) => Outcome::ClientError(format!("GET {url} failed: {error}")),
    }
}

/// Runs `steps` one at a time with `run_step`, resolving references to earlier outputs.
/// [`FETCH_URL`] steps are carried out here, the same way for every client.
fn run_in_sequence(
    steps: &[Step],
    mut run_step: impl FnMut(&Step, Value) -> Outcome,
) -> Vec<Outcome> {
    let mut outputs = HashMap::new();
    let mut outcomes = Vec::new();
    for step in steps {
        let input = resolve(&step.input, &outputs);
        let outcome = if step.operation == FETCH_URL {
            fetch_url(&input)
        } else {
            run_step(step, input)
        };
        if let Outcome::Output(output) = &outcome {
            outputs.insert(step.name.to_owned(), output.clone());
        }
        outcomes.push(outcome);
    }
    outcomes
}

// ---------------------------------------------------------------------------------------------
// aws-sdk-ecr
// ---------------------------------------------------------------------------------------------

fn text(input: &Value, member: &str) -> String {
    optional_text(input, member).unwrap_or_else(|| panic!("the input has no {member}: {input}"))
}

fn optional_text(input: &Value, member: &str) -> Option<String> {
    input.get(member).and_then(Value::as_str).map(str::to_owned)
}

fn optional_integer(input: &Value, member: &str) -> Option<i32> {
    input
        .get(member)
        .and_then(Value::as_i64)
        .map(|number| i32::try_from(number).expect("the input's integers fit in i32"))
}

fn integer(input: &Value, member: &str) -> i64 {
    input
        .get(member)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("the input has no integer {member}: {input}"))
}

fn texts(input: &Value, member: &str) -> Option<Vec<String>> {
    input.get(member).and_then(Value::as_array).map(|items| {
        items
            .iter()
            .map(|item| item.as_str().expect("a list of strings").to_owned())
            .collect()
    })
}

fn image_ids(input: &Value) -> Vec<ImageIdentifier> {
    input["imageIds"]
        .as_array()
        .expect("imageIds is a list")
        .iter()
        .map(|id| {
            ImageIdentifier::builder()
                .set_image_digest(optional_text(id, "imageDigest"))
                .set_image_tag(optional_text(id, "imageTag"))
                .build()
        })
        .collect()
}

fn scanning_configuration(input: &Value) -> Option<ImageScanningConfiguration> {
    let configuration = input.get("imageScanningConfiguration")?;
    let scan_on_push = configuration["scanOnPush"]
        .as_bool()
        .expect("scanOnPush is a bool");
    Some(
        ImageScanningConfiguration::builder()
            .scan_on_push(scan_on_push)
            .build(),
    )
}

/// Builds a JSON object from the members that are present.
fn object<const N: usize>(members: [(&str, Option<Value>); N]) -> Value {
    let present: Map<String, Value> = members
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
        .collect();
    Value::Object(present)
}

fn epoch(at: Option<&DateTime>) -> Option<Value> {
    at.map(|at| json!(at.as_secs_f64()))
}

fn string(value: Option<&str>) -> Option<Value> {
    value.map(|value| json!(value))
}

fn repository_json(repository: Option<&Repository>) -> Value {
    let Some(repository) = repository else {
        return json!(null);
    };
    object([
        ("repositoryArn", string(repository.repository_arn())),
        ("registryId", string(repository.registry_id())),
        ("repositoryName", string(repository.repository_name())),
        ("repositoryUri", string(repository.repository_uri())),
        ("createdAt", epoch(repository.created_at())),
        (
            "imageTagMutability",
            string(
                repository
                    .image_tag_mutability()
                    .map(ImageTagMutability::as_str),
            ),
        ),
        (
            "imageScanningConfiguration",
            repository
                .image_scanning_configuration()
                .map(|configuration| json!({ "scanOnPush": configuration.scan_on_push() })),
        ),
        (
            "encryptionConfiguration",
            repository.encryption_configuration().map(|configuration| {
                object([
                    (
                        "encryptionType",
                        Some(json!(configuration.encryption_type().as_str())),
                    ),
                    ("kmsKey", string(configuration.kms_key())),
                ])
            }),
        ),
    ])
}

fn image_id_json(id: Option<&ImageIdentifier>) -> Value {
    let Some(id) = id else {
        return json!(null);
    };
    object([
        ("imageDigest", string(id.image_digest())),
        ("imageTag", string(id.image_tag())),
    ])
}

fn failures_json(failures: &[ImageFailure]) -> Value {
    failures
        .iter()
        .map(|failure| {
            object([
                ("imageId", Some(image_id_json(failure.image_id()))),
                (
                    "failureCode",
                    string(failure.failure_code().map(|code| code.as_str())),
                ),
                ("failureReason", string(failure.failure_reason())),
            ])
        })
        .collect()
}

fn image_json(image: &aws_sdk_ecr::types::Image) -> Value {
    object([
        ("registryId", string(image.registry_id())),
        ("repositoryName", string(image.repository_name())),
        ("imageId", Some(image_id_json(image.image_id()))),
        ("imageManifest", string(image.image_manifest())),
        (
            "imageManifestMediaType",
            string(image.image_manifest_media_type()),
        ),
    ])
}

fn image_detail_json(detail: &ImageDetail) -> Value {
    let tags = (!detail.image_tags().is_empty()).then(|| json!(detail.image_tags()));
    object([
        ("registryId", string(detail.registry_id())),
        ("repositoryName", string(detail.repository_name())),
        ("imageDigest", string(detail.image_digest())),
        ("imageTags", tags),
        (
            "imageSizeInBytes",
            detail.image_size_in_bytes().map(|size| json!(size)),
        ),
        ("imagePushedAt", epoch(detail.image_pushed_at())),
        (
            "imageManifestMediaType",
            string(detail.image_manifest_media_type()),
        ),
    ])
}

/// Converts an SDK call's result to an [`Outcome`], with `convert` building the output JSON.
fn sdk_outcome<T, E>(result: Result<T, E>, convert: impl FnOnce(T) -> Value) -> Outcome
where
    E: ProvideErrorMetadata + std::error::Error,
{
    match result {
        Ok(output) => Outcome::Output(convert(output)),
        Err(error) => match error.code() {
            Some(code) => Outcome::Error(code.to_owned()),
            None => Outcome::ClientError(DisplayErrorContext(&error).to_string()),
        },
    }
}

/// Runs one step through aws-sdk-ecr and converts the typed output to the API's JSON.
async fn run_sdk_step(ecr: &aws_sdk_ecr::Client, operation: &str, input: &Value) -> Outcome {
    match operation {
        "CreateRepository" => sdk_outcome(
            ecr.create_repository()
                .repository_name(text(input, "repositoryName"))
                .set_image_tag_mutability(
                    optional_text(input, "imageTagMutability")
                        .map(|value| ImageTagMutability::from(value.as_str())),
                )
                .set_image_scanning_configuration(scanning_configuration(input))
                .send()
                .await,
            |output| json!({ "repository": repository_json(output.repository()) }),
        ),
        "DescribeRepositories" => sdk_outcome(
            ecr.describe_repositories()
                .set_repository_names(texts(input, "repositoryNames"))
                .send()
                .await,
            |output| {
                let repositories: Vec<Value> = output
                    .repositories()
                    .iter()
                    .map(|repository| repository_json(Some(repository)))
                    .collect();
                json!({ "repositories": repositories })
            },
        ),
        "DeleteRepository" => sdk_outcome(
            ecr.delete_repository()
                .repository_name(text(input, "repositoryName"))
                .set_force(input.get("force").and_then(Value::as_bool))
                .send()
                .await,
            |output| json!({ "repository": repository_json(output.repository()) }),
        ),
        "GetAuthorizationToken" => {
            sdk_outcome(ecr.get_authorization_token().send().await, |output| {
                let data: Vec<Value> = output
                    .authorization_data()
                    .iter()
                    .map(|data| {
                        object([
                            ("authorizationToken", string(data.authorization_token())),
                            ("expiresAt", epoch(data.expires_at())),
                            ("proxyEndpoint", string(data.proxy_endpoint())),
                        ])
                    })
                    .collect();
                json!({ "authorizationData": data })
            })
        }
        "InitiateLayerUpload" => sdk_outcome(
            ecr.initiate_layer_upload()
                .repository_name(text(input, "repositoryName"))
                .send()
                .await,
            |output| {
                object([
                    ("uploadId", string(output.upload_id())),
                    ("partSize", output.part_size().map(|size| json!(size))),
                ])
            },
        ),
        "UploadLayerPart" => {
            let blob = base64::engine::general_purpose::STANDARD
                .decode(text(input, "layerPartBlob"))
                .expect("layerPartBlob is base64");
            sdk_outcome(
                ecr.upload_layer_part()
                    .repository_name(text(input, "repositoryName"))
                    .upload_id(text(input, "uploadId"))
                    .part_first_byte(integer(input, "partFirstByte"))
                    .part_last_byte(integer(input, "partLastByte"))
                    .layer_part_blob(Blob::new(blob))
                    .send()
                    .await,
                |output| {
                    object([
                        ("registryId", string(output.registry_id())),
                        ("repositoryName", string(output.repository_name())),
                        ("uploadId", string(output.upload_id())),
                        (
                            "lastByteReceived",
                            output.last_byte_received().map(|byte| json!(byte)),
                        ),
                    ])
                },
            )
        }
        "CompleteLayerUpload" => sdk_outcome(
            ecr.complete_layer_upload()
                .repository_name(text(input, "repositoryName"))
                .upload_id(text(input, "uploadId"))
                .set_layer_digests(texts(input, "layerDigests"))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    ("uploadId", string(output.upload_id())),
                    ("layerDigest", string(output.layer_digest())),
                ])
            },
        ),
        "PutImage" => sdk_outcome(
            ecr.put_image()
                .repository_name(text(input, "repositoryName"))
                .image_manifest(text(input, "imageManifest"))
                .set_image_tag(optional_text(input, "imageTag"))
                .set_image_digest(optional_text(input, "imageDigest"))
                .send()
                .await,
            |output| json!({ "image": output.image().map(image_json) }),
        ),
        "ListImages" => sdk_outcome(
            ecr.list_images()
                .repository_name(text(input, "repositoryName"))
                .set_max_results(optional_integer(input, "maxResults"))
                .set_next_token(optional_text(input, "nextToken"))
                .send()
                .await,
            |output| {
                let ids: Vec<Value> = output
                    .image_ids()
                    .iter()
                    .map(|id| image_id_json(Some(id)))
                    .collect();
                object([
                    ("imageIds", Some(json!(ids))),
                    ("nextToken", string(output.next_token())),
                ])
            },
        ),
        "DescribeImages" => sdk_outcome(
            ecr.describe_images()
                .repository_name(text(input, "repositoryName"))
                .set_max_results(optional_integer(input, "maxResults"))
                .set_next_token(optional_text(input, "nextToken"))
                .send()
                .await,
            |output| {
                let details: Vec<Value> = output
                    .image_details()
                    .iter()
                    .map(image_detail_json)
                    .collect();
                object([
                    ("imageDetails", Some(json!(details))),
                    ("nextToken", string(output.next_token())),
                ])
            },
        ),
        "BatchGetImage" => sdk_outcome(
            ecr.batch_get_image()
                .repository_name(text(input, "repositoryName"))
                .set_image_ids(Some(image_ids(input)))
                .send()
                .await,
            |output| {
                let images: Vec<Value> = output.images().iter().map(image_json).collect();
                json!({ "images": images, "failures": failures_json(output.failures()) })
            },
        ),
        "BatchDeleteImage" => sdk_outcome(
            ecr.batch_delete_image()
                .repository_name(text(input, "repositoryName"))
                .set_image_ids(Some(image_ids(input)))
                .send()
                .await,
            |output| {
                let ids: Vec<Value> = output
                    .image_ids()
                    .iter()
                    .map(|id| image_id_json(Some(id)))
                    .collect();
                json!({ "imageIds": ids, "failures": failures_json(output.failures()) })
            },
        ),
        "TagResource" => {
            let tags: Vec<Tag> = input["tags"]
                .as_array()
                .expect("tags is a list")
                .iter()
                .map(|tag| {
                    Tag::builder()
                        .key(text(tag, "Key"))
                        .value(text(tag, "Value"))
                        .build()
                        .expect("a tag has a key and a value")
                })
                .collect();
            sdk_outcome(
                ecr.tag_resource()
                    .resource_arn(text(input, "resourceArn"))
                    .set_tags(Some(tags))
                    .send()
                    .await,
                |_| json!({}),
            )
        }
        "ListTagsForResource" => sdk_outcome(
            ecr.list_tags_for_resource()
                .resource_arn(text(input, "resourceArn"))
                .send()
                .await,
            |output| {
                let tags: Vec<Value> = output
                    .tags()
                    .iter()
                    .map(|tag| json!({ "Key": tag.key(), "Value": tag.value() }))
                    .collect();
                json!({ "tags": tags })
            },
        ),
        "SetRepositoryPolicy" => sdk_outcome(
            ecr.set_repository_policy()
                .repository_name(text(input, "repositoryName"))
                .policy_text(text(input, "policyText"))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    ("policyText", string(output.policy_text())),
                ])
            },
        ),
        "GetRepositoryPolicy" => sdk_outcome(
            ecr.get_repository_policy()
                .repository_name(text(input, "repositoryName"))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    ("policyText", string(output.policy_text())),
                ])
            },
        ),
        "PutImageTagMutability" => sdk_outcome(
            ecr.put_image_tag_mutability()
                .repository_name(text(input, "repositoryName"))
                .image_tag_mutability(ImageTagMutability::from(
                    text(input, "imageTagMutability").as_str(),
                ))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    (
                        "imageTagMutability",
                        string(
                            output
                                .image_tag_mutability()
                                .map(ImageTagMutability::as_str),
                        ),
                    ),
                ])
            },
        ),
        "PutImageScanningConfiguration" => sdk_outcome(
            ecr.put_image_scanning_configuration()
                .repository_name(text(input, "repositoryName"))
                .set_image_scanning_configuration(scanning_configuration(input))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    (
                        "imageScanningConfiguration",
                        output.image_scanning_configuration().map(
                            |configuration| json!({ "scanOnPush": configuration.scan_on_push() }),
                        ),
                    ),
                ])
            },
        ),
        "UntagResource" => sdk_outcome(
            ecr.untag_resource()
                .resource_arn(text(input, "resourceArn"))
                .set_tag_keys(texts(input, "tagKeys"))
                .send()
                .await,
            |_| json!({}),
        ),
        "DeleteRepositoryPolicy" => sdk_outcome(
            ecr.delete_repository_policy()
                .repository_name(text(input, "repositoryName"))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    ("policyText", string(output.policy_text())),
                ])
            },
        ),
        "DescribeRegistry" => sdk_outcome(ecr.describe_registry().send().await, |output| {
            let replication = output.replication_configuration().map(|configuration| {
                let rules: Vec<Value> = configuration
                    .rules()
                    .iter()
                    .map(|rule| {
                        let destinations: Vec<Value> = rule
                            .destinations()
                            .iter()
                            .map(|to| json!({ "region": to.region(), "registryId": to.registry_id() }))
                            .collect();
                        json!({ "destinations": destinations })
                    })
                    .collect();
                json!({ "rules": rules })
            });
            object([
                ("registryId", string(output.registry_id())),
                ("replicationConfiguration", replication),
            ])
        }),
        "BatchCheckLayerAvailability" => sdk_outcome(
            ecr.batch_check_layer_availability()
                .repository_name(text(input, "repositoryName"))
                .set_layer_digests(texts(input, "layerDigests"))
                .send()
                .await,
            |output| {
                let layers: Vec<Value> = output
                    .layers()
                    .iter()
                    .map(|layer| {
                        object([
                            ("layerDigest", string(layer.layer_digest())),
                            (
                                "layerAvailability",
                                string(layer.layer_availability().map(|a| a.as_str())),
                            ),
                            ("layerSize", layer.layer_size().map(|size| json!(size))),
                            ("mediaType", string(layer.media_type())),
                        ])
                    })
                    .collect();
                let failures: Vec<Value> = output
                    .failures()
                    .iter()
                    .map(|failure| {
                        object([
                            ("layerDigest", string(failure.layer_digest())),
                            (
                                "failureCode",
                                string(failure.failure_code().map(|code| code.as_str())),
                            ),
                            ("failureReason", string(failure.failure_reason())),
                        ])
                    })
                    .collect();
                json!({ "layers": layers, "failures": failures })
            },
        ),
        "GetDownloadUrlForLayer" => sdk_outcome(
            ecr.get_download_url_for_layer()
                .repository_name(text(input, "repositoryName"))
                .layer_digest(text(input, "layerDigest"))
                .send()
                .await,
            |output| {
                object([
                    ("downloadUrl", string(output.download_url())),
                    ("layerDigest", string(output.layer_digest())),
                ])
            },
        ),
        "ListImageReferrers" => {
            let subject = SubjectIdentifier::builder()
                .image_digest(text(&input["subjectId"], "imageDigest"))
                .build()
                .expect("a subject has an image digest");
            sdk_outcome(
                ecr.list_image_referrers()
                    .repository_name(text(input, "repositoryName"))
                    .subject_id(subject)
                    .send()
                    .await,
                |output| {
                    let referrers: Vec<Value> = output
                        .referrers()
                        .iter()
                        .map(|referrer| {
                            object([
                                ("digest", Some(json!(referrer.digest()))),
                                ("mediaType", Some(json!(referrer.media_type()))),
                                ("artifactType", string(referrer.artifact_type())),
                                ("size", Some(json!(referrer.size()))),
                                ("annotations", referrer.annotations().map(|map| json!(map))),
                                (
                                    "artifactStatus",
                                    string(
                                        referrer.artifact_status().map(|status| status.as_str()),
                                    ),
                                ),
                            ])
                        })
                        .collect();
                    object([
                        ("referrers", Some(json!(referrers))),
                        ("nextToken", string(output.next_token())),
                    ])
                },
            )
        }
        "PutLifecyclePolicy" => sdk_outcome(
            ecr.put_lifecycle_policy()
                .repository_name(text(input, "repositoryName"))
                .lifecycle_policy_text(text(input, "lifecyclePolicyText"))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    (
                        "lifecyclePolicyText",
                        string(output.lifecycle_policy_text()),
                    ),
                ])
            },
        ),
        "GetLifecyclePolicy" => sdk_outcome(
            ecr.get_lifecycle_policy()
                .repository_name(text(input, "repositoryName"))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    (
                        "lifecyclePolicyText",
                        string(output.lifecycle_policy_text()),
                    ),
                    ("lastEvaluatedAt", epoch(output.last_evaluated_at())),
                ])
            },
        ),
        "DeleteLifecyclePolicy" => sdk_outcome(
            ecr.delete_lifecycle_policy()
                .repository_name(text(input, "repositoryName"))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    (
                        "lifecyclePolicyText",
                        string(output.lifecycle_policy_text()),
                    ),
                    ("lastEvaluatedAt", epoch(output.last_evaluated_at())),
                ])
            },
        ),
        "StartLifecyclePolicyPreview" => sdk_outcome(
            ecr.start_lifecycle_policy_preview()
                .repository_name(text(input, "repositoryName"))
                .set_lifecycle_policy_text(optional_text(input, "lifecyclePolicyText"))
                .send()
                .await,
            |output| {
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    (
                        "lifecyclePolicyText",
                        string(output.lifecycle_policy_text()),
                    ),
                    (
                        "status",
                        string(output.status().map(|status| status.as_str())),
                    ),
                ])
            },
        ),
        "GetLifecyclePolicyPreview" => sdk_outcome(
            ecr.get_lifecycle_policy_preview()
                .repository_name(text(input, "repositoryName"))
                .send()
                .await,
            |output| {
                let results: Vec<Value> = output
                    .preview_results()
                    .iter()
                    .map(|result| {
                        object([
                            ("imageDigest", string(result.image_digest())),
                            ("imageTags", Some(json!(result.image_tags()))),
                            ("imagePushedAt", epoch(result.image_pushed_at())),
                            (
                                "action",
                                result.action().map(|action| {
                                    json!({ "type": action.r#type().map(|kind| kind.as_str()) })
                                }),
                            ),
                            (
                                "appliedRulePriority",
                                result.applied_rule_priority().map(|priority| json!(priority)),
                            ),
                            (
                                "storageClass",
                                string(result.storage_class().map(|class| class.as_str())),
                            ),
                        ])
                    })
                    .collect();
                let summary = output.summary().map(|summary| {
                    object([(
                        "expiringImageTotalCount",
                        summary
                            .expiring_image_total_count()
                            .map(|count| json!(count)),
                    )])
                });
                object([
                    ("registryId", string(output.registry_id())),
                    ("repositoryName", string(output.repository_name())),
                    (
                        "lifecyclePolicyText",
                        string(output.lifecycle_policy_text()),
                    ),
                    (
                        "status",
                        string(output.status().map(|status| status.as_str())),
                    ),
                    ("previewResults", Some(json!(results))),
                    ("summary", summary),
                    ("nextToken", string(output.next_token())),
                ])
            },
        ),
        other => panic!("the aws-sdk-ecr runner has no mapping for {other}; add one"),
    }
}

#[test]
fn aws_sdk_matches_scenario() {
    let lab = MockLab::start();
    let steps = scenario(lab.registry_host());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("failed to build a tokio runtime for aws-sdk-ecr");
    let mut clients = HashMap::new();
    let outcomes = run_in_sequence(&steps, |step, input| {
        let ecr = clients
            .entry(step.signer.access_key_id().to_owned() + step.signer.secret_access_key())
            .or_insert_with(|| {
                let mut settings =
                    EcrSettings::for_mock(lab.endpoint()).expect("the mock's endpoint is a URL");
                settings.access_key_id = step.signer.access_key_id().to_owned();
                settings.secret_access_key = step.signer.secret_access_key().to_owned();
                settings.ecr_client()
            });
        runtime.block_on(run_sdk_step(ecr, step.operation, &input))
    });
    assert_matches_scenario("aws-sdk-ecr", &steps, &outcomes);
}

// ---------------------------------------------------------------------------------------------
// boto3
// ---------------------------------------------------------------------------------------------

/// Returns a Python interpreter that imports boto3: the one in `$ECRLAB_PYTHON_VENV` (default
/// `/opt/ecrlab-python`, where `.ci/run` installs boto3), else `python3` on `PATH`.
fn find_boto3_python() -> Result<PathBuf, String> {
    let venv = std::env::var_os("ECRLAB_PYTHON_VENV")
        .map_or_else(|| PathBuf::from("/opt/ecrlab-python"), PathBuf::from);
    let mut candidates = vec![venv.join("bin/python3")];
    candidates.extend(harness::find_on_path("python3"));
    let mut tried = Vec::new();
    for python in candidates {
        let imports_boto3 = std::process::Command::new(&python)
            .args(["-c", "import boto3"])
            .output()
            .is_ok_and(|output| output.status.success());
        if imports_boto3 {
            return Ok(python);
        }
        tried.push(python.display().to_string());
    }
    Err(format!("none of [{}] imports boto3", tried.join(", ")))
}

/// Removes every `AWS_*` variable of the developer's shell and points the AWS config files at
/// paths that do not exist, so the client uses only the settings that the test passes.
fn isolate_aws_settings(command: &mut Command, lab: &MockLab) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    let missing = lab.scratch_dir("no-aws-config");
    command
        .env("AWS_CONFIG_FILE", missing.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", missing.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_PROXY", "127.0.0.1,localhost");
}

#[test]
fn boto3_matches_scenario() {
    let case = "boto3_matches_scenario";
    let python = match find_boto3_python() {
        Ok(python) => python,
        Err(reason) => {
            harness::client_missing(case, "boto3", &reason);
            return;
        }
    };
    let lab = MockLab::start();
    let steps = scenario(lab.registry_host());
    let steps_json: Vec<Value> = steps
        .iter()
        .map(|step| {
            json!({
                "name": step.name,
                "operation": step.operation,
                "input": step.input,
                "accessKeyId": step.signer.access_key_id(),
                "secretAccessKey": step.signer.secret_access_key(),
            })
        })
        .collect();
    let request = json!({ "endpoint": lab.endpoint(), "region": REGION, "steps": steps_json });

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/api_parity/boto3_scenario.py");
    let mut command = Command::new(&python);
    command.arg(script);
    isolate_aws_settings(&mut command, &lab);
    let run = lab.run(&mut command, Some(request.to_string().as_bytes()));
    run.assert_success();
    let outcomes: Vec<Outcome> = serde_json::from_str(&run.stdout).unwrap_or_else(|error| {
        panic!("the boto3 script printed invalid outcomes ({error}):\n{run}")
    });
    assert_matches_scenario("boto3", &steps, &outcomes);
}

// ---------------------------------------------------------------------------------------------
// AWS CLI v1 and v2
// ---------------------------------------------------------------------------------------------

/// Returns the CLI command for an operation: `CreateRepository` becomes `create-repository`.
fn cli_command_name(operation: &str) -> String {
    let mut name = String::new();
    for (index, character) in operation.char_indices() {
        if character.is_ascii_uppercase() && index > 0 {
            name.push('-');
        }
        name.push(character.to_ascii_lowercase());
    }
    name
}

/// Returns the exception name from the AWS CLI's error line,
/// `An error occurred (NAME) when calling the OPERATION operation: ...`.
fn cli_error_code(stderr: &str) -> Option<&str> {
    let start = stderr.find("An error occurred (")? + "An error occurred (".len();
    let length = stderr[start..].find(')')?;
    Some(&stderr[start..start + length])
}

/// Runs one step with `aws ecr <operation> --cli-input-json <input>`.
///
/// The CLI versions read a blob inside `--cli-input-json` differently (v1 as text, v2 as
/// base64), so `layerPartBlob` goes to a file passed as `fileb://`, which both read as bytes.
fn run_cli_step(lab: &MockLab, cli: &AwsCli, step: &Step, mut input: Value) -> Outcome {
    let mut args = vec![cli_command_name(step.operation), "--no-paginate".to_owned()];
    if let Some(blob) = input
        .as_object_mut()
        .and_then(|input| input.remove("layerPartBlob"))
    {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(blob.as_str().expect("layerPartBlob is a string"))
            .expect("layerPartBlob is base64");
        let path = lab
            .scratch_dir("cli-blobs")
            .join(format!("{}.bin", step.name));
        std::fs::write(&path, bytes)
            .unwrap_or_else(|error| panic!("failed to write {}: {error}", path.display()));
        args.push("--layer-part-blob".to_owned());
        args.push(format!("fileb://{}", path.display()));
    }
    args.push("--cli-input-json".to_owned());
    args.push(input.to_string());

    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = cli.ecr_command(lab, &args);
    command
        .env("AWS_ACCESS_KEY_ID", step.signer.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", step.signer.secret_access_key());
    let run = lab.run(&mut command, None);

    if !run.status.success() {
        // The CLI's argument parser lists the valid operations when it does not know this one.
        if let Some(line) = run
            .stderr
            .lines()
            .find(|line| line.contains("Invalid choice"))
        {
            return Outcome::Unsupported(line.to_owned());
        }
        return match cli_error_code(&run.stderr) {
            Some(code) => Outcome::Error(code.to_owned()),
            None => Outcome::ClientError(run.to_string()),
        };
    }
    // The CLI prints nothing for an empty output such as TagResource's.
    if run.stdout.trim().is_empty() {
        return Outcome::Output(json!({}));
    }
    match serde_json::from_str(&run.stdout) {
        Ok(output) => Outcome::Output(output),
        Err(error) => Outcome::ClientError(format!("invalid JSON ({error}):\n{run}")),
    }
}

fn check_aws_cli(case: &str, major: u32) {
    let Some(cli) = AwsCli::one(case, major) else {
        return;
    };
    let lab = MockLab::start();
    let steps = scenario(lab.registry_host());
    let outcomes = run_in_sequence(&steps, |step, input| run_cli_step(&lab, &cli, step, input));
    assert_matches_scenario(&format!("AWS CLI {}", cli.version), &steps, &outcomes);
}

#[test]
fn aws_cli_v1_matches_scenario() {
    check_aws_cli("aws_cli_v1_matches_scenario", 1);
}

#[test]
fn aws_cli_v2_matches_scenario() {
    check_aws_cli("aws_cli_v2_matches_scenario", 2);
}
