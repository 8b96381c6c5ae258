//! A bounded load test: 50 clients, each with its own connections, send a mix of ECR API and
//! registry requests to one mock on 127.0.0.1 for 60 seconds (`ECRLAB_LOAD_SECONDS` sets
//! another duration). Every response must have the expected status. The test prints request
//! counts, latency percentiles and errors per kind of request, then checks the mock's state.

mod common;
mod socket_client;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::Method;
use mock_ecr::{Config, MockEcr};
use serde_json::json;
use socket_client::{Client, OCI_MANIFEST, OCTET_STREAM, StoppedDatabase, text};

const CLIENTS: usize = 50;
const DEFAULT_SECONDS: u64 = 60;
const REPOSITORIES: usize = 4;
/// The size of each uploaded blob.
const BLOB_BYTES: usize = 16 * 1024;
/// The error messages kept per kind of request, for the report.
const KEPT_ERRORS: usize = 5;

/// The kinds of request a load client sends, in the order of one cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    BlobUpload,
    ManifestPut,
    ManifestGet,
    GetAuthorizationToken,
    DescribeRepositories,
    DescribeImages,
    BatchGetImage,
    TagList,
    BlobGet,
}

/// One cycle of a client: every kind once, so each push of one blob and one manifest comes
/// with seven reads.
const CYCLE: [Kind; 9] = [
    Kind::BlobUpload,
    Kind::ManifestPut,
    Kind::ManifestGet,
    Kind::GetAuthorizationToken,
    Kind::DescribeRepositories,
    Kind::DescribeImages,
    Kind::BatchGetImage,
    Kind::TagList,
    Kind::BlobGet,
];

/// Reads the test's duration from `ECRLAB_LOAD_SECONDS`, a whole number of seconds.
fn duration() -> Duration {
    match std::env::var("ECRLAB_LOAD_SECONDS") {
        Err(_) => Duration::from_secs(DEFAULT_SECONDS),
        Ok(text) => match text.parse::<u64>() {
            Ok(seconds) if seconds > 0 => Duration::from_secs(seconds),
            _ => panic!(
                "ECRLAB_LOAD_SECONDS is '{text}', which is not a positive whole number of seconds: \
                 set it to, for example, 10, or unset it for {DEFAULT_SECONDS}"
            ),
        },
    }
}

/// Requests, latencies and errors of one kind.
#[derive(Debug, Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: usize,
    messages: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        for message in other.messages {
            if self.messages.len() < KEPT_ERRORS {
                self.messages.push(message);
            }
        }
    }

    fn record_error(&mut self, message: String) {
        self.errors += 1;
        if self.messages.len() < KEPT_ERRORS {
            self.messages.push(message);
        }
    }
}

/// An image every client reads: its repository, tag, manifest and layer.
struct BaseImage {
    repository: String,
    manifest: Vec<u8>,
    config: String,
    config_size: usize,
    layer: String,
}

/// What one client has pushed: the latest blob, and the tags of its manifests.
struct ClientState {
    index: usize,
    base: Arc<Vec<BaseImage>>,
    uploads: usize,
    last_blob: Option<(String, usize)>,
    last_tag: Option<String>,
    pushed: Vec<String>,
}

impl ClientState {
    fn base(&self) -> &BaseImage {
        &self.base[self.index % self.base.len()]
    }

    fn repository(&self) -> String {
        self.base().repository.clone()
    }
}

