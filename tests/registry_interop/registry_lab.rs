//! A mock with a repository and a registry password, and the ways the tests read the registry
//! back: skopeo for manifests and configs, reqwest for single registry requests, the AWS CLI
//! for DescribeImages and the admin API for the journal.

use ecrlab_core::evidence::{JournalEvent, Outcome, Source};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::clients::{AwsCli, Skopeo};
use crate::harness::{MockLab, Run};

/// A running mock that contains `repository`, the AWS CLI that created it and a registry
/// password from GetAuthorizationToken.
pub struct RegistryLab {
    pub lab: MockLab,
    pub aws: AwsCli,
    pub password: String,
    pub repository: String,
}

impl RegistryLab {
    /// Starts a mock and creates `repository` (tags MUTABLE, the ECR default), or applies the
    /// missing-client policy for `case` when no AWS CLI is installed.
    pub fn start(case: &str, repository: &str) -> Option<Self> {
        let lab = MockLab::start();
        let aws = AwsCli::one(case, 2)?;
        aws.ecr_json(
            &lab,
            &["create-repository", "--repository-name", repository],
        );
        let password = aws.login_password(&lab);
        Some(Self {
            lab,
            aws,
            password,
            repository: repository.to_owned(),
        })
    }

    /// Returns `<registry host>/<repository>`, the `repositoryUri` of the repository.
    pub fn repository_uri(&self) -> String {
        format!("{}/{}", self.lab.registry_host(), self.repository)
    }

    /// Returns `<registry host>/<repository>:<tag>`.
    pub fn tagged(&self, tag: &str) -> String {
        format!("{}:{tag}", self.repository_uri())
    }

    /// Returns `<registry host>/<repository>@<digest>`.
    pub fn by_digest(&self, digest: &str) -> String {
        format!("{}@{digest}", self.repository_uri())
    }

    /// Returns DescribeImages' `imageDetails` for the repository.
    pub fn describe_images(&self) -> Vec<Value> {
        let output = self.aws.ecr_json(
            &self.lab,
            &["describe-images", "--repository-name", &self.repository],
        );
        output["imageDetails"]
            .as_array()
            .unwrap_or_else(|| panic!("describe-images printed no imageDetails array: {output:#}"))
            .clone()
    }

    /// Returns DescribeImages' entry for the image with `digest`.
    pub fn image_detail(&self, digest: &str) -> Value {
        let images = self.describe_images();
        images
            .iter()
            .find(|image| image["imageDigest"] == digest)
            .unwrap_or_else(|| panic!("DescribeImages does not list {digest}: {images:#?}"))
            .clone()
    }

    /// Sends `GET <path>` to the registry as `AWS` with the lab's password, with reqwest.
    pub fn registry_get(&self, path: &str) -> RegistryResponse {
        self.registry_request(reqwest::Method::GET, path, None)
    }

    /// Sends `PUT <path>` with `body` of type `content_type`, as [`RegistryLab::registry_get`]
    /// sends a GET.
    pub fn registry_put(&self, path: &str, content_type: &str, body: &str) -> RegistryResponse {
        self.registry_request(reqwest::Method::PUT, path, Some((content_type, body)))
    }

    fn registry_request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&str, &str)>,
    ) -> RegistryResponse {
        let url = format!("http://{}{path}", self.lab.registry_host());
        let response = self.lab.block_on(async {
            let mut request = reqwest::Client::new()
                .request(method.clone(), &url)
                .basic_auth("AWS", Some(&self.password));
            if let Some((content_type, body)) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body.to_owned());
            }
            let response = request.send().await?;
            let status = response.status().as_u16();
            let filters_applied = response
                .headers()
                .get("oci-filters-applied")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let body = response.text().await?;
            Ok::<_, reqwest::Error>(RegistryResponse {
                status,
                filters_applied,
                body,
            })
        });
        response.unwrap_or_else(|error| panic!("{method} {url} failed: {error}"))
    }

    /// Returns the registry requests that the journal records as rejected with the OCI error
    /// code `code`.
    pub fn rejected_registry_requests(&self, code: &str) -> Vec<JournalEvent> {
        self.lab
            .journal()
            .into_iter()
            .filter(|event| {
                event.source == Source::Registry
                    && event.outcome == Outcome::Error
                    && event.error_code.as_deref() == Some(code)
            })
            .collect()
    }
}

/// The response to a registry request that [`RegistryLab`] sent.
pub struct RegistryResponse {
    pub status: u16,
    /// The `OCI-Filters-Applied` header of a referrers response.
    pub filters_applied: Option<String>,
    pub body: String,
}

impl RegistryResponse {
    /// Parses the body as JSON, asserting the status `200 OK` first.
    pub fn json(&self) -> Value {
        assert_eq!(self.status, 200, "unexpected status, body: {}", self.body);
        self.parse_body()
    }

    /// Parses the body as JSON whatever the status, as for an error body.
    pub fn parse_body(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("the body is not JSON ({error}): {}", self.body))
    }
}

/// A manifest exactly as skopeo printed it, parsed, with the digest of its bytes.
pub struct RawManifest {
    pub text: String,
    pub json: Value,
    pub digest: String,
}

/// Runs `skopeo inspect --raw` on `reference`. A `docker://` reference is read from the mock
/// over plain HTTP as `AWS` with `password`.
pub fn inspect_raw(skopeo: &Skopeo, lab: &MockLab, reference: &str, password: &str) -> RawManifest {
    let run = run_inspect(skopeo, lab, reference, password, &["--raw"]);
    let json = serde_json::from_str(&run.stdout).unwrap_or_else(|error| {
        panic!("skopeo printed a manifest that is not JSON ({error}):\n{run}")
    });
    RawManifest {
        digest: sha256_digest(run.stdout.as_bytes()),
        text: run.stdout,
        json,
    }
}

/// Runs `skopeo inspect --raw --config` on `reference` and returns the config blob's bytes.
pub fn inspect_config(skopeo: &Skopeo, lab: &MockLab, reference: &str, password: &str) -> String {
    run_inspect(skopeo, lab, reference, password, &["--raw", "--config"]).stdout
}

fn run_inspect(
    skopeo: &Skopeo,
    lab: &MockLab,
    reference: &str,
    password: &str,
    flags: &[&str],
) -> Run {
    let creds = format!("--creds=AWS:{password}");
    let mut args = vec!["inspect"];
    args.extend(flags);
    if reference.starts_with("docker://") {
        args.push("--tls-verify=false");
        args.push(&creds);
    }
    args.push(reference);
    let run = skopeo.run(lab, &args);
    run.assert_success();
    run
}

/// Returns `sha256:<hex>` of `bytes`, the digest a registry gives that content.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex_lower(&Sha256::digest(bytes)))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
