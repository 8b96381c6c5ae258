//! oci-client 0.18 against mock-ecr started in process on 127.0.0.1: image pushes and pulls in
//! OCI and Docker formats, tag listing, image indexes, OCI 1.1 referrers, the errors that
//! oci-client reports, chunked blob uploads and cross-repository mounts.
//!
//! Each test starts its own mock with an empty data folder and logs in as ECR clients do, with
//! Basic auth as user `AWS` and the password inside GetAuthorizationToken's token. Every test
//! reads the registry back (through oci-client or the ECR API) instead of trusting a success.

#[path = "support/ecr_sdk.rs"]
mod ecr_sdk;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_ecr::types::{
    ImageDetail, ImageIdentifier, ImageTagMutability, LayerAvailability, LayerFailureCode,
};
use ecrlab_core::clients::EcrSettings;
use futures_util::StreamExt as _;
use mock_ecr::{Config as MockConfig, MockEcr};
use oci_client::client::{
    ClientConfig, ClientProtocol, Config, ImageData, ImageLayer, linux_amd64_resolver,
    windows_amd64_resolver,
};
use oci_client::errors::{OciDistributionError, OciEnvelope, OciErrorCode};
use oci_client::manifest::{
    IMAGE_DOCKER_CONFIG_MEDIA_TYPE, IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE,
    IMAGE_DOCKER_LAYER_TAR_MEDIA_TYPE, IMAGE_LAYER_GZIP_MEDIA_TYPE, IMAGE_LAYER_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE, ImageIndexEntry, OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE,
    OciDescriptor, OciImageIndex, OciImageManifest, OciManifest,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use reqwest::header::HeaderValue;
use sha2::{Digest as _, Sha256};

const REPOSITORY: &str = "team/app";

/// The layer media types that `Client::pull` accepts in these tests: the OCI and Docker layer
/// types that the test images use.
const LAYER_MEDIA_TYPES: [&str; 4] = [
    IMAGE_LAYER_MEDIA_TYPE,
    IMAGE_LAYER_GZIP_MEDIA_TYPE,
    IMAGE_DOCKER_LAYER_TAR_MEDIA_TYPE,
    IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE,
];

/// The OCI empty descriptor's media type, used as the config of artifacts (OCI image
/// specification 1.1, "Guidance for an Empty Descriptor"). Its content is the two bytes `{}`.
const EMPTY_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

/// A mock with its own data folder, an ECR API client and a registry login.
struct Lab {
    _data: tempfile::TempDir,
    mock: MockEcr,
    ecr: aws_sdk_ecr::Client,
    /// `127.0.0.1:PORT`, the registry in every image reference, so no request leaves the
    /// loopback address that the mock listens on.
    registry: String,
    auth: RegistryAuth,
}

impl Lab {
    async fn start() -> Self {
        let data = tempfile::tempdir().expect("failed to create a data folder for the mock");
        let mock = MockEcr::start(MockConfig::new(data.path()))
            .await
            .expect("mock-ecr failed to start on 127.0.0.1");
        let ecr = EcrSettings::for_mock(mock.endpoint())
            .expect("the mock's endpoint is a valid URL")
            .ecr_client();
        let auth = registry_login(&ecr).await;
        let registry = mock.address().to_string();
        Lab {
            _data: data,
            mock,
            ecr,
            registry,
            auth,
        }
    }

    async fn stop(self) {
        self.mock.shutdown().await;
    }

    async fn create_repository(&self, name: &str, mutability: ImageTagMutability) {
        ecr_sdk::create_repository(&self.ecr, name, Some(mutability)).await;
    }

    /// Builds a client that speaks plain HTTP to the mock and stores no credentials yet.
    fn client_with(&self, configure: impl FnOnce(&mut ClientConfig)) -> Client {
        let mut config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(vec![self.registry.clone()]),
            ..ClientConfig::default()
        };
        configure(&mut config);
        Client::try_from(config).expect("failed to build an oci-client")
    }

    /// Builds a client that has the registry login stored.
    ///
    /// `push_blob`, `mount_blob`, `blob_exists`, `push_manifest` and `pull_referrers` take no
    /// credentials and send none unless an earlier call stored them (oci-client 0.18), so every
    /// client stores the login up front.
    async fn logged_in_client_with(&self, configure: impl FnOnce(&mut ClientConfig)) -> Client {
        let client = self.client_with(configure);
        client
            .store_auth_if_needed(&self.registry, &self.auth)
            .await;
        client
    }

    async fn logged_in_client(&self) -> Client {
        self.logged_in_client_with(|_| {}).await
    }

    fn tag_reference(&self, repository: &str, tag: &str) -> Reference {
        Reference::with_tag(self.registry.clone(), repository.to_owned(), tag.to_owned())
    }

    fn digest_reference(&self, repository: &str, digest: &str) -> Reference {
        Reference::with_digest(
            self.registry.clone(),
            repository.to_owned(),
            digest.to_owned(),
        )
    }

    /// Returns the registry's BLOB_MOUNTING account setting from GetAccountSetting.
    ///
    /// Blob mounting lets a push mount a layer from another repository of the same registry,
    /// and PutAccountSetting turns it on (Amazon ECR User Guide, "Blob mounting in Amazon ECR").
    async fn blob_mounting(&self) -> String {
        let output = self
            .ecr
            .get_account_setting()
            .name("BLOB_MOUNTING")
            .send()
            .await
            .unwrap_or_else(|error| panic!("GetAccountSetting BLOB_MOUNTING failed: {error:?}"));
        output
            .value()
            .expect("GetAccountSetting returns a value")
            .to_owned()
    }

    async fn enable_blob_mounting(&self) {
        self.ecr
            .put_account_setting()
            .name("BLOB_MOUNTING")
            .value("ENABLED")
            .send()
            .await
            .unwrap_or_else(|error| panic!("PutAccountSetting BLOB_MOUNTING failed: {error:?}"));
    }

    /// Returns ECR's DescribeImages entry for the image with `digest`.
    async fn describe_image(&self, repository: &str, digest: &str) -> ImageDetail {
        let output = self
            .ecr
            .describe_images()
            .repository_name(repository)
            .image_ids(ImageIdentifier::builder().image_digest(digest).build())
            .send()
            .await
            .unwrap_or_else(|error| {
                panic!("DescribeImages {repository}@{digest} failed: {error:?}")
            });
        let [detail] = output.image_details() else {
            panic!("DescribeImages {repository}@{digest} returned {output:?}");
        };
        detail.clone()
    }

    /// Returns the digests of every image in `repository`, sorted, from ECR's ListImages.
    async fn image_digests(&self, repository: &str) -> Vec<String> {
        let output = self
            .ecr
            .list_images()
            .repository_name(repository)
            .send()
            .await
            .unwrap_or_else(|error| panic!("ListImages {repository} failed: {error:?}"));
        let mut digests: Vec<String> = output
            .image_ids()
            .iter()
            .filter_map(|id| id.image_digest().map(str::to_owned))
            .collect();
        digests.sort();
        digests.dedup();
        digests
    }

    /// Returns ECR's BatchCheckLayerAvailability result for one layer: its availability and
    /// size, or the failure code.
    async fn layer_availability(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<(LayerAvailability, i64), LayerFailureCode> {
        let output = self
            .ecr
            .batch_check_layer_availability()
            .repository_name(repository)
            .layer_digests(digest)
            .send()
            .await
            .unwrap_or_else(|error| {
                panic!("BatchCheckLayerAvailability {repository} {digest} failed: {error:?}")
            });
        if let [failure] = output.failures() {
            return Err(failure
                .failure_code()
                .expect("a failure has a code")
                .clone());
        }
        let [layer] = output.layers() else {
            panic!("BatchCheckLayerAvailability {repository} {digest} returned {output:?}");
        };
        Ok((
            layer
                .layer_availability()
                .expect("a layer has an availability")
                .clone(),
            layer.layer_size().expect("a layer has a size"),
        ))
    }
}

/// Calls GetAuthorizationToken and returns the Basic login inside the token, `AWS:<password>`.
async fn registry_login(ecr: &aws_sdk_ecr::Client) -> RegistryAuth {
    let (user, password) = ecr_sdk::registry_credentials(ecr).await;
    assert_eq!(user, "AWS");
    RegistryAuth::Basic(user, password)
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// An image to push: its config, its layers and the manifest that names them.
struct TestImage {
    config: Config,
    layers: Vec<ImageLayer>,
    manifest: OciImageManifest,
}

impl TestImage {
    /// Builds an OCI image for linux/`architecture` with one uncompressed and one gzip layer,
    /// whose contents start with `seed`.
    ///
    /// The registry stores layers without reading them, so the bytes need not be a real tar or
    /// gzip stream.
    fn oci(architecture: &str, seed: &str) -> Self {
        let config = Config::oci_v1(config_json(architecture, seed), None);
        let layers = vec![
            ImageLayer::oci_v1(format!("{seed}: first layer").into_bytes(), None),
            ImageLayer::oci_v1_gzip(format!("{seed}: second layer").into_bytes(), None),
        ];
        let mut manifest = OciImageManifest::build(&layers, &config, None);
        manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_owned());
        TestImage {
            config,
            layers,
            manifest,
        }
    }

    /// Builds an OCI image as `OciImageManifest::build` leaves it: without `mediaType` in the
    /// manifest, so only the request's Content-Type names the type.
    fn oci_without_media_type(seed: &str) -> Self {
        let mut image = Self::oci("amd64", seed);
        image.manifest.media_type = None;
        image
    }

    /// Builds an image with a Docker image manifest (schema 2) for linux/amd64 with one
    /// uncompressed and one gzip layer.
    fn docker(seed: &str) -> Self {
        let config = Config::new(
            config_json("amd64", seed),
            IMAGE_DOCKER_CONFIG_MEDIA_TYPE.to_owned(),
            None,
        );
        let layers = vec![
            ImageLayer::new(
                format!("{seed}: first layer").into_bytes(),
                IMAGE_DOCKER_LAYER_TAR_MEDIA_TYPE.to_owned(),
                None,
            ),
            ImageLayer::new(
                format!("{seed}: second layer").into_bytes(),
                IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE.to_owned(),
                None,
            ),
        ];
        let mut manifest = OciImageManifest::build(&layers, &config, None);
        manifest.media_type = Some(IMAGE_MANIFEST_MEDIA_TYPE.to_owned());
        TestImage {
            config,
            layers,
            manifest,
        }
    }

    /// Returns the manifest's media type, which oci-client sends as the Content-Type.
    fn media_type(&self) -> String {
        OciManifest::Image(self.manifest.clone())
            .content_type()
            .to_owned()
    }

    fn layers_size(&self) -> i64 {
        self.manifest.layers.iter().map(|layer| layer.size).sum()
    }

    /// Returns the manifest as JSON bytes. oci-client's own `push_manifest` writes canonical
    /// JSON instead, so only manifests pushed with `push_manifest_raw` have these bytes.
    fn manifest_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.manifest).expect("a manifest serializes")
    }

    async fn push(&self, client: &Client, reference: &Reference, auth: &RegistryAuth) {
        client
            .push(
                reference,
                &self.layers,
                self.config.clone(),
                auth,
                Some(self.manifest.clone()),
            )
            .await
            .unwrap_or_else(|error| panic!("push of {reference} failed: {error}"));
    }

    /// Uploads the config and the layers, then puts [`Self::manifest_bytes`] under its digest,
    /// as image index builders push platform images. Returns the manifest's descriptor.
    async fn push_by_digest(&self, client: &Client, lab: &Lab, repository: &str) -> OciDescriptor {
        let any_reference = lab.tag_reference(repository, "unused");
        let blobs = std::iter::once((&self.config.data, &self.manifest.config.digest)).chain(
            self.layers
                .iter()
                .map(|layer| &layer.data)
                .zip(self.manifest.layers.iter().map(|layer| &layer.digest)),
        );
        for (data, digest) in blobs {
            client
                .push_blob(&any_reference, data.clone(), digest)
                .await
                .unwrap_or_else(|error| panic!("upload of blob {digest} failed: {error}"));
        }

        let bytes = self.manifest_bytes();
        let digest = sha256(&bytes);
        let reference = lab.digest_reference(repository, &digest);
        let content_type = HeaderValue::from_str(&self.media_type()).expect("a valid header");
        let url = client
            .push_manifest_raw(&reference, bytes.clone(), content_type)
            .await
            .unwrap_or_else(|error| panic!("manifest put of {reference} failed: {error}"));
        assert!(url.ends_with(&format!("/manifests/{digest}")), "{url}");

        OciDescriptor {
            media_type: self.media_type(),
            digest,
            size: i64::try_from(bytes.len()).expect("a small manifest"),
            ..OciDescriptor::default()
        }
    }
}