/// Sends one request of `kind` and returns an error message unless it had the expected
/// outcome.
async fn run(client: &mut Client, state: &mut ClientState, kind: Kind) -> Result<(), String> {
    let repository = state.repository();
    match kind {
        Kind::BlobUpload => {
            state.uploads += 1;
            let seed = format!("client {} blob {}", state.index, state.uploads);
            let content: Vec<u8> = seed.bytes().cycle().take(BLOB_BYTES).collect();
            let digest = common::sha256(&content);
            let path = format!("/v2/{repository}/blobs/uploads/?digest={digest}");
            let reply = client
                .try_registry(Method::POST, &path, &[OCTET_STREAM], content)
                .await
                .map_err(|error| error.to_string())?;
            expect(&reply, 201)?;
            state.last_blob = Some((digest, BLOB_BYTES));
            Ok(())
        }
        Kind::ManifestPut => {
            let base = state.base();
            let (layer, layer_size) = state
                .last_blob
                .clone()
                .ok_or("a manifest PUT came before any blob upload")?;
            let manifest =
                common::image_manifest(&base.config, base.config_size, &layer, layer_size);
            let tag = format!("client-{}-{}", state.index, state.uploads);
            let path = format!("/v2/{repository}/manifests/{tag}");
            let reply = client
                .try_registry(
                    Method::PUT,
                    &path,
                    &[("content-type", OCI_MANIFEST)],
                    manifest,
                )
                .await
                .map_err(|error| error.to_string())?;
            expect(&reply, 201)?;
            state.pushed.push(tag.clone());
            state.last_tag = Some(tag);
            Ok(())
        }
        Kind::ManifestGet => {
            let tag = state.last_tag.clone().unwrap_or_else(|| "base".to_owned());
            let path = format!("/v2/{repository}/manifests/{tag}");
            let reply = client
                .try_registry(Method::GET, &path, &[("accept", OCI_MANIFEST)], Vec::new())
                .await
                .map_err(|error| error.to_string())?;
            expect(&reply, 200)
        }
        Kind::GetAuthorizationToken => {
            let reply = api(client, "GetAuthorizationToken", json!({})).await?;
            let token = reply.json()["authorizationData"][0]["authorizationToken"]
                .as_str()
                .map(str::to_owned)
                .ok_or("GetAuthorizationToken returned no token")?;
            client.set_token(&token);
            Ok(())
        }
        Kind::DescribeRepositories => {
            let reply = api(client, "DescribeRepositories", json!({})).await?;
            let count = reply.json()["repositories"].as_array().map_or(0, Vec::len);
            if count == REPOSITORIES {
                Ok(())
            } else {
                Err(format!("DescribeRepositories listed {count} repositories"))
            }
        }
        Kind::DescribeImages => {
            let input =
                json!({ "repositoryName": repository, "imageIds": [{ "imageTag": "base" }] });
            let reply = api(client, "DescribeImages", input).await?;
            let details = reply.json()["imageDetails"].as_array().map_or(0, Vec::len);
            if details == 1 {
                Ok(())
            } else {
                Err(format!(
                    "DescribeImages returned {details} images for one tag"
                ))
            }
        }
        Kind::BatchGetImage => {
            let tag = state.last_tag.clone().unwrap_or_else(|| "base".to_owned());
            let input = json!({ "repositoryName": repository, "imageIds": [{ "imageTag": tag }] });
            let reply = api(client, "BatchGetImage", input).await?;
            let body = reply.json();
            let images = body["images"].as_array().map_or(0, Vec::len);
            let failures = body["failures"].as_array().map_or(0, Vec::len);
            if images == 1 && failures == 0 {
                Ok(())
            } else {
                Err(format!(
                    "BatchGetImage of {tag} returned {images} images and {failures} failures"
                ))
            }
        }
        Kind::TagList => {
            let path = format!("/v2/{repository}/tags/list");
            let reply = client
                .try_registry(Method::GET, &path, &[], Vec::new())
                .await
                .map_err(|error| error.to_string())?;
            expect(&reply, 200)
        }
        Kind::BlobGet => {
            let base = state.base();
            let path = format!("/v2/{repository}/blobs/{}", base.layer);
            let reply = client
                .try_registry(Method::GET, &path, &[], Vec::new())
                .await
                .map_err(|error| error.to_string())?;
            expect(&reply, 200)?;
            if common::sha256(&reply.body) == base.layer {
                Ok(())
            } else {
                Err(format!("GET {path} served bytes of another digest"))
            }
        }
    }
}

async fn api(
    client: &Client,
    operation: &str,
    input: serde_json::Value,
) -> Result<common::Reply, String> {
    let reply = client
        .try_api(operation, &input)
        .await
        .map_err(|error| format!("{operation} failed to send: {error}"))?;
    expect(&reply, 200)?;
    Ok(reply)
}

fn expect(reply: &common::Reply, status: u16) -> Result<(), String> {
    if reply.status == status {
        Ok(())
    } else {
        Err(format!(
            "expected status {status}, got {}: {}",
            reply.status,
            text(reply)
        ))
    }
}

/// Runs one client's cycles until `deadline` and returns its tallies and pushed tags.
async fn run_client(
    mut client: Client,
    mut state: ClientState,
    deadline: Instant,
) -> (BTreeMap<Kind, Tally>, ClientState) {
    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    'cycles: loop {
        for kind in CYCLE {
            if Instant::now() >= deadline {
                break 'cycles;
            }
            let started = Instant::now();
            let outcome = run(&mut client, &mut state, kind).await;
            let tally = tallies.entry(kind).or_default();
            tally.latencies.push(started.elapsed());
            if let Err(message) = outcome {
                tally.record_error(format!("client {}: {message}", state.index));
            }
        }
    }
    (tallies, state)
}

