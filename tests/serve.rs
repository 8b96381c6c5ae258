//! `ecrlab serve` as a process: it prints where it listens, keeps state across restarts, stops
//! cleanly on SIGTERM, and explains a port that is already in use.

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
        // The request log goes to stderr; a pipe nobody reads would fill and stall the server.
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
    ecr.create_repository()
        .repository_name("kept/app")
        .send()
        .await
        .expect("repository created");
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