fn config_json(architecture: &str, seed: &str) -> Vec<u8> {
    format!(
        r#"{{"architecture":"{architecture}","os":"linux","config":{{"Labels":{{"seed":"{seed}"}}}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
    )
    .into_bytes()
}

/// Asserts that `pulled` is `image` stored under `digest`.
fn assert_pulled(pulled: &ImageData, image: &TestImage, digest: &str) {
    assert_eq!(pulled.digest.as_deref(), Some(digest));
    assert_eq!(pulled.config.data, image.config.data);
    assert_eq!(pulled.config.media_type, image.config.media_type);

    let manifest = pulled.manifest.as_ref().expect("pull returns the manifest");
    let layer_digests: Vec<&str> = manifest.layers.iter().map(|l| l.digest.as_str()).collect();
    let pushed_digests: Vec<&str> = image
        .manifest
        .layers
        .iter()
        .map(|l| l.digest.as_str())
        .collect();
    assert_eq!(layer_digests, pushed_digests);
    assert_eq!(manifest.config.digest, image.manifest.config.digest);

    // oci-client 0.18 downloads layers concurrently and returns them in the order they finish,
    // so the layers are compared as sets.
    let mut pulled_layers: Vec<(&[u8], &str)> = pulled
        .layers
        .iter()
        .map(|layer| (layer.data.as_ref(), layer.media_type.as_str()))
        .collect();
    let mut pushed_layers: Vec<(&[u8], &str)> = image
        .layers
        .iter()
        .map(|layer| (layer.data.as_ref(), layer.media_type.as_str()))
        .collect();
    pulled_layers.sort();
    pushed_layers.sort();
    assert_eq!(pulled_layers, pushed_layers);
}

