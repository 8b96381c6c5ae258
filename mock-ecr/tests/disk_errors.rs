//! A full disk and a read-only data folder. Clients get a clear error in their API's format and
//! the log gets one error line per failed request. Stored images stay pullable, and writes work
//! again once the disk is fixed, without a restart.
//!
//! The tests mount small tmpfs file systems, so they need root (or `CAP_SYS_ADMIN`). Without
//! that they fail when `CI=true` and otherwise print that they did not run.
//!
//! Linux refuses `mount -o remount,ro` with EBUSY while a file on the mount is open for
//! writing, and the mock keeps its SQLite database open for writing. So the read-only tests
//! either remount while no mock runs (start-up) or make only `uploads/` read-only, through a
//! bind mount, which the mock opens per request.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use common::{Reply, TestMock, image_manifest, sha256};
use mock_ecr::{Config, MockEcr, StartError};
use serde_json::json;

const REPOSITORY: &str = "app";

/// A tmpfs mounted on a temporary folder, unmounted when dropped.
struct Tmpfs {
    folder: tempfile::TempDir,
    /// Bind mounts made inside this mount, unmounted first.
    binds: Mutex<Vec<PathBuf>>,
}

impl Tmpfs {
    /// Mounts a tmpfs of `megabytes`, or returns why it cannot.
    fn mount(megabytes: u32) -> Result<Self, String> {
        let folder =
            tempfile::tempdir().map_err(|error| format!("no temporary folder: {error}"))?;
        run(
            "mount",
            &["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"],
            folder.path(),
        )?;
        Ok(Self {
            folder,
            binds: Mutex::new(Vec::new()),
        })
    }

    fn path(&self) -> &Path {
        self.folder.path()
    }

    fn remount(&self, mode: &str) {
        run("mount", &["-o", &format!("remount,{mode}")], self.path())
            .unwrap_or_else(|error| panic!("{error}"));
    }

    /// Makes `folder`, inside this mount, read-only through a bind mount onto itself.
    fn bind_read_only(&self, folder: &Path) {
        run("mount", &["--bind", &folder.display().to_string()], folder)
            .unwrap_or_else(|error| panic!("{error}"));
        self.binds.lock().unwrap().push(folder.to_owned());
        run("mount", &["-o", "remount,ro,bind"], folder).unwrap_or_else(|error| panic!("{error}"));
    }

    /// Removes the bind mount of `folder`, which makes it writable again.
    fn unbind(&self, folder: &Path) {
        self.binds.lock().unwrap().retain(|bound| bound != folder);
        unmount(folder);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        for folder in self.binds.lock().unwrap().drain(..).rev() {
            unmount(&folder);
        }
        unmount(self.path());
    }
}

/// Unmounts `target`, detaching it lazily when something still uses it, so no mount outlives
/// the test.
fn unmount(target: &Path) {
    if run("umount", &[], target).is_err() {
        if let Err(error) = run("umount", &["-l"], target) {
            eprintln!("disk_errors: {error}");
        }
    }
}

