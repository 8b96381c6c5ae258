//! Pushes one blob to a registry over one keep-alive connection and prints the seconds taken.
//!
//! Usage: `push ADDRESS REPOSITORY FILE DIGEST CHUNK_BYTES TRANSFER [AUTHORIZATION]`,
//! where TRANSFER is `copy` or `sendfile`.
//!
//! The push follows the OCI distribution spec, section "Pushing blobs". A `POST` to
//! `/v2/REPOSITORY/blobs/uploads/` opens an upload. A monolithic push (CHUNK_BYTES 0) then
//! sends one `PUT` with the whole file and `?digest=DIGEST`. A chunked push sends a `PATCH`
//! with a `Content-Range` for every CHUNK_BYTES of the file, then a `PUT` with the digest and
//! no body. Each request goes to the `Location` of the response before it. The timer runs
//! from the `POST` to the final response. AUTHORIZATION, when given, is sent as the
//! `Authorization` header of every request.
//!
//! All requests share one connection, as container clients keep theirs open, unless a server
//! responds with `Connection: close`. TRANSFER sets how bodies are sent:
//! - `copy` reads the file in 64 KiB blocks and writes each block to the socket, as curl does
//!   with its default upload buffer (`CURLOPT_UPLOAD_BUFFERSIZE`, 64 KiB);
//! - `sendfile` hands the file's cached pages to the socket with `sendfile(2)`, so the client
//!   copies no byte itself and leaves the CPU to the server.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::FileExt as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The block size of the `copy` transfer.
const COPY_BLOCK_BYTES: usize = 64 * 1024;

/// The time limit of one read or write on the connection, so a server that stalls fails the
/// push instead of hanging the benchmark.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

const USAGE: &str =
    "usage: push ADDRESS REPOSITORY FILE DIGEST CHUNK_BYTES TRANSFER [AUTHORIZATION]
TRANSFER is copy (64 KiB reads and writes) or sendfile
CHUNK_BYTES 0 pushes the file with one PUT, any other size with PATCH requests of that size";

