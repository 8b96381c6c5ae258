//! Crash safety of the `mock-ecr` binary: concurrent pushes through the registry and the ECR
//! API, SIGKILL at seeded moments, restarts on the same data folder, and checks of everything
//! the server acknowledged before each kill.
//!
//! The delays before each kill come from a seed that the test prints. To run one seed again:
//! `CRASH_RESTART_SEED=<seed> cargo test -p mock-ecr --test crash_restart`.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{Signer, image_manifest, sha256};

const SEED_VARIABLE: &str = "CRASH_RESTART_SEED";
const DEFAULT_SEED: u64 = 20_261_204;
const ROUNDS: usize = 14;
const MIN_KILL_DELAY_MS: u64 = 300;
const MAX_KILL_DELAY_MS: u64 = 2_000;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Repository for pushes through the registry API (`/v2/`).
const REGISTRY_REPOSITORY: &str = "crash/registry";
/// Repository for pushes through the ECR API's layer operations and PutImage.
const ECR_API_REPOSITORY: &str = "crash/ecr-api";
/// The one tag that moves between images, so its value after a crash is checked too.
const MOVING_TAG: &str = "latest";

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DATABASE_FILE: &str = "mock-ecr.sqlite3";
const FIVE_MIB: usize = 5 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The server process

/// A `mock-ecr` process serving a data folder. Dropping it kills the process with SIGKILL.
struct Server {
    child: Child,
    address: SocketAddr,
    log: PathBuf,
}

/// A server that exited before it printed its endpoint.
#[derive(Debug)]
struct StartFailure {
    status: Option<ExitStatus>,
    log: String,
}

impl Server {
    /// Starts the binary on `data` and 127.0.0.1:0, writing its log to `log`, and waits until it
    /// prints its endpoint.
    fn start(data: &Path, log: PathBuf) -> Result<Self, StartFailure> {
        let log_file = std::fs::File::create(&log).expect("create the server log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_mock-ecr"))
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("spawn the mock-ecr binary");

        // The thread keeps reading stdout until the process exits, so the pipe never fills.
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(endpoint) = line.trim().strip_prefix("ECR API endpoint: ") {
                    let _ = sender.send(endpoint.to_owned());
                }
            }
        });

        match receiver.recv_timeout(STARTUP_TIMEOUT) {
            Ok(endpoint) => {
                let address = endpoint
                    .trim_start_matches("http://")
                    .parse()
                    .unwrap_or_else(|error| panic!("endpoint '{endpoint}' is invalid: {error}"));
                Ok(Self {
                    child,
                    address,
                    log,
                })
            }
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                Err(StartFailure { status, log })
            }
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).expect("read the server log")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL on Unix.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP over a plain TCP connection

/// A response read to the end of its connection.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {}", self.describe()))
    }

    /// Returns the first OCI error code in the body, or an empty string.
    fn error_code(&self) -> String {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|body| body["errors"][0]["code"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text: String = text.chars().take(400).collect();
        format!("HTTP {} {text}", self.status)
    }
}

/// Sends one HTTP/1.1 request on a new connection and reads the whole response. A refused or
/// dropped connection, a timeout and a response cut short are all errors: the server did not
/// acknowledge the request.
async fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<Response> {
    let exchange = exchange(address, method, path, headers, body);
    match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("{method} {path} timed out after {REQUEST_TIMEOUT:?}"),
        )),
    }
}

async fn exchange(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        head.push_str("host: localhost\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));

    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_response(&raw, method == "HEAD")
}

fn invalid_response(reason: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, reason.into())
}

fn parse_response(raw: &[u8], head_only: bool) -> std::io::Result<Response> {
    let end = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| invalid_response("the response ended inside its headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid_response(format!("invalid status line '{status_line}'")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if head_only {
        return Ok(response);
    }

    let rest = &raw[end + 4..];
    response.body = if response
        .header("transfer-encoding")
        .is_some_and(|value| value.eq_ignore_ascii_case("chunked"))
    {
        decode_chunked(rest)?
    } else if let Some(length) = response.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| invalid_response(format!("invalid content-length '{length}'")))?;
        if rest.len() < length {
            return Err(invalid_response(format!(
                "the body ended after {} of {length} bytes",
                rest.len()
            )));
        }
        rest[..length].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(response)
}

fn decode_chunked(mut rest: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|window| window == b"\r\n")
            .ok_or_else(|| invalid_response("a chunked body ended inside a chunk size"))?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| invalid_response(format!("invalid chunk size '{size_text}'")))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 {
            return Err(invalid_response("a chunked body ended inside a chunk"));
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

// ---------------------------------------------------------------------------------------------
// Clients of the two front ends

fn owned_headers(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// Calls an ECR API operation, signed with the default test key pair at the current time.
async fn call_api(
    address: SocketAddr,
    operation: &str,
    input: &Value,
) -> std::io::Result<Response> {
    let body = input.to_string().into_bytes();
    let signer = Signer {
        access_key_id: mock_ecr::credentials::DEFAULT_ACCESS_KEY_ID,
        secret_access_key: mock_ecr::credentials::DEFAULT_SECRET_ACCESS_KEY,
        region: "us-east-1",
        at: time::OffsetDateTime::now_utc(),
    };
    let request = signer.request(operation, &body);
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().expect("signed headers are ASCII");
            (name.to_string(), value.to_owned())
        })
        .collect();
    send(address, "POST", "/", &headers, &body).await
}

/// A logged-in client: registry requests carry the token from GetAuthorizationToken.
#[derive(Clone)]
struct Client {
    address: SocketAddr,
    authorization: String,
}