/// Runs `program arguments... target` and returns its error output when it fails.
fn run(program: &str, arguments: &[&str], target: &Path) -> Result<(), String> {
    let output = Command::new(program)
        .args(arguments)
        .arg(target)
        .output()
        .map_err(|error| format!("cannot run {program}: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{program} {} {} failed ({}): {}",
        arguments.join(" "),
        target.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}

/// Mounts a tmpfs for `test`, or reports that the test did not run: a failure when `CI=true`,
/// a printed notice otherwise.
fn tmpfs_for(test: &str, megabytes: u32) -> Option<Tmpfs> {
    match Tmpfs::mount(megabytes) {
        Ok(tmpfs) => Some(tmpfs),
        Err(reason) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("disk_errors::{test} needs a tmpfs mount, which CI=true requires: {reason}")
        }
        Err(reason) => {
            // Written to the stderr handle, not with eprintln!, so the test harness does not
            // capture and hide it when the test passes.
            let _ = writeln!(
                std::io::stderr(),
                "disk_errors::{test} DID NOT RUN: it mounts a tmpfs, which needs root: {reason}"
            );
            None
        }
    }
}

/// Writes the file `name` next to the data folder until the disk has only `free` bytes left,
/// and returns its path.
fn fill_disk(tmpfs: &Tmpfs, name: &str, free: u64) -> PathBuf {
    let path = tmpfs.path().join(name);
    let mut file = std::fs::File::create(&path).expect("filler file");
    let block = vec![0xa5u8; 64 * 1024];
    let error = loop {
        if let Err(error) = file.write_all(&block) {
            break error;
        }
    };
    assert_eq!(
        error.kind(),
        std::io::ErrorKind::StorageFull,
        "filling the tmpfs: {error}"
    );
    let size = file.metadata().expect("filler size").len();
    file.set_len(size.saturating_sub(free))
        .expect("filler size");
    path
}

/// Log output of the current thread, for checking what the server logs.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Captures the log of this thread until the guard is dropped. `#[tokio::test]` runs the
    /// test and the router on one thread, so the capture contains every request's log.
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let capture = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || capture.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Returns the error lines logged while `request` ran, with the request's reply.
    async fn errors_during<F: std::future::Future<Output = Reply>>(
        &self,
        request: F,
    ) -> (Reply, Vec<String>) {
        let before = self.text().len();
        let reply = request.await;
        let lines = self.text()[before..]
            .lines()
            .filter(|line| line.contains(" ERROR "))
            .map(str::to_owned)
            .collect();
        (reply, lines)
    }
}

fn body_text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// Returns the path of the `Location` header, without scheme and host.
fn location(reply: &Reply) -> String {
    let value = reply
        .header("location")
        .unwrap_or_else(|| panic!("no Location in {}: {}", reply.status, body_text(reply)));
    match value.find("/v2/") {
        Some(start) => value[start..].to_owned(),
        None => value.to_owned(),
    }
}

fn with_digest(path: &str, digest: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}digest={digest}")
}

/// Checks a registry reply for a full or read-only disk: 507 with an OCI error body that
/// contains `expected`, and exactly one error line in the log that contains it too.
fn assert_registry_fault(case: &str, reply: &Reply, errors: &[String], expected: &str) {
    assert_eq!(
        reply.status,
        StatusCode::INSUFFICIENT_STORAGE,
        "{case}: {}",
        body_text(reply)
    );
    assert_eq!(reply.error_code(), "UNKNOWN", "{case}");
    let message = reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains(expected), "{case}: {message}");
    assert!(
        message.contains("images stored before are unaffected"),
        "{case}: {message}"
    );
    assert_eq!(errors.len(), 1, "{case}: one error line, got {errors:#?}");
    assert!(errors[0].contains(expected), "{case}: {}", errors[0]);
}

/// Checks an ECR API reply for a full disk: ServerException with HTTP 500, and exactly one
/// error line in the log.
fn assert_api_fault(case: &str, reply: &Reply, errors: &[String]) {
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{case}: {}",
        body_text(reply)
    );
    let body = reply.json();
    assert_eq!(body["__type"], "ServerException", "{case}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("is full"), "{case}: {message}");
    assert!(message.contains("free space"), "{case}: {message}");
    assert_eq!(errors.len(), 1, "{case}: one error line, got {errors:#?}");
    assert!(errors[0].contains("is full"), "{case}: {}", errors[0]);
}

/// Pulls `reference` and each blob it names, and checks the bytes.
async fn assert_pullable(mock: &TestMock, auth: &str, reference: &str, manifest: &[u8]) {
    let path = format!("/v2/{REPOSITORY}/manifests/{reference}");
    let pulled = mock
        .registry(
            Method::GET,
            &path,
            Some(auth),
            &[("accept", "application/vnd.oci.image.manifest.v1+json")],
            Vec::new(),
        )
        .await;
    assert_eq!(
        pulled.status,
        StatusCode::OK,
        "{path}: {}",
        body_text(&pulled)
    );
    assert_eq!(pulled.body, manifest, "{path}");

    let parsed: serde_json::Value = serde_json::from_slice(manifest).unwrap();
    let mut blobs = vec![parsed["config"]["digest"].as_str().unwrap().to_owned()];
    for layer in parsed["layers"].as_array().unwrap() {
        blobs.push(layer["digest"].as_str().unwrap().to_owned());
    }
    for digest in blobs {
        let path = format!("/v2/{REPOSITORY}/blobs/{digest}");
        let blob = mock
            .registry(Method::GET, &path, Some(auth), &[], Vec::new())
            .await;
        assert_eq!(blob.status, StatusCode::OK, "{path}");
        assert_eq!(sha256(&blob.body), digest, "{path}");
    }
}

