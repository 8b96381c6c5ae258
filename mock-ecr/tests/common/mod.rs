//! Shared helpers for in-process tests: a registry on a fixed clock behind the router, called
//! without a socket.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine as _;
use mock_ecr::Clock;
use mock_ecr::core::{Registry, Settings};
use mock_ecr::store::{BlobStore, Database};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::macros::datetime;
use tower::ServiceExt;

pub const HOST: &str = "localhost:5000";
pub const SIGV4: &str = "AWS4-HMAC-SHA256 Credential=AKIAECRLABSTUDENT001/20261204/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";

/// A registry with its own data folder and a fixed clock.
pub struct TestMock {
    pub data: tempfile::TempDir,
    pub registry: Arc<Registry>,
    pub clock: Clock,
}

/// A response with its body read.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The first OCI error code in the body.
    pub fn error_code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl TestMock {
    pub fn new() -> Self {
        Self::in_folder(tempfile::tempdir().expect("temporary folder"))
    }

    /// Opens a registry on an existing data folder, as a restart does.
    pub fn in_folder(data: tempfile::TempDir) -> Self {
        Self::in_folder_with(data, |registry| registry)
    }

    /// Opens a registry on a new data folder after `configure` has adjusted it, such as with
    /// [`Registry::with_advisories`].
    pub fn configured(configure: impl FnOnce(Registry) -> Registry) -> Self {
        Self::in_folder_with(tempfile::tempdir().expect("temporary folder"), configure)
    }

    /// Opens a registry on an existing data folder after `configure` has adjusted it.
    pub fn in_folder_with(
        data: tempfile::TempDir,
        configure: impl FnOnce(Registry) -> Registry,
    ) -> Self {
        let clock = Clock::fixed(datetime!(2026-12-04 12:00:00 UTC));
        let database = Database::open(&data.path().join("mock-ecr.sqlite3")).expect("database");
        let blobs = BlobStore::open(data.path()).expect("blob store");
        let settings = Settings {
            default_account: "123456789012".into(),
            default_region: "us-east-1".into(),
            registry_host: HOST.into(),
        };
        let registry = Arc::new(configure(Registry::new(
            database,
            blobs,
            clock.clone(),
            settings,
        )));
        Self {
            data,
            registry,
            clock,
        }
    }

    /// Sends one request through the router.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let router = mock_ecr::router(self.registry.clone(), "http://127.0.0.1:5000");
        let response = router.oneshot(request).await.expect("router never fails");
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Calls an ECR API operation, signed with the default test key pair at the mock's time.
    pub async fn api(&self, operation: &str, input: Value) -> Reply {
        let signer = Signer {
            access_key_id: mock_ecr::credentials::DEFAULT_ACCESS_KEY_ID,
            secret_access_key: mock_ecr::credentials::DEFAULT_SECRET_ACCESS_KEY,
            region: "us-east-1",
            at: self.clock.unshifted_now(),
        };
        let request = signer.request(operation, input.to_string().as_bytes());
        self.send(request).await
    }

    pub async fn create_repository(&self, name: &str, mutability: &str) {
        let reply = self
            .api(
                "CreateRepository",
                json!({ "repositoryName": name, "imageTagMutability": mutability }),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
    }

    /// Gets a token and returns the `Authorization` header value a logged-in client sends.
    pub async fn login(&self) -> String {
        let reply = self.api("GetAuthorizationToken", json!({})).await;
        let token = reply.json()["authorizationData"][0]["authorizationToken"]
            .as_str()
            .expect("token")
            .to_owned();
        format!("Basic {token}")
    }

    /// Sends a registry request with optional credentials.
    pub async fn registry(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", HOST)
            .header("user-agent", "test-client/1.0");
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Uploads a blob monolithically and returns its digest.
    pub async fn push_blob(&self, auth: &str, repository: &str, content: &[u8]) -> String {
        let digest = sha256(content);
        let path = format!("/v2/{repository}/blobs/uploads/?digest={digest}");
        let reply = self
            .registry(Method::POST, &path, Some(auth), &[], content.to_vec())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        digest
    }

    /// Uploads a config and one layer and returns an OCI manifest that names them.
    pub async fn push_image_blobs(&self, auth: &str, repository: &str, seed: &str) -> Vec<u8> {
        let config = format!(r#"{{"architecture":"amd64","os":"linux","seed":"{seed}"}}"#);
        let layer = format!("layer for {seed}");
        let config_digest = self.push_blob(auth, repository, config.as_bytes()).await;
        let layer_digest = self.push_blob(auth, repository, layer.as_bytes()).await;
        image_manifest(&config_digest, config.len(), &layer_digest, layer.len())
    }

    /// Puts a manifest under `reference`.
    pub async fn put_manifest(
        &self,
        auth: &str,
        repository: &str,
        reference: &str,
        manifest: &[u8],
    ) -> Reply {
        let path = format!("/v2/{repository}/manifests/{reference}");
        self.registry(
            Method::PUT,
            &path,
            Some(auth),
            &[("content-type", "application/vnd.oci.image.manifest.v1+json")],
            manifest.to_vec(),
        )
        .await
    }

    /// Reads the whole journal.
    pub async fn journal(&self) -> Vec<Value> {
        let request = Request::get("/_ecrlab/journal")
            .body(Body::empty())
            .unwrap();
        let reply = self.send(request).await;
        reply.json()["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// Signs ECR API requests with Signature Version 4, as the AWS SDKs do.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub at: time::OffsetDateTime,
}

impl Signer<'_> {
    /// Builds a signed `POST /` request for `operation` with `body`.
    pub fn request(&self, operation: &str, body: &[u8]) -> Request<Body> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};

        let mut request = Request::post("/")
            .header("host", HOST)
            .header(
                "x-amz-target",
                format!("AmazonEC2ContainerRegistry_V20150921.{operation}"),
            )
            .header("content-type", "application/x-amz-json-1.1")
            .header("user-agent", "test-sdk/1.0")
            .body(Body::from(body.to_vec()))
            .unwrap();
        let identity: aws_smithy_runtime_api::client::identity::Identity =
            aws_credential_types::Credentials::new(
                self.access_key_id,
                self.secret_access_key,
                None,
                None,
                "test",
            )
            .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name("ecr")
            .time(std::time::SystemTime::from(self.at))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        let signable = SignableRequest::new(
            "POST",
            "/",
            headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut request);
        request
    }
}

/// Builds an OCI image manifest as fixed text, so its digest does not depend on how serde_json
/// orders object keys in this build.
pub fn image_manifest(config: &str, config_size: usize, layer: &str, layer_size: usize) -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer}","size":{layer_size}}}]}}"#
    )
    .into_bytes()
}

/// `Authorization: Basic` for an arbitrary user and password.
pub fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}
