//! An image pushed through the ECR API's layer operations with aws-sdk-ecr, as the Amazon ECR
//! proxy pushes: layers in parts, then PutImage. It is pulled back with oci-client through the
//! registry and through GetDownloadUrlForLayer's URL.

#[path = "support/ecr_sdk.rs"]
mod ecr_sdk;

use aws_sdk_ecr::primitives::Blob;
use ecrlab_core::clients::EcrSettings;
use mock_ecr::{Config, MockEcr};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::IMAGE_LAYER_MEDIA_TYPE;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use sha2::{Digest as _, Sha256};

const FIVE_MIB: usize = 5 * 1024 * 1024;

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex_string(&Sha256::digest(bytes)))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Uploads `bytes` in parts of at most `part_size` bytes and returns the digest ECR reports.
async fn upload_layer(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    bytes: &[u8],
    part_size: usize,
) -> String {
    let initiated = ecr
        .initiate_layer_upload()
        .repository_name(repository)
        .send()
        .await
        .expect("upload initiated");
    assert_eq!(initiated.part_size(), Some(10 * 1024 * 1024));
    let upload_id = initiated.upload_id().expect("upload id").to_owned();

    for (index, part) in bytes.chunks(part_size).enumerate() {
        let first = (index * part_size) as i64;
        let last = first + part.len() as i64 - 1;
        let output = ecr
            .upload_layer_part()
            .repository_name(repository)
            .upload_id(&upload_id)
            .part_first_byte(first)
            .part_last_byte(last)
            .layer_part_blob(Blob::new(part.to_vec()))
            .send()
            .await
            .expect("part uploaded");
        assert_eq!(output.last_byte_received(), Some(last));
    }

    let completed = ecr
        .complete_layer_upload()
        .repository_name(repository)
        .upload_id(&upload_id)
        .layer_digests(sha256(bytes))
        .send()
        .await
        .expect("upload completed");
    completed.layer_digest().expect("layer digest").to_owned()
}

async fn registry_auth(ecr: &aws_sdk_ecr::Client) -> RegistryAuth {
    let (user, password) = ecr_sdk::registry_credentials(ecr).await;
    RegistryAuth::Basic(user, password)
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_push_in_parts_pulls_with_oci_client() {
    let data = tempfile::tempdir().expect("temporary folder");
    let mock = MockEcr::start(Config::new(data.path()))
        .await
        .expect("mock starts");
    let ecr = EcrSettings::for_mock(mock.endpoint())
        .expect("endpoint")
        .ecr_client();
    ecr_sdk::create_repository(&ecr, "team/parts", None).await;

    let layer: Vec<u8> = (0..FIVE_MIB + 4321)
        .map(|index| (index % 253) as u8)
        .collect();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer_digest = upload_layer(&ecr, "team/parts", &layer, FIVE_MIB).await;
    let config_digest = upload_layer(&ecr, "team/parts", config, FIVE_MIB).await;
    assert_eq!(layer_digest, sha256(&layer));

    let availability = ecr
        .batch_check_layer_availability()
        .repository_name("team/parts")
        .layer_digests(&layer_digest)
        .layer_digests(sha256(b"never uploaded"))
        .send()
        .await
        .expect("availability");
    let states: Vec<_> = availability
        .layers()
        .iter()
        .map(|layer| {
            layer
                .layer_availability()
                .map(|state| state.as_str().to_owned())
        })
        .collect();
    assert_eq!(
        states,
        [Some("AVAILABLE".to_owned()), Some("UNAVAILABLE".to_owned())]
    );

    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"{IMAGE_LAYER_MEDIA_TYPE}","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let put = ecr
        .put_image()
        .repository_name("team/parts")
        .image_manifest(&manifest)
        .image_tag("v1")
        .send()
        .await
        .expect("image put");
    let image = put.image().expect("image");
    assert_eq!(
        image.image_id().and_then(|id| id.image_digest()),
        Some(sha256(manifest.as_bytes()).as_str())
    );

    let again = ecr
        .put_image()
        .repository_name("team/parts")
        .image_manifest(&manifest)
        .image_tag("v1")
        .send()
        .await
        .expect_err("same tag again")
        .into_service_error();
    assert!(again.is_image_already_exists_exception(), "{again:?}");

    let client = Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(vec![mock.registry_host().to_owned()]),
        ..ClientConfig::default()
    });
    let reference = Reference::with_tag(
        mock.registry_host().to_owned(),
        "team/parts".to_owned(),
        "v1".to_owned(),
    );
    let pulled = client
        .pull(
            &reference,
            &registry_auth(&ecr).await,
            vec![IMAGE_LAYER_MEDIA_TYPE],
        )
        .await
        .expect("pull");
    assert_eq!(pulled.layers.len(), 1);
    assert!(
        pulled.layers[0].data.as_ref() == layer.as_slice(),
        "oci-client pulls the bytes uploaded in parts"
    );

    let url = ecr
        .get_download_url_for_layer()
        .repository_name("team/parts")
        .layer_digest(&layer_digest)
        .send()
        .await
        .expect("download URL")
        .download_url()
        .expect("url")
        .to_owned();
    let response = reqwest::get(&url).await.expect("download");
    assert_eq!(response.status(), reqwest::StatusCode::OK, "{url}");
    let downloaded = response.bytes().await.expect("body");
    assert!(
        downloaded.as_ref() == layer.as_slice(),
        "the URL serves the layer"
    );

    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_reads_invalid_layer_part_fields() {
    let data = tempfile::tempdir().expect("temporary folder");
    let mock = MockEcr::start(Config::new(data.path()))
        .await
        .expect("mock starts");
    let ecr = EcrSettings::for_mock(mock.endpoint())
        .expect("endpoint")
        .ecr_client();
    ecr_sdk::create_repository(&ecr, "parts", None).await;
    let upload_id = ecr
        .initiate_layer_upload()
        .repository_name("parts")
        .send()
        .await
        .expect("upload initiated")
        .upload_id()
        .expect("upload id")
        .to_owned();
    ecr.upload_layer_part()
        .repository_name("parts")
        .upload_id(&upload_id)
        .part_first_byte(0)
        .part_last_byte(3)
        .layer_part_blob(Blob::new(b"abcd".to_vec()))
        .send()
        .await
        .expect("first part");

    let error = ecr
        .upload_layer_part()
        .repository_name("parts")
        .upload_id(&upload_id)
        .part_first_byte(8)
        .part_last_byte(11)
        .layer_part_blob(Blob::new(b"efgh".to_vec()))
        .send()
        .await
        .expect_err("gap")
        .into_service_error();
    let aws_sdk_ecr::operation::upload_layer_part::UploadLayerPartError::InvalidLayerPartException(
        invalid,
    ) = error
    else {
        panic!("expected InvalidLayerPartException, got {error:?}");
    };
    assert_eq!(invalid.last_valid_byte_received(), Some(3));
    assert_eq!(invalid.upload_id(), Some(upload_id.as_str()));
    assert_eq!(invalid.repository_name(), Some("parts"));

    mock.shutdown().await;
}