impl Client {
    async fn login(address: SocketAddr) -> Self {
        let reply = call_api(address, "GetAuthorizationToken", &json!({}))
            .await
            .expect("GetAuthorizationToken on a running server");
        assert_eq!(
            reply.status,
            200,
            "GetAuthorizationToken: {}",
            reply.describe()
        );
        let token = reply.json()["authorizationData"][0]["authorizationToken"]
            .as_str()
            .expect("authorizationToken")
            .to_owned();
        Self {
            address,
            authorization: format!("Basic {token}"),
        }
    }

    async fn api(&self, operation: &str, input: &Value) -> std::io::Result<Response> {
        call_api(self.address, operation, input).await
    }

    async fn registry(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut all = owned_headers(headers);
        all.push(("authorization".to_owned(), self.authorization.clone()));
        send(self.address, method, path, &all, body).await
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/// SplitMix64: a small generator whose output depends only on its seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut value = self.0;
        value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        value ^ (value >> 31)
    }

    /// Returns a value in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn bytes(&mut self, length: usize) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(length + 8);
        while bytes.len() < length {
            bytes.extend_from_slice(&self.next().to_le_bytes());
        }
        bytes.truncate(length);
        bytes
    }
}

fn seed() -> u64 {
    match std::env::var(SEED_VARIABLE) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            panic!("{SEED_VARIABLE}='{text}' is not an unsigned integer: set it to a seed the test printed")
        }),
        Err(_) => DEFAULT_SEED,
    }
}

// ---------------------------------------------------------------------------------------------
// What the pushers did

/// A blob and the repository it was pushed to.
#[derive(Debug, Clone)]
struct Blob {
    repository: &'static str,
    digest: String,
    content: Arc<Vec<u8>>,
}

impl Blob {
    fn new(repository: &'static str, content: Vec<u8>) -> Self {
        Self {
            repository,
            digest: sha256(&content),
            content: Arc::new(content),
        }
    }
}

/// An image manifest pushed under a tag, with the digests of the blobs it names.
#[derive(Debug, Clone)]
struct Image {
    repository: &'static str,
    tag: String,
    digest: String,
    manifest: Vec<u8>,
    blobs: Vec<String>,
    through_api: bool,
}

impl Image {
    fn new(repository: &'static str, tag: String, config: &Blob, layer: &Blob) -> Self {
        let manifest = image_manifest(
            &config.digest,
            config.content.len(),
            &layer.digest,
            layer.content.len(),
        );
        Self {
            repository,
            tag,
            digest: sha256(&manifest),
            manifest,
            blobs: vec![config.digest.clone(), layer.digest.clone()],
            through_api: repository == ECR_API_REPOSITORY,
        }
    }
}

/// A push whose outcome the pusher did not learn because the server died.
#[derive(Debug, Clone)]
enum Attempt {
    Blob(Blob),
    Image(Image),
}

/// The record of one pusher in one server session.
#[derive(Debug, Default)]
struct PushLog {
    blobs: Vec<Blob>,
    images: Vec<Image>,
    /// The push in flight when the server died, if any.
    in_flight: Option<Attempt>,
    /// Upload sessions left unfinished on purpose, so the server has resumable uploads to keep.
    abandoned_uploads: usize,
    /// Responses that were neither the expected success nor a dropped connection.
    unexpected: Vec<String>,
}

/// Why a push step stopped.
enum Failure {
    /// The connection failed: the server is gone.
    Dropped,
    /// The server responded, but not as expected.
    Unexpected(String),
}

impl From<std::io::Error> for Failure {
    fn from(_: std::io::Error) -> Self {
        Self::Dropped
    }
}

fn expect_status(response: Response, status: u16, step: &str) -> Result<Response, Failure> {
    if response.status == status {
        Ok(response)
    } else {
        Err(Failure::Unexpected(format!(
            "{step}: expected HTTP {status}, got {}",
            response.describe()
        )))
    }
}

fn expect_equal(actual: Option<&str>, expected: &str, step: &str) -> Result<(), Failure> {
    if actual == Some(expected) {
        Ok(())
    } else {
        Err(Failure::Unexpected(format!(
            "{step}: expected '{expected}', got {actual:?}"
        )))
    }
}

/// The kinds of concurrent pushers, each a loop of one kind of push.
#[derive(Debug, Clone, Copy)]
enum Pusher {
    /// Blobs in one POST with `?digest=`, or a POST then a PUT with the whole body.
    Monolithic,
    /// Blobs in PATCH chunks with Content-Range, finished by a PUT; some uploads are abandoned.
    Chunked,
    /// A config, a layer and a manifest PUT under a new tag; every third image also moves the
    /// moving tag.
    RegistryImages,
    /// InitiateLayerUpload, UploadLayerPart (one part, or a 5 MiB part and a small one),
    /// CompleteLayerUpload and PutImage.
    ApiImages,
}

const PUSHERS: [Pusher; 5] = [
    Pusher::Monolithic,
    Pusher::Monolithic,
    Pusher::Chunked,
    Pusher::RegistryImages,
    Pusher::ApiImages,
];

/// Pushes until the server dies and returns what it acknowledged.
async fn run_pusher(pusher: Pusher, client: Client, seed: u64, session: usize) -> PushLog {
    let mut log = PushLog::default();
    let mut random = Random(seed);
    for count in 0.. {
        let step = match pusher {
            Pusher::Monolithic => push_monolithic(&client, &mut random, &mut log).await,
            Pusher::Chunked => push_chunked(&client, &mut random, &mut log).await,
            Pusher::RegistryImages => {
                let tag = format!("s{session}-registry-{count}");
                let moves_tag = count % 3 == 2;
                push_registry_image(&client, &mut random, &mut log, tag, moves_tag).await
            }
            Pusher::ApiImages => {
                let tag = format!("s{session}-api-{count}");
                push_api_image(&client, &mut random, &mut log, tag).await
            }
        };
        match step {
            Ok(()) => {}
            Err(Failure::Dropped) => break,
            Err(Failure::Unexpected(message)) => {
                log.unexpected.push(format!("{pusher:?}: {message}"));
                break;
            }
        }
    }
    log
}

