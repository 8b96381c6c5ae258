//! The reference solution of the push-to-ecr lab, performed with ecrlab's own clients.
//!
//! [`run_demo`] does the five steps a student does with the AWS CLI and docker: create the
//! repository, log in to the registry, tag the image, push it, and push the scan sample image
//! and read its scan findings. It prints each step with the command a student would type. The
//! images are the samples of `labs/push-to-ecr/image/` and `labs/push-to-ecr/scan-image/`,
//! embedded in the binary so that the demo works from any directory.
//!
//! The demo's HTTP requests carry the user agent [`DEMO_USER_AGENT`] and its ECR API calls the
//! SDK app name `ecrlab-demo`, so that the journal distinguishes them from a student's tools.

use std::io::{self, Write};
use std::time::Duration;

use aws_sdk_ecr::config::AppName;
use aws_sdk_ecr::operation::create_repository::CreateRepositoryError;
use aws_sdk_ecr::primitives::DateTimeFormat;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Repository};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::OCI_IMAGE_MEDIA_TYPE;
use oci_client::secrets::RegistryAuth;

use crate::clients::{ClientError, EcrSettings, http_client};
use crate::ecr::{ImageReference, ParseError, RegistryHost};

mod sample_image;
mod scanning;

pub use sample_image::SampleImage;
pub use scanning::SCAN_TAG;

use crate::evidence::ScanFinding;

/// The repository name that the lab's instructions use.
pub const REPOSITORY: &str = "my-app";
/// The tag the demo pushes.
pub const TAG: &str = "latest";
/// The `User-Agent` of the demo's registry requests.
pub const DEMO_USER_AGENT: &str = concat!("ecrlab-demo/", env!("CARGO_PKG_VERSION"));

const REGISTRY_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REGISTRY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A failed demo step.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Reference(#[from] ParseError),
    #[error("writing the demo's progress failed")]
    Output(#[from] io::Error),
    #[error("{operation} returned {problem}")]
    UnexpectedAnswer {
        operation: &'static str,
        problem: String,
    },
    #[error("the registry rejected the login at {url} with HTTP {status}: {body}")]
    LoginRejected {
        url: String,
        status: u16,
        body: String,
    },
    #[error("building the sample image failed")]
    SampleImage(#[source] io::Error),
    #[error("creating the registry client for {registry} failed")]
    RegistryClient {
        registry: String,
        #[source]
        source: OciDistributionError,
    },
    #[error("pushing the {part} of {reference} failed")]
    Push {
        part: &'static str,
        reference: String,
        #[source]
        source: OciDistributionError,
    },
    #[error(
        "the scan of the scan sample image ended with status {status} ({description}) instead of COMPLETE"
    )]
    ScanFailed { status: String, description: String },
    #[error(
        "the scan of the scan sample image was still not COMPLETE after {seconds} seconds; check the mock's log for scan errors"
    )]
    ScanTimedOut { seconds: u64 },
}

/// The repository and image that the demo created and pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOutcome {
    /// `repositoryUri` of the repository, such as `localhost:5000/my-app`.
    pub repository_uri: String,
    /// The pushed reference, `<repositoryUri>:latest`.
    pub image: ImageReference,
    pub manifest_digest: String,
    pub config_digest: String,
    pub layer_digest: String,
    /// `expiresAt` of the authorization token, RFC 3339 in UTC.
    pub token_expires_at: Option<String>,
    /// The scan sample image, `<repositoryUri>:scan`.
    pub scan_image: ImageReference,
    pub scan_manifest_digest: String,
    /// The findings of the scan sample image, as DescribeImageScanFindings returned them.
    pub scan_findings: Vec<ScanFinding>,
}

