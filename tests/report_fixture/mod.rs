//! A lab, evidence and quiz answers with fixed times and digests, shared by the report and
//! grade tests so that their snapshots are stable.

#![allow(dead_code)]

use std::collections::BTreeMap;

use ecrlab_core::evidence::{Evidence, ImageState, JournalEvent, Outcome, RepositoryState, Source};
use ecrlab_core::lab::Lab;
use ecrlab_core::report::{
    InstructorKey, MockIdentity, ReportInputs, Submission, build_submission,
};
use time::macros::datetime;

/// A four-step lab with two questions, written here so that changes to the built-in lab do
/// not change these tests.
pub const LAB_TOML: &str = r#"
format = 1
id = "push-fixture"
title = "Push an image (test fixture)"
version = "2.0.0"
summary = "The push-to-ECR steps with two questions, for report tests."

[[steps]]
id = "create-repository"
title = "Create a private repository"
check = "repository-created"
instructions = "Run aws ecr create-repository --repository-name my-app."
hints = ["Use aws ecr create-repository."]

[[steps]]
id = "authenticate"
title = "Log in to the registry"
check = "registry-login"
instructions = "Pipe aws ecr get-login-password into docker login."
hints = ["The user name is AWS."]

[[steps]]
id = "tag"
title = "Tag the image with the repository URI"
check = "image-tagged"
instructions = "Run docker tag my-app:latest <registry>/my-app:v1."
hints = ["Use the repositoryUri."]

[[steps]]
id = "push"
title = "Push the image"
check = "image-pushed"
instructions = "Run docker push <registry>/my-app:v1."
hints = ["Push the name you tagged."]

[[questions]]
id = "token-validity"
kind = "duration"
prompt = "How long is an ECR authorization token valid?"
answer = "12 hours"
explanation = "An ECR authorization token is valid for 12 hours."
source = "ECR API Reference, GetAuthorizationToken"

[[questions.misconceptions]]
answers = ["30 minutes"]
explanation = "30 minutes is much shorter than an ECR token's lifetime of 12 hours."

[[questions]]
id = "tags-per-image"
kind = "number"
prompt = "How many tags can one image have in an ECR repository?"
answer = "1,000"
explanation = "One image can carry up to 1,000 tags."
source = "AWS ECR User Guide, \"Pushing a Docker image\""
"#;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub const HOST: &str = "localhost:5000";
pub const DOCKER: &str = "docker/27.3.1 go/go1.22.7 git-commit/41ca978 os/linux arch/amd64";
pub const AWS_CLI: &str = "aws-cli/2.17.0 md/Botocore#2.17.0 os/linux";
pub const MANIFEST_DIGEST: &str =
    "sha256:5f0c9a1b1c6e8f4e8d0d5a3b9a7c6e2f1d4b3a29c8e7f6d5c4b3a2918e7d6c5b";
pub const LAYER_DIGEST: &str =
    "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

pub fn lab() -> Lab {
    Lab::parse(LAB_TOML, "tests/report_fixture/mod.rs").expect("the fixture lab is valid")
}

/// The fixture lab written to a file, for the CLI's `--lab`.
pub fn write_lab(folder: &std::path::Path) -> std::path::PathBuf {
    let path = folder.join("lab.toml");
    std::fs::write(&path, LAB_TOML).expect("write the fixture lab");
    path
}

pub fn instructor_key() -> InstructorKey {
    InstructorKey::from_secret(b"fixture-instructor-secret-0123456789")
}

fn event(seq: u64, action: &str, source: Source) -> JournalEvent {
    JournalEvent {
        seq,
        time: format!("2026-01-05T09:{:02}:00.000Z", seq * 2),
        account: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        source,
        action: action.to_owned(),
        repository: None,
        reference: None,
        digest: None,
        host: Some(HOST.to_owned()),
        user_agent: Some(
            if source == Source::Registry {
                DOCKER
            } else {
                AWS_CLI
            }
            .to_owned(),
        ),
        outcome: Outcome::Ok,
        error_code: None,
        message: None,
    }
}

fn repository_event(seq: u64, action: &str, source: Source) -> JournalEvent {
    JournalEvent {
        repository: Some("my-app".to_owned()),
        ..event(seq, action, source)
    }
}

fn repository(images: Vec<ImageState>) -> RepositoryState {
    RepositoryState {
        region: REGION.to_owned(),
        name: "my-app".to_owned(),
        uri: format!("{HOST}/my-app"),
        tag_mutability: "IMMUTABLE".to_owned(),
        scan_on_push: true,
        images,
    }
}

/// Returns the journal and state after every step: a repository, a token, a docker login and a push
/// of `my-app:v1`.
pub fn completed_evidence() -> Evidence {
    let mut manifest = repository_event(6, "ManifestPut", Source::Registry);
    manifest.reference = Some("v1".to_owned());
    manifest.digest = Some(MANIFEST_DIGEST.to_owned());
    let mut layer = repository_event(5, "BlobUpload", Source::Registry);
    layer.digest = Some(LAYER_DIGEST.to_owned());
    Evidence {
        events: vec![
            repository_event(1, "CreateRepository", Source::EcrApi),
            event(2, "GetAuthorizationToken", Source::EcrApi),
            event(3, "Login", Source::Registry),
            repository_event(4, "BlobUpload", Source::Registry),
            layer,
            manifest,
        ],
        repositories: vec![repository(vec![ImageState {
            digest: MANIFEST_DIGEST.to_owned(),
            tags: vec!["v1".to_owned()],
            size_bytes: 2_795_610,
            manifest_media_type: Some("application/vnd.oci.image.manifest.v1+json".to_owned()),
            pushed_at: Some("2026-01-05T09:12:00.000Z".to_owned()),
            scan: None,
        }])],
    }
}

/// Returns the journal and state after the first two steps: a repository and a token, no push.
pub fn partial_evidence() -> Evidence {
    Evidence {
        events: vec![
            repository_event(1, "CreateRepository", Source::EcrApi),
            event(2, "GetAuthorizationToken", Source::EcrApi),
        ],
        repositories: vec![repository(Vec::new())],
    }
}

/// Quiz answers: the right duration, and a wrong number followed by a retry that does not
/// count, because the fixture lab allows one try per question.
pub fn quiz_attempts() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([
        ("token-validity".to_owned(), vec!["720 minutes".to_owned()]),
        (
            "tags-per-image".to_owned(),
            vec!["100".to_owned(), "1000".to_owned()],
        ),
    ])
}

pub fn mock_identity() -> MockIdentity {
    MockIdentity {
        endpoint: "http://127.0.0.1:5000".to_owned(),
        account_id: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        registry_host: HOST.to_owned(),
    }
}

/// Builds `student`'s submission from `evidence` at a fixed time, signed when `key` is given.
pub fn submission(student: &str, evidence: &Evidence, key: Option<&InstructorKey>) -> Submission {
    let lab = lab();
    let attempts = quiz_attempts();
    let inputs = ReportInputs {
        lab: &lab,
        student: student.to_owned(),
        created_at: datetime!(2026-01-05 10:00:00 UTC),
        mock: mock_identity(),
        evidence,
        quiz_attempts: &attempts,
    };
    build_submission(&inputs, key)
}

/// Renders the submission's JSON as `ecrlab report --format json` writes it.
pub fn submission_json(submission: &Submission) -> String {
    submission.render(ecrlab_core::report::ReportFormat::Json)
}
