//! Many clients at once against one mock on a 127.0.0.1 socket: racing uploads of one blob,
//! racing pushes of one tag in mutable and immutable repositories, racing pushes near the
//! tags-per-image limit. Each test checks the end state through the ECR API, the registry API,
//! the journal and, once the mock has stopped, the database and blob files themselves.

mod common;
mod socket_client;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::http::Method;
use mock_ecr::core::{MAX_TAGS_PER_IMAGE, PutImageRejection, Reference};
use mock_ecr::{Config, MockEcr};
use serde_json::{Value, json};
use socket_client::{Client, OCI_MANIFEST, StoppedDatabase, ecr_error_type, text};
use tokio::sync::Barrier;

/// A mock on a free port with its own data folder.
struct Server {
    data: tempfile::TempDir,
    mock: MockEcr,
}

impl Server {
    async fn start() -> Self {
        let data = tempfile::tempdir().expect("temporary folder");
        let mock = MockEcr::start(Config::new(data.path()))
            .await
            .expect("mock starts");
        Self { data, mock }
    }

    /// Creates a client that has logged in to the registry with its own token.
    async fn client(&self) -> Client {
        let mut client = Client::new(&self.mock);
        client.login().await;
        client
    }

    /// Stops the mock and checks the database and blob files it leaves behind.
    async fn stop_and_check(self) -> StoppedDatabase {
        self.mock.shutdown().await;
        StoppedDatabase::check(self.data)
    }
}

/// Runs `work` in `count` tasks, each with its own logged-in client, released together by a
/// barrier, and returns their results in task order.
async fn race<F, Fut, T>(server: &Server, count: usize, work: F) -> Vec<T>
where
    F: Fn(usize, Client) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(count));
    let mut tasks = Vec::with_capacity(count);
    for index in 0..count {
        let client = server.client().await;
        let barrier = barrier.clone();
        let future = work(index, client);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            future.await
        }));
    }
    let mut results = Vec::with_capacity(count);
    for task in tasks {
        results.push(task.await.expect("a racing task panicked"));
    }
    results
}

/// How a racing client pushes a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrontEnd {
    /// `PUT /v2/<name>/manifests/<tag>`.
    Registry,
    /// The ECR API's PutImage.
    EcrApi,
}

impl FrontEnd {
    /// Returns the front end of client `index`: every other client uses the ECR API.
    fn of(index: usize) -> Self {
        if index % 2 == 0 {
            Self::Registry
        } else {
            Self::EcrApi
        }
    }
}

/// The outcome of one racing manifest push.
#[derive(Debug)]
struct Push {
    front_end: FrontEnd,
    digest: String,
    status: u16,
    /// The OCI error code or ECR exception name of a rejected push.
    error: Option<String>,
}

impl Push {
    fn accepted(&self) -> bool {
        self.error.is_none()
    }
}

async fn push_manifest(
    client: &Client,
    front_end: FrontEnd,
    repository: &str,
    tag: &str,
    manifest: &[u8],
) -> Push {
    let digest = common::sha256(manifest);
    let (reply, success) = match front_end {
        FrontEnd::Registry => (client.put_manifest(repository, tag, manifest).await, 201),
        FrontEnd::EcrApi => (client.put_image(repository, tag, manifest).await, 200),
    };
    let status = reply.status.as_u16();
    let error = (status != success).then(|| match front_end {
        FrontEnd::Registry => reply.error_code(),
        FrontEnd::EcrApi => ecr_error_type(&reply),
    });
    if let (Some(error), FrontEnd::Registry) = (&error, front_end) {
        assert!(!error.is_empty(), "no OCI error code: {}", text(&reply));
    }
    Push {
        front_end,
        digest,
        status,
        error,
    }
}