/// Performs the five lab steps against the ECR API and registry that `settings` name, printing
/// each step to `out`.
pub async fn run_demo(
    settings: &EcrSettings,
    out: &mut impl Write,
) -> Result<DemoOutcome, DemoError> {
    let ecr = demo_ecr_client(settings);

    writeln!(out, "Step 1/5: create the repository {REPOSITORY}")?;
    writeln!(
        out,
        "  $ aws ecr create-repository --repository-name {REPOSITORY} \
         --image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true"
    )?;
    let repository_uri = create_repository(&ecr, out).await?;
    let registry = registry_of(&repository_uri)?;

    writeln!(out, "Step 2/5: log in to the registry {registry}")?;
    writeln!(
        out,
        "  $ aws ecr get-login-password --region {} | docker login --username AWS \
         --password-stdin {registry}",
        settings.region
    )?;
    let login = get_login(&ecr, &registry, out).await?;
    log_in(&registry, &login, out).await?;

    writeln!(out, "Step 3/5: tag the image with the repository URI")?;
    let image = ImageReference::with_tag(registry.clone(), REPOSITORY, TAG)?;
    writeln!(out, "  $ docker tag {REPOSITORY}:{TAG} {image}")?;

    writeln!(out, "Step 4/5: push the image")?;
    writeln!(out, "  $ docker push {image}")?;
    let sample = SampleImage::build().map_err(DemoError::SampleImage)?;
    push_image(&image, &sample, &login, out).await?;
    writeln!(out, "Done: {image} is {}", sample.manifest_digest)?;

    writeln!(
        out,
        "Step 5/5: push an image with known vulnerabilities and read its scan findings"
    )?;
    scanning::ensure_scan_on_push(&ecr, out).await?;
    let scan_image = ImageReference::with_tag(registry, REPOSITORY, SCAN_TAG)?;
    writeln!(
        out,
        "  $ docker build -t {REPOSITORY}:{SCAN_TAG} -f labs/push-to-ecr/scan-image/Containerfile labs/push-to-ecr/scan-image"
    )?;
    writeln!(out, "  $ docker tag {REPOSITORY}:{SCAN_TAG} {scan_image}")?;
    writeln!(out, "  $ docker push {scan_image}")?;
    let scan_sample = SampleImage::build_scan_sample().map_err(DemoError::SampleImage)?;
    push_image(&scan_image, &scan_sample, &login, out).await?;
    let scan_findings =
        scanning::read_findings(&ecr, &settings.region, &scan_sample.manifest_digest, out).await?;

    Ok(DemoOutcome {
        repository_uri,
        image,
        manifest_digest: sample.manifest_digest,
        config_digest: sample.config_digest,
        layer_digest: sample.layer_digest,
        token_expires_at: login.expires_at,
        scan_image,
        scan_manifest_digest: scan_sample.manifest_digest,
        scan_findings,
    })
}

fn demo_ecr_client(settings: &EcrSettings) -> aws_sdk_ecr::Client {
    let mut config = settings.ecr_config();
    if let Ok(app_name) = AppName::new("ecrlab-demo") {
        config = config.app_name(app_name);
    }
    aws_sdk_ecr::Client::from_conf(config.build())
}

/// Creates the repository, or reuses it when it already exists, and returns its URI.
async fn create_repository(
    ecr: &aws_sdk_ecr::Client,
    out: &mut impl Write,
) -> Result<String, DemoError> {
    let scanning = ImageScanningConfiguration::builder()
        .scan_on_push(true)
        .build();
    let result = ecr
        .create_repository()
        .repository_name(REPOSITORY)
        .image_tag_mutability(ImageTagMutability::Immutable)
        .image_scanning_configuration(scanning)
        .send()
        .await;

    let repository = match result {
        Ok(output) => {
            let repository = output
                .repository
                .ok_or_else(|| missing_field("CreateRepository", "repository"))?;
            writeln!(out, "  created {}", describe_repository(&repository))?;
            repository
        }
        Err(error)
            if matches!(
                error.as_service_error(),
                Some(CreateRepositoryError::RepositoryAlreadyExistsException(_))
            ) =>
        {
            let repository = describe_existing_repository(ecr).await?;
            writeln!(
                out,
                "  {REPOSITORY} already exists, so the demo uses it: {}",
                describe_repository(&repository)
            )?;
            repository
        }
        Err(error) => return Err(ClientError::ecr("CreateRepository", error).into()),
    };

    let uri = repository
        .repository_uri()
        .ok_or_else(|| missing_field("CreateRepository", "repository.repositoryUri"))?;
    Ok(uri.to_owned())
}

async fn describe_existing_repository(ecr: &aws_sdk_ecr::Client) -> Result<Repository, DemoError> {
    let output = ecr
        .describe_repositories()
        .repository_names(REPOSITORY)
        .send()
        .await
        .map_err(|error| ClientError::ecr("DescribeRepositories", error))?;
    output
        .repositories()
        .first()
        .cloned()
        .ok_or_else(|| missing_field("DescribeRepositories", "repositories[0]"))
}

fn describe_repository(repository: &Repository) -> String {
    let mutability = repository
        .image_tag_mutability()
        .map_or("unknown", |mutability| mutability.as_str());
    let scan_on_push = repository
        .image_scanning_configuration()
        .is_some_and(|configuration| configuration.scan_on_push());
    format!(
        "{} (tag mutability {mutability}, scan on push {})",
        repository.repository_uri().unwrap_or(REPOSITORY),
        if scan_on_push { "on" } else { "off" }
    )
}

