//! Bad input over a real socket. Every malformed request gets ECR's error body or the OCI
//! error envelope, never a panic, a 500 or a dropped connection. Slow clients are cut off by
//! the timeouts without holding up other clients.
//!
//! The requests are written as raw HTTP/1.1, because HTTP clients refuse to send most of them.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mock_ecr::{Config, MockEcr, Timeouts};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::sha256;

const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921.";

/// A mock whose data folder sits inside `root`, next to a folder `outside` that requests must
/// never reach.
struct Harness {
    root: tempfile::TempDir,
    mock: MockEcr,
}

impl Harness {
    async fn start(configure: impl FnOnce(&mut Config)) -> Self {
        let root = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir(root.path().join("outside")).expect("outside folder");
        std::fs::write(root.path().join("outside").join("secret"), SECRET).expect("secret");
        let mut config = Config::new(root.path().join("data"));
        configure(&mut config);
        let mock = MockEcr::start(config).await.expect("mock starts");
        Self { root, mock }
    }

    fn outside(&self) -> PathBuf {
        self.root.path().join("outside")
    }

    /// Sends `request` on a new connection and reads the response.
    async fn send(&self, request: &[u8]) -> RawReply {
        let mut stream = TcpStream::connect(self.mock.address())
            .await
            .expect("connect");
        // A server that rejects a request from its headers responds and closes before the
        // whole body is written, so a failed write is not an error if a response arrives.
        if let Err(error) = stream.write_all(request).await {
            eprintln!("request write ended with {error}");
        }
        read_reply(&mut stream).await
    }

    /// Sends an ECR API request with a well-formed but unchecked Signature V4 header, for a
    /// mock started with `accept_any_signature`.
    async fn api(&self, target: Option<&str>, content_type: &str, body: &[u8]) -> RawReply {
        let mut head = String::from("POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        if let Some(target) = target {
            head.push_str(&format!("X-Amz-Target: {target}\r\n"));
        }
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nX-Amz-Date: 20261204T120000Z\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n",
            common::SIGV4,
            body.len()
        ));
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.send(&request).await
    }

    /// Sends a registry request with `Connection: close`.
    async fn registry(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawReply {
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut request = request.into_bytes();
        request.extend_from_slice(body);
        self.send(&request).await
    }

    /// Creates a repository and returns the `Authorization` header of a logged-in client.
    async fn login(&self, repository: &str) -> String {
        let input = format!(r#"{{"repositoryName":"{repository}"}}"#);
        let target = format!("{TARGET_PREFIX}CreateRepository");
        let created = self.api(Some(&target), JSON_1_1, input.as_bytes()).await;
        assert_eq!(created.status, 200, "{}", created.text());
        let target = format!("{TARGET_PREFIX}GetAuthorizationToken");
        let reply = self.api(Some(&target), JSON_1_1, b"{}").await;
        let token = reply.json()["authorizationData"][0]["authorizationToken"]
            .as_str()
            .expect("token")
            .to_owned();
        format!("Basic {token}")
    }

    /// Starts a registry upload and returns its path.
    async fn start_upload(&self, auth: &str, repository: &str) -> String {
        let path = format!("/v2/{repository}/blobs/uploads/");
        let reply = self
            .registry("POST", &path, &[("Authorization", auth)], b"")
            .await;
        assert_eq!(reply.status, 202, "{}", reply.text());
        reply.header("location").expect("Location").to_owned()
    }
}

const SECRET: &str = "contents that no request may read";
const JSON_1_1: &str = "application/x-amz-json-1.1";

/// A response read off the socket.
#[derive(Debug)]
struct RawReply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawReply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {}", self.text()))
    }

    /// Returns the ECR API's `__type`.
    fn error_type(&self) -> String {
        self.json()["__type"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Returns the first OCI error code.
    fn error_code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn message(&self) -> String {
        let body = self.json();
        let message = body["message"]
            .as_str()
            .or(body["errors"][0]["message"].as_str());
        message.unwrap_or_default().to_owned()
    }
}

/// Reads one response; the request asked for `Connection: close` or the test closes the
/// connection after it. A reset after the response arrived (the server closing a socket with
/// unread request bytes) still yields the response.
async fn read_reply(stream: &mut TcpStream) -> RawReply {
    let mut bytes = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) => break,
            Ok(count) => bytes.extend_from_slice(&buffer[..count]),
            Err(error) if !bytes.is_empty() => {
                eprintln!("connection ended with {error} after the response");
                break;
            }
            Err(error) => panic!("no response: {error}"),
        }
        if response_complete(&bytes) {
            break;
        }
    }
    parse_reply(&bytes)
}

