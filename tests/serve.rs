//! `ecrlab serve` as a process: it prints where it listens, keeps state across restarts, stops
//! cleanly on SIGTERM, and explains a port that is already in use.

#[path = "support/ecr_sdk.rs"]
mod ecr_sdk;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ecrlab_core::clients::EcrSettings;

/// A running `ecrlab serve` child process with the endpoint it printed.
struct Server {
    child: Child,
    endpoint: String,
}

fn serve(data: &std::path::Path, listen: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args(["serve", "--listen", listen, "--data"])
        .arg(data)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        // The request log goes to stderr, and a pipe that is never read would fill and stall the server.
        .stderr(Stdio::null())
        .spawn()
        .expect("ecrlab serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut endpoint = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("readable stdout");
        if let Some(url) = line.trim().strip_prefix("ECR API endpoint:") {
            endpoint = Some(url.trim().to_owned());
            break;
        }
    }
    let Some(endpoint) = endpoint else {
        let status = child.wait().expect("exit status");
        panic!("ecrlab serve printed no endpoint and exited with {status}");
    };
    Server { child, endpoint }
}

/// Sends SIGTERM and returns the exit code, waiting at most ten seconds.
fn terminate(mut server: Server) -> Option<i32> {
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -TERM failed");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.child.try_wait().expect("child status") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = server.child.kill();
            panic!("ecrlab serve did not stop within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_keeps_state_across_restarts() {
    let data = tempfile::tempdir().expect("temporary folder");

    let first = serve(data.path(), "127.0.0.1:0");
    let ecr = EcrSettings::for_mock(&first.endpoint).unwrap().ecr_client();
    ecr_sdk::create_repository(&ecr, "kept/app", None).await;
    assert_eq!(
        terminate(first),
        Some(0),
        "SIGTERM stops the server with status 0"
    );

    let second = serve(data.path(), "127.0.0.1:0");
    let ecr = EcrSettings::for_mock(&second.endpoint)
        .unwrap()
        .ecr_client();
    let described = ecr
        .describe_repositories()
        .repository_names("kept/app")
        .send()
        .await
        .expect("the repository survives the restart");
    assert_eq!(described.repositories().len(), 1);
    assert_eq!(terminate(second), Some(0));
}

#[test]
fn serve_reports_port_in_use() {
    let data = tempfile::tempdir().expect("temporary folder");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().unwrap().to_string();

    let output = Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args(["serve", "--listen", &address, "--data"])
        .arg(data.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("ecrlab serve runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&address), "{stderr}");
    assert!(stderr.contains("--listen"), "{stderr}");
}

#[test]
fn serve_reports_unusable_data_folder() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let file = folder.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&file)
        .output()
        .expect("ecrlab serve runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not-a-folder"), "{stderr}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"x",
        "the file is left as it was"
    );
}

/// Gets registry credentials through the ECR API and encodes them as the value of a Basic
/// `Authorization` header, without the `Basic ` prefix.
async fn basic_credentials(ecr: &aws_sdk_ecr::Client) -> String {
    let (user, password) = ecr_sdk::registry_credentials(ecr).await;
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{user}:{password}"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_stops_despite_stalled_upload() {
    use std::io::Write;

    let data = tempfile::tempdir().expect("temporary folder");
    let server = serve(data.path(), "127.0.0.1:0");
    let ecr = EcrSettings::for_mock(&server.endpoint)
        .unwrap()
        .ecr_client();
    ecr_sdk::create_repository(&ecr, "stall", None).await;
    let basic = basic_credentials(&ecr).await;

    let client = reqwest::Client::new();
    let started = client
        .post(format!("{}/v2/stall/blobs/uploads/", server.endpoint))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .expect("upload starts");
    let location = started.headers()["location"].to_str().unwrap().to_owned();

    // A client that announces a megabyte, sends a kilobyte and then waits.
    let address = server.endpoint.trim_start_matches("http://").to_owned();
    let mut stalled = std::net::TcpStream::connect(&address).expect("connect");
    write!(
        stalled,
        "PATCH {location} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {basic}\r\nContent-Length: 1000000\r\n\r\n"
    )
    .unwrap();
    stalled.write_all(&[0u8; 1000]).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let started_at = Instant::now();
    assert_eq!(terminate(server), Some(0));
    assert!(
        started_at.elapsed() < Duration::from_secs(9),
        "shutdown took {:?}",
        started_at.elapsed()
    );
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread")]
async fn second_signal_stops_at_once() {
    use std::io::Write;

    let data = tempfile::tempdir().expect("temporary folder");
    let server = serve(data.path(), "127.0.0.1:0");
    let ecr = EcrSettings::for_mock(&server.endpoint)
        .unwrap()
        .ecr_client();
    ecr_sdk::create_repository(&ecr, "stall", None).await;
    let basic = basic_credentials(&ecr).await;
    let started = reqwest::Client::new()
        .post(format!("{}/v2/stall/blobs/uploads/", server.endpoint))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .expect("upload starts");
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let address = server.endpoint.trim_start_matches("http://").to_owned();
    let mut stalled = std::net::TcpStream::connect(&address).expect("connect");
    write!(
        stalled,
        "PATCH {location} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {basic}\r\nContent-Length: 1000000\r\n\r\n"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let mut child = server.child;
    let pid = child.id().to_string();
    let started_at = Instant::now();
    for signal in ["-TERM", "-INT"] {
        let status = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(status.success(), "kill {signal}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        assert!(
            started_at.elapsed() < Duration::from_secs(10),
            "server did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    assert!(
        started_at.elapsed() < Duration::from_secs(3),
        "the second signal did not cut the grace period short: {:?}",
        started_at.elapsed()
    );
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_after_its_log_pipe_closes() {
    // `ecrlab serve 2>&1 | head -1`: once the reader exits, every log line fails to write.
    let data = tempfile::tempdir().expect("temporary folder");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ecrlab serve starts");
    drop(child.stderr.take());
    let stdout = child.stdout.take().expect("stdout");
    let mut endpoint = None;
    for line in BufReader::new(stdout).lines() {
        if let Some(url) = line
            .expect("stdout")
            .trim()
            .strip_prefix("ECR API endpoint:")
        {
            endpoint = Some(url.trim().to_owned());
            break;
        }
    }
    let endpoint = endpoint.expect("endpoint printed");

    let client = reqwest::Client::new();
    for _ in 0..3 {
        let health = client
            .get(format!("{endpoint}/_ecrlab/health"))
            .send()
            .await
            .expect("the mock still answers");
        assert_eq!(health.status(), 200);
    }
    assert_eq!(terminate(Server { child, endpoint }), Some(0));
}