/// Reads the registry host from a repository URI and checks that the URI names the lab's
/// repository.
fn registry_of(repository_uri: &str) -> Result<RegistryHost, DemoError> {
    let reference = ImageReference::parse(repository_uri)?;
    if reference.repository != REPOSITORY || reference.tag.is_some() || reference.digest.is_some() {
        return Err(DemoError::UnexpectedAnswer {
            operation: "CreateRepository",
            problem: format!(
                "the repositoryUri `{repository_uri}`, which is not <registry>/{REPOSITORY}"
            ),
        });
    }
    Ok(reference.registry)
}

fn missing_field(operation: &'static str, field: &str) -> DemoError {
    DemoError::UnexpectedAnswer {
        operation,
        problem: format!("no `{field}`"),
    }
}

/// Registry credentials from GetAuthorizationToken. It has no `Debug`, so that the password
/// cannot end up in a log.
struct RegistryLogin {
    username: String,
    password: String,
    expires_at: Option<String>,
}

/// Calls GetAuthorizationToken and decodes its `AWS:<password>` token, checking that its proxy
/// endpoint names `registry`.
async fn get_login(
    ecr: &aws_sdk_ecr::Client,
    registry: &RegistryHost,
    out: &mut impl Write,
) -> Result<RegistryLogin, DemoError> {
    const OPERATION: &str = "GetAuthorizationToken";
    let output = ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|error| ClientError::ecr(OPERATION, error))?;
    let data = output
        .authorization_data()
        .first()
        .ok_or_else(|| missing_field(OPERATION, "authorizationData"))?;
    let token = data
        .authorization_token()
        .ok_or_else(|| missing_field(OPERATION, "authorizationData[0].authorizationToken"))?;
    let proxy_endpoint = data
        .proxy_endpoint()
        .ok_or_else(|| missing_field(OPERATION, "authorizationData[0].proxyEndpoint"))?;

    let (username, password) = decode_token(token)?;
    check_proxy_endpoint(proxy_endpoint, registry)?;
    let expires_at = data
        .expires_at()
        .and_then(|time| time.fmt(DateTimeFormat::DateTime).ok());

    writeln!(
        out,
        "  {OPERATION}: a token for user {username} at {proxy_endpoint}, expiring at {}",
        expires_at.as_deref().unwrap_or("an unknown time")
    )?;
    Ok(RegistryLogin {
        username,
        password,
        expires_at,
    })
}

