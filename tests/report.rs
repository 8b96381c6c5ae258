//! `ecrlab report`: every format of a submission pinned by snapshots from fixed evidence, the
//! hash chain and signature it carries, and a report of a lab done against an in-process
//! mock that `ecrlab grade` accepts.

#[path = "support/ecr_sdk.rs"]
mod ecr_sdk;

mod report_fixture;

use std::path::Path;
use std::process::Output;

use ecrlab_core::clients::EcrSettings;
use ecrlab_core::report::{
    AttemptStatus, GENESIS_HASH, ReportFormat, SignatureStatus, chain_hashes, regrade,
};
use oci_client::client::{ClientConfig, ClientProtocol, Config as ImageConfig, ImageLayer};
use oci_client::manifest::{IMAGE_LAYER_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use report_fixture::{completed_evidence, instructor_key, partial_evidence, submission};

#[test]
fn text_report_snapshot() {
    let submission = submission("Ada Lovelace", &partial_evidence(), None);
    insta::assert_snapshot!(submission.render(ReportFormat::Text));
}

#[test]
fn json_report_snapshot() {
    let submission = submission("Ada Lovelace", &completed_evidence(), None);
    insta::assert_snapshot!(submission.render(ReportFormat::Json));
}

#[test]
fn signed_json_report_snapshot() {
    let key = instructor_key();
    let submission = submission("Ada Lovelace", &partial_evidence(), Some(&key));
    insta::assert_snapshot!(submission.render(ReportFormat::Json));
}

#[test]
fn markdown_report_snapshot() {
    let submission = submission("Ada Lovelace", &partial_evidence(), None);
    insta::assert_snapshot!(submission.render(ReportFormat::Markdown));
}

#[test]
fn junit_report_snapshot() {
    let submission = submission("Ada <Lovelace> & \"co\"", &partial_evidence(), None);
    insta::assert_snapshot!(submission.render(ReportFormat::Junit));
}

#[test]
fn report_chains_every_event() {
    let evidence = completed_evidence();
    let submission = submission("Ada Lovelace", &evidence, None);

    let values: Vec<serde_json::Value> = evidence
        .events
        .iter()
        .map(|event| serde_json::to_value(event).unwrap())
        .collect();
    let hashes = chain_hashes(&values);
    let stored: Vec<&str> = submission
        .journal
        .iter()
        .map(|entry| entry.hash.as_str())
        .collect();
    assert_eq!(stored, hashes);
    assert_eq!(submission.journal_hash, hashes[hashes.len() - 1]);
    assert_ne!(submission.journal_hash, GENESIS_HASH);
}

#[test]
fn empty_journal_hash_is_genesis() {
    let evidence = ecrlab_core::evidence::Evidence::default();
    let submission = submission("Ada Lovelace", &evidence, None);
    assert!(submission.journal.is_empty());
    assert_eq!(submission.journal_hash, GENESIS_HASH);
    assert!(!submission.passed);
}

#[test]
fn report_records_quiz_attempts() {
    let submission = submission("Ada Lovelace", &completed_evidence(), None);

    let token = &submission.quiz.answers[0];
    assert_eq!(token.question_id, "token-validity");
    assert_eq!(token.attempts, ["720 minutes"]);
    assert_eq!(token.verdict, "correct");
    assert_eq!(token.score, 1.0);
    let tags = &submission.quiz.answers[1];
    assert_eq!(tags.attempts, ["100", "1000"]);
    assert_eq!(tags.verdict, "incorrect");
    assert_eq!(tags.score, 0.0);
    // The fixture lab allows one try, so the correct retry does not count.
    let statuses: Vec<AttemptStatus> = tags
        .graded_attempts
        .iter()
        .map(|attempt| attempt.status)
        .collect();
    assert_eq!(
        statuses,
        [AttemptStatus::Counted, AttemptStatus::BeyondAllowedTries]
    );
    assert_eq!(tags.graded_attempts[1].verdict, "correct");
    assert_eq!(tags.attempts_allowed, 1);
    assert_eq!(submission.quiz.score, 1.0);
    assert_eq!(submission.quiz.max_score, 2.0);
}

#[test]
fn signed_report_verifies_with_key() {
    let key = instructor_key();
    let submission = submission("Ada Lovelace", &completed_evidence(), Some(&key));
    let json = report_fixture::submission_json(&submission);

    let graded = regrade("ada.json", &json, &report_fixture::lab(), Some(&key)).unwrap();
    assert_eq!(graded.signature, SignatureStatus::Valid);
    assert!(graded.flags.is_empty(), "{:#?}", graded.flags);
    assert!(graded.passed);
}

// The lab done against a real mock, reported and graded by the binary.

/// Starts a mock in a temporary folder.
async fn start_mock(data: &Path) -> mock_ecr::MockEcr {
    mock_ecr::MockEcr::start(mock_ecr::Config::new(data))
        .await
        .expect("start the mock")
}

/// Does the four steps as a student would: aws-sdk-ecr creates `my-app` and gets a token, a
/// docker-style `GET /v2/` logs in, and oci-client pushes `my-app:v1`.
async fn do_lab_as_student(mock: &mock_ecr::MockEcr) {
    let settings = EcrSettings::for_mock(mock.endpoint()).expect("endpoint");
    let ecr = settings.ecr_client();
    ecr_sdk::create_repository(&ecr, "my-app", None).await;
    let (user, password) = ecr_sdk::registry_credentials(&ecr).await;

    let login = reqwest::Client::builder()
        .no_proxy()
        .user_agent(report_fixture::DOCKER)
        .build()
        .expect("HTTP client")
        .get(format!("http://{}/v2/", mock.registry_host()))
        .basic_auth(&user, Some(&password))
        .send()
        .await
        .expect("GET /v2/");
    assert_eq!(login.status(), 200);

    let registry = mock.registry_host().to_owned();
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(vec![registry.clone()]),
        ..ClientConfig::default()
    });
    let layers = vec![ImageLayer::new(
        b"layer of my-app:v1".to_vec(),
        IMAGE_LAYER_MEDIA_TYPE.to_owned(),
        None,
    )];
    let config = ImageConfig::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
    let manifest = OciImageManifest::build(&layers, &config, None);
    let reference = oci_client::Reference::with_tag(registry, "my-app".to_owned(), "v1".to_owned());
    let auth = RegistryAuth::Basic(user, password);
    client
        .push(&reference, &layers, config, &auth, Some(manifest))
        .await
        .expect("push the image");
}