/// Pushes a config and a layer of `layer_bytes` bytes and returns their manifest.
async fn push_image_blobs(mock: &TestMock, auth: &str, seed: &str, layer_bytes: usize) -> Vec<u8> {
    let config = format!(r#"{{"architecture":"amd64","os":"linux","seed":"{seed}"}}"#);
    let layer: Vec<u8> = seed.bytes().cycle().take(layer_bytes).collect();
    let config_digest = mock.push_blob(auth, REPOSITORY, config.as_bytes()).await;
    let layer_digest = mock.push_blob(auth, REPOSITORY, &layer).await;
    image_manifest(&config_digest, config.len(), &layer_digest, layer.len())
}

fn upload_file(data: &Path, upload: &str) -> PathBuf {
    let id = upload.rsplit('/').next().unwrap();
    data.join("uploads").join(id)
}

#[tokio::test]
async fn full_disk_rejects_writes_then_recovers() {
    let Some(tmpfs) = tmpfs_for("full_disk_rejects_writes_then_recovers", 8) else {
        return;
    };
    let log = LogCapture::default();
    let _log_guard = log.install();
    let data = tempfile::tempdir_in(tmpfs.path()).unwrap();
    let data_path = data.path().to_owned();
    let mock = TestMock::in_folder(data);

    // Stored before the disk fills: an image tagged v1, and the blobs and an upload that the
    // writes under test need.
    mock.create_repository(REPOSITORY, "MUTABLE").await;
    let auth = mock.login().await;
    let stored = push_image_blobs(&mock, &auth, "stored", 300 * 1024).await;
    let put = mock.put_manifest(&auth, REPOSITORY, "v1", &stored).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", body_text(&put));
    let pending = push_image_blobs(&mock, &auth, "pending", 1024).await;
    let started = mock
        .registry(
            Method::POST,
            &format!("/v2/{REPOSITORY}/blobs/uploads/"),
            Some(&auth),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(
        started.status,
        StatusCode::ACCEPTED,
        "{}",
        body_text(&started)
    );
    let upload = location(&started);
    let chunk: Vec<u8> = b"chunk".iter().copied().cycle().take(512 * 1024).collect();
    let chunk_digest = sha256(&chunk);

    // The disk has room for a quarter of the chunk. The chunk that hits the full disk is
    // dropped whole: the upload keeps 0 bytes and no blob appears under its digest.
    let filler = fill_disk(&tmpfs, "filler", 128 * 1024);
    let (reply, errors) = log
        .errors_during(mock.registry(
            Method::PATCH,
            &upload,
            Some(&auth),
            &[("content-type", "application/octet-stream")],
            chunk.clone(),
        ))
        .await;
    assert_registry_fault("PATCH chunk", &reply, &errors, "is full");
    let size = std::fs::metadata(upload_file(&data_path, &upload))
        .unwrap()
        .len();
    assert_eq!(size, 0, "the partial chunk is removed from the upload file");
    let status = mock
        .registry(Method::GET, &upload, Some(&auth), &[], Vec::new())
        .await;
    assert_eq!(
        status.status,
        StatusCode::NO_CONTENT,
        "{}",
        body_text(&status)
    );
    assert_eq!(status.header("range"), Some("0-0"));
    let blob_path = format!("/v2/{REPOSITORY}/blobs/{chunk_digest}");
    let blob = mock
        .registry(Method::HEAD, &blob_path, Some(&auth), &[], Vec::new())
        .await;
    assert_eq!(
        blob.status,
        StatusCode::NOT_FOUND,
        "no partial blob is visible"
    );

    let rest = fill_disk(&tmpfs, "filler-rest", 0);

    let monolithic = with_digest(&format!("/v2/{REPOSITORY}/blobs/uploads/"), &chunk_digest);
    let (reply, errors) = log
        .errors_during(mock.registry(Method::POST, &monolithic, Some(&auth), &[], chunk.clone()))
        .await;
    assert_registry_fault("monolithic upload", &reply, &errors, "is full");

    let (reply, errors) = log
        .errors_during(mock.put_manifest(&auth, REPOSITORY, "v2", &pending))
        .await;
    assert_registry_fault("manifest PUT", &reply, &errors, "is full");

    let pending_text = String::from_utf8(pending.clone()).unwrap();
    let stored_text = String::from_utf8(stored.clone()).unwrap();
    let api_writes = [
        ("CreateRepository", json!({ "repositoryName": "other" })),
        (
            "PutImage",
            json!({ "repositoryName": REPOSITORY, "imageManifest": pending_text, "imageTag": "v2" }),
        ),
        (
            "PutImage",
            json!({ "repositoryName": REPOSITORY, "imageManifest": stored_text, "imageTag": "latest" }),
        ),
        (
            "BatchDeleteImage",
            json!({ "repositoryName": REPOSITORY, "imageIds": [{ "imageTag": "v1" }] }),
        ),
    ];
    for (operation, input) in &api_writes {
        let (reply, errors) = log.errors_during(mock.api(operation, input.clone())).await;
        assert_api_fault(operation, &reply, &errors);
    }

    // Reads still work on the full disk, and so does a login: a token is signed, not stored.
    assert_pullable(&mock, &auth, "v1", &stored).await;
    let token = mock.api("GetAuthorizationToken", json!({})).await;
    assert_eq!(token.status, StatusCode::OK, "{}", body_text(&token));
    let listed = mock
        .api("ListImages", json!({ "repositoryName": REPOSITORY }))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", body_text(&listed));
    assert_eq!(listed.json()["imageIds"].as_array().unwrap().len(), 1);
    // Journal rows are written in the background; flushing writes the ones above now. SQLite
    // may still fit them in write-ahead log space it allocated before the disk filled up, so
    // either the rows are there or their loss is logged.
    mock.registry.flush_journal();
    let journal_lost = log
        .text()
        .contains("entries are lost until the data folder can be written again");
    if !journal_lost {
        let journal = mock.journal().await;
        assert!(
            journal.iter().any(|event| event["action"] == "ListImages"),
            "the journal neither has the outage's rows nor logs their loss: {journal:?}\n{}",
            log.text()
        );
    }

    // Free the space: every write works again, with no restart.
    std::fs::remove_file(filler).unwrap();
    std::fs::remove_file(rest).unwrap();
    let patched = mock
        .registry(
            Method::PATCH,
            &upload,
            Some(&auth),
            &[("content-type", "application/octet-stream")],
            chunk.clone(),
        )
        .await;
    assert_eq!(
        patched.status,
        StatusCode::ACCEPTED,
        "{}",
        body_text(&patched)
    );
    let completed = mock
        .registry(
            Method::PUT,
            &with_digest(&location(&patched), &chunk_digest),
            Some(&auth),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(
        completed.status,
        StatusCode::CREATED,
        "{}",
        body_text(&completed)
    );
    for (operation, input) in &api_writes {
        let reply = mock.api(operation, input.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{operation}: {}",
            body_text(&reply)
        );
    }
    // PutImage tagged the manifest v2 already, and the same push again is accepted.
    let put = mock.put_manifest(&auth, REPOSITORY, "v2", &pending).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", body_text(&put));
    mock.registry.flush_journal();
    assert_eq!(
        log.text().contains("the journal records entries again"),
        journal_lost,
        "a recovery is logged exactly when rows were lost"
    );
    assert_pullable(&mock, &auth, "v2", &pending).await;
    assert_pullable(&mock, &auth, "latest", &stored).await;
    drop(mock);
}

#[tokio::test]
async fn read_only_uploads_reject_blob_push() {
    let Some(tmpfs) = tmpfs_for("read_only_uploads_reject_blob_push", 8) else {
        return;
    };
    let log = LogCapture::default();
    let _log_guard = log.install();
    let data = tempfile::tempdir_in(tmpfs.path()).unwrap();
    let uploads = data.path().join("uploads");
    let mock = TestMock::in_folder(data);
    mock.create_repository(REPOSITORY, "MUTABLE").await;
    let auth = mock.login().await;
    let stored = push_image_blobs(&mock, &auth, "stored", 4096).await;
    let put = mock.put_manifest(&auth, REPOSITORY, "v1", &stored).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", body_text(&put));

    tmpfs.bind_read_only(&uploads);
    let content = b"a layer pushed while uploads/ is read-only".to_vec();
    let path = with_digest(
        &format!("/v2/{REPOSITORY}/blobs/uploads/"),
        &sha256(&content),
    );
    let (reply, errors) = log
        .errors_during(mock.registry(Method::POST, &path, Some(&auth), &[], content.clone()))
        .await;
    assert_registry_fault("upload to read-only folder", &reply, &errors, "read-only");
    let message = reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("remount it read-write"), "{message}");
    assert_pullable(&mock, &auth, "v1", &stored).await;

    tmpfs.unbind(&uploads);
    let reply = mock
        .registry(Method::POST, &path, Some(&auth), &[], content)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", body_text(&reply));

    // A server started while uploads/ is read-only refuses to run, instead of starting and
    // failing every upload.
    let TestMock { data, registry, .. } = mock;
    drop(registry);
    tmpfs.bind_read_only(&uploads);
    let mut config = Config::new(data.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let refused = match MockEcr::start(config).await {
        Ok(started) => {
            started.shutdown().await;
            panic!("the mock started with a read-only uploads folder");
        }
        Err(error) => error.to_string(),
    };
    tmpfs.unbind(&uploads);
    assert!(
        refused.contains(&uploads.display().to_string()) && refused.contains("read-only"),
        "{refused}"
    );
}

#[tokio::test]
async fn read_only_data_folder_stops_start() {
    let Some(tmpfs) = tmpfs_for("read_only_data_folder_stops_start", 8) else {
        return;
    };
    let data = tempfile::tempdir_in(tmpfs.path()).unwrap();
    let mock = TestMock::in_folder(data);
    mock.create_repository(REPOSITORY, "MUTABLE").await;
    let auth = mock.login().await;
    let stored = push_image_blobs(&mock, &auth, "stored", 4096).await;
    let put = mock.put_manifest(&auth, REPOSITORY, "v1", &stored).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", body_text(&put));
    let TestMock { data, registry, .. } = mock;
    drop(registry);

    tmpfs.remount("ro");
    let missing = tmpfs.path().join("missing");
    for folder in [data.path(), missing.as_path()] {
        let error = match MockEcr::start(Config::new(folder)).await {
            Ok(mock) => {
                mock.shutdown().await;
                panic!("mock-ecr started on read-only {}", folder.display());
            }
            Err(error) => error,
        };
        assert!(
            matches!(error, StartError::DataDirReadOnly { .. }),
            "{}: {error:?}",
            folder.display()
        );
        let message = error.to_string();
        assert!(message.contains(&folder.display().to_string()), "{message}");
        assert!(message.contains("read-only file system"), "{message}");
        assert!(message.contains("--data"), "{message}");
    }

    let output = mock_ecr_binary(data.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "exit status {}", output.status);
    assert!(stderr.contains("read-only file system"), "{stderr}");
    assert!(
        stderr.contains(&data.path().display().to_string()),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    tmpfs.remount("rw");
    let mock = TestMock::in_folder(data);
    let auth = mock.login().await;
    assert_pullable(&mock, &auth, "v1", &stored).await;
    drop(mock);
}

/// Runs the `mock-ecr` binary on `data` and returns its output, killing it if it is still
/// running after 20 seconds, which means it started.
fn mock_ecr_binary(data: &Path) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-ecr"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mock-ecr binary");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("wait for mock-ecr").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("mock-ecr output");
            panic!(
                "mock-ecr started on a read-only data folder: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("mock-ecr output")
}