fn main() -> ExitCode {
    let mut arguments = Vec::new();
    for (position, argument) in std::env::args_os().skip(1).enumerate() {
        match argument.into_string() {
            Ok(argument) => arguments.push(argument),
            Err(argument) => {
                eprintln!(
                    "push: argument {} ({}) is not valid UTF-8; give paths and values in UTF-8",
                    position + 1,
                    argument.to_string_lossy()
                );
                return ExitCode::from(2);
            }
        }
    }
    let (settings, authorization) = match arguments.split_first_chunk::<6>() {
        Some((settings, [])) => (settings, None),
        Some((settings, [authorization])) => (settings, Some(authorization.as_str())),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let [address, repository, file, digest, chunk, transfer] = settings;
    if address.contains("://") {
        eprintln!("push: ADDRESS '{address}' is invalid; give HOST:PORT, without a scheme");
        return ExitCode::from(2);
    }
    let Ok(chunk) = chunk.parse::<u64>() else {
        eprintln!("push: CHUNK_BYTES '{chunk}' is invalid; give a size in bytes, or 0 for one PUT");
        return ExitCode::from(2);
    };
    let transfer = match transfer.as_str() {
        "copy" => BodyTransfer::Copy,
        "sendfile" => BodyTransfer::Sendfile,
        other => {
            eprintln!("push: TRANSFER '{other}' is invalid; give copy or sendfile");
            return ExitCode::from(2);
        }
    };
    let push = Push {
        address,
        repository,
        digest,
        authorization,
        transfer,
    };
    match push.run(file, chunk) {
        Ok(seconds) => {
            println!("{seconds:.3}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("push: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The system calls that move request bodies from the file to the socket.
#[derive(Clone, Copy)]
enum BodyTransfer {
    Copy,
    Sendfile,
}

struct Push<'a> {
    address: &'a str,
    repository: &'a str,
    digest: &'a str,
    authorization: Option<&'a str>,
    transfer: BodyTransfer,
}

impl Push<'_> {
    /// Pushes `path` and returns the seconds from the `POST` to the final response.
    fn run(&self, path: &str, chunk: u64) -> Result<f64, String> {
        let file = File::open(path).map_err(|error| format!("failed to open {path}: {error}"))?;
        let metadata = file
            .metadata()
            .map_err(|error| format!("failed to read the size of {path}: {error}"))?;
        if !metadata.is_file() {
            return Err(format!(
                "{path} is not a regular file; give the path of the blob's file"
            ));
        }
        let size = metadata.len();
        let mut connection = Connection::open(self.address, self.transfer)?;

        let started = Instant::now();
        let uploads = format!("/v2/{}/blobs/uploads/", self.repository);
        let mut location = connection
            .send(&self.head("POST", &uploads, 0, &[]), None)?
            .location(202)?;
        let mut start = 0;
        if chunk > 0 {
            while start < size {
                let length = chunk.min(size - start);
                let range = format!("Content-Range: {}-{}", start, start + length - 1);
                let head = self.head("PATCH", &location, length, &[&range]);
                location = connection
                    .send(&head, Some((&file, start, length)))?
                    .location(202)?;
                start += length;
            }
        }
        // The closing PUT carries what no PATCH sent: the whole file in a monolithic push.
        let url = with_query(&location, &format!("digest={}", self.digest));
        let length = size - start;
        let head = self.head("PUT", &url, length, &[]);
        let body = (length > 0).then_some((&file, start, length));
        connection.send(&head, body)?.expect(201)?;
        Ok(started.elapsed().as_secs_f64())
    }

    fn head(&self, method: &str, target: &str, length: u64, extra: &[&str]) -> String {
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {length}\r\n",
            self.address
        );
        if length > 0 {
            head.push_str("Content-Type: application/octet-stream\r\n");
        }
        if let Some(authorization) = self.authorization {
            head.push_str(&format!("Authorization: {authorization}\r\n"));
        }
        for line in extra {
            head.push_str(line);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        head
    }
}

/// Sends `length` bytes of `file` from `offset` through a buffer of [`COPY_BLOCK_BYTES`].
fn copy_file(mut stream: &TcpStream, file: &File, offset: u64, length: u64) -> std::io::Result<()> {
    let mut block = vec![0; COPY_BLOCK_BYTES];
    let mut position = offset;
    let end = offset + length;
    while position < end {
        let count =
            usize::try_from(end - position).map_or(block.len(), |left| left.min(block.len()));
        file.read_exact_at(&mut block[..count], position)?;
        stream.write_all(&block[..count])?;
        position += count as u64;
    }
    Ok(())
}

/// Sends `length` bytes of `file` from `offset` with `sendfile`, which hands the kernel's cached
/// pages of the file to the socket.
fn send_file(stream: &TcpStream, file: &File, offset: u64, length: u64) -> std::io::Result<()> {
    let mut position = offset;
    let end = offset + length;
    while position < end {
        let count = usize::try_from(end - position).unwrap_or(usize::MAX);
        if rustix::fs::sendfile(stream, file, Some(&mut position), count)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the file ends at byte {position}, before byte {end}"),
            ));
        }
    }
    Ok(())
}