fn blob_size(random: &mut Random) -> usize {
    random.between(4 * 1024, 96 * 1024) as usize
}

/// Marks `attempt` in flight; [`acknowledge`] clears it once the server confirms it.
fn begin(log: &mut PushLog, attempt: Attempt) {
    log.in_flight = Some(attempt);
}

fn acknowledge(log: &mut PushLog) {
    match log.in_flight.take() {
        Some(Attempt::Blob(blob)) => log.blobs.push(blob),
        Some(Attempt::Image(image)) => log.images.push(image),
        None => {}
    }
}

async fn push_monolithic(
    client: &Client,
    random: &mut Random,
    log: &mut PushLog,
) -> Result<(), Failure> {
    let size = blob_size(random);
    let blob = Blob::new(REGISTRY_REPOSITORY, random.bytes(size));
    let one_request = random.next() % 2 == 0;
    begin(log, Attempt::Blob(blob.clone()));
    let response = if one_request {
        let path = format!(
            "/v2/{REGISTRY_REPOSITORY}/blobs/uploads/?digest={}",
            blob.digest
        );
        client.registry("POST", &path, &[], &blob.content).await?
    } else {
        let path = format!("/v2/{REGISTRY_REPOSITORY}/blobs/uploads/");
        let started = client.registry("POST", &path, &[], &[]).await?;
        let started = expect_status(started, 202, "start an upload")?;
        let location = upload_location(&started)?;
        let path = format!("{location}?digest={}", blob.digest);
        client.registry("PUT", &path, &[], &blob.content).await?
    };
    let created = expect_status(response, 201, "monolithic blob upload")?;
    expect_equal(
        created.header("docker-content-digest"),
        &blob.digest,
        "monolithic blob upload digest",
    )?;
    acknowledge(log);
    Ok(())
}

fn upload_location(response: &Response) -> Result<String, Failure> {
    response
        .header("location")
        .map(str::to_owned)
        .ok_or_else(|| Failure::Unexpected(format!("no Location in {}", response.describe())))
}

async fn push_chunked(
    client: &Client,
    random: &mut Random,
    log: &mut PushLog,
) -> Result<(), Failure> {
    let size = random.between(64 * 1024, 256 * 1024) as usize;
    let blob = Blob::new(REGISTRY_REPOSITORY, random.bytes(size));
    let chunks = random.between(2, 4) as usize;
    let abandon = random.next() % 5 == 0;
    let last_chunk_in_put = random.next() % 2 == 0;
    begin(log, Attempt::Blob(blob.clone()));

    let path = format!("/v2/{REGISTRY_REPOSITORY}/blobs/uploads/");
    let started = client.registry("POST", &path, &[], &[]).await?;
    let mut location = upload_location(&expect_status(started, 202, "start an upload")?)?;

    let chunk_size = size.div_ceil(chunks);
    let pieces: Vec<&[u8]> = blob.content.chunks(chunk_size).collect();
    let patched = if last_chunk_in_put {
        pieces.len() - 1
    } else {
        pieces.len()
    };
    let mut offset = 0;
    for piece in &pieces[..patched] {
        let range = format!("{}-{}", offset, offset + piece.len() - 1);
        let headers = [
            ("content-type", "application/octet-stream"),
            ("content-range", range.as_str()),
        ];
        let accepted = client.registry("PATCH", &location, &headers, piece).await?;
        let accepted = expect_status(accepted, 202, "upload a chunk")?;
        offset += piece.len();
        expect_equal(
            accepted.header("range"),
            &format!("0-{}", offset - 1),
            "Range after a chunk",
        )?;
        location = upload_location(&accepted)?;
        if abandon {
            // The upload stays on the server with one chunk: a resumable upload for the
            // restart to keep, and a blob that must never become visible.
            log.in_flight = None;
            log.abandoned_uploads += 1;
            return Ok(());
        }
    }

    let path = format!("{location}?digest={}", blob.digest);
    let final_chunk: &[u8] = if last_chunk_in_put {
        pieces[pieces.len() - 1]
    } else {
        &[]
    };
    let created = client.registry("PUT", &path, &[], final_chunk).await?;
    let created = expect_status(created, 201, "finish a chunked upload")?;
    expect_equal(
        created.header("docker-content-digest"),
        &blob.digest,
        "chunked upload digest",
    )?;
    acknowledge(log);
    Ok(())
}