/// Creates the repositories and pushes the image tagged `base` in each.
async fn push_base_images(mock: &MockEcr) -> Vec<BaseImage> {
    let mut setup = Client::new(mock);
    setup.login().await;
    let mut images = Vec::new();
    for index in 0..REPOSITORIES {
        let repository = format!("load/app-{index}");
        setup.create_repository(&repository, "MUTABLE").await;
        let manifest = setup.push_image_blobs(&repository, &repository).await;
        let reply = setup.put_manifest(&repository, "base", &manifest).await;
        assert_eq!(reply.status, 201, "base image: {}", text(&reply));
        let parsed: serde_json::Value = serde_json::from_slice(&manifest).expect("manifest");
        images.push(BaseImage {
            repository,
            config: parsed["config"]["digest"].as_str().unwrap().to_owned(),
            config_size: parsed["config"]["size"].as_u64().unwrap() as usize,
            layer: parsed["layers"][0]["digest"].as_str().unwrap().to_owned(),
            manifest,
        });
    }
    images
}

/// Returns the `percent` percentile of sorted latencies, by the nearest-rank method.
fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn milliseconds(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

/// Prints one line per kind of request and a total line.
fn print_report(tallies: &mut BTreeMap<Kind, Tally>, elapsed: Duration) {
    println!(
        "load: {CLIENTS} clients for {:.1} s on 127.0.0.1",
        elapsed.as_secs_f64()
    );
    println!(
        "{:<22} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "request", "count", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    let mut all = Vec::new();
    let mut errors = 0;
    for (kind, tally) in tallies.iter_mut() {
        tally.latencies.sort();
        all.extend_from_slice(&tally.latencies);
        errors += tally.errors;
        print_line(&format!("{kind:?}"), &tally.latencies, tally.errors);
    }
    all.sort();
    print_line("all", &all, errors);
    println!(
        "throughput: {:.0} requests per second",
        all.len() as f64 / elapsed.as_secs_f64()
    );
    for (kind, tally) in tallies.iter() {
        for message in &tally.messages {
            println!("error in {kind:?}: {message}");
        }
    }
}

fn print_line(name: &str, sorted: &[Duration], errors: usize) {
    println!(
        "{name:<22} {:>8} {errors:>7} {:>8} {:>8} {:>8} {:>8}",
        sorted.len(),
        milliseconds(percentile(sorted, 50)),
        milliseconds(percentile(sorted, 90)),
        milliseconds(percentile(sorted, 99)),
        milliseconds(sorted.last().copied().unwrap_or_default()),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_clients_mixed_requests_without_errors() {
    let duration = duration();
    let data = tempfile::tempdir().expect("temporary folder");
    let mock = MockEcr::start(Config::new(data.path()))
        .await
        .expect("mock starts");
    let base = Arc::new(push_base_images(&mock).await);

    let mut clients = Vec::with_capacity(CLIENTS);
    for index in 0..CLIENTS {
        let mut client = Client::new(&mock);
        client.login().await;
        let state = ClientState {
            index,
            base: base.clone(),
            uploads: 0,
            last_blob: None,
            last_tag: None,
            pushed: Vec::new(),
        };
        clients.push((client, state));
    }
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(client, state)| tokio::spawn(run_client(client, state, deadline)))
        .collect();
    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    let mut pushed: Vec<(String, String)> = Vec::new();
    for task in tasks {
        let (client_tallies, state) = task.await.expect("a load client panicked");
        for (kind, tally) in client_tallies {
            tallies.entry(kind).or_default().merge(tally);
        }
        let repository = state.repository();
        pushed.extend(
            state
                .pushed
                .into_iter()
                .map(|tag| (repository.clone(), tag)),
        );
    }
    let elapsed = started.elapsed();
    print_report(&mut tallies, elapsed);

    let errors: usize = tallies.values().map(|tally| tally.errors).sum();
    assert_eq!(
        errors, 0,
        "requests had unexpected responses; see the report above"
    );
    // Every client must finish at least one whole cycle, so the test cannot pass by sending
    // next to nothing.
    for kind in CYCLE {
        let count = tallies.get(&kind).map_or(0, |tally| tally.latencies.len());
        assert!(
            count >= CLIENTS,
            "only {count} {kind:?} requests in {duration:?}: each of the {CLIENTS} clients must send at least one"
        );
    }

    // Every acknowledged manifest push is still served, and the data folder is consistent.
    let checker = Client::new(&mock);
    let mut checker = checker;
    checker.login().await;
    for (repository, tag) in &pushed {
        let path = format!("/v2/{repository}/manifests/{tag}");
        let reply = checker
            .registry(Method::HEAD, &path, &[("accept", OCI_MANIFEST)], Vec::new())
            .await;
        assert_eq!(reply.status, 200, "HEAD {path}");
    }
    for image in base.iter() {
        let path = format!("/v2/{}/manifests/base", image.repository);
        let reply = checker
            .registry(Method::GET, &path, &[("accept", OCI_MANIFEST)], Vec::new())
            .await;
        assert_eq!(reply.body, image.manifest, "GET {path}");
    }
    drop(checker);
    mock.shutdown().await;
    let database = StoppedDatabase::check(data);
    let images = database.count("SELECT COUNT(*) FROM images");
    assert_eq!(images as usize, REPOSITORIES + pushed.len());
}