/// Decodes `base64(<user>:<password>)`, the form of ECR's authorization token.
fn decode_token(token: &str) -> Result<(String, String), DemoError> {
    let invalid = |problem: &str| DemoError::UnexpectedAnswer {
        operation: "GetAuthorizationToken",
        problem: format!("an authorization token that {problem}"),
    };
    let bytes = BASE64.decode(token).map_err(|_| invalid("is not base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| invalid("is not UTF-8 text"))?;
    let (username, password) = text
        .split_once(':')
        .ok_or_else(|| invalid("is not <user>:<password>"))?;
    Ok((username.to_owned(), password.to_owned()))
}

fn check_proxy_endpoint(proxy_endpoint: &str, registry: &RegistryHost) -> Result<(), DemoError> {
    let proxy_host = RegistryHost::from_proxy_endpoint(proxy_endpoint)?;
    if &proxy_host == registry {
        return Ok(());
    }
    Err(DemoError::UnexpectedAnswer {
        operation: "GetAuthorizationToken",
        problem: format!(
            "the proxyEndpoint {proxy_endpoint}, but the repositoryUri names the registry \
             {registry}; a docker login to one would not cover the other"
        ),
    })
}

/// Logs in as `docker login` does: `GET /v2/` with Basic authentication, which must return 200.
async fn log_in(
    registry: &RegistryHost,
    login: &RegistryLogin,
    out: &mut impl Write,
) -> Result<(), DemoError> {
    let url = format!("{}/v2/", registry.proxy_endpoint());
    let http = http_client(registry.is_loopback(), DEMO_USER_AGENT)?;
    let request_failed = |source| ClientError::Request {
        url: url.clone(),
        source,
    };
    let response = http
        .get(&url)
        .basic_auth(&login.username, Some(&login.password))
        .send()
        .await
        .map_err(request_failed)?;

    let status = response.status();
    if status != reqwest::StatusCode::OK {
        let body = response.text().await.unwrap_or_default();
        return Err(DemoError::LoginRejected {
            url,
            status: status.as_u16(),
            body: body.chars().take(500).collect(),
        });
    }
    writeln!(
        out,
        "  GET {url} with Basic authentication: HTTP 200, Login Succeeded"
    )?;
    Ok(())
}

/// Pushes the layer, the config and the manifest, in that order, as `docker push` does.
async fn push_image(
    image: &ImageReference,
    sample: &SampleImage,
    login: &RegistryLogin,
    out: &mut impl Write,
) -> Result<(), DemoError> {
    let registry = image.registry.to_string();
    let client = registry_client(&image.registry)?;
    let tag = image.tag.as_deref().unwrap_or(TAG);
    let reference =
        oci_client::Reference::with_tag(registry.clone(), image.repository.clone(), tag.to_owned());
    let auth = RegistryAuth::Basic(login.username.clone(), login.password.clone());
    client.store_auth_if_needed(&registry, &auth).await;
    let push_failed = |part| {
        move |source| DemoError::Push {
            part,
            reference: image.to_string(),
            source,
        }
    };

    client
        .push_blob(&reference, sample.layer.clone(), &sample.layer_digest)
        .await
        .map_err(push_failed("layer"))?;
    writeln!(
        out,
        "  layer    {} ({} bytes)",
        sample.layer_digest,
        sample.layer.len()
    )?;

    client
        .push_blob(&reference, sample.config.clone(), &sample.config_digest)
        .await
        .map_err(push_failed("config"))?;
    writeln!(
        out,
        "  config   {} ({} bytes)",
        sample.config_digest,
        sample.config.len()
    )?;

    let content_type = reqwest::header::HeaderValue::from_static(OCI_IMAGE_MEDIA_TYPE);
    client
        .push_manifest_raw(&reference, sample.manifest.clone(), content_type)
        .await
        .map_err(push_failed("manifest"))?;
    writeln!(
        out,
        "  manifest {} ({} bytes), tagged {tag}",
        sample.manifest_digest,
        sample.manifest.len()
    )?;
    Ok(())
}

/// Builds an oci-client that uses plain HTTP for a loopback registry and HTTPS otherwise.
// NOTE: oci-client's reqwest client honours HTTP_PROXY and HTTPS_PROXY even for loopback hosts.
// Where a proxy is set, NO_PROXY must list localhost and 127.0.0.1, or the push misses the mock.
fn registry_client(registry: &RegistryHost) -> Result<oci_client::Client, DemoError> {
    let protocol = if registry.is_loopback() {
        ClientProtocol::HttpsExcept(vec![registry.to_string()])
    } else {
        ClientProtocol::Https
    };
    let config = ClientConfig {
        protocol,
        connect_timeout: Some(REGISTRY_CONNECT_TIMEOUT),
        read_timeout: Some(REGISTRY_READ_TIMEOUT),
        user_agent: DEMO_USER_AGENT,
        ..ClientConfig::default()
    };
    oci_client::Client::try_from(config).map_err(|source| DemoError::RegistryClient {
        registry: registry.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_token_splits_user_and_password() {
        let token = BASE64.encode("AWS:pa:ss");
        let (username, password) = decode_token(&token).unwrap();
        assert_eq!(username, "AWS");
        assert_eq!(password, "pa:ss");
    }

    #[test]
    fn decode_token_rejects_malformed_tokens() {
        let cases = [
            ("not base64!".to_owned(), "is not base64"),
            (BASE64.encode([0xff, 0xfe]), "is not UTF-8 text"),
            (BASE64.encode("AWS-no-colon"), "is not <user>:<password>"),
        ];
        for (token, problem) in cases {
            let error = decode_token(&token).expect_err("token is rejected");
            let message = error.to_string();
            assert!(
                message.starts_with("GetAuthorizationToken returned an authorization token"),
                "message: {message}"
            );
            assert!(message.contains(problem), "message: {message}");
        }
    }

    #[test]
    fn registry_of_reads_repository_uri() {
        let registry = registry_of("localhost:5000/my-app").unwrap();
        assert_eq!(registry, RegistryHost::parse("localhost:5000").unwrap());
        let aws = registry_of("123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app").unwrap();
        assert_eq!(aws, RegistryHost::ecr("123456789012", "us-east-1").unwrap());

        let error = registry_of("localhost:5000/other").err().unwrap();
        assert!(
            error.to_string().contains("not <registry>/my-app"),
            "{error}"
        );
        let error = registry_of("my-app").err().unwrap();
        assert!(
            error.to_string().contains("names no registry host"),
            "{error}"
        );
    }

    #[test]
    fn proxy_endpoint_must_match_registry() {
        let registry = RegistryHost::parse("localhost:5000").unwrap();
        assert!(check_proxy_endpoint("http://localhost:5000", &registry).is_ok());

        let error = check_proxy_endpoint("http://127.0.0.1:5000", &registry)
            .err()
            .unwrap();
        assert!(
            error
                .to_string()
                .contains("names the registry localhost:5000"),
            "{error}"
        );
    }
}