async fn push_registry_image(
    client: &Client,
    random: &mut Random,
    log: &mut PushLog,
    tag: String,
    moves_tag: bool,
) -> Result<(), Failure> {
    let config = Blob::new(
        REGISTRY_REPOSITORY,
        format!(r#"{{"architecture":"amd64","os":"linux","tag":"{tag}"}}"#).into_bytes(),
    );
    let size = blob_size(random);
    let layer = Blob::new(REGISTRY_REPOSITORY, random.bytes(size));
    for blob in [&config, &layer] {
        begin(log, Attempt::Blob(blob.clone()));
        let path = format!(
            "/v2/{REGISTRY_REPOSITORY}/blobs/uploads/?digest={}",
            blob.digest
        );
        let response = client.registry("POST", &path, &[], &blob.content).await?;
        expect_status(response, 201, "push an image blob")?;
        acknowledge(log);
    }

    let image = Image::new(REGISTRY_REPOSITORY, tag, &config, &layer);
    let mut tags = vec![image.tag.clone()];
    if moves_tag {
        tags.push(MOVING_TAG.to_owned());
    }
    for tag in tags {
        let attempt = Image {
            tag: tag.clone(),
            ..image.clone()
        };
        begin(log, Attempt::Image(attempt));
        let path = format!("/v2/{REGISTRY_REPOSITORY}/manifests/{tag}");
        let headers = [("content-type", OCI_MANIFEST)];
        let response = client
            .registry("PUT", &path, &headers, &image.manifest)
            .await?;
        let created = expect_status(response, 201, "push a manifest")?;
        expect_equal(
            created.header("docker-content-digest"),
            &image.digest,
            "manifest digest",
        )?;
        acknowledge(log);
    }
    Ok(())
}

/// Uploads a layer through the ECR API in one part, or in a 5 MiB part and a small one.
async fn upload_layer_through_api(client: &Client, blob: &Blob) -> Result<(), Failure> {
    let repository = json!(ECR_API_REPOSITORY);
    let initiated = client
        .api(
            "InitiateLayerUpload",
            &json!({ "repositoryName": repository }),
        )
        .await?;
    let initiated = expect_status(initiated, 200, "InitiateLayerUpload")?.json();
    let upload_id = initiated["uploadId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let part_size = if blob.content.len() > FIVE_MIB {
        FIVE_MIB
    } else {
        blob.content.len()
    };
    let mut first = 0;
    for part in blob.content.chunks(part_size) {
        let input = json!({
            "repositoryName": repository,
            "uploadId": upload_id,
            "partFirstByte": first,
            "partLastByte": first + part.len() - 1,
            "layerPartBlob": base64::engine::general_purpose::STANDARD.encode(part),
        });
        let response = client.api("UploadLayerPart", &input).await?;
        expect_status(response, 200, "UploadLayerPart")?;
        first += part.len();
    }

    let input = json!({
        "repositoryName": repository,
        "uploadId": upload_id,
        "layerDigests": [blob.digest],
    });
    let completed = client.api("CompleteLayerUpload", &input).await?;
    let completed = expect_status(completed, 200, "CompleteLayerUpload")?.json();
    expect_equal(
        completed["layerDigest"].as_str(),
        &blob.digest,
        "CompleteLayerUpload layerDigest",
    )
}

async fn push_api_image(
    client: &Client,
    random: &mut Random,
    log: &mut PushLog,
    tag: String,
) -> Result<(), Failure> {
    let config = Blob::new(
        ECR_API_REPOSITORY,
        format!(r#"{{"architecture":"arm64","os":"linux","tag":"{tag}"}}"#).into_bytes(),
    );
    // Every fourth layer is over 5 MiB, so it is uploaded in two parts.
    let size = if random.next() % 4 == 0 {
        FIVE_MIB + blob_size(random)
    } else {
        blob_size(random)
    };
    let layer = Blob::new(ECR_API_REPOSITORY, random.bytes(size));
    for blob in [&config, &layer] {
        begin(log, Attempt::Blob(blob.clone()));
        upload_layer_through_api(client, blob).await?;
        acknowledge(log);
    }

    let image = Image::new(ECR_API_REPOSITORY, tag, &config, &layer);
    begin(log, Attempt::Image(image.clone()));
    let input = json!({
        "repositoryName": ECR_API_REPOSITORY,
        "imageManifest": String::from_utf8_lossy(&image.manifest),
        "imageManifestMediaType": OCI_MANIFEST,
        "imageTag": image.tag,
    });
    let response = client.api("PutImage", &input).await?;
    let output = expect_status(response, 200, "PutImage")?.json();
    expect_equal(
        output["image"]["imageId"]["imageDigest"].as_str(),
        &image.digest,
        "PutImage imageDigest",
    )?;
    acknowledge(log);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The record of every acknowledged push, across sessions

#[derive(Debug, Default)]
struct Ledger {
    blobs: Vec<Blob>,
    images: Vec<Image>,
    /// The image the moving tag was last acknowledged at.
    moving_tag: Option<Image>,
    /// Moves of the moving tag in flight when the server died; each may or may not be stored.
    moving_tag_candidates: Vec<Image>,
    /// Blobs and images acknowledged in the session that just ended: read in full once.
    fresh_blobs: Vec<Blob>,
    fresh_images: Vec<Image>,
    /// Pushes in flight when the last server died.
    in_flight: Vec<Attempt>,
    abandoned_uploads: usize,
}

impl Ledger {
    fn absorb(&mut self, logs: Vec<PushLog>) {
        self.fresh_blobs.clear();
        self.fresh_images.clear();
        self.in_flight.clear();
        for log in logs {
            assert!(
                log.unexpected.is_empty(),
                "the server answered unexpectedly: {:#?}",
                log.unexpected
            );
            self.abandoned_uploads += log.abandoned_uploads;
            self.fresh_blobs.extend(log.blobs);
            for image in log.images {
                if image.tag == MOVING_TAG {
                    self.moving_tag = Some(image);
                    self.moving_tag_candidates.clear();
                } else {
                    self.fresh_images.push(image);
                }
            }
            match log.in_flight {
                Some(Attempt::Image(image)) if image.tag == MOVING_TAG => {
                    self.moving_tag_candidates.push(image);
                }
                Some(attempt) => self.in_flight.push(attempt),
                None => {}
            }
        }
        self.blobs.extend(self.fresh_blobs.iter().cloned());
        self.images.extend(self.fresh_images.iter().cloned());
    }
}

// ---------------------------------------------------------------------------------------------
// Checks through the running server

/// Reads a blob and checks that it is the whole, verified content.
async fn check_blob_content(client: &Client, blob: &Blob, context: &str) {
    let path = format!("/v2/{}/blobs/{}", blob.repository, blob.digest);
    let response = client
        .registry("GET", &path, &[], &[])
        .await
        .expect("GET blob");
    assert_eq!(
        response.status,
        200,
        "{context}: acknowledged blob {} in {} is not readable: {}",
        blob.digest,
        blob.repository,
        response.describe()
    );
    assert_eq!(
        response.header("docker-content-digest"),
        Some(blob.digest.as_str()),
        "{context}: Docker-Content-Digest of blob {}",
        blob.digest
    );
    assert!(
        response.body == *blob.content,
        "{context}: blob {} has {} bytes with digest {}, expected {} bytes",
        blob.digest,
        response.body.len(),
        sha256(&response.body),
        blob.content.len()
    );
}

async fn get_manifest(client: &Client, repository: &str, reference: &str) -> Response {
    let path = format!("/v2/{repository}/manifests/{reference}");
    client
        .registry("GET", &path, &[("accept", OCI_MANIFEST)], &[])
        .await
        .expect("GET manifest")
}

async fn check_image(client: &Client, image: &Image, context: &str) {
    let response = get_manifest(client, image.repository, &image.tag).await;
    assert_eq!(
        response.status,
        200,
        "{context}: acknowledged tag {} in {} is missing: {}",
        image.tag,
        image.repository,
        response.describe()
    );
    assert_eq!(
        response.header("docker-content-digest"),
        Some(image.digest.as_str()),
        "{context}: tag {} in {} points elsewhere",
        image.tag,
        image.repository
    );
    assert!(
        response.body == image.manifest,
        "{context}: manifest of tag {} changed",
        image.tag
    );
}

/// Checks an image pushed with PutImage through BatchGetImage too.
async fn check_image_through_api(client: &Client, image: &Image, context: &str) {
    let input = json!({
        "repositoryName": image.repository,
        "imageIds": [{ "imageTag": image.tag }],
        "acceptedMediaTypes": [OCI_MANIFEST],
    });
    let response = client
        .api("BatchGetImage", &input)
        .await
        .expect("BatchGetImage");
    assert_eq!(response.status, 200, "{context}: {}", response.describe());
    let output = response.json();
    let found = &output["images"][0];
    assert_eq!(
        found["imageId"]["imageDigest"].as_str(),
        Some(image.digest.as_str()),
        "{context}: BatchGetImage of tag {}: {output}",
        image.tag
    );
    assert_eq!(
        found["imageManifest"].as_str().map(str::as_bytes),
        Some(image.manifest.as_slice()),
        "{context}: BatchGetImage manifest of tag {}",
        image.tag
    );
}

/// Checks that a push in flight at the kill is stored whole or not at all, and returns whether
/// it is stored.
async fn check_attempt(client: &Client, attempt: &Attempt, context: &str) -> bool {
    match attempt {
        Attempt::Blob(blob) => {
            let path = format!("/v2/{}/blobs/{}", blob.repository, blob.digest);
            let response = client
                .registry("GET", &path, &[], &[])
                .await
                .expect("GET blob");
            match response.status {
                200 => {
                    assert!(
                        response.body == *blob.content,
                        "{context}: unacknowledged blob {} is served with {} bytes of digest {}",
                        blob.digest,
                        response.body.len(),
                        sha256(&response.body)
                    );
                    true
                }
                404 => {
                    assert_eq!(response.error_code(), "BLOB_UNKNOWN", "{context}");
                    false
                }
                _ => panic!("{context}: blob {}: {}", blob.digest, response.describe()),
            }
        }
        Attempt::Image(image) => {
            let response = get_manifest(client, image.repository, &image.digest).await;
            match response.status {
                200 => {
                    assert!(response.body == image.manifest, "{context}: manifest bytes");
                    for digest in &image.blobs {
                        let path = format!("/v2/{}/blobs/{digest}", image.repository);
                        let blob = client
                            .registry("HEAD", &path, &[], &[])
                            .await
                            .expect("HEAD");
                        assert_eq!(
                            blob.status, 200,
                            "{context}: stored manifest {} names missing blob {digest}",
                            image.digest
                        );
                    }
                    true
                }
                404 => {
                    assert_eq!(response.error_code(), "MANIFEST_UNKNOWN", "{context}");
                    false
                }
                _ => panic!(
                    "{context}: manifest {}: {}",
                    image.digest,
                    response.describe()
                ),
            }
        }
    }
}

/// Checks the moving tag: it points at the last acknowledged image or at a move in flight.
async fn check_moving_tag(client: &Client, ledger: &mut Ledger, context: &str) {
    let response = get_manifest(client, REGISTRY_REPOSITORY, MOVING_TAG).await;
    if response.status == 404 && ledger.moving_tag.is_none() {
        assert!(
            ledger.moving_tag_candidates.len() <= 1,
            "{context}: one move at most is in flight"
        );
        ledger.moving_tag_candidates.clear();
        return;
    }
    assert_eq!(response.status, 200, "{context}: {}", response.describe());
    let digest = response.header("docker-content-digest").unwrap_or_default();
    let current = ledger
        .moving_tag
        .iter()
        .chain(&ledger.moving_tag_candidates)
        .find(|image| image.digest == digest)
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{context}: tag {MOVING_TAG} points at {digest}, expected {:?} or one of {:?}",
                ledger.moving_tag.as_ref().map(|image| &image.digest),
                ledger
                    .moving_tag_candidates
                    .iter()
                    .map(|image| &image.digest)
                    .collect::<Vec<_>>()
            )
        });
    // A move that was stored though unacknowledged is now the tag's durable value.
    ledger.moving_tag = Some(current);
    ledger.moving_tag_candidates.clear();
}