/// Whether `bytes` contains a whole response with a `Content-Length` body.
fn response_complete(bytes: &[u8]) -> bool {
    let Some(end) = find(bytes, b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok());
    length.is_some_and(|length| bytes.len() >= end + 4 + length)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn parse_reply(bytes: &[u8]) -> RawReply {
    let end = find(bytes, b"\r\n\r\n").unwrap_or_else(|| {
        panic!(
            "no complete response head in {} bytes: {:?}",
            bytes.len(),
            String::from_utf8_lossy(bytes)
        )
    });
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let mut body = bytes[end + 4..].to_vec();
    let chunked = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("transfer-encoding") && value.contains("chunked")
    });
    if chunked {
        body = decode_chunked(&body);
    }
    RawReply {
        status,
        headers,
        body,
    }
}

fn decode_chunked(mut bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = find(bytes, b"\r\n") {
        let size_text = String::from_utf8_lossy(&bytes[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        body.extend_from_slice(&bytes[start..(start + size).min(bytes.len())]);
        bytes = &bytes[(start + size + 2).min(bytes.len())..];
    }
    body
}

/// Lists every file under `folder`, with its contents.
fn snapshot(folder: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("read folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let contents = std::fs::read(&path).unwrap_or_default();
                files.push((path, contents));
            }
        }
    }
    files.sort();
    files
}

#[tokio::test]
async fn ecr_api_malformed_json_gets_serialization_exception() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let describe = format!("{TARGET_PREFIX}DescribeRepositories");
    let create = format!("{TARGET_PREFIX}CreateRepository");
    let deeply_nested = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
    // Constraints on values (such as maxResults -1) are InvalidParameterException; these
    // cases are malformed JSON or input of the wrong shape.
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "truncated JSON",
            &describe,
            b"{not json".to_vec(),
            "not valid JSON",
        ),
        ("JSON array", &describe, b"[1,2]".to_vec(), "JSON object"),
        (
            "JSON string",
            &describe,
            b"\"text\"".to_vec(),
            "JSON object",
        ),
        (
            "not UTF-8",
            &describe,
            vec![b'{', 0xff, 0xfe, b'}'],
            "not valid JSON",
        ),
        (
            "nesting",
            &describe,
            deeply_nested.into_bytes(),
            "not valid JSON",
        ),
        (
            "huge number",
            &describe,
            b"{\"maxResults\":1e400}".to_vec(),
            "not valid JSON",
        ),
        (
            "wrong type",
            &create,
            br#"{"repositoryName":7}"#.to_vec(),
            "input shape",
        ),
        (
            "null name",
            &create,
            br#"{"repositoryName":null}"#.to_vec(),
            "input shape",
        ),
        ("missing name", &create, b"{}".to_vec(), "repositoryName"),
        (
            "list as string",
            &describe,
            br#"{"repositoryNames":"a"}"#.to_vec(),
            "input shape",
        ),
        (
            "number as string",
            &describe,
            br#"{"maxResults":"ten"}"#.to_vec(),
            "input shape",
        ),
        (
            "count over u64",
            &describe,
            br#"{"maxResults":18446744073709551616}"#.to_vec(),
            "input shape",
        ),
    ];
    for (case, target, body, expected) in cases {
        let reply = harness.api(Some(target), JSON_1_1, &body).await;
        assert_eq!(reply.status, 400, "{case}: {}", reply.text());
        assert_eq!(
            reply.error_type(),
            "SerializationException",
            "{case}: {}",
            reply.text()
        );
        assert!(
            reply.message().contains(expected),
            "{case}: {}",
            reply.text()
        );
    }
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn ecr_api_unknown_operations_get_400() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let cases = [
        ("missing target", None, "X-Amz-Target"),
        (
            "unknown operation",
            Some("AmazonEC2ContainerRegistry_V20150921.LaunchRocket"),
            "LaunchRocket",
        ),
        (
            "other service",
            Some("DynamoDB_20120810.ListTables"),
            "DynamoDB_20120810.ListTables",
        ),
        (
            "empty operation",
            Some("AmazonEC2ContainerRegistry_V20150921."),
            "X-Amz-Target",
        ),
    ];
    for (case, target, expected) in cases {
        let reply = harness.api(target, JSON_1_1, b"{}").await;
        assert_eq!(reply.status, 400, "{case}: {}", reply.text());
        assert_eq!(reply.error_type(), "UnknownOperationException", "{case}");
        assert!(
            reply.message().contains(expected),
            "{case}: {}",
            reply.text()
        );
    }
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn ecr_api_ignores_content_type() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let target = format!("{TARGET_PREFIX}DescribeRepositories");
    for content_type in [
        "text/plain",
        "application/json",
        "multipart/form-data; boundary=x",
    ] {
        let reply = harness.api(Some(&target), content_type, b"{}").await;
        assert_eq!(reply.status, 200, "{content_type}: {}", reply.text());
        assert!(reply.json()["repositories"].is_array(), "{content_type}");
    }
    harness.mock.shutdown().await;
}