/// Returns the OCI error envelope inside a `ServerError` with HTTP `status`.
///
/// oci-client 0.18 parses the envelope of a failed read (manifest, blob, tag list) into
/// `RegistryError`. A failed upload or manifest put becomes `ServerError` with the response
/// body as the message.
fn server_error_envelope(error: &OciDistributionError, status: u16) -> OciEnvelope {
    let OciDistributionError::ServerError { code, url, message } = error else {
        panic!("expected a ServerError with status {status}, got {error:?}");
    };
    assert_eq!(*code, status, "status of {url}: {message}");
    serde_json::from_str(message).unwrap_or_else(|parse_error| {
        panic!("{url} returned no OCI envelope ({parse_error}): {message}")
    })
}

/// Returns the envelope and URL of a `RegistryError`.
fn registry_error(error: &OciDistributionError) -> (&OciEnvelope, &str) {
    match error {
        OciDistributionError::RegistryError { envelope, url } => (envelope, url),
        other => panic!("expected a RegistryError, got {other:?}"),
    }
}

/// Selects the linux/arm64 entry of an image index.
fn linux_arm64_resolver(entries: &[ImageIndexEntry]) -> Option<String> {
    entries
        .iter()
        .find(|entry| {
            entry.platform.as_ref().is_some_and(|platform| {
                platform.os.to_string() == "linux" && platform.architecture.to_string() == "arm64"
            })
        })
        .map(|entry| entry.digest.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oci_and_docker_images_round_trip() {
    let lab = Lab::start().await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let client = lab.logged_in_client().await;
    let images = [
        ("oci", TestImage::oci("amd64", "oci")),
        ("oci-bare", TestImage::oci_without_media_type("oci-bare")),
        ("docker", TestImage::docker("docker")),
    ];

    for (tag, image) in &images {
        let reference = lab.tag_reference(REPOSITORY, tag);
        let pushed = client
            .push(
                &reference,
                &image.layers,
                image.config.clone(),
                &lab.auth,
                Some(image.manifest.clone()),
            )
            .await
            .unwrap_or_else(|error| panic!("push of {reference} failed: {error}"));

        let (raw, digest) = client
            .pull_manifest_raw(&reference, &lab.auth, &[image.media_type().as_str()])
            .await
            .unwrap_or_else(|error| panic!("manifest pull of {reference} failed: {error}"));
        assert_eq!(digest, sha256(&raw), "{reference}");
        let stored: OciImageManifest = serde_json::from_slice(&raw).expect("an image manifest");
        assert_eq!(stored.media_type, image.manifest.media_type, "{reference}");
        assert_eq!(
            pushed.manifest_url,
            format!("http://{}/v2/{REPOSITORY}/manifests/{digest}", lab.registry)
        );
        assert_eq!(
            pushed.config_url,
            format!(
                "http://{}/v2/{REPOSITORY}/blobs/{}",
                lab.registry, image.manifest.config.digest
            )
        );

        let head_digest = client
            .fetch_manifest_digest(&reference, &lab.auth)
            .await
            .unwrap_or_else(|error| panic!("HEAD of {reference} failed: {error}"));
        assert_eq!(head_digest, digest, "{reference}");

        let by_tag = client
            .pull(&reference, &lab.auth, LAYER_MEDIA_TYPES.to_vec())
            .await
            .unwrap_or_else(|error| panic!("pull of {reference} failed: {error}"));
        assert_pulled(&by_tag, image, &digest);

        let by_digest_reference = lab.digest_reference(REPOSITORY, &digest);
        let by_digest = client
            .pull(&by_digest_reference, &lab.auth, LAYER_MEDIA_TYPES.to_vec())
            .await
            .unwrap_or_else(|error| panic!("pull of {by_digest_reference} failed: {error}"));
        assert_pulled(&by_digest, image, &digest);

        let detail = lab.describe_image(REPOSITORY, &digest).await;
        assert_eq!(detail.image_tags(), [*tag]);
        assert_eq!(
            detail.image_manifest_media_type(),
            Some(image.media_type().as_str()),
            "{reference}"
        );
        assert_eq!(
            detail.artifact_media_type(),
            Some(image.config.media_type.as_str()),
            "{reference}"
        );
        assert_eq!(detail.image_size_in_bytes(), Some(image.layers_size()));
    }
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tags_pages_with_n_and_last() {
    let lab = Lab::start().await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let client = lab.logged_in_client().await;
    let image = TestImage::oci("amd64", "tags");
    image
        .push(&client, &lab.tag_reference(REPOSITORY, "v1"), &lab.auth)
        .await;
    let manifest = OciManifest::Image(image.manifest.clone());
    for tag in ["v2", "v10", "latest", "beta"] {
        let reference = lab.tag_reference(REPOSITORY, tag);
        client
            .push_manifest(&reference, &manifest)
            .await
            .unwrap_or_else(|error| panic!("manifest put of {reference} failed: {error}"));
    }
    let reference = lab.tag_reference(REPOSITORY, "v1");

    let all = client
        .list_tags(&reference, &lab.auth, None, None)
        .await
        .expect("tag list without n failed");
    assert_eq!(all.name, REPOSITORY);
    assert_eq!(all.tags, ["beta", "latest", "v1", "v10", "v2"]);

    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut last: Option<String> = None;
    loop {
        let page = client
            .list_tags(&reference, &lab.auth, Some(2), last.as_deref())
            .await
            .unwrap_or_else(|error| panic!("tag list after {last:?} failed: {error}"));
        assert_eq!(page.name, REPOSITORY);
        if page.tags.is_empty() {
            break;
        }
        last = page.tags.last().cloned();
        pages.push(page.tags);
        assert!(pages.len() <= 5, "paging does not end: {pages:?}");
    }
    assert_eq!(
        pages,
        [vec!["beta", "latest"], vec!["v1", "v10"], vec!["v2"]]
    );

    // `last` need not be a stored tag: the listing continues after it in lexical order.
    let after_gap = client
        .list_tags(&reference, &lab.auth, Some(10), Some("u"))
        .await
        .expect("tag list after a tag that is not stored failed");
    assert_eq!(after_gap.tags, ["v1", "v10", "v2"]);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_index_resolves_each_platform() {
    let lab = Lab::start().await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let client = lab.logged_in_client().await;
    let amd64 = TestImage::oci("amd64", "amd64 build");
    let arm64 = TestImage::oci("arm64", "arm64 build");
    let amd64_descriptor = amd64.push_by_digest(&client, &lab, REPOSITORY).await;
    let arm64_descriptor = arm64.push_by_digest(&client, &lab, REPOSITORY).await;

    let entries = [(&amd64_descriptor, "amd64"), (&arm64_descriptor, "arm64")]
        .into_iter()
        .map(|(descriptor, architecture)| {
            serde_json::from_value::<ImageIndexEntry>(serde_json::json!({
                "mediaType": descriptor.media_type,
                "digest": descriptor.digest,
                "size": descriptor.size,
                "platform": { "architecture": architecture, "os": "linux" },
            }))
            .expect("a valid index entry")
        })
        .collect();
    let index = OciImageIndex {
        schema_version: 2,
        media_type: Some(OCI_IMAGE_INDEX_MEDIA_TYPE.to_owned()),
        manifests: entries,
        artifact_type: None,
        annotations: None,
    };
    let index_reference = lab.tag_reference(REPOSITORY, "multi");
    client
        .push_manifest_list(&index_reference, &lab.auth, index)
        .await
        .expect("index push failed");
    let index_digest = client
        .fetch_manifest_digest(&index_reference, &lab.auth)
        .await
        .expect("HEAD of the index failed");

    let (stored, stored_digest) = client
        .pull_manifest(&index_reference, &lab.auth)
        .await
        .expect("index pull failed");
    assert_eq!(stored_digest, index_digest);
    let OciManifest::ImageIndex(stored) = stored else {
        panic!("the tag names an image manifest instead of the index: {stored}");
    };
    let stored_entries: Vec<(&str, String)> = stored
        .manifests
        .iter()
        .map(|entry| {
            let platform = entry
                .platform
                .as_ref()
                .expect("each entry names a platform");
            (entry.digest.as_str(), platform.architecture.to_string())
        })
        .collect();
    assert_eq!(
        stored_entries,
        [
            (amd64_descriptor.digest.as_str(), "amd64".to_owned()),
            (arm64_descriptor.digest.as_str(), "arm64".to_owned()),
        ]
    );

    let amd64_client = lab
        .logged_in_client_with(|config| {
            config.platform_resolver = Some(Box::new(linux_amd64_resolver));
        })
        .await;
    let (manifest, digest) = amd64_client
        .pull_image_manifest(&index_reference, &lab.auth)
        .await
        .expect("amd64 manifest pull through the index failed");
    assert_eq!(digest, amd64_descriptor.digest);
    assert_eq!(manifest.config.digest, amd64.manifest.config.digest);

    let arm64_client = lab
        .logged_in_client_with(|config| {
            config.platform_resolver = Some(Box::new(linux_arm64_resolver));
        })
        .await;
    let (manifest, digest, list_digest) = arm64_client
        .pull_image_manifest_and_list_digest(&index_reference, &lab.auth)
        .await
        .expect("arm64 manifest pull through the index failed");
    assert_eq!(digest, arm64_descriptor.digest);
    assert_eq!(manifest.config.digest, arm64.manifest.config.digest);
    assert_eq!(list_digest.as_deref(), Some(index_digest.as_str()));
    let pulled = arm64_client
        .pull(&index_reference, &lab.auth, LAYER_MEDIA_TYPES.to_vec())
        .await
        .expect("arm64 image pull through the index failed");
    assert_pulled(&pulled, &arm64, &arm64_descriptor.digest);

    let no_resolver = lab
        .logged_in_client_with(|config| config.platform_resolver = None)
        .await;
    let error = no_resolver
        .pull_image_manifest(&index_reference, &lab.auth)
        .await
        .expect_err("pull of an index without a platform resolver succeeded");
    assert!(
        matches!(
            error,
            OciDistributionError::ImageIndexParsingNoPlatformResolverError
        ),
        "{error:?}"
    );

    let windows_client = lab
        .logged_in_client_with(|config| {
            config.platform_resolver = Some(Box::new(windows_amd64_resolver));
        })
        .await;
    let error = windows_client
        .pull_image_manifest(&index_reference, &lab.auth)
        .await
        .expect_err("pull of an index without a windows/amd64 entry succeeded");
    assert!(
        matches!(error, OciDistributionError::ImageManifestNotFoundError(_)),
        "{error:?}"
    );

    let detail = lab.describe_image(REPOSITORY, &index_digest).await;
    assert_eq!(
        detail.image_manifest_media_type(),
        Some(OCI_IMAGE_INDEX_MEDIA_TYPE)
    );
    assert_eq!(detail.image_tags(), ["multi"]);
    assert_eq!(
        lab.image_digests(REPOSITORY).await.len(),
        3,
        "two platform images and the index"
    );
    lab.stop().await;
}

/// Builds an OCI 1.1 artifact manifest: an empty config, one layer, `artifact_type` and an
/// optional `subject`.
fn artifact_manifest(
    artifact_type: &str,
    layer: &ImageLayer,
    subject: Option<&OciDescriptor>,
) -> OciImageManifest {
    OciImageManifest {
        media_type: Some(OCI_IMAGE_MEDIA_TYPE.to_owned()),
        artifact_type: Some(artifact_type.to_owned()),
        config: OciDescriptor {
            media_type: EMPTY_CONFIG_MEDIA_TYPE.to_owned(),
            digest: sha256(b"{}"),
            size: 2,
            ..OciDescriptor::default()
        },
        layers: vec![OciDescriptor {
            media_type: layer.media_type.clone(),
            digest: layer.sha256_digest(),
            size: i64::try_from(layer.data.len()).expect("a small layer"),
            ..OciDescriptor::default()
        }],
        subject: subject.cloned(),
        ..OciImageManifest::default()
    }
}

/// Uploads the empty config and `layer`, then puts `manifest` under `reference` and returns
/// the manifest's descriptor.
async fn push_artifact(
    client: &Client,
    reference: &Reference,
    manifest: &OciImageManifest,
    layer: &ImageLayer,
) -> OciDescriptor {
    client
        .push_blob(reference, b"{}".to_vec(), &sha256(b"{}"))
        .await
        .expect("empty config upload failed");
    client
        .push_blob(reference, layer.data.clone(), &layer.sha256_digest())
        .await
        .expect("artifact layer upload failed");
    let bytes = serde_json::to_vec(manifest).expect("a manifest serializes");
    let content_type = HeaderValue::from_static(OCI_IMAGE_MEDIA_TYPE);
    client
        .push_manifest_raw(reference, bytes.clone(), content_type)
        .await
        .unwrap_or_else(|error| panic!("artifact put of {reference} failed: {error}"));
    OciDescriptor {
        media_type: OCI_IMAGE_MEDIA_TYPE.to_owned(),
        digest: sha256(&bytes),
        size: i64::try_from(bytes.len()).expect("a small manifest"),
        ..OciDescriptor::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrers_list_artifacts_by_type() {
    const REPORT_TYPE: &str = "application/vnd.ecrlab.report.v1+json";
    const SIGNATURE_TYPE: &str = "application/vnd.ecrlab.signature.v1";
    const SBOM_TYPE: &str = "application/spdx+json";

    let lab = Lab::start().await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let client = lab.logged_in_client().await;

    let report_layer = ImageLayer::new(
        br#"{"findings":0}"#.to_vec(),
        "application/json".to_owned(),
        None,
    );
    let report = artifact_manifest(REPORT_TYPE, &report_layer, None);
    let report_descriptor = push_artifact(
        &client,
        &lab.tag_reference(REPOSITORY, "report"),
        &report,
        &report_layer,
    )
    .await;

    let signature_layer = ImageLayer::new(
        b"signature bytes".to_vec(),
        "application/octet-stream".to_owned(),
        None,
    );
    let signature = artifact_manifest(SIGNATURE_TYPE, &signature_layer, Some(&report_descriptor));
    let signature_digest = sha256(&serde_json::to_vec(&signature).expect("serializes"));
    let signature_descriptor = push_artifact(
        &client,
        &lab.digest_reference(REPOSITORY, &signature_digest),
        &signature,
        &signature_layer,
    )
    .await;

    let sbom_layer = ImageLayer::new(
        br#"{"spdxVersion":"SPDX-2.3"}"#.to_vec(),
        SBOM_TYPE.to_owned(),
        None,
    );
    let sbom = artifact_manifest(SBOM_TYPE, &sbom_layer, Some(&report_descriptor));
    let sbom_digest = sha256(&serde_json::to_vec(&sbom).expect("serializes"));
    let sbom_descriptor = push_artifact(
        &client,
        &lab.digest_reference(REPOSITORY, &sbom_digest),
        &sbom,
        &sbom_layer,
    )
    .await;

    // oci-client falls back to the referrers tag schema when the referrers API returns 404,
    // and that fallback finds no tag here, so a non-empty listing comes from the API itself.
    let subject = lab.digest_reference(REPOSITORY, &report_descriptor.digest);
    let all = client
        .pull_referrers(&subject, None)
        .await
        .expect("referrers of the report failed");
    let mut listed: Vec<(String, Option<String>, String, i64)> = all
        .manifests
        .iter()
        .map(|entry| {
            (
                entry.digest.clone(),
                entry.artifact_type.clone(),
                entry.media_type.clone(),
                entry.size,
            )
        })
        .collect();
    listed.sort();
    let mut expected = vec![
        (
            signature_descriptor.digest.clone(),
            Some(SIGNATURE_TYPE.to_owned()),
            OCI_IMAGE_MEDIA_TYPE.to_owned(),
            signature_descriptor.size,
        ),
        (
            sbom_descriptor.digest.clone(),
            Some(SBOM_TYPE.to_owned()),
            OCI_IMAGE_MEDIA_TYPE.to_owned(),
            sbom_descriptor.size,
        ),
    ];
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(all.media_type.as_deref(), Some(OCI_IMAGE_INDEX_MEDIA_TYPE));

    // oci-client does not filter the API's response itself, so this checks the registry's
    // filter. The SBOM type contains `+`, which the query string carries as `%2B`.
    let filters = [
        (SIGNATURE_TYPE, &signature_descriptor),
        (SBOM_TYPE, &sbom_descriptor),
    ];
    for (artifact_type, descriptor) in filters {
        let filtered = client
            .pull_referrers(&subject, Some(artifact_type))
            .await
            .unwrap_or_else(|error| panic!("referrers of type {artifact_type} failed: {error}"));
        let digests: Vec<&str> = filtered
            .manifests
            .iter()
            .map(|entry| entry.digest.as_str())
            .collect();
        assert_eq!(digests, [descriptor.digest.as_str()], "{artifact_type}");
    }

    let none = client
        .pull_referrers(&subject, Some("application/vnd.ecrlab.unknown"))
        .await
        .expect("referrers of an artifact type that nothing has failed");
    assert!(none.manifests.is_empty(), "{:?}", none.manifests);

    let of_signature = client
        .pull_referrers(
            &lab.digest_reference(REPOSITORY, &signature_descriptor.digest),
            None,
        )
        .await
        .expect("referrers of the signature failed");
    assert!(
        of_signature.manifests.is_empty(),
        "{:?}",
        of_signature.manifests
    );

    let (stored, _) = client
        .pull_manifest(
            &lab.digest_reference(REPOSITORY, &signature_descriptor.digest),
            &lab.auth,
        )
        .await
        .expect("signature manifest pull failed");
    let OciManifest::Image(stored) = stored else {
        panic!("the signature is stored as an index: {stored}");
    };
    assert_eq!(stored.artifact_type.as_deref(), Some(SIGNATURE_TYPE));
    assert_eq!(
        stored
            .subject
            .as_ref()
            .map(|subject| subject.digest.as_str()),
        Some(report_descriptor.digest.as_str())
    );
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_rejected() {
    let lab = Lab::start().await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let image = TestImage::oci("amd64", "credentials");
    let good_client = lab.logged_in_client().await;
    image
        .push(
            &good_client,
            &lab.tag_reference(REPOSITORY, "v1"),
            &lab.auth,
        )
        .await;
    let reference = lab.tag_reference(REPOSITORY, "v1");
    let wrong_password = RegistryAuth::Basic("AWS".to_owned(), "not-the-password".to_owned());

    // oci-client reports a 401 on a GET as UnauthorizedError, which carries only the URL.
    let error = lab
        .client_with(|_| {})
        .pull(&reference, &wrong_password, LAYER_MEDIA_TYPES.to_vec())
        .await
        .err()
        .expect("pull with a wrong password succeeded");
    let OciDistributionError::UnauthorizedError { url } = &error else {
        panic!("expected UnauthorizedError, got {error:?}");
    };
    assert!(
        url.ends_with(&format!("/v2/{REPOSITORY}/manifests/v1")),
        "{url}"
    );

    let error = lab
        .client_with(|_| {})
        .push(
            &lab.tag_reference(REPOSITORY, "v2"),
            &image.layers,
            image.config.clone(),
            &wrong_password,
            Some(image.manifest.clone()),
        )
        .await
        .err()
        .expect("push with a wrong password succeeded");
    let envelope = server_error_envelope(&error, 401);
    assert_eq!(envelope.errors[0].code, OciErrorCode::Denied);
    assert!(
        envelope.errors[0]
            .message
            .contains("aws ecr get-login-password"),
        "{envelope:?}"
    );

    // ECR accepts only the user name `AWS`, and the message names the user name that was sent.
    let wrong_user = match &lab.auth {
        RegistryAuth::Basic(_, password) => RegistryAuth::Basic("aws".to_owned(), password.clone()),
        other => panic!("the login is Basic, not {other:?}"),
    };
    let error = lab
        .client_with(|_| {})
        .push(
            &lab.tag_reference(REPOSITORY, "v2"),
            &image.layers,
            image.config.clone(),
            &wrong_user,
            Some(image.manifest.clone()),
        )
        .await
        .err()
        .expect("push as user aws succeeded");
    let envelope = server_error_envelope(&error, 401);
    assert_eq!(envelope.errors[0].code, OciErrorCode::Denied);
    assert!(
        envelope.errors[0].message.contains("not 'aws'"),
        "{envelope:?}"
    );

    let tags = good_client
        .list_tags(&reference, &lab.auth, None, None)
        .await
        .expect("tag list failed");
    assert_eq!(tags.tags, ["v1"], "a rejected push changed the repository");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_repository_is_name_unknown() {
    const MISSING: &str = "team/ghost";

    let lab = Lab::start().await;
    let client = lab.logged_in_client().await;
    let reference = lab.tag_reference(MISSING, "v1");

    let error = client
        .pull(&reference, &lab.auth, LAYER_MEDIA_TYPES.to_vec())
        .await
        .err()
        .expect("pull from a missing repository succeeded");
    let (envelope, url) = registry_error(&error);
    assert!(
        url.ends_with(&format!("/v2/{MISSING}/manifests/v1")),
        "{url}"
    );
    assert_eq!(envelope.errors[0].code, OciErrorCode::NameUnknown);
    assert!(
        envelope.errors[0].message.contains(&format!("'{MISSING}'")),
        "{envelope:?}"
    );

    let error = client
        .list_tags(&reference, &lab.auth, None, None)
        .await
        .expect_err("tag list of a missing repository succeeded");
    let (envelope, _) = registry_error(&error);
    assert_eq!(envelope.errors[0].code, OciErrorCode::NameUnknown);

    let image = TestImage::oci("amd64", "ghost");
    let error = client
        .push(
            &reference,
            &image.layers,
            image.config.clone(),
            &lab.auth,
            Some(image.manifest.clone()),
        )
        .await
        .err()
        .expect("push to a missing repository succeeded");
    let envelope = server_error_envelope(&error, 404);
    assert_eq!(envelope.errors[0].code, OciErrorCode::NameUnknown);
    assert!(
        envelope.errors[0].message.contains(&format!("'{MISSING}'")),
        "{envelope:?}"
    );

    // The rejected push created no repository.
    let error = lab
        .ecr
        .describe_repositories()
        .repository_names(MISSING)
        .send()
        .await
        .expect_err("DescribeRepositories found the repository of the rejected push")
        .into_service_error();
    assert!(error.is_repository_not_found_exception(), "{error:?}");
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_with_unknown_blob_is_rejected() {
    let lab = Lab::start().await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let client = lab.logged_in_client().await;
    let reference = lab.tag_reference(REPOSITORY, "v1");
    let image = TestImage::oci("amd64", "partial");
    client
        .push_blob(
            &reference,
            image.config.data.clone(),
            &image.manifest.config.digest,
        )
        .await
        .expect("config upload failed");
    client
        .push_blob(
            &reference,
            image.layers[0].data.clone(),
            &image.manifest.layers[0].digest,
        )
        .await
        .expect("first layer upload failed");
    let never_uploaded = &image.manifest.layers[1].digest;

    let error = client
        .push_manifest(&reference, &OciManifest::Image(image.manifest.clone()))
        .await
        .expect_err("put of a manifest that names a blob that was never uploaded succeeded");
    let envelope = server_error_envelope(&error, 400);
    assert_eq!(envelope.errors[0].code, OciErrorCode::ManifestBlobUnknown);
    assert!(
        envelope.errors[0].message.contains(never_uploaded.as_str()),
        "{envelope:?}"
    );

    let error = client
        .fetch_manifest_digest(&reference, &lab.auth)
        .await
        .expect_err("HEAD found the rejected manifest");
    let (envelope, _) = registry_error(&error);
    assert_eq!(envelope.errors[0].code, OciErrorCode::ManifestUnknown);
    assert!(lab.image_digests(REPOSITORY).await.is_empty());
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_tag_overwrite_is_tag_invalid() {
    let lab = Lab::start().await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Immutable)
        .await;
    let client = lab.logged_in_client().await;
    let first = TestImage::oci("amd64", "first");
    let second = TestImage::oci("amd64", "second");
    let v1 = lab.tag_reference(REPOSITORY, "v1");
    first.push(&client, &v1, &lab.auth).await;
    let first_digest = client
        .fetch_manifest_digest(&v1, &lab.auth)
        .await
        .expect("HEAD of v1 failed");

    let error = client
        .push(
            &v1,
            &second.layers,
            second.config.clone(),
            &lab.auth,
            Some(second.manifest.clone()),
        )
        .await
        .err()
        .expect("overwrite of an immutable tag succeeded");
    let envelope = server_error_envelope(&error, 400);
    assert_eq!(envelope.errors[0].code, OciErrorCode::TagInvalid);
    let message = &envelope.errors[0].message;
    assert!(message.contains("'v1'"), "{message}");
    assert!(message.contains(&format!("'{REPOSITORY}'")), "{message}");

    let after = client
        .fetch_manifest_digest(&v1, &lab.auth)
        .await
        .expect("HEAD of v1 after the rejected push failed");
    assert_eq!(after, first_digest, "the immutable tag moved");

    second
        .push(&client, &lab.tag_reference(REPOSITORY, "v2"), &lab.auth)
        .await;
    let tags = client
        .list_tags(&v1, &lab.auth, None, None)
        .await
        .expect("tag list failed");
    assert_eq!(tags.tags, ["v1", "v2"]);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_digest_mismatch_is_digest_invalid() {
    let lab = Lab::start().await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let reference = lab.tag_reference(REPOSITORY, "unused");
    let content = b"the bytes that are sent".to_vec();
    let actual = sha256(&content);
    let claimed = sha256(b"the bytes that the digest describes");
    let chunked = lab.logged_in_client().await;
    let monolithic = lab
        .logged_in_client_with(|config| config.use_monolithic_push = true)
        .await;

    for (upload, client) in [("chunked", &chunked), ("monolithic", &monolithic)] {
        let error = client
            .push_blob(&reference, content.clone(), &claimed)
            .await
            .expect_err("upload whose digest does not match its content succeeded");
        let envelope = server_error_envelope(&error, 400);
        assert_eq!(
            envelope.errors[0].code,
            OciErrorCode::DigestInvalid,
            "{upload}"
        );
        let message = &envelope.errors[0].message;
        assert!(message.contains(&claimed), "{upload}: {message}");
        assert!(message.contains(&actual), "{upload}: {message}");
    }

    for digest in [&claimed, &actual] {
        let exists = chunked
            .blob_exists(&reference, digest)
            .await
            .expect("blob HEAD failed");
        assert!(!exists, "a rejected upload stored {digest}");
    }
    lab.stop().await;
}

/// Asserts that the blob `digest` in `repository` contains `content`, through a registry pull
/// and through ECR's BatchCheckLayerAvailability.
async fn assert_blob_stored(
    lab: &Lab,
    client: &Client,
    repository: &str,
    digest: &str,
    content: &[u8],
) {
    let reference = lab.tag_reference(repository, "unused");
    let descriptor = OciDescriptor {
        digest: digest.to_owned(),
        size: i64::try_from(content.len()).expect("a small blob"),
        ..OciDescriptor::default()
    };
    let mut pulled = Vec::new();
    client
        .pull_blob(&reference, &descriptor, &mut pulled)
        .await
        .unwrap_or_else(|error| panic!("pull of blob {digest} failed: {error}"));
    assert!(pulled == content, "blob {digest} has other content");

    let availability = lab.layer_availability(repository, digest).await;
    let expected_size = i64::try_from(content.len()).expect("a small blob");
    assert_eq!(
        availability,
        Ok((LayerAvailability::Available, expected_size))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_uploads_store_every_chunk() {
    let lab = Lab::start().await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let client = lab.logged_in_client().await;
    let reference = lab.tag_reference(REPOSITORY, "unused");

    // oci-client 0.18 has no chunk size setting. `push_blob` splits data into 4 MiB chunks,
    // and the stream uploads send each stream item of up to 4 MiB as one PATCH, so small
    // stream items give small chunks.
    let chunks: Vec<Vec<u8>> = vec![vec![b'a'; 1000], vec![b'b'; 1000], vec![b'c'; 500]];
    let whole = chunks.concat();
    let items_sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&items_sent);
    let stream = futures_util::stream::iter(chunks.clone()).map(move |chunk| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(bytes::Bytes::from(chunk))
    });
    let pushed = client
        .push_blob_stream_chunked(&reference, stream)
        .await
        .expect("streamed upload without a digest failed");
    assert_eq!(items_sent.load(Ordering::SeqCst), 3);
    assert_eq!(pushed.blob_digest, sha256(&whole));
    assert_eq!(pushed.size, 2500);
    assert_eq!(
        pushed.blob_url,
        format!(
            "http://{}/v2/{REPOSITORY}/blobs/{}",
            lab.registry, pushed.blob_digest
        )
    );
    assert_blob_stored(&lab, &client, REPOSITORY, &pushed.blob_digest, &whole).await;

    let second: Vec<Vec<u8>> = vec![b"first chunk, ".to_vec(), b"second chunk".to_vec()];
    let second_whole = second.concat();
    let second_digest = sha256(&second_whole);
    let stream = futures_util::stream::iter(second).map(|chunk| Ok(bytes::Bytes::from(chunk)));
    client
        .push_blob_stream(&reference, stream, &second_digest, None)
        .await
        .expect("streamed upload with a digest failed");
    assert_blob_stored(&lab, &client, REPOSITORY, &second_digest, &second_whole).await;

    // A blob 1,000 bytes over 4 MiB makes `push_blob` send two chunks, 4 MiB and then the
    // last 1,000 bytes.
    let large: Vec<u8> = (0..4 * 1024 * 1024 + 1000)
        .map(|index| (index % 251) as u8)
        .collect();
    let large_digest = sha256(&large);
    client
        .push_blob(&reference, large.clone(), &large_digest)
        .await
        .expect("upload of two chunks failed");
    assert_blob_stored(&lab, &client, REPOSITORY, &large_digest, &large).await;
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mount_without_blob_mounting_falls_back_to_upload() {
    const SOURCE: &str = "team/base";

    let lab = Lab::start().await;
    lab.create_repository(SOURCE, ImageTagMutability::Mutable)
        .await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let client = lab.logged_in_client().await;
    let image = TestImage::oci("amd64", "shared");
    let source = lab.tag_reference(SOURCE, "v1");
    image.push(&client, &source, &lab.auth).await;
    let target = lab.tag_reference(REPOSITORY, "v1");
    let blob_digests: Vec<&str> = std::iter::once(&image.manifest.config)
        .chain(&image.manifest.layers)
        .map(|descriptor| descriptor.digest.as_str())
        .collect();

    assert_eq!(lab.blob_mounting().await, "DISABLED");

    // A registry that does not mount responds to the mount request with 202 and an upload
    // session (OCI distribution specification, "Mounting a blob from another repository").
    // oci-client 0.18 expects 201 and reports the 202 as a spec violation.
    for digest in &blob_digests {
        assert!(
            !client
                .blob_exists(&target, digest)
                .await
                .expect("blob HEAD failed"),
            "{digest} is in the target repository before any upload"
        );
        let error = client
            .mount_blob(&target, &source, digest)
            .await
            .expect_err("mount while blob mounting is off succeeded");
        let OciDistributionError::SpecViolationError(violation) = &error else {
            panic!("expected a SpecViolationError for the 202, got {error:?}");
        };
        assert!(violation.contains("202"), "{violation}");
        assert!(
            !client
                .blob_exists(&target, digest)
                .await
                .expect("blob HEAD failed"),
            "the mount copied {digest} although blob mounting is off"
        );
    }

    image.push(&client, &target, &lab.auth).await;
    let pulled = client
        .pull(&target, &lab.auth, LAYER_MEDIA_TYPES.to_vec())
        .await
        .expect("pull from the target repository failed");
    let source_digest = client
        .fetch_manifest_digest(&source, &lab.auth)
        .await
        .expect("HEAD in the source repository failed");
    assert_pulled(&pulled, &image, &source_digest);
    for (descriptor, layer) in image.manifest.layers.iter().zip(&image.layers) {
        assert_blob_stored(&lab, &client, REPOSITORY, &descriptor.digest, &layer.data).await;
    }

    // With the blob in the target repository, the mock responds to a mount with 201.
    client
        .mount_blob(&target, &source, &image.manifest.layers[0].digest)
        .await
        .expect("mount of a blob that the target repository has failed");
    assert_eq!(lab.image_digests(REPOSITORY).await, [source_digest]);
    lab.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mount_with_blob_mounting_enabled() {
    const SOURCE: &str = "team/base";

    let lab = Lab::start().await;
    lab.create_repository(SOURCE, ImageTagMutability::Mutable)
        .await;
    lab.create_repository(REPOSITORY, ImageTagMutability::Mutable)
        .await;
    let client = lab.logged_in_client().await;
    let image = TestImage::oci("amd64", "shared");
    let source = lab.tag_reference(SOURCE, "v1");
    image.push(&client, &source, &lab.auth).await;
    lab.enable_blob_mounting().await;
    assert_eq!(lab.blob_mounting().await, "ENABLED");

    let target = lab.tag_reference(REPOSITORY, "v1");
    let mounted = std::iter::once((&image.manifest.config, &image.config.data)).chain(
        image
            .manifest
            .layers
            .iter()
            .zip(image.layers.iter().map(|layer| &layer.data)),
    );
    for (descriptor, content) in mounted {
        client
            .mount_blob(&target, &source, &descriptor.digest)
            .await
            .unwrap_or_else(|error| panic!("mount of {} failed: {error}", descriptor.digest));
        assert_blob_stored(&lab, &client, REPOSITORY, &descriptor.digest, content).await;
    }

    // Every blob is in the target repository now, so the manifest put needs no upload.
    client
        .push_manifest(&target, &OciManifest::Image(image.manifest.clone()))
        .await
        .expect("manifest put over mounted blobs failed");
    let pulled = client
        .pull(&target, &lab.auth, LAYER_MEDIA_TYPES.to_vec())
        .await
        .expect("pull from the target repository failed");
    let source_digest = client
        .fetch_manifest_digest(&source, &lab.auth)
        .await
        .expect("HEAD in the source repository failed");
    assert_pulled(&pulled, &image, &source_digest);

    // A blob that the source repository does not have still falls back to an upload session.
    let unknown = sha256(b"a blob that no repository has");
    let error = client
        .mount_blob(&target, &source, &unknown)
        .await
        .expect_err("mount of a blob that the source repository lacks succeeded");
    assert!(
        matches!(error, OciDistributionError::SpecViolationError(_)),
        "{error:?}"
    );
    lab.stop().await;
}