/// Returns the digest `GET /v2/<name>/manifests/<reference>` serves, after checking that the
/// body has that digest.
async fn served_digest(client: &Client, repository: &str, reference: &str) -> String {
    let path = format!("/v2/{repository}/manifests/{reference}");
    let reply = client
        .registry(Method::GET, &path, &[("accept", OCI_MANIFEST)], Vec::new())
        .await;
    assert_eq!(reply.status, 200, "GET {path}: {}", text(&reply));
    let digest = reply
        .header("docker-content-digest")
        .expect("Docker-Content-Digest")
        .to_owned();
    assert_eq!(common::sha256(&reply.body), digest, "GET {path}");
    digest
}

/// Returns DescribeImages' image details of a repository, by digest.
async fn described_images(client: &Client, repository: &str) -> BTreeMap<String, Value> {
    let mut images = BTreeMap::new();
    let mut next_token: Option<String> = None;
    loop {
        let mut input = json!({ "repositoryName": repository, "maxResults": 1000 });
        if let Some(token) = &next_token {
            input["nextToken"] = json!(token);
        }
        let output = client.api_ok("DescribeImages", input).await;
        for image in output["imageDetails"].as_array().expect("imageDetails") {
            let digest = image["imageDigest"].as_str().expect("imageDigest");
            images.insert(digest.to_owned(), image.clone());
        }
        match output["nextToken"].as_str() {
            Some(token) => next_token = Some(token.to_owned()),
            None => return images,
        }
    }
}

/// Returns ListImages' image ids of a repository as (digest, tag) pairs.
async fn listed_images(client: &Client, repository: &str) -> BTreeSet<(String, Option<String>)> {
    let mut ids = BTreeSet::new();
    let mut next_token: Option<String> = None;
    loop {
        let mut input = json!({ "repositoryName": repository, "maxResults": 1000 });
        if let Some(token) = &next_token {
            input["nextToken"] = json!(token);
        }
        let output = client.api_ok("ListImages", input).await;
        for id in output["imageIds"].as_array().expect("imageIds") {
            let digest = id["imageDigest"].as_str().expect("imageDigest").to_owned();
            let tag = id["imageTag"].as_str().map(str::to_owned);
            ids.insert((digest, tag));
        }
        match output["nextToken"].as_str() {
            Some(token) => next_token = Some(token.to_owned()),
            None => return ids,
        }
    }
}