/// Counts of what one check of a running server covered.
#[derive(Debug, Default)]
struct Checked {
    in_flight_stored: usize,
    in_flight_absent: usize,
}

/// Reads through the restarted server the pushes acknowledged in the last session, or every
/// acknowledged push when `read_all` is set; [`check_ledger_stored`] covers the older ones on
/// disk each round.
async fn check_server(
    client: &Client,
    ledger: &mut Ledger,
    read_all: bool,
    context: &str,
) -> Checked {
    let (blobs, images) = if read_all {
        (&ledger.blobs, &ledger.images)
    } else {
        (&ledger.fresh_blobs, &ledger.fresh_images)
    };
    for blob in blobs {
        check_blob_content(client, blob, context).await;
    }
    for image in images {
        check_image(client, image, context).await;
        if image.through_api {
            check_image_through_api(client, image, context).await;
        }
    }
    check_moving_tag(client, ledger, context).await;

    let mut checked = Checked::default();
    for attempt in &ledger.in_flight {
        if check_attempt(client, attempt, context).await {
            checked.in_flight_stored += 1;
        } else {
            checked.in_flight_absent += 1;
        }
    }
    checked
}

// ---------------------------------------------------------------------------------------------
// Checks of the files a killed server left

/// What a killed server left in its data folder that the next start must clean up.
#[derive(Debug, Default)]
struct CrashState {
    upload_files_without_row: BTreeSet<String>,
    upload_rows_without_file: BTreeSet<String>,
    resumable_uploads: usize,
    /// (repository, digest) of every layer row.
    layers: HashSet<(String, String)>,
    /// (repository, tag) to digest, for every tag row.
    tags: HashMap<(String, String), String>,
}

