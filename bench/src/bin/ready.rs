//! Measures the time from starting a server to its first successful `GET /v2/`.
//!
//! Usage: `ready ADDRESS EXPECTED_STATUS AUTHORIZATION -- COMMAND [ARGUMENTS...]`. The timer
//! starts just before COMMAND is spawned. Every 200 µs the program connects to ADDRESS, sends
//! `GET /v2/` with the Authorization header (none when AUTHORIZATION is empty) and stops at
//! the first response whose status is EXPECTED_STATUS. It prints the elapsed milliseconds,
//! then stops COMMAND with SIGTERM, as a user stops a server, and kills it only if it is still
//! running after 10 seconds. The next start then follows a clean shutdown, as it usually does.
//! The server's output goes to this program's standard error.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const POLL_INTERVAL: Duration = Duration::from_micros(200);
const TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let Some((settings, command)) = arguments.split_first_chunk::<4>() else {
        return usage();
    };
    let [address, expected_status, authorization, separator] = settings;
    if separator != "--" || command.is_empty() {
        return usage();
    }
    let request = build_request(address, authorization);
    let expected = format!(" {expected_status} ");

    let started = Instant::now();
    let mut child = match Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            eprintln!("ready: failed to start '{}': {error}", command[0]);
            return ExitCode::FAILURE;
        }
    };
    let outcome = loop {
        if let Some(status_line) = probe(address, &request)
            && status_line.contains(&expected)
        {
            break Ok(started.elapsed());
        }
        if started.elapsed() > TIMEOUT {
            break Err(format!(
                "no GET /v2/ on {address} returned status {expected_status} within {TIMEOUT:?}"
            ));
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!("'{}' exited early with {status}", command[0]));
        }
        std::thread::sleep(POLL_INTERVAL);
    };
    stop(&mut child);

    match outcome {
        Ok(elapsed) => {
            println!("{:.1}", elapsed.as_secs_f64() * 1000.0);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("ready: {message}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: ready ADDRESS EXPECTED_STATUS AUTHORIZATION -- COMMAND [ARGUMENTS...]");
    ExitCode::from(2)
}

fn build_request(address: &str, authorization: &str) -> String {
    let mut request = format!("GET /v2/ HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if !authorization.is_empty() {
        request.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// Sends one request and returns the response's status line, or `None` while the server does
/// not accept connections or respond.
fn probe(address: &str, request: &str) -> Option<String> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut buffer = [0u8; 256];
    let mut received = Vec::new();
    while !received.contains(&b'\n') {
        let count = stream.read(&mut buffer).ok()?;
        if count == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..count]);
    }
    let text = String::from_utf8_lossy(&received);
    Some(text.lines().next()?.to_owned())
}

/// Sends SIGTERM (through `kill`, which needs no unsafe code) and waits up to 10 seconds for
/// the server to exit, then kills it.
fn stop(child: &mut std::process::Child) {
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|status| status.success());
    if terminated {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