fn image_tags(image: &Value) -> BTreeSet<String> {
    image["imageTags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|tag| tag.as_str().expect("tag").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn registry_tags(client: &Client, repository: &str) -> BTreeSet<String> {
    let path = format!("/v2/{repository}/tags/list");
    let reply = client.registry(Method::GET, &path, &[], Vec::new()).await;
    assert_eq!(reply.status, 200, "GET {path}: {}", text(&reply));
    reply.json()["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|tag| tag.as_str().expect("tag").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Returns the journal's manifest pushes of one repository (registry `ManifestPut` and ECR
/// `PutImage`), in the order they were journaled.
fn journaled_pushes(journal: &[Value], repository: &str) -> Vec<Value> {
    journal
        .iter()
        .filter(|event| event["repository"] == repository)
        .filter(|event| event["action"] == "ManifestPut" || event["action"] == "PutImage")
        .cloned()
        .collect()
}

fn successful_digests(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|event| event["outcome"] == "ok")
        .map(|event| event["digest"].as_str().expect("digest").to_owned())
        .collect()
}

/// Deterministic bytes that do not repeat within 256 KiB.
fn test_bytes(length: usize, seed: u8) -> Vec<u8> {
    (0..length)
        .map(|index| (index as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] ^ seed)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_uploads_store_one_blob() {
    const REPOSITORY: &str = "race/blob";
    let server = Server::start().await;
    let setup = server.client().await;
    setup.create_repository(REPOSITORY, "MUTABLE").await;
    let content = Arc::new(test_bytes(96 * 1024, 7));
    let digest = common::sha256(&content);

    // A third of the clients upload in one POST, a third in 16 KiB chunks and a third through
    // the ECR API's layer upload, all released together.
    let results = race(&server, 24, |index, client| {
        let content = content.clone();
        async move {
            match index % 3 {
                0 => (
                    "monolithic",
                    client.upload_monolithic(REPOSITORY, &content).await,
                ),
                1 => (
                    "chunked",
                    client.upload_chunked(REPOSITORY, &content, 16 * 1024).await,
                ),
                _ => (
                    "ecr-api",
                    client.upload_layer_api(REPOSITORY, &content).await,
                ),
            }
        }
    })
    .await;

    let mut api_stored = 0;
    for (kind, reply) in &results {
        match *kind {
            "ecr-api" if reply.status == 200 => {
                assert_eq!(reply.json()["layerDigest"], digest.as_str());
                api_stored += 1;
            }
            // CompleteLayerUpload rejects a layer the repository already contains.
            "ecr-api" => {
                assert_eq!(reply.status, 400, "{}", text(reply));
                assert_eq!(ecr_error_type(reply), "LayerAlreadyExistsException");
            }
            _ => {
                assert_eq!(reply.status, 201, "{kind} upload: {}", text(reply));
                assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
            }
        }
    }
    println!("CompleteLayerUpload stored the layer {api_stored} of 8 times");

    let path = format!("/v2/{REPOSITORY}/blobs/{digest}");
    let head = setup.registry(Method::HEAD, &path, &[], Vec::new()).await;
    assert_eq!(head.status, 200);
    let length = content.len().to_string();
    assert_eq!(head.header("content-length"), Some(length.as_str()));
    let pulled = setup.registry(Method::GET, &path, &[], Vec::new()).await;
    assert_eq!(pulled.status, 200);
    assert!(pulled.body == *content, "GET {path} serves other bytes");
    let checked = setup
        .api_ok(
            "BatchCheckLayerAvailability",
            json!({ "repositoryName": REPOSITORY, "layerDigests": [digest] }),
        )
        .await;
    assert_eq!(checked["layers"][0]["layerAvailability"], "AVAILABLE");
    assert_eq!(checked["layers"][0]["layerSize"], content.len());

    drop(setup);
    let database = server.stop_and_check().await;
    assert_eq!(database.count("SELECT COUNT(*) FROM layers"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_pushes_of_mutable_tag_all_stored() {
    const REPOSITORY: &str = "race/mutable";
    const CLIENTS: usize = 16;
    let server = Server::start().await;
    let setup = server.client().await;
    setup.create_repository(REPOSITORY, "MUTABLE").await;

    let pushes = race(&server, CLIENTS, |index, client| async move {
        let manifest = client
            .push_image_blobs(REPOSITORY, &format!("mutable-{index}"))
            .await;
        push_manifest(
            &client,
            FrontEnd::of(index),
            REPOSITORY,
            "latest",
            &manifest,
        )
        .await
    })
    .await;

    for push in &pushes {
        assert!(push.accepted(), "{push:?}");
    }
    let acknowledged: BTreeSet<String> = pushes.iter().map(|push| push.digest.clone()).collect();
    assert_eq!(acknowledged.len(), CLIENTS);

    let tagged = served_digest(&setup, REPOSITORY, "latest").await;
    assert!(acknowledged.contains(&tagged), "latest names {tagged}");
    for digest in &acknowledged {
        assert_eq!(&served_digest(&setup, REPOSITORY, digest).await, digest);
    }

    let images = described_images(&setup, REPOSITORY).await;
    assert_eq!(
        images.keys().cloned().collect::<BTreeSet<_>>(),
        acknowledged
    );
    for (digest, image) in &images {
        let expected: BTreeSet<String> = if *digest == tagged {
            BTreeSet::from(["latest".to_owned()])
        } else {
            BTreeSet::new()
        };
        assert_eq!(image_tags(image), expected, "DescribeImages of {digest}");
    }
    let listed = listed_images(&setup, REPOSITORY).await;
    let expected: BTreeSet<(String, Option<String>)> = acknowledged
        .iter()
        .map(|digest| {
            (
                digest.clone(),
                (*digest == tagged).then(|| "latest".to_owned()),
            )
        })
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(
        registry_tags(&setup, REPOSITORY).await,
        BTreeSet::from(["latest".to_owned()])
    );

    // Every acknowledged push is journaled once.
    // NOTE: the front ends journal a push after its transaction commits, so under racing
    // pushes the last push journaled is not always the one the tag ends on. The journal's
    // order is the order of journal writes, so the tag's digest is read from the state above.
    let events = journaled_pushes(&setup.journal().await, REPOSITORY);
    let journaled = successful_digests(&events);
    assert_eq!(journaled.len(), CLIENTS, "{events:#?}");
    assert_eq!(
        journaled.iter().cloned().collect::<BTreeSet<_>>(),
        acknowledged
    );

    drop(setup);
    let database = server.stop_and_check().await;
    assert_eq!(
        database.count("SELECT COUNT(*) FROM images"),
        CLIENTS as i64
    );
    assert_eq!(database.count("SELECT COUNT(*) FROM tags"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_pushes_of_different_tags_all_kept() {
    const REPOSITORY: &str = "race/tags";
    const CLIENTS: usize = 24;
    let server = Server::start().await;
    let setup = server.client().await;
    setup.create_repository(REPOSITORY, "IMMUTABLE").await;
    let shared = Arc::new(setup.push_image_blobs(REPOSITORY, "shared").await);
    let shared_digest = common::sha256(&shared);

    // Even clients tag the shared image and odd clients push an image of their own. Every
    // tag is new, so even an immutable repository accepts all of them.
    let pushes = race(&server, CLIENTS, |index, client| {
        let shared = shared.clone();
        async move {
            let front_end = FrontEnd::of(index / 2);
            if index % 2 == 0 {
                let tag = format!("shared-{index}");
                push_manifest(&client, front_end, REPOSITORY, &tag, &shared).await
            } else {
                let tag = format!("own-{index}");
                let manifest = client.push_image_blobs(REPOSITORY, &tag).await;
                push_manifest(&client, front_end, REPOSITORY, &tag, &manifest).await
            }
        }
    })
    .await;

    for push in &pushes {
        assert!(push.accepted(), "{push:?}");
    }
    let shared_tags: BTreeSet<String> = (0..CLIENTS)
        .step_by(2)
        .map(|index| format!("shared-{index}"))
        .collect();
    for (index, push) in pushes.iter().enumerate() {
        let tag = if index % 2 == 0 {
            format!("shared-{index}")
        } else {
            format!("own-{index}")
        };
        assert_eq!(served_digest(&setup, REPOSITORY, &tag).await, push.digest);
    }

    let images = described_images(&setup, REPOSITORY).await;
    assert_eq!(images.len(), 1 + CLIENTS / 2);
    assert_eq!(image_tags(&images[&shared_digest]), shared_tags);
    for (index, push) in pushes
        .iter()
        .enumerate()
        .filter(|(index, _)| index % 2 == 1)
    {
        let own = BTreeSet::from([format!("own-{index}")]);
        assert_eq!(image_tags(&images[&push.digest]), own);
    }
    let listed = listed_images(&setup, REPOSITORY).await;
    assert_eq!(listed.len(), CLIENTS);
    assert_eq!(registry_tags(&setup, REPOSITORY).await.len(), CLIENTS);

    let events = journaled_pushes(&setup.journal().await, REPOSITORY);
    assert_eq!(successful_digests(&events).len(), CLIENTS, "{events:#?}");

    drop(setup);
    let database = server.stop_and_check().await;
    assert_eq!(database.count("SELECT COUNT(*) FROM tags"), CLIENTS as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_pushes_of_immutable_tag_one_wins() {
    const REPOSITORY: &str = "race/immutable";
    const CLIENTS: usize = 16;
    let server = Server::start().await;
    let setup = server.client().await;
    setup.create_repository(REPOSITORY, "IMMUTABLE").await;

    let pushes = race(&server, CLIENTS, |index, client| async move {
        let manifest = client
            .push_image_blobs(REPOSITORY, &format!("immutable-{index}"))
            .await;
        push_manifest(&client, FrontEnd::of(index), REPOSITORY, "v1", &manifest).await
    })
    .await;

    let winners: Vec<&Push> = pushes.iter().filter(|push| push.accepted()).collect();
    assert_eq!(winners.len(), 1, "{pushes:#?}");
    let winner = winners[0];
    for push in pushes.iter().filter(|push| !push.accepted()) {
        let expected = match push.front_end {
            FrontEnd::Registry => (400, "TAG_INVALID"),
            FrontEnd::EcrApi => (400, "ImageTagAlreadyExistsException"),
        };
        assert_eq!((push.status, push.error.as_deref().unwrap()), expected);
    }

    assert_eq!(served_digest(&setup, REPOSITORY, "v1").await, winner.digest);
    let images = described_images(&setup, REPOSITORY).await;
    assert_eq!(images.keys().collect::<Vec<_>>(), vec![&winner.digest]);
    assert_eq!(
        image_tags(&images[&winner.digest]),
        BTreeSet::from(["v1".to_owned()])
    );
    for push in pushes.iter().filter(|push| !push.accepted()) {
        let path = format!("/v2/{REPOSITORY}/manifests/{}", push.digest);
        let reply = setup.registry(Method::GET, &path, &[], Vec::new()).await;
        assert_eq!(
            reply.status, 404,
            "a rejected manifest is not stored: {path}"
        );
    }

    let events = journaled_pushes(&setup.journal().await, REPOSITORY);
    assert_eq!(successful_digests(&events), vec![winner.digest.clone()]);
    let rejected = events
        .iter()
        .filter(|event| event["outcome"] == "error")
        .count();
    assert_eq!(rejected, CLIENTS - 1, "{events:#?}");

    drop(setup);
    let database = server.stop_and_check().await;
    assert_eq!(database.count("SELECT COUNT(*) FROM images"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_pushes_stop_at_tag_limit() {
    const REPOSITORY: &str = "race/limit";
    const FREE_TAGS: usize = 5;
    const CLIENTS: usize = 20;
    let server = Server::start().await;
    let setup = server.client().await;
    setup.create_repository(REPOSITORY, "MUTABLE").await;
    let manifest = Arc::new(setup.push_image_blobs(REPOSITORY, "limit").await);
    let digest = common::sha256(&manifest);

    // The first tags go straight to the core, because 995 HTTP requests would only slow the
    // test down.
    let registry = server.mock.registry();
    let scope = registry.default_scope();
    for index in 0..MAX_TAGS_PER_IMAGE - FREE_TAGS {
        let tag = Reference::Tag(format!("early-{index}"));
        registry
            .put_manifest(&scope, REPOSITORY, &tag, Some(OCI_MANIFEST), &manifest)
            .expect("a tag under the limit is accepted");
    }

    let pushes = race(&server, CLIENTS, |index, client| {
        let manifest = manifest.clone();
        async move {
            let tag = format!("late-{index}");
            push_manifest(&client, FrontEnd::of(index), REPOSITORY, &tag, &manifest).await
        }
    })
    .await;

    let accepted = pushes.iter().filter(|push| push.accepted()).count();
    assert_eq!(accepted, FREE_TAGS, "{pushes:#?}");
    for push in pushes.iter().filter(|push| !push.accepted()) {
        let expected = match push.front_end {
            FrontEnd::Registry => (403, "DENIED"),
            FrontEnd::EcrApi => (400, "LimitExceededException"),
        };
        assert_eq!((push.status, push.error.as_deref().unwrap()), expected);
    }

    let images = described_images(&setup, REPOSITORY).await;
    assert_eq!(image_tags(&images[&digest]).len(), MAX_TAGS_PER_IMAGE);
    assert_eq!(
        registry_tags(&setup, REPOSITORY).await.len(),
        MAX_TAGS_PER_IMAGE
    );

    drop(setup);
    let database = server.stop_and_check().await;
    assert_eq!(
        database.count("SELECT COUNT(*) FROM tags"),
        MAX_TAGS_PER_IMAGE as i64
    );
}

/// PutImage of a manifest already under the tag is rejected with ImageAlreadyExistsException,
/// so of many identical PutImage calls racing, exactly one is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_identical_put_image_accepted_once() {
    const REPOSITORY: &str = "race/identical";
    const CLIENTS: usize = 12;
    const ROUNDS: usize = 8;
    let server = Server::start().await;
    let setup = server.client().await;
    setup.create_repository(REPOSITORY, "MUTABLE").await;

    for round in 0..ROUNDS {
        let manifest = Arc::new(
            setup
                .push_image_blobs(REPOSITORY, &format!("identical-{round}"))
                .await,
        );
        let tag = format!("round-{round}");
        let pushes =
            race(&server, CLIENTS, |_, client| {
                let manifest = manifest.clone();
                let tag = tag.clone();
                async move {
                    push_manifest(&client, FrontEnd::EcrApi, REPOSITORY, &tag, &manifest).await
                }
            })
            .await;

        let accepted = pushes.iter().filter(|push| push.accepted()).count();
        assert_eq!(accepted, 1, "round {round}: {pushes:#?}");
        for push in pushes.iter().filter(|push| !push.accepted()) {
            assert_eq!(
                (push.status, push.error.as_deref().unwrap()),
                (400, "ImageAlreadyExistsException"),
                "round {round}"
            );
        }
    }

    drop(setup);
    let database = server.stop_and_check().await;
    assert_eq!(database.count("SELECT COUNT(*) FROM tags"), ROUNDS as i64);
}

/// The same race as above without HTTP in between: threads call the core's PutImage at the
/// same moment, so the calls overlap far more often than requests on a socket do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_put_image_calls_accepted_once() {
    const REPOSITORY: &str = "race/identical-core";
    const THREADS: usize = 8;
    const ROUNDS: usize = 50;
    let server = Server::start().await;
    let setup = server.client().await;
    setup.create_repository(REPOSITORY, "MUTABLE").await;
    let manifest = setup.push_image_blobs(REPOSITORY, "identical-core").await;
    let registry = server.mock.registry().clone();
    let scope = registry.default_scope();

    for round in 0..ROUNDS {
        let tag = format!("round-{round}");
        let barrier = std::sync::Barrier::new(THREADS);
        let results: Vec<_> = std::thread::scope(|threads| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    threads.spawn(|| {
                        barrier.wait();
                        registry.put_image(
                            &scope,
                            REPOSITORY,
                            Some(&tag),
                            None,
                            Some(OCI_MANIFEST),
                            &manifest,
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("a PutImage thread panicked"))
                .collect()
        });

        let mut accepted = 0;
        for result in results {
            match result.expect("no storage error") {
                Ok(_) => accepted += 1,
                Err(rejection) => assert!(
                    matches!(rejection, PutImageRejection::AlreadyTagged { .. }),
                    "round {round}: {rejection:?}"
                ),
            }
        }
        assert_eq!(accepted, 1, "round {round}: PutImage calls accepted");
    }

    // The registry keeps the database open, and the checks below need it closed.
    drop(registry);
    drop(setup);
    let database = server.stop_and_check().await;
    assert_eq!(database.count("SELECT COUNT(*) FROM tags"), ROUNDS as i64);
}