fn blob_file(data: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    data.join("blobs").join("sha256").join(&hex[..2]).join(hex)
}

fn upload_files(data: &Path) -> BTreeSet<String> {
    std::fs::read_dir(data.join("uploads"))
        .expect("read the uploads folder")
        .map(|entry| {
            let entry = entry.expect("uploads folder entry");
            entry.file_name().into_string().expect("UTF-8 upload id")
        })
        .collect()
}

/// Copies the database of a stopped server to `scratch`, so the check does not change the
/// files the next start recovers from.
fn copy_database(data: &Path, scratch: &Path) -> PathBuf {
    std::fs::create_dir_all(scratch).expect("create the scratch folder");
    for suffix in ["", "-wal", "-shm"] {
        let name = format!("{DATABASE_FILE}{suffix}");
        let copy = scratch.join(&name);
        let _ = std::fs::remove_file(&copy);
        let original = data.join(&name);
        if original.exists() {
            std::fs::copy(&original, &copy).expect("copy a database file");
        }
    }
    scratch.join(DATABASE_FILE)
}

fn query_strings(connection: &rusqlite::Connection, sql: &str) -> Vec<Vec<String>> {
    let mut statement = connection.prepare(sql).expect("prepare a check query");
    let columns = statement.column_count();
    statement
        .query_map([], |row| {
            (0..columns)
                .map(|index| row.get::<_, String>(index))
                .collect::<Result<Vec<_>, _>>()
        })
        .expect("run a check query")
        .collect::<Result<Vec<_>, _>>()
        .expect("read a check query")
}

