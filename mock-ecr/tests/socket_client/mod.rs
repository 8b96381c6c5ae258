//! A client of a mock on a real socket, for tests that run many clients at once: each
//! [`Client`] has its own reqwest connection pool, so clients do not share connections.
//!
//! It reuses the in-process helpers in `common`: ECR API requests are signed by
//! [`common::Signer`] and responses are read into [`common::Reply`].

#![allow(dead_code)]

use std::path::Path;

use axum::http::{HeaderMap, Method};
use base64::Engine as _;
use mock_ecr::MockEcr;
use mock_ecr::core::MAX_TAGS_PER_IMAGE;
use serde_json::{Value, json};

use crate::common::{self, Reply};

pub const OCTET_STREAM: (&str, &str) = ("content-type", "application/octet-stream");
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One client with its own connections to a mock's port.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    clock: mock_ecr::Clock,
    /// `Authorization` for registry requests, set by [`Client::login`].
    auth: Option<String>,
}

impl Client {
    pub fn new(mock: &MockEcr) -> Self {
        // Proxies are skipped because reqwest would otherwise send 127.0.0.1 requests to a
        // proxy named in HTTP_PROXY.
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(4)
            .build()
            .expect("a reqwest client builds");
        Self {
            http,
            endpoint: mock.endpoint().to_owned(),
            clock: mock.registry().clock().clone(),
            auth: None,
        }
    }