/// Appends `query` to a URL that may already have a query string.
fn with_query(url: &str, query: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

/// One connection to the server, opened again when the server closes it.
struct Connection {
    address: String,
    transfer: BodyTransfer,
    stream: Option<TcpStream>,
    /// Bytes read past the end of the last response.
    pending: Vec<u8>,
}

impl Connection {
    fn open(address: &str, transfer: BodyTransfer) -> Result<Self, String> {
        let mut connection = Self {
            address: address.to_owned(),
            transfer,
            stream: None,
            pending: Vec::new(),
        };
        connection.stream()?;
        Ok(connection)
    }

    /// Connects, unless a connection is open, and returns the connection. Small request heads
    /// and bodies go out at once (`TCP_NODELAY`, as curl sets it), instead of waiting for the
    /// server's delayed ACK.
    fn stream(&mut self) -> Result<&mut TcpStream, String> {
        if self.stream.is_none() {
            let failed = |error| format!("failed to connect to {}: {error}", self.address);
            let stream = TcpStream::connect(&self.address).map_err(failed)?;
            stream.set_nodelay(true).map_err(failed)?;
            stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(failed)?;
            stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(failed)?;
            self.pending.clear();
            self.stream = Some(stream);
        }
        Ok(self.stream.as_mut().expect("the stream was just opened"))
    }

    /// Sends a request head and, when given, `length` bytes of the file from `offset`, then
    /// reads the response.
    fn send(&mut self, head: &str, body: Option<(&File, u64, u64)>) -> Result<Response, String> {
        let request = head.lines().next().unwrap_or_default().to_owned();
        let transfer = self.transfer;
        let stream = self.stream()?;
        stream
            .write_all(head.as_bytes())
            .map_err(|error| format!("{request}: failed to send the request: {error}"))?;
        if let Some((file, offset, length)) = body {
            let sent = match transfer {
                BodyTransfer::Copy => copy_file(stream, file, offset, length),
                BodyTransfer::Sendfile => send_file(stream, file, offset, length),
            };
            if let Err(error) = sent {
                return Err(self.body_failed(&request, &error));
            }
        }
        let response = self.read_response(&request)?;
        if response.close {
            self.stream = None;
        }
        Ok(response)
    }

    /// Describes a body that could not be sent. A server that rejects a request before
    /// reading its body has often sent its response already, and that response gives the
    /// reason.
    fn body_failed(&mut self, request: &str, error: &std::io::Error) -> String {
        let message = match self.read_response(request) {
            Ok(response) => format!(
                "{request}: failed to send the body ({error}); the server responded {} first: {}",
                response.status, response.body
            ),
            Err(_) => format!("{request}: failed to send the body: {error}"),
        };
        self.stream = None;
        message
    }

    fn read_response(&mut self, request: &str) -> Result<Response, String> {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut headers);
            let status = parsed
                .parse(&self.pending)
                .map_err(|error| format!("{request}: the response is not HTTP/1.1: {error}"))?;
            if let httparse::Status::Complete(head_length) = status {
                let mut response = Response::from_parsed(request, &parsed)?;
                self.pending.drain(..head_length);
                let body_length = response.body_length;
                while (self.pending.len() as u64) < body_length {
                    self.fill(&mut buffer, request)?;
                }
                let body: Vec<u8> = self.pending.drain(..body_length as usize).collect();
                response.body = String::from_utf8_lossy(&body).into_owned();
                return Ok(response);
            }
            self.fill(&mut buffer, request)?;
        }
    }

    fn fill(&mut self, buffer: &mut [u8], request: &str) -> Result<(), String> {
        let stream = self.stream()?;
        let count = stream
            .read(buffer)
            .map_err(|error| format!("{request}: failed to read the response: {error}"))?;
        if count == 0 {
            return Err(format!(
                "{request}: the server closed the connection mid-response"
            ));
        }
        self.pending.extend_from_slice(&buffer[..count]);
        Ok(())
    }
}

struct Response {
    request: String,
    status: u16,
    location: Option<String>,
    body_length: u64,
    close: bool,
    body: String,
}

impl Response {
    fn from_parsed(request: &str, parsed: &httparse::Response<'_, '_>) -> Result<Self, String> {
        let mut response = Self {
            request: request.to_owned(),
            status: parsed.code.unwrap_or_default(),
            location: None,
            body_length: 0,
            close: false,
            body: String::new(),
        };
        for header in parsed.headers.iter() {
            let value = String::from_utf8_lossy(header.value).trim().to_owned();
            match header.name.to_ascii_lowercase().as_str() {
                "location" => response.location = Some(value),
                "content-length" => {
                    response.body_length = value.parse().map_err(|_| {
                        format!(
                            "{request}: the response's Content-Length '{value}' is not a number"
                        )
                    })?;
                }
                "transfer-encoding" => {
                    return Err(format!(
                        "{request}: the response (status {}) uses Transfer-Encoding '{value}'; \
                         this client reads only responses with a Content-Length",
                        response.status
                    ));
                }
                "connection" => response.close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        Ok(response)
    }

    fn expect(&self, status: u16) -> Result<(), String> {
        if self.status == status {
            Ok(())
        } else {
            Err(format!(
                "{}: expected status {status}, received {}: {}",
                self.request, self.status, self.body
            ))
        }
    }

    /// Checks the status and returns the path and query of the `Location` header, which
    /// servers give as a path or as an absolute URL.
    fn location(&self, status: u16) -> Result<String, String> {
        self.expect(status)?;
        let location = self
            .location
            .as_deref()
            .ok_or_else(|| format!("{}: the response has no Location header", self.request))?;
        match location.split_once("://") {
            Some((_, rest)) => Ok(rest.find('/').map_or("/", |at| &rest[at..]).to_owned()),
            None => Ok(location.to_owned()),
        }
    }
}