/// Checks a stopped server's data folder: SQLite's integrity check, every layer row backed by a
/// whole blob file with its digest, every tag on a stored image, every image's blobs recorded.
/// `verified` contains the digests whose files were hashed before; blob files never change.
fn check_data_folder(
    data: &Path,
    scratch: &Path,
    verified: &mut HashSet<String>,
    context: &str,
) -> CrashState {
    let copy = copy_database(data, scratch);
    let connection = rusqlite::Connection::open(&copy).expect("open the copied database");

    let integrity = query_strings(&connection, "PRAGMA integrity_check");
    assert_eq!(
        integrity,
        vec![vec!["ok".to_owned()]],
        "{context}: integrity_check"
    );

    let layers = query_strings(&connection, "SELECT digest, CAST(size AS TEXT) FROM layers");
    for row in &layers {
        let (digest, size) = (&row[0], &row[1]);
        let path = blob_file(data, digest);
        let length = std::fs::metadata(&path)
            .unwrap_or_else(|error| panic!("{context}: layer {digest} has no blob file: {error}"))
            .len();
        assert_eq!(
            length.to_string(),
            *size,
            "{context}: size of blob file {digest}"
        );
        if verified.insert(digest.clone()) {
            let content = std::fs::read(&path).expect("read a blob file");
            assert_eq!(sha256(&content), *digest, "{context}: content of blob file");
        }
    }

    let dangling_tags = query_strings(
        &connection,
        "SELECT t.repository, t.tag FROM tags t LEFT JOIN images i
         ON i.account = t.account AND i.region = t.region AND i.repository = t.repository
            AND i.digest = t.digest
         WHERE i.digest IS NULL",
    );
    assert!(
        dangling_tags.is_empty(),
        "{context}: tags without image: {dangling_tags:?}"
    );

    let images = query_strings(
        &connection,
        "SELECT account, region, repository, digest, CAST(manifest AS TEXT) FROM images",
    );
    let recorded: HashSet<(String, String, String, String)> = query_strings(
        &connection,
        "SELECT account, region, repository, digest FROM layers",
    )
    .into_iter()
    .map(|row| {
        (
            row[0].clone(),
            row[1].clone(),
            row[2].clone(),
            row[3].clone(),
        )
    })
    .collect();
    for row in &images {
        let manifest: Value = serde_json::from_str(&row[4]).expect("stored manifest is JSON");
        let config = manifest["config"]["digest"].as_str().into_iter();
        let layers = manifest["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|layer| layer["digest"].as_str());
        for digest in config.chain(layers) {
            let key = (
                row[0].clone(),
                row[1].clone(),
                row[2].clone(),
                digest.to_owned(),
            );
            assert!(
                recorded.contains(&key),
                "{context}: image {} in {} names blob {digest}, which is not in the repository",
                row[3],
                row[2]
            );
        }
    }

    let rows: BTreeSet<String> = query_strings(&connection, "SELECT id FROM uploads")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    let files = upload_files(data);
    let tags = query_strings(&connection, "SELECT repository, tag, digest FROM tags")
        .into_iter()
        .map(|row| ((row[0].clone(), row[1].clone()), row[2].clone()))
        .collect();
    CrashState {
        upload_files_without_row: files.difference(&rows).cloned().collect(),
        upload_rows_without_file: rows.difference(&files).cloned().collect(),
        resumable_uploads: rows.intersection(&files).count(),
        layers: recorded
            .into_iter()
            .map(|(_, _, repository, digest)| (repository, digest))
            .collect(),
        tags,
    }
}

/// Checks that every acknowledged blob and tag is in the data folder a killed server left.
/// [`check_data_folder`] has already checked that each layer row has its whole blob file.
fn check_ledger_stored(ledger: &Ledger, crash: &CrashState, context: &str) {
    for blob in &ledger.blobs {
        let key = (blob.repository.to_owned(), blob.digest.clone());
        assert!(
            crash.layers.contains(&key),
            "{context}: acknowledged blob {} in {} has no layer row",
            blob.digest,
            blob.repository
        );
    }
    for image in &ledger.images {
        let key = (image.repository.to_owned(), image.tag.clone());
        assert_eq!(
            crash.tags.get(&key),
            Some(&image.digest),
            "{context}: acknowledged tag {} in {}",
            image.tag,
            image.repository
        );
    }
}

/// Checks that a start logged the removal of each abandoned upload the crash left.
fn check_recovery_log(log: &str, crash: &CrashState, context: &str) {
    let removed = |id: &str, what: &str| {
        assert!(
            log.lines()
                .any(|line| line.contains(id) && line.contains(what)),
            "{context}: the start did not log '{what}' for upload {id}; log:\n{log}"
        );
    };
    for id in &crash.upload_files_without_row {
        removed(id, "removed an upload file");
    }
    for id in &crash.upload_rows_without_file {
        removed(id, "removed an upload record");
    }
}

async fn create_repository(address: SocketAddr, name: &str) {
    let input = json!({ "repositoryName": name, "imageTagMutability": "MUTABLE" });
    let response = call_api(address, "CreateRepository", &input)
        .await
        .expect("CreateRepository");
    assert_eq!(
        response.status,
        200,
        "CreateRepository {name}: {}",
        response.describe()
    );
}

// ---------------------------------------------------------------------------------------------
// The tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_lose_no_acknowledged_push() {
    let seed = seed();
    println!("crash_restart seed {seed} (set {SEED_VARIABLE} to run it again)");
    let began = Instant::now();
    let folder = tempfile::tempdir().expect("temporary folder");
    let data = folder.path().join("data");
    let scratch = folder.path().join("scratch");
    let mut random = Random(seed);
    let mut ledger = Ledger::default();
    let mut verified = HashSet::new();
    let mut crash = CrashState::default();
    let mut totals = CrashState::default();
    let (mut stored_in_flight, mut absent_in_flight) = (0, 0);

    for round in 0..=ROUNDS {
        let context = format!("seed {seed}, round {round}");
        let log = folder.path().join(format!("server-{round}.log"));
        let server = Server::start(&data, log)
            .unwrap_or_else(|failure| panic!("{context}: the server did not start: {failure:?}"));
        check_recovery_log(&server.log_text(), &crash, &context);
        if round == 0 {
            create_repository(server.address, REGISTRY_REPOSITORY).await;
            create_repository(server.address, ECR_API_REPOSITORY).await;
        }

        let client = Client::login(server.address).await;
        let last = round == ROUNDS;
        let checked = check_server(&client, &mut ledger, last, &context).await;
        stored_in_flight += checked.in_flight_stored;
        absent_in_flight += checked.in_flight_absent;

        let delay = if last {
            // The last session pushes nothing, so the kill finds no upload in progress.
            Duration::ZERO
        } else {
            Duration::from_millis(random.between(MIN_KILL_DELAY_MS, MAX_KILL_DELAY_MS))
        };
        let tasks: Vec<_> = if last {
            Vec::new()
        } else {
            PUSHERS
                .iter()
                .map(|&pusher| {
                    let pusher_seed = random.next();
                    tokio::spawn(run_pusher(pusher, client.clone(), pusher_seed, round))
                })
                .collect()
        };
        tokio::time::sleep(delay).await;
        drop(server);

        let mut logs = Vec::new();
        for task in tasks {
            logs.push(task.await.expect("pusher task"));
        }
        let pushed: usize = logs
            .iter()
            .map(|log| log.blobs.len() + log.images.len())
            .sum();
        ledger.absorb(logs);

        crash = check_data_folder(&data, &scratch, &mut verified, &context);
        check_ledger_stored(&ledger, &crash, &context);
        println!(
            "round {round}: killed after {} ms, {pushed} pushes acknowledged, {} in flight, \
             {} upload files and {} upload rows abandoned, {} uploads resumable",
            delay.as_millis(),
            ledger.in_flight.len() + ledger.moving_tag_candidates.len(),
            crash.upload_files_without_row.len(),
            crash.upload_rows_without_file.len(),
            crash.resumable_uploads,
        );
        if last {
            assert!(
                crash.upload_files_without_row.is_empty()
                    && crash.upload_rows_without_file.is_empty(),
                "{context}: the start left abandoned uploads: {crash:?}"
            );
        }
        totals
            .upload_files_without_row
            .extend(crash.upload_files_without_row.iter().cloned());
        totals
            .upload_rows_without_file
            .extend(crash.upload_rows_without_file.iter().cloned());
    }

    println!(
        "seed {seed}: {ROUNDS} kills in {:.1} s; {} blobs and {} tagged images acknowledged and \
         intact; in-flight pushes after restart: {stored_in_flight} stored whole, \
         {absent_in_flight} absent; removed at start: {} upload files without a record, {} \
         records without a file; {} uploads abandoned on purpose",
        began.elapsed().as_secs_f64(),
        ledger.blobs.len(),
        ledger.images.len(),
        totals.upload_files_without_row.len(),
        totals.upload_rows_without_file.len(),
        ledger.abandoned_uploads,
    );
    assert!(
        !ledger.blobs.is_empty(),
        "no push was acknowledged: the test checked nothing"
    );
    assert!(
        !ledger.images.is_empty(),
        "no image was acknowledged: the test checked nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_removes_abandoned_uploads() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let data = folder.path().join("data");
    let server = Server::start(&data, folder.path().join("first.log")).expect("first start");
    create_repository(server.address, REGISTRY_REPOSITORY).await;
    let client = Client::login(server.address).await;
    let uploads = format!("/v2/{REGISTRY_REPOSITORY}/blobs/uploads/");

    // An upload with one chunk, to be resumed after the restart.
    let content = Random(7).bytes(3000);
    let started = client
        .registry("POST", &uploads, &[], &[])
        .await
        .expect("POST");
    let resumable = started.header("location").expect("Location").to_owned();
    let headers = [
        ("content-range", "0-999"),
        ("content-type", "application/octet-stream"),
    ];
    let patched = client
        .registry("PATCH", &resumable, &headers, &content[..1000])
        .await
        .expect("PATCH");
    assert_eq!(patched.status, 202, "{}", patched.describe());

    // An upload whose file goes missing, as when the server stops between inserting the
    // upload's row and creating its file.
    let started = client
        .registry("POST", &uploads, &[], &[])
        .await
        .expect("POST");
    let lost = started.header("location").expect("Location").to_owned();
    let lost_id = lost.rsplit('/').next().expect("upload id").to_owned();
    drop(server);
    std::fs::remove_file(data.join("uploads").join(&lost_id)).expect("remove the upload file");

    // A file that no upload row names.
    let stray_id = "0b6c1f34-6f3e-4c4b-9d8e-2f1d7f1c2a11";
    std::fs::write(data.join("uploads").join(stray_id), b"stray bytes").expect("write");

    let server = Server::start(&data, folder.path().join("second.log")).expect("restart");
    let log = server.log_text();
    let crash = CrashState {
        upload_files_without_row: [stray_id.to_owned()].into(),
        upload_rows_without_file: [lost_id.clone()].into(),
        ..CrashState::default()
    };
    check_recovery_log(&log, &crash, "restart");
    assert!(
        log.contains("unfinished uploads kept"),
        "the start logs the kept uploads:\n{log}"
    );
    assert!(
        !data.join("uploads").join(stray_id).exists(),
        "the stray upload file is deleted"
    );

    let client = Client::login(server.address).await;
    let status = client.registry("GET", &lost, &[], &[]).await.expect("GET");
    assert_eq!(status.status, 404, "{}", status.describe());
    assert_eq!(status.error_code(), "BLOB_UPLOAD_UNKNOWN");

    let status = client
        .registry("GET", &resumable, &[], &[])
        .await
        .expect("GET");
    assert_eq!(status.status, 204, "{}", status.describe());
    assert_eq!(
        status.header("range"),
        Some("0-999"),
        "the kept upload's size"
    );
    let digest = sha256(&content);
    let headers = [
        ("content-range", "1000-2999"),
        ("content-type", "application/octet-stream"),
    ];
    let patched = client
        .registry("PATCH", &resumable, &headers, &content[1000..])
        .await
        .expect("PATCH");
    assert_eq!(patched.status, 202, "{}", patched.describe());
    let finish = format!("{resumable}?digest={digest}");
    let created = client
        .registry("PUT", &finish, &[], &[])
        .await
        .expect("PUT");
    assert_eq!(
        created.status,
        201,
        "the resumed upload completes: {}",
        created.describe()
    );
    let blob = Blob {
        repository: REGISTRY_REPOSITORY,
        digest,
        content: Arc::new(content),
    };
    check_blob_content(&client, &blob, "resumed upload").await;
    drop(server);

    let crash = check_data_folder(
        &data,
        &folder.path().join("scratch"),
        &mut HashSet::new(),
        "end",
    );
    assert!(crash.upload_files_without_row.is_empty(), "{crash:?}");
    assert!(crash.upload_rows_without_file.is_empty(), "{crash:?}");
    assert_eq!(crash.resumable_uploads, 0, "the resumed upload is finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_database_stops_start() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let data = folder.path().join("data");
    let server = Server::start(&data, folder.path().join("first.log")).expect("first start");
    drop(server);

    // Fill the journal table over many pages, then overwrite the type byte of its root page:
    // Database::open reads only the schema, so the damage is found by the start-up check.
    let path = data.join(DATABASE_FILE);
    let connection = rusqlite::Connection::open(&path).expect("open the database");
    let message = "x".repeat(500);
    for _ in 0..200 {
        connection
            .execute(
                "INSERT INTO journal (time, account, region, source, action, outcome, message)
                 VALUES ('2026-12-04T12:00:00Z', '123456789012', 'us-east-1', 'test', 'Fill',
                         'success', ?1)",
                [&message],
            )
            .expect("insert a journal row");
    }
    let root_page: u64 = connection
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'journal'",
            [],
            |row| row.get(0),
        )
        .expect("journal root page");
    let page_size: u64 = connection
        .query_row("PRAGMA page_size", [], |row| row.get(0))
        .expect("page size");
    // Closing the last connection checkpoints the WAL into the database file.
    drop(connection);
    assert!(
        !data.join(format!("{DATABASE_FILE}-wal")).exists(),
        "the WAL is checkpointed"
    );
    let mut bytes = std::fs::read(&path).expect("read the database");
    let offset = usize::try_from((root_page - 1) * page_size).expect("offset");
    bytes[offset] = 0;
    std::fs::write(&path, bytes).expect("write the damaged database");

    let failure = match Server::start(&data, folder.path().join("second.log")) {
        Ok(_) => panic!("the server started on a damaged database"),
        Err(failure) => failure,
    };
    let status = failure.status.expect("exit status");
    assert!(!status.success(), "exit status {status}");
    let log = failure.log;
    assert!(log.contains("is damaged"), "{log}");
    assert!(
        log.contains(&path.display().to_string()),
        "the message names the file: {log}"
    );
    assert!(
        log.contains("restore the data folder"),
        "the message names the fix: {log}"
    );
}