    /// Sends one request and reads the whole response. A transport failure is returned as
    /// an error, so load tests can count it instead of stopping.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
    ) -> Result<Reply, reqwest::Error> {
        let response = self
            .http
            .request(method, format!("{}{path}", self.endpoint))
            .headers(headers.clone())
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// Calls an ECR API operation signed with the default test key pair.
    pub async fn try_api(&self, operation: &str, input: &Value) -> Result<Reply, reqwest::Error> {
        let body = input.to_string().into_bytes();
        let signer = common::Signer {
            access_key_id: mock_ecr::credentials::DEFAULT_ACCESS_KEY_ID,
            secret_access_key: mock_ecr::credentials::DEFAULT_SECRET_ACCESS_KEY,
            region: "us-east-1",
            at: self.clock.unshifted_now(),
        };
        // The signed request names `common::HOST` as its host, and is sent with that `Host`
        // header, so the signature the mock checks is the one computed here.
        let signed = signer.request(operation, &body);
        self.send(Method::POST, "/", signed.headers(), body).await
    }

    pub async fn api(&self, operation: &str, input: Value) -> Reply {
        self.try_api(operation, &input)
            .await
            .unwrap_or_else(|error| panic!("{operation} failed to send: {error}"))
    }

    /// Calls an ECR API operation that must succeed and returns its output.
    pub async fn api_ok(&self, operation: &str, input: Value) -> Value {
        let reply = self.api(operation, input).await;
        assert_eq!(reply.status, 200, "{operation}: {}", text(&reply));
        reply.json()
    }

    /// Gets a token with GetAuthorizationToken and uses it for registry requests.
    pub async fn login(&mut self) {
        let output = self.api_ok("GetAuthorizationToken", json!({})).await;
        let token = output["authorizationData"][0]["authorizationToken"]
            .as_str()
            .expect("authorizationToken")
            .to_owned();
        self.set_token(&token);
    }

    /// Uses a token from GetAuthorizationToken for the registry requests that follow.
    pub fn set_token(&mut self, authorization_token: &str) {
        self.auth = Some(format!("Basic {authorization_token}"));
    }

    /// Sends a registry request with the token from [`Client::login`].
    pub async fn try_registry(
        &self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Reply, reqwest::Error> {
        let mut headers = HeaderMap::new();
        let auth = self
            .auth
            .as_deref()
            .expect("call login before registry requests");
        headers.insert("authorization", auth.parse().expect("header value"));
        for (name, value) in extra {
            let name: axum::http::HeaderName = name.parse().expect("header name");
            headers.insert(name, value.parse().expect("header value"));
        }
        self.send(method, path, &headers, body).await
    }

    pub async fn registry(
        &self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        self.try_registry(method.clone(), path, extra, body)
            .await
            .unwrap_or_else(|error| panic!("{method} {path} failed to send: {error}"))
    }

    /// Uploads a blob with one `POST ?digest=` and returns the response.
    pub async fn upload_monolithic(&self, repository: &str, content: &[u8]) -> Reply {
        let digest = common::sha256(content);
        let path = format!("/v2/{repository}/blobs/uploads/?digest={digest}");
        self.registry(Method::POST, &path, &[OCTET_STREAM], content.to_vec())
            .await
    }

    /// Uploads a blob as `POST`, one `PATCH` per chunk with `Content-Range`, then `PUT
    /// ?digest=`, and returns the response to the `PUT`. The steps before it must succeed.
    pub async fn upload_chunked(&self, repository: &str, content: &[u8], chunk: usize) -> Reply {
        let started = self
            .registry(
                Method::POST,
                &format!("/v2/{repository}/blobs/uploads/"),
                &[],
                Vec::new(),
            )
            .await;
        assert_eq!(started.status, 202, "upload start: {}", text(&started));
        let mut upload = location(&started);
        for (index, part) in content.chunks(chunk).enumerate() {
            let start = index * chunk;
            let range = format!("{start}-{}", start + part.len() - 1);
            let headers = [OCTET_STREAM, ("content-range", range.as_str())];
            let patched = self
                .registry(Method::PATCH, &upload, &headers, part.to_vec())
                .await;
            assert_eq!(patched.status, 202, "chunk {range}: {}", text(&patched));
            upload = location(&patched);
        }
        let separator = if upload.contains('?') { '&' } else { '?' };
        let digest = common::sha256(content);
        let path = format!("{upload}{separator}digest={digest}");
        self.registry(Method::PUT, &path, &[], Vec::new()).await
    }

    /// Uploads a layer through InitiateLayerUpload, one UploadLayerPart and
    /// CompleteLayerUpload, and returns the response to CompleteLayerUpload.
    pub async fn upload_layer_api(&self, repository: &str, content: &[u8]) -> Reply {
        let started = self
            .api_ok(
                "InitiateLayerUpload",
                json!({ "repositoryName": repository }),
            )
            .await;
        let upload_id = started["uploadId"].as_str().expect("uploadId").to_owned();
        let part = json!({
            "repositoryName": repository,
            "uploadId": upload_id,
            "partFirstByte": 0,
            "partLastByte": content.len() - 1,
            "layerPartBlob": base64::engine::general_purpose::STANDARD.encode(content),
        });
        self.api_ok("UploadLayerPart", part).await;
        let digest = common::sha256(content);
        self.api(
            "CompleteLayerUpload",
            json!({ "repositoryName": repository, "uploadId": upload_id, "layerDigests": [digest] }),
        )
        .await
    }

    /// Uploads a config and one layer named after `seed` monolithically and returns an OCI
    /// image manifest that names them.
    pub async fn push_image_blobs(&self, repository: &str, seed: &str) -> Vec<u8> {
        let config = format!(r#"{{"architecture":"amd64","os":"linux","seed":"{seed}"}}"#);
        let layer = format!("layer for {seed}");
        for content in [config.as_bytes(), layer.as_bytes()] {
            let reply = self.upload_monolithic(repository, content).await;
            assert_eq!(reply.status, 201, "blob for {seed}: {}", text(&reply));
        }
        common::image_manifest(
            &common::sha256(config.as_bytes()),
            config.len(),
            &common::sha256(layer.as_bytes()),
            layer.len(),
        )
    }

    /// Puts an OCI image manifest under `reference` with the registry API.
    pub async fn put_manifest(&self, repository: &str, reference: &str, manifest: &[u8]) -> Reply {
        let path = format!("/v2/{repository}/manifests/{reference}");
        self.registry(
            Method::PUT,
            &path,
            &[("content-type", OCI_MANIFEST)],
            manifest.to_vec(),
        )
        .await
    }

    /// Puts an OCI image manifest under `tag` with the ECR API's PutImage.
    pub async fn put_image(&self, repository: &str, tag: &str, manifest: &[u8]) -> Reply {
        let manifest = std::str::from_utf8(manifest).expect("manifests are UTF-8");
        self.api(
            "PutImage",
            json!({
                "repositoryName": repository,
                "imageManifest": manifest,
                "imageManifestMediaType": OCI_MANIFEST,
                "imageTag": tag,
            }),
        )
        .await
    }

    pub async fn create_repository(&self, name: &str, mutability: &str) {
        self.api_ok(
            "CreateRepository",
            json!({ "repositoryName": name, "imageTagMutability": mutability }),
        )
        .await;
    }

    /// Reads the whole journal through the admin API.
    pub async fn journal(&self) -> Vec<Value> {
        let reply = self
            .send(
                Method::GET,
                "/_ecrlab/journal",
                &HeaderMap::new(),
                Vec::new(),
            )
            .await
            .expect("journal request");
        assert_eq!(reply.status, 200, "journal: {}", text(&reply));
        reply.json()["events"].as_array().cloned().expect("events")
    }
}

/// The body as text, for assertion messages.
pub fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// The `__type` of an ECR API error body, without a namespace prefix.
pub fn ecr_error_type(reply: &Reply) -> String {
    let kind = reply.json()["__type"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match kind.rsplit_once('#') {
        Some((_, name)) => name.to_owned(),
        None => kind,
    }
}

/// Returns the path that a response's `Location` header names, whether the mock sent an
/// absolute URL or a path.
pub fn location(reply: &Reply) -> String {
    let value = reply.header("location").unwrap_or_else(|| {
        panic!(
            "a {} response has no Location: {}",
            reply.status,
            text(reply)
        )
    });
    match value.split_once("://") {
        Some((_scheme, rest)) => rest[rest.find('/').unwrap_or(rest.len())..].to_owned(),
        None => value.to_owned(),
    }
}

/// The database and blob files of a stopped mock, after checks that hold for any mock that
/// was never killed mid-request.
pub struct StoppedDatabase {
    _data: tempfile::TempDir,
    connection: rusqlite::Connection,
}

impl StoppedDatabase {
    /// Opens a stopped mock's database and checks it: SQLite's integrity check, every tag
    /// names a stored image, every image's digest matches its manifest and every blob it names
    /// is a layer of its repository, every layer has a blob file of its size, no image has
    /// more than [`MAX_TAGS_PER_IMAGE`] tags, and no upload is left behind.
    pub fn check(data: tempfile::TempDir) -> Self {
        let path = data.path().join("mock-ecr.sqlite3");
        let connection = rusqlite::Connection::open(&path).unwrap_or_else(|error| {
            panic!("cannot open {} after shutdown: {error}", path.display())
        });
        let database = Self {
            _data: data,
            connection,
        };
        let integrity: String = database
            .connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .unwrap_or_else(|error| {
                panic!(
                    "integrity check of {} failed ({error}): a test that still holds the mock's \
                     registry keeps the database locked after shutdown",
                    path.display()
                )
            });
        assert_eq!(integrity, "ok");

        let dangling_tags = database.count(
            "SELECT COUNT(*) FROM tags t WHERE NOT EXISTS (SELECT 1 FROM images i
             WHERE i.account = t.account AND i.region = t.region
               AND i.repository = t.repository AND i.digest = t.digest)",
        );
        assert_eq!(dangling_tags, 0, "tags that name no stored image");
        let max_tags = database.count(
            "SELECT COALESCE(MAX(tag_count), 0) FROM (SELECT COUNT(*) AS tag_count FROM tags
             GROUP BY account, region, repository, digest)",
        );
        assert!(
            max_tags <= MAX_TAGS_PER_IMAGE as i64,
            "{max_tags} tags on one image"
        );
        assert_eq!(database.count("SELECT COUNT(*) FROM uploads"), 0);
        let uploads = database._data.path().join("uploads");
        let leftover: Vec<_> = std::fs::read_dir(&uploads)
            .expect("uploads folder")
            .collect();
        assert!(
            leftover.is_empty(),
            "upload files left behind: {leftover:?}"
        );

        database.check_images();
        database.check_layers(database._data.path());
        database
    }

    pub fn count(&self, query: &str) -> i64 {
        self.connection
            .query_row(query, [], |row| row.get(0))
            .unwrap_or_else(|error| panic!("{query}: {error}"))
    }

    fn check_images(&self) {
        let mut statement = self
            .connection
            .prepare("SELECT repository, digest, manifest FROM images")
            .unwrap();
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Vec<u8>>(2)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (repository, digest, manifest) = row.unwrap();
            assert_eq!(
                common::sha256(&manifest),
                digest,
                "stored manifest of {digest}"
            );
            let manifest: Value = serde_json::from_slice(&manifest).expect("manifest JSON");
            let named = std::iter::once(&manifest["config"])
                .chain(manifest["layers"].as_array().into_iter().flatten());
            for descriptor in named {
                let blob = descriptor["digest"].as_str().expect("descriptor digest");
                let layers = self.count(&format!(
                    "SELECT COUNT(*) FROM layers WHERE repository = '{repository}' AND digest = '{blob}'"
                ));
                assert_eq!(layers, 1, "{digest} in {repository} names {blob}");
            }
        }
    }

    fn check_layers(&self, root: &Path) {
        let mut statement = self
            .connection
            .prepare("SELECT digest, size FROM layers")
            .unwrap();
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .unwrap();
        for row in rows {
            let (digest, size) = row.unwrap();
            let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
            let file = root.join("blobs/sha256").join(&hex[..2]).join(hex);
            let bytes = std::fs::read(&file)
                .unwrap_or_else(|error| panic!("blob file {}: {error}", file.display()));
            assert_eq!(bytes.len() as i64, size, "size of {digest}");
            assert_eq!(
                common::sha256(&bytes),
                digest,
                "content of {}",
                file.display()
            );
        }
    }
}