async fn ecrlab(arguments: &[&str], state_dir: &Path, key: Option<&Path>) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecrlab"));
    command
        .args(arguments)
        .env("ECRLAB_STATE_DIR", state_dir)
        .env_remove("ECRLAB_STUDENT")
        .env_remove("ECRLAB_ENDPOINT")
        .env("NO_COLOR", "1");
    match key {
        Some(key) => command.env("ECRLAB_INSTRUCTOR_KEY", key),
        None => command.env_remove("ECRLAB_INSTRUCTOR_KEY"),
    };
    command.output().await.expect("run ecrlab")
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout_of(output),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Saves quiz answers where `ecrlab quiz` records them, in the agreed progress format.
fn save_progress(state_dir: &Path) {
    let folder = state_dir.join("progress");
    std::fs::create_dir_all(&folder).unwrap();
    let progress = serde_json::json!({
        "labId": "push-fixture",
        "labVersion": "2.0.0",
        "hintLevels": {},
        "quizAttempts": {
            "token-validity": ["12h"],
            "tags-per-image": ["one thousand"]
        }
    });
    std::fs::write(folder.join("push-fixture.json"), progress.to_string()).unwrap();
}

#[tokio::test]
async fn lab_against_mock_grades_clean() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let submissions = work.path().join("submissions");
    std::fs::create_dir(&submissions).unwrap();
    let lab = report_fixture::write_lab(work.path());
    let key = work.path().join("instructor.key");
    std::fs::write(&key, "8a4f0c2b9d1e7f3a6c5b4d2e1f0a9b8c\n").unwrap();
    save_progress(work.path());
    let mock = start_mock(data.path()).await;
    do_lab_as_student(&mock).await;

    let output_file = submissions.join("grace.json");
    let report = ecrlab(
        &[
            "report",
            "--endpoint",
            mock.endpoint(),
            "--lab",
            lab.to_str().unwrap(),
            "--student",
            "Grace Hopper",
            "--format",
            "json",
            "--output",
            output_file.to_str().unwrap(),
        ],
        work.path(),
        Some(&key),
    )
    .await;
    assert_success(&report);
    let text = ecrlab(
        &[
            "report",
            "--endpoint",
            mock.endpoint(),
            "--lab",
            lab.to_str().unwrap(),
            "--student",
            "Grace Hopper",
            "--format",
            "text",
        ],
        work.path(),
        None,
    )
    .await;
    mock.shutdown().await;
    assert_success(&text);
    assert!(
        stdout_of(&text).contains("Steps: 4 of 4 passed"),
        "{}",
        stdout_of(&text)
    );

    let grade = ecrlab(
        &[
            "grade",
            submissions.to_str().unwrap(),
            "--format",
            "json",
            "--lab",
            lab.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
        work.path(),
        None,
    )
    .await;
    assert_success(&grade);
    let class: serde_json::Value = serde_json::from_slice(&grade.stdout).expect("grade JSON");
    let graded = &class["submissions"][0];
    assert_eq!(graded["student"], "Grace Hopper");
    assert_eq!(graded["passed"], true, "{graded:#}");
    assert_eq!(graded["signature"], "valid");
    assert_eq!(graded["flags"], serde_json::json!([]), "{graded:#}");
    assert_eq!(graded["quizScore"], 2.0);
    assert_eq!(class["summary"]["passed"], 1);
    for step in class["summary"]["steps"].as_array().unwrap() {
        assert_eq!(step["passed"], 1, "{step}");
    }
}

#[tokio::test]
async fn report_without_student_name_fails() {
    let work = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args([
            "report",
            "--format",
            "json",
            "--endpoint",
            "http://127.0.0.1:9",
        ])
        .env("ECRLAB_STATE_DIR", work.path())
        .env_remove("ECRLAB_STUDENT")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pass --student NAME"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