/// Every operation gets inputs of the wrong shape, and none may return 500 or panic.
#[tokio::test]
async fn ecr_api_operations_survive_wrong_shapes() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    harness.login("app").await;
    let operations = [
        "CreateRepository",
        "DescribeRepositories",
        "DeleteRepository",
        "GetAuthorizationToken",
        "ListImages",
        "DescribeImages",
        "BatchGetImage",
        "BatchDeleteImage",
        "ListImageReferrers",
        "PutImageTagMutability",
        "PutImageScanningConfiguration",
        "DescribeRegistry",
        "PutAccountSetting",
        "GetAccountSetting",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
        "SetRepositoryPolicy",
        "GetRepositoryPolicy",
        "DeleteRepositoryPolicy",
        "PutImage",
        "PutLifecyclePolicy",
        "GetLifecyclePolicy",
        "DeleteLifecyclePolicy",
        "StartLifecyclePolicyPreview",
        "GetLifecyclePolicyPreview",
        "BatchCheckLayerAvailability",
        "InitiateLayerUpload",
        "UploadLayerPart",
        "CompleteLayerUpload",
        "GetDownloadUrlForLayer",
    ];
    let long = "a".repeat(70_000);
    let inputs = [
        "{}".to_owned(),
        r#"{"repositoryName":"app","imageIds":[{}],"layerDigests":[""],"imageManifest":"","uploadId":"","layerPartBlob":"","partFirstByte":0,"partLastByte":0}"#.to_owned(),
        r#"{"repositoryName":"app","imageIds":[{"imageDigest":"sha256:../../etc","imageTag":"../x"}],"layerDigests":["sha256:../../outside/secret"],"imageManifest":"{}","uploadId":"../../outside/secret","layerPartBlob":"!!","partFirstByte":18446744073709551615,"partLastByte":0,"imageDigest":"md5:00","layerDigest":"sha256:ZZ"}"#.to_owned(),
        r#"{"repositoryName":"app","uploadId":"x","partFirstByte":0,"partLastByte":18446744073709551615,"layerPartBlob":"AAAA","maxResults":1000,"nextToken":"%%%","resourceArn":"arn:aws:ecr:us-east-1:123456789012:repository/../../x","tags":[{"Key":"","Value":""}],"tagKeys":[""],"policyText":"{","lifecyclePolicyText":"[]","settingName":"","settingValue":"","imageTagMutability":"NEVER","filter":{"tagStatus":"MAYBE"}}"#.to_owned(),
        format!(r#"{{"repositoryName":"{long}","imageIds":[{{"imageTag":"{long}"}}],"uploadId":"{long}","imageManifest":"{long}","policyText":"{long}"}}"#),
        r#"{"repositoryName":["app"],"imageIds":"all","registryId":123456789012,"force":"yes"}"#.to_owned(),
    ];
    for operation in operations {
        let target = format!("{TARGET_PREFIX}{operation}");
        for input in &inputs {
            let reply = harness.api(Some(&target), JSON_1_1, input.as_bytes()).await;
            let shown: String = input.chars().take(120).collect();
            assert!(
                reply.status == 200 || (400..500).contains(&reply.status),
                "{operation} {shown}: {} {}",
                reply.status,
                reply.text()
            );
            if reply.status != 200 {
                assert!(
                    !reply.error_type().is_empty(),
                    "{operation} {shown}: {}",
                    reply.text()
                );
                assert!(
                    !reply.message().is_empty(),
                    "{operation} {shown}: {}",
                    reply.text()
                );
            }
        }
    }
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn ecr_api_oversized_body_gets_413() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let target = format!("{TARGET_PREFIX}UploadLayerPart");

    // Declared far over the limit: rejected before the body is read.
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: {target}\r\nContent-Type: {JSON_1_1}\r\nX-Amz-Date: 20261204T120000Z\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n",
        common::SIGV4,
        100 * 1024 * 1024
    );
    let mut stream = TcpStream::connect(harness.mock.address()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b' '; 64 * 1024]).await.unwrap();
    let reply = read_reply(&mut stream).await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(reply.error_type(), "RequestEntityTooLargeException");
    assert!(reply.message().contains("104857600"), "{}", reply.text());
    assert!(reply.message().contains("29360128"), "{}", reply.text());

    // Chunked, with no declared length: rejected once the limit is passed.
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: {target}\r\nContent-Type: {JSON_1_1}\r\nX-Amz-Date: 20261204T120000Z\r\nAuthorization: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        common::SIGV4
    );
    let mut stream = TcpStream::connect(harness.mock.address()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..40 {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if writer.write_all(&framed).await.is_err() {
                break;
            }
        }
    });
    let mut bytes = Vec::new();
    let _ = reader.read_to_end(&mut bytes).await;
    sender.await.unwrap();
    let reply = parse_reply(&bytes);
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(reply.error_type(), "RequestEntityTooLargeException");
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn manifest_over_4_mib_gets_413() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let auth = harness.login("app").await;
    let big = vec![b' '; 4 * 1024 * 1024 + 1];
    let reply = harness
        .registry(
            "PUT",
            "/v2/app/manifests/latest",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
            ],
            &big,
        )
        .await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(reply.error_code(), "MANIFEST_INVALID");
    assert!(reply.message().contains("4194304"), "{}", reply.text());
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn huge_headers_get_431() {
    let harness = Harness::start(|_| {}).await;
    let long_value = "x".repeat(100 * 1024);
    let request = format!("GET /v2/ HTTP/1.1\r\nHost: localhost\r\nX-Long: {long_value}\r\n\r\n");
    assert_eq!(harness.send(request.as_bytes()).await.status, 431);

    let many: String = (0..200)
        .map(|index| format!("X-Header-{index}: {index}\r\n"))
        .collect();
    let request = format!("GET /v2/ HTTP/1.1\r\nHost: localhost\r\n{many}\r\n");
    assert_eq!(harness.send(request.as_bytes()).await.status, 431);

    let long_path = format!("/v2/{}/tags/list", "a/".repeat(40_000));
    let request = format!("GET {long_path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let status = harness.send(request.as_bytes()).await.status;
    assert!(status == 414 || status == 431, "{status}");

    // The server still serves normal requests.
    let reply = harness.registry("GET", "/_ecrlab/health", &[], b"").await;
    assert_eq!(reply.status, 200);
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn malformed_http_gets_400() {
    let harness = Harness::start(|_| {}).await;
    let cases: [&[u8]; 5] = [
        b"GARBAGE\r\n\r\n",
        b"GET /v2/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n",
        b"PATCH /v2/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"GET /v2/ HTTP/1.1\r\nHost: localhost\r\nBad Header Name: x\r\n\r\n",
        b"GET /v2/\x00 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ];
    for request in cases {
        let reply = harness.send(request).await;
        assert_eq!(reply.status, 400, "{:?}", String::from_utf8_lossy(request));
    }
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn bad_digests_get_digest_invalid() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let auth = harness.login("app").await;
    let valid_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let uppercase = format!("sha256:{}", valid_hex.to_ascii_uppercase());
    let short = format!("sha256:{}", &valid_hex[..63]);
    let long = format!("sha256:{valid_hex}0");
    let algorithm = format!("md5:{valid_hex}");
    let not_hex = format!("sha256:{}", "g".repeat(64));
    let no_colon = valid_hex.to_owned();
    let sha512_short = format!("sha512:{valid_hex}");
    let digests = [
        &uppercase,
        &short,
        &long,
        &algorithm,
        &not_hex,
        &no_colon,
        &sha512_short,
    ];
    let authorization = [("Authorization", auth.as_str())];
    for digest in digests {
        let reply = harness
            .registry(
                "GET",
                &format!("/v2/app/blobs/{digest}"),
                &authorization,
                b"",
            )
            .await;
        assert_eq!(reply.status, 400, "GET {digest}: {}", reply.text());
        assert_eq!(reply.error_code(), "DIGEST_INVALID", "GET {digest}");
        assert!(
            reply.message().contains(digest.as_str()),
            "{}",
            reply.text()
        );

        let path = format!("/v2/app/blobs/uploads/?digest={digest}");
        let reply = harness
            .registry("POST", &path, &authorization, b"data")
            .await;
        assert_eq!(reply.status, 400, "POST {digest}: {}", reply.text());
        assert_eq!(reply.error_code(), "DIGEST_INVALID", "POST {digest}");

        let path = format!("/v2/app/manifests/{digest}");
        let reply = harness.registry("GET", &path, &authorization, b"").await;
        assert!(
            reply.status == 400 || reply.status == 404,
            "manifest {digest}: {} {}",
            reply.status,
            reply.text()
        );
        assert!(!reply.error_code().is_empty(), "manifest {digest}");
    }

    // A digest mismatch on the closing PUT discards the upload.
    let location = harness.start_upload(&auth, "app").await;
    let wrong = sha256(b"other content");
    let path = format!("{location}?digest={wrong}");
    let reply = harness
        .registry("PUT", &path, &authorization, b"content")
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.error_code(), "DIGEST_INVALID");
    assert!(reply.message().contains(&wrong), "{}", reply.text());
    assert!(
        reply.message().contains(&sha256(b"content")),
        "{}",
        reply.text()
    );
    let status = harness
        .registry("GET", &location, &authorization, b"")
        .await;
    assert_eq!(status.status, 404, "{}", status.text());
    assert_eq!(status.error_code(), "BLOB_UPLOAD_UNKNOWN");
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn bad_content_ranges_get_416() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let auth = harness.login("app").await;
    let location = harness.start_upload(&auth, "app").await;
    let ranges = [
        "abc",
        "5-2",
        "-",
        "0-",
        "bytes=0-3",
        "0-18446744073709551615",
        "0-18446744073709551616",
        "99999999999999999999-1",
        "0-3-4",
        "1-4",
        "0-99",
        "0-18446744073709551614",
    ];
    for range in ranges {
        let headers = [("Authorization", auth.as_str()), ("Content-Range", range)];
        let reply = harness
            .registry("PATCH", &location, &headers, b"data")
            .await;
        assert_eq!(reply.status, 416, "{range}: {}", reply.text());
        assert_eq!(reply.error_code(), "BLOB_UPLOAD_INVALID", "{range}");
        let status = harness
            .registry("GET", &location, &[("Authorization", auth.as_str())], b"")
            .await;
        assert_eq!(status.header("range"), Some("0-0"), "{range}: nothing kept");
    }
    // The upload is still usable after every rejection.
    let headers = [("Authorization", auth.as_str()), ("Content-Range", "0-3")];
    let reply = harness
        .registry("PATCH", &location, &headers, b"data")
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(reply.header("range"), Some("0-3"));
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn content_length_lies_are_handled() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let auth = harness.login("app").await;

    // Shorter than the body: the declared bytes are the chunk, the rest is not a request.
    let location = harness.start_upload(&auth, "app").await;
    let request = format!(
        "PATCH {location} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndataEXTRA-BYTES"
    );
    let reply = harness.send(request.as_bytes()).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(reply.header("range"), Some("0-3"));

    // Longer than the body: the client stops sending and half-closes its side.
    let location = harness.start_upload(&auth, "app").await;
    let request = format!(
        "PATCH {location} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\nContent-Length: 100\r\n\r\nfirst"
    );
    let mut stream = TcpStream::connect(harness.mock.address()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let reply = read_reply(&mut stream).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.error_code(), "BLOB_UPLOAD_INVALID");
    assert!(
        reply.message().contains("after 5 bytes"),
        "{}",
        reply.text()
    );
    let authorization = [("Authorization", auth.as_str())];
    let status = harness
        .registry("GET", &location, &authorization, b"")
        .await;
    assert_eq!(status.status, 204);
    assert_eq!(
        status.header("range"),
        Some("0-4"),
        "the bytes received are kept"
    );
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn path_traversal_stays_in_data_folder() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let auth = harness.login("app").await;
    let before = snapshot(&harness.outside());
    let root_before: Vec<_> = std::fs::read_dir(harness.root.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    let outside = harness.outside();
    let absolute = outside.join("secret");
    let absolute = absolute.to_str().unwrap();
    let traversals = [
        "../../outside/secret".to_owned(),
        "..%2F..%2Foutside%2Fsecret".to_owned(),
        "%2e%2e/%2e%2e/outside/secret".to_owned(),
        "..%252F..%252Foutside%252Fsecret".to_owned(),
        absolute.to_owned(),
        absolute.replace('/', "%2F"),
        "secret%00".to_owned(),
        "..\\..\\outside\\secret".replace('\\', "%5C"),
    ];
    let authorization = [("Authorization", auth.as_str())];
    let mut statuses = Vec::new();
    for traversal in &traversals {
        let paths = [
            ("GET", format!("/v2/app/blobs/sha256:{traversal}")),
            ("GET", format!("/v2/app/blobs/{traversal}")),
            ("GET", format!("/v2/app/manifests/{traversal}")),
            ("PUT", format!("/v2/app/manifests/{traversal}")),
            ("GET", format!("/v2/app/blobs/uploads/{traversal}")),
            ("PATCH", format!("/v2/app/blobs/uploads/{traversal}")),
            (
                "PUT",
                format!("/v2/app/blobs/uploads/{traversal}?digest={}", sha256(b"x")),
            ),
            ("DELETE", format!("/v2/app/blobs/uploads/{traversal}")),
            ("GET", format!("/v2/{traversal}/tags/list")),
            ("POST", format!("/v2/{traversal}/blobs/uploads/")),
            ("GET", format!("/_ecrlab/layers/{traversal}")),
            (
                "POST",
                format!("/v2/app/blobs/uploads/?mount=sha256:{traversal}&from=app"),
            ),
        ];
        for (method, path) in paths {
            let path = path.replace(' ', "%20");
            let reply = harness.registry(method, &path, &authorization, b"x").await;
            assert!(
                (400..500).contains(&reply.status),
                "{method} {path}: {} {}",
                reply.status,
                reply.text()
            );
            assert!(
                !reply.text().contains(SECRET),
                "{method} {path} read the secret"
            );
            statuses.push(reply.status);
        }
        for operation in ["CreateRepository", "InitiateLayerUpload", "DescribeImages"] {
            let target = format!("{TARGET_PREFIX}{operation}");
            let input = serde_json::json!({ "repositoryName": traversal, "imageIds": [{ "imageTag": traversal }] });
            let reply = harness
                .api(Some(&target), JSON_1_1, input.to_string().as_bytes())
                .await;
            assert_eq!(
                reply.status,
                400,
                "{operation} {traversal}: {}",
                reply.text()
            );
        }
        let target = format!("{TARGET_PREFIX}UploadLayerPart");
        let input = serde_json::json!({
            "repositoryName": "app", "uploadId": traversal, "partFirstByte": 0,
            "partLastByte": 2, "layerPartBlob": "YWJj"
        });
        let reply = harness
            .api(Some(&target), JSON_1_1, input.to_string().as_bytes())
            .await;
        assert_eq!(
            reply.status,
            400,
            "UploadLayerPart {traversal}: {}",
            reply.text()
        );
        let error_type = reply.error_type();
        assert!(
            error_type == "UploadNotFoundException" || error_type == "InvalidParameterException",
            "UploadLayerPart {traversal}: {}",
            reply.text()
        );
    }
    assert_eq!(
        snapshot(&harness.outside()),
        before,
        "files outside the data folder changed"
    );
    let root_after: Vec<_> = std::fs::read_dir(harness.root.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        root_after, root_before,
        "a file was created next to the data folder"
    );
    assert!(!statuses.is_empty());
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn basic_auth_bad_shapes_get_401() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    harness.login("app").await;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let huge = format!("Basic {}", encode(&vec![b'a'; 40 * 1024]));
    let cases = [
        (
            "no colon",
            format!("Basic {}", encode(b"AWSpassword")),
            "':'",
        ),
        ("empty", "Basic ".to_owned(), "no credentials"),
        ("not base64", "Basic !!!not-base64!!!".to_owned(), "base64"),
        (
            "not UTF-8",
            format!("Basic {}", encode(&[0xff, 0xfe, b':', 0x80])),
            "UTF-8",
        ),
        ("huge", huge, "':'"),
        ("other scheme", "Bearer abc".to_owned(), "Basic"),
        ("scheme only", "Basic".to_owned(), "Basic"),
        (
            "wrong user",
            format!("Basic {}", encode(b"admin:secret")),
            "AWS",
        ),
        (
            "wrong password",
            format!("Basic {}", encode(b"AWS:secret")),
            "",
        ),
    ];
    for (case, value, expected) in cases {
        let reply = harness
            .registry(
                "GET",
                "/v2/app/tags/list",
                &[("Authorization", &value)],
                b"",
            )
            .await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.text());
        assert_eq!(reply.error_code(), "DENIED", "{case}");
        assert!(reply.header("www-authenticate").is_some(), "{case}");
        assert!(
            reply.message().contains(expected),
            "{case}: {}",
            reply.text()
        );
        assert!(
            !reply.message().contains("secret"),
            "{case}: the password is echoed"
        );
    }
    // Bytes that are not visible ASCII in the header value.
    let request = b"GET /v2/app/tags/list HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Basic \xff\xfe\r\n\r\n";
    let reply = harness.send(request).await;
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(reply.error_code(), "DENIED");
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn sigv4_header_bad_shapes_get_signature_errors() {
    let harness = Harness::start(|_| {}).await;
    // The signature checks run against the system clock, so the valid date is today's.
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let stamp = time::OffsetDateTime::now_utc().format(&format).unwrap();
    let long_credential = format!(
        "AWS4-HMAC-SHA256 Credential={}/20261204/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        "A".repeat(40_000)
    );
    let cases = [
        ("algorithm only", "AWS4-HMAC-SHA256".to_owned(), "IncompleteSignatureException"),
        ("other algorithm", "AWS4-HMAC-SHA512 Credential=a".to_owned(), "IncompleteSignatureException"),
        ("empty", String::new(), "IncompleteSignatureException"),
        ("garbage", "!!!".to_owned(), "IncompleteSignatureException"),
        ("empty credential", "AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=00".to_owned(), "IncompleteSignatureException"),
        ("short credential", "AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00".to_owned(), "IncompleteSignatureException"),
        ("traversal region", "AWS4-HMAC-SHA256 Credential=AKIAECRLABSTUDENT001/20261204/../ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=00".to_owned(), "IncompleteSignatureException"),
        ("wrong service", "AWS4-HMAC-SHA256 Credential=AKIAECRLABSTUDENT001/20261204/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00".to_owned(), "InvalidSignatureException"),
        ("no signature", "AWS4-HMAC-SHA256 Credential=AKIAECRLABSTUDENT001/20261204/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date".to_owned(), "IncompleteSignatureException"),
        ("unknown key", "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN/20261204/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date, Signature=00".to_owned(), "UnrecognizedClientException"),
        ("huge", long_credential, "UnrecognizedClientException"),
        ("bad signed headers", "AWS4-HMAC-SHA256 Credential=AKIAECRLABSTUDENT001/20261204/us-east-1/ecr/aws4_request, SignedHeaders=;;;, Signature=00".to_owned(), "IncompleteSignatureException"),
        ("unsigned header named", "AWS4-HMAC-SHA256 Credential=AKIAECRLABSTUDENT001/20261204/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date;x-missing, Signature=00".to_owned(), "IncompleteSignatureException"),
    ];
    let target = format!("{TARGET_PREFIX}DescribeRepositories");
    for (case, authorization, expected) in cases {
        let authorization = authorization.replace("20261204", &stamp[..8]);
        for date in [
            stamp.as_str(),
            "2026",
            "+20261204T120000Z",
            "20261304T120000Z",
            "\u{e9}t\u{e9}",
        ] {
            let request = format!(
                "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Amz-Target: {target}\r\nX-Amz-Date: {date}\r\nAuthorization: {authorization}\r\nContent-Length: 2\r\n\r\n{{}}"
            );
            let reply = harness.send(request.as_bytes()).await;
            assert!(
                reply.status == 400 || reply.status == 403,
                "{case} {date}: {} {}",
                reply.status,
                reply.text()
            );
            let error_type = reply.error_type();
            assert!(!error_type.is_empty(), "{case} {date}: {}", reply.text());
            if date == stamp {
                assert_eq!(error_type, expected, "{case}: {}", reply.text());
            }
        }
    }
    let request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Amz-Target: {target}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=\u{e9}\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    let reply = harness.send(request.as_bytes()).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.error_type(), "IncompleteSignatureException");
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn admin_api_bad_queries_get_400() {
    let harness = Harness::start(|_| {}).await;
    let cases = [
        ("GET", "/_ecrlab/journal?limit=-1"),
        ("GET", "/_ecrlab/journal?after=99999999999999999999999"),
        ("GET", "/_ecrlab/journal?limit=%ff"),
        ("POST", "/_ecrlab/clock/advance?by=abc"),
        ("POST", "/_ecrlab/clock/advance?by=99999999999999999999h"),
        ("POST", "/_ecrlab/clock/advance?by=-5h"),
        ("POST", "/_ecrlab/lifecycle/run?repository="),
    ];
    for (method, path) in cases {
        let reply = harness.registry(method, path, &[], b"").await;
        assert_eq!(reply.status, 400, "{method} {path}: {}", reply.text());
        assert!(!reply.text().is_empty(), "{method} {path}");
    }
    harness.mock.shutdown().await;
}

/// A `MakeWriter` that keeps the log in memory, to check the lines a test provokes.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Installs the capture for this thread. The tests that use it run on a current-thread
    /// runtime, so the server's tasks log on this thread too.
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn short_timeouts() -> Timeouts {
    Timeouts {
        header_read: Duration::from_secs(1),
        body_idle: Duration::from_secs(1),
    }
}

/// Reads until the server closes the connection, and returns what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes).await;
    bytes
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let log = CapturedLog::default();
    let _guard = log.install();
    let harness = Harness::start(|config| config.timeouts = short_timeouts()).await;

    let mut slow = TcpStream::connect(harness.mock.address()).await.unwrap();
    let started = Instant::now();
    let request = b"GET /v2/ HTTP/1.1\r\nHost: localhost\r\nX-Slow: yes\r\n\r\n";
    let (mut reader, mut writer) = slow.split();
    let trickle = async {
        for byte in request {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let closed = async {
        let mut bytes = Vec::new();
        let _ = reader.read_to_end(&mut bytes).await;
        (bytes, started.elapsed())
    };
    let others = async {
        // Another client is served at once while the slow one trickles.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let asked = Instant::now();
        let reply = harness.registry("GET", "/_ecrlab/health", &[], b"").await;
        (reply.status, asked.elapsed())
    };
    let ((sent, elapsed), (status, waited)) = tokio::select! {
        results = async { tokio::join!(closed, others) } => results,
        () = async { trickle.await; std::future::pending::<()>().await } => unreachable!(),
    };
    assert!(
        sent.is_empty(),
        "no response: {:?}",
        String::from_utf8_lossy(&sent)
    );
    assert!(
        elapsed >= Duration::from_millis(900),
        "closed after {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "closed after {elapsed:?}");
    assert_eq!(status, 200);
    assert!(
        waited < Duration::from_millis(500),
        "other client waited {waited:?}"
    );
    let text = log.text();
    assert!(text.contains("header read timeout"), "{text}");
    drop(slow);
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn silent_connection_is_cut_off() {
    let harness = Harness::start(|config| config.timeouts = short_timeouts()).await;
    let mut silent = TcpStream::connect(harness.mock.address()).await.unwrap();
    let started = Instant::now();
    let bytes = tokio::time::timeout(Duration::from_secs(10), read_until_closed(&mut silent))
        .await
        .expect("the server closes a connection that sends nothing");
    assert!(bytes.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(900));

    // An idle keep-alive connection after a response is closed the same way.
    let mut idle = TcpStream::connect(harness.mock.address()).await.unwrap();
    idle.write_all(b"GET /_ecrlab/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let bytes = tokio::time::timeout(Duration::from_secs(10), read_until_closed(&mut idle))
        .await
        .expect("the server closes an idle keep-alive connection");
    assert!(String::from_utf8_lossy(&bytes).starts_with("HTTP/1.1 200"));
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn stalled_upload_times_out_and_resumes() {
    let log = CapturedLog::default();
    let _guard = log.install();
    let harness = Harness::start(|config| {
        config.accept_any_signature = true;
        config.timeouts = short_timeouts();
    })
    .await;
    let auth = harness.login("app").await;
    let location = harness.start_upload(&auth, "app").await;
    let content = b"0123456789";

    let request = format!(
        "PATCH {location} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\nContent-Range: 0-9\r\nContent-Length: 10\r\n\r\n0123"
    );
    let mut stalled = TcpStream::connect(harness.mock.address()).await.unwrap();
    stalled.write_all(request.as_bytes()).await.unwrap();
    let started = Instant::now();
    let reply = tokio::time::timeout(Duration::from_secs(10), read_reply(&mut stalled))
        .await
        .expect("the stalled body times out");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "after {elapsed:?}");
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.error_code(), "BLOB_UPLOAD_INVALID");
    assert!(
        reply.message().contains("body idle timeout"),
        "{}",
        reply.text()
    );
    assert!(
        reply.message().contains("after 4 bytes"),
        "{}",
        reply.text()
    );
    let text = log.text();
    assert!(text.contains("request body timed out"), "{text}");
    assert!(text.contains(&location), "{text}");

    // The upload keeps the 4 bytes that arrived, and the client resumes after them.
    let authorization = [("Authorization", auth.as_str())];
    let status = harness
        .registry("GET", &location, &authorization, b"")
        .await;
    assert_eq!(status.status, 204);
    assert_eq!(status.header("range"), Some("0-3"));
    let path = format!("{location}?digest={}", sha256(content));
    let headers = [("Authorization", auth.as_str()), ("Content-Range", "4-9")];
    let reply = harness
        .registry("PUT", &path, &headers, &content[4..])
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn dropped_chunk_status_counts_every_byte() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let auth = harness.login("app").await;
    let location = harness.start_upload(&auth, "app").await;

    // The client announces 64 MiB, sends a little over 20 MiB and closes the connection.
    // Batches of those bytes may still be hashed and written when the status request comes.
    let sent = 20 * 1024 * 1024 + 3;
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n",
        64 * 1024 * 1024
    );
    let mut dropped = TcpStream::connect(harness.mock.address()).await.unwrap();
    dropped.write_all(head.as_bytes()).await.unwrap();
    dropped.write_all(&vec![7u8; sent]).await.unwrap();
    drop(dropped);

    let authorization = [("Authorization", auth.as_str())];
    let status = harness
        .registry("GET", &location, &authorization, b"")
        .await;
    assert_eq!(status.status, 204, "{}", status.text());
    let expected = format!("0-{}", sent - 1);
    assert_eq!(status.header("range"), Some(expected.as_str()));
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn stalled_streamed_chunk_keeps_bytes() {
    let harness = Harness::start(|config| {
        config.accept_any_signature = true;
        config.timeouts = short_timeouts();
    })
    .await;
    let auth = harness.login("app").await;
    let location = harness.start_upload(&auth, "app").await;

    // A streamed chunk (no Content-Range) that stalls after 4 bytes keeps them.
    let request = format!(
        "PATCH {location} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n0123\r\n"
    );
    let mut stalled = TcpStream::connect(harness.mock.address()).await.unwrap();
    stalled.write_all(request.as_bytes()).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), read_reply(&mut stalled))
        .await
        .expect("the stalled body times out");
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.error_code(), "BLOB_UPLOAD_INVALID");

    let authorization = [("Authorization", auth.as_str())];
    let status = harness
        .registry("GET", &location, &authorization, b"")
        .await;
    assert_eq!(status.header("range"), Some("0-3"), "the 4 bytes are kept");
    let content = b"0123456789";
    let path = format!("{location}?digest={}", sha256(content));
    let headers = [("Authorization", auth.as_str()), ("Content-Range", "4-9")];
    let reply = harness
        .registry("PUT", &path, &headers, &content[4..])
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn stalled_ecr_api_body_gets_408() {
    let harness = Harness::start(|config| {
        config.accept_any_signature = true;
        config.timeouts = short_timeouts();
    })
    .await;
    let target = format!("{TARGET_PREFIX}DescribeRepositories");
    let request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: {target}\r\nX-Amz-Date: 20261204T120000Z\r\nAuthorization: {}\r\nContent-Length: 20\r\n\r\n{{",
        common::SIGV4
    );
    let mut stalled = TcpStream::connect(harness.mock.address()).await.unwrap();
    stalled.write_all(request.as_bytes()).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), read_reply(&mut stalled))
        .await
        .expect("the stalled body times out");
    // AWS "Common Errors": RequestTimeoutException is HTTP 408.
    assert_eq!(reply.status, 408, "{}", reply.text());
    assert_eq!(reply.error_type(), "RequestTimeoutException");
    assert!(reply.message().contains("1 seconds"), "{}", reply.text());
    harness.mock.shutdown().await;
}

#[tokio::test]
async fn shutdown_does_not_wait_for_stalled_clients() {
    let harness = Harness::start(|config| config.accept_any_signature = true).await;
    let _silent = TcpStream::connect(harness.mock.address()).await.unwrap();
    let mut half = TcpStream::connect(harness.mock.address()).await.unwrap();
    half.write_all(b"GET /v2/ HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    harness.mock.shutdown().await;
    let elapsed = started.elapsed();
    assert!(
        elapsed <= mock_ecr::server::SHUTDOWN_GRACE + Duration::from_secs(1),
        "shutdown took {elapsed:?}"
    );
    // The stalled connection is dropped with the server, not left open.
    let closed = tokio::time::timeout(Duration::from_secs(2), read_until_closed(&mut half)).await;
    assert!(
        closed.is_ok(),
        "the stalled connection is still open after shutdown"
    );
}
