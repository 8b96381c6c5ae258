//! `ecrlab lab list|show|lint` as an author runs them: the built binary in a temporary folder
//! that contains a labs folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TINY: &str = r#"format = 1
id = "tiny"
title = "Tiny lab"
version = "0.2.0"
summary = "A lab for tests."

[[steps]]
id = "create"
title = "Create a repository"
check = "repository-created"
instructions = "aws ecr create-repository --repository-name my-app"
hints = ["Use the AWS CLI.", "Run: aws ecr create-repository --repository-name my-app"]

[[questions]]
id = "token-validity"
kind = "duration"
prompt = "How long is an ECR authorization token valid?"
answer = "12 hours"
explanation = "GetAuthorizationToken returns a token that is valid for 12 hours."
source = "ECR API Reference, GetAuthorizationToken"
"#;

/// A lab with an unterminated string on line 3, and behind it an unknown check kind on line 9
/// and a step with one hint.
const BROKEN: &str = r#"format = 1
id = "broken"
title = "Broken lab
version = "1.0.0"
summary = "A lab with errors."

[[steps]]
id = "create"
check = "repo-created"
title = "Create a repository"
instructions = "aws ecr create-repository --repository-name my-app"
hints = ["Use the AWS CLI."]
"#;

/// A temporary folder with `labs/tiny/lab.toml` and `labs/broken/lab.toml`.
struct Workspace {
    folder: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let workspace = Workspace {
            folder: tempfile::tempdir().expect("temporary folder"),
        };
        workspace.write_lab("tiny", TINY);
        workspace.write_lab("broken", BROKEN);
        workspace
    }

    fn path(&self) -> &Path {
        self.folder.path()
    }

    fn write_lab(&self, folder: &str, text: &str) -> PathBuf {
        let folder = self.path().join("labs").join(folder);
        std::fs::create_dir_all(&folder).expect("lab folder");
        let path = folder.join("lab.toml");
        std::fs::write(&path, text).expect("lab file");
        path
    }

    /// Runs `ecrlab` with `arguments` in the workspace folder, without the caller's
    /// ECRLAB_LABS.
    fn run(&self, arguments: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ecrlab"))
            .args(arguments)
            .current_dir(self.path())
            .env_remove("ECRLAB_LABS")
            .env("NO_COLOR", "1")
            .output()
            .expect("ecrlab runs")
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 output")
}

/// Returns the TOML block under `heading` in a Markdown file of the repository.
fn doc_example(doc: &str, heading: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(doc);
    let text = std::fs::read_to_string(&path).expect("the doc is readable");
    let section = text
        .find(heading)
        .unwrap_or_else(|| panic!("{doc} has no {heading:?}"));
    let start = text[section..].find("```toml\n").expect("a TOML block") + section + 8;
    let end = text[start..].find("```").expect("the block ends") + start;
    text[start..end].to_owned()
}

#[test]
fn list_shows_builtin_and_folder_labs() {
    let workspace = Workspace::new();
    let output = workspace.run(&["lab", "list", "--labs", "labs"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("ID "), "{text}");
    assert!(lines[1].starts_with("push-to-ecr  1.5.0"), "{text}");
    assert!(lines[1].ends_with("built-in"), "{text}");
    assert!(lines[2].starts_with("broken       invalid"), "{text}");
    assert!(
        lines[2].contains("labs/broken/lab.toml:3:20: error: title: invalid basic string"),
        "{text}"
    );
    assert!(lines[3].starts_with("tiny         0.2.0"), "{text}");
    assert!(lines[3].ends_with("labs/tiny/lab.toml"), "{text}");
}

#[test]
fn list_finds_labs_folder_by_default_and_env() {
    let workspace = Workspace::new();
    let by_default = stdout(&workspace.run(&["lab", "list"]));
    assert!(by_default.contains("labs/tiny/lab.toml"), "{by_default}");

    let elsewhere = tempfile::tempdir().expect("temporary folder");
    let output = Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args(["lab", "list"])
        .current_dir(elsewhere.path())
        .env("ECRLAB_LABS", workspace.path().join("labs"))
        .output()
        .expect("ecrlab runs");
    let from_env = stdout(&output);
    assert!(from_env.contains("tiny/lab.toml"), "{from_env}");

    let output = Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args(["lab", "list"])
        .current_dir(elsewhere.path())
        .env_remove("ECRLAB_LABS")
        .output()
        .expect("ecrlab runs");
    let builtin_only = stdout(&output);
    assert_eq!(builtin_only.lines().count(), 2, "{builtin_only}");
}

#[test]
fn list_rejects_missing_folder() {
    let workspace = Workspace::new();
    let output = workspace.run(&["lab", "list", "--labs", "nowhere"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "ecrlab: error: the labs folder nowhere does not exist or is not a folder; pass an existing folder with --labs or ECRLAB_LABS\n"
    );
}

#[test]
fn show_finds_lab_by_id_and_path() {
    let workspace = Workspace::new();
    let by_id = workspace.run(&["lab", "show", "tiny"]);
    assert_eq!(by_id.status.code(), Some(0), "{}", stderr(&by_id));
    let text = stdout(&by_id);
    assert!(
        text.starts_with("Tiny lab\ntiny 0.2.0 (labs/tiny/lab.toml)\n"),
        "{text}"
    );
    assert!(
        text.contains("1. Create a repository [create]\n   check: repository-created, 2 hints"),
        "{text}"
    );

    let by_path = workspace.run(&["lab", "show", "labs/tiny/lab.toml"]);
    assert_eq!(stdout(&by_path), text);
    let by_folder = workspace.run(&["lab", "show", "labs/tiny"]);
    assert_eq!(stdout(&by_folder), text);
}

#[test]
fn identical_copy_of_builtin_is_listed_once() {
    let workspace = Workspace::new();
    let builtin = include_str!("../labs/push-to-ecr/lab.toml");
    workspace.write_lab("push-to-ecr", builtin);

    let list = workspace.run(&["lab", "list"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    let text = stdout(&list);
    let rows: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("push-to-ecr "))
        .collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert!(
        rows[0].ends_with("built-in, same as labs/push-to-ecr/lab.toml"),
        "{text}"
    );

    let show = workspace.run(&["lab", "show", "push-to-ecr"]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    assert!(
        stdout(&show).contains("push-to-ecr 1.5.0 (built-in, same as labs/push-to-ecr/lab.toml)"),
        "{}",
        stdout(&show)
    );
    assert_eq!(stderr(&show), "");
}

#[test]
fn identical_copy_with_crlf_is_listed_once() {
    let workspace = Workspace::new();
    let builtin = include_str!("../labs/push-to-ecr/lab.toml").replace('\n', "\r\n");
    workspace.write_lab("push-to-ecr", &builtin);
    let text = stdout(&workspace.run(&["lab", "list"]));
    let rows = text
        .lines()
        .filter(|line| line.starts_with("push-to-ecr "))
        .count();
    assert_eq!(rows, 1, "{text}");
}

#[test]
fn show_prefers_builtin_lab_and_names_changed_copy() {
    let workspace = Workspace::new();
    let changed = include_str!("../labs/push-to-ecr/lab.toml").replace(
        "title = \"Push a container image to Amazon ECR\"",
        "title = \"Push an image\"",
    );
    assert_ne!(changed, include_str!("../labs/push-to-ecr/lab.toml"));
    workspace.write_lab("push-to-ecr", &changed);

    let list = stdout(&workspace.run(&["lab", "list"]));
    let rows: Vec<&str> = list
        .lines()
        .filter(|line| line.starts_with("push-to-ecr "))
        .collect();
    assert_eq!(rows.len(), 2, "{list}");
    assert!(rows[0].ends_with("built-in"), "{list}");
    assert!(rows[1].ends_with("labs/push-to-ecr/lab.toml"), "{list}");

    let output = workspace.run(&["lab", "show", "push-to-ecr"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("push-to-ecr 1.5.0 (built-in)"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        stderr(&output),
        "ecrlab: note: labs/push-to-ecr/lab.toml also has id push-to-ecr; give its path to show it\n"
    );
}

#[test]
fn lint_warns_when_id_differs_from_folder() {
    let workspace = Workspace::new();
    workspace.write_lab("tiny-copy", TINY);
    let output = workspace.run(&["lab", "lint", "labs/tiny-copy"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        "labs/tiny-copy/lab.toml:2:6: warning: id: the lab's id \"tiny\" differs from its folder name \"tiny-copy\"; rename the folder or the id so that they match, as `ecrlab lab show ID` finds labs by id\nlabs/tiny-copy/lab.toml: ok, 1 warning\n"
    );
}

#[test]
fn show_rejects_unknown_and_invalid_labs() {
    let workspace = Workspace::new();
    let unknown = workspace.run(&["lab", "show", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        stderr(&unknown),
        "ecrlab: error: no lab has id \"nope\"; `ecrlab lab list` shows the known labs, or give the path of a lab file\n"
    );

    let invalid = workspace.run(&["lab", "show", "labs/broken"]);
    assert_eq!(invalid.status.code(), Some(1));
    let message = stderr(&invalid);
    assert!(
        message.starts_with("ecrlab: error: labs/broken/lab.toml is invalid; `ecrlab lab lint labs/broken/lab.toml` lists every problem:\n  labs/broken/lab.toml:3:20: error: title: "),
        "{message}"
    );
}

#[test]
fn lint_reports_errors_and_fails() {
    let workspace = Workspace::new();
    let output = workspace.run(&["lab", "lint", "labs/broken/lab.toml"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "labs/broken/lab.toml:3:20: error: title: invalid basic string, expected `\"`; fix the TOML syntax\n"
    );

    // With the syntax fixed, the next pass reports the check kind and the single hint.
    let fixed = BROKEN.replace("\"Broken lab\n", "\"Broken lab\"\n");
    workspace.write_lab("broken", &fixed);
    let output = workspace.run(&["lab", "lint", "labs/broken/lab.toml"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("labs/broken/lab.toml:2:6: warning: questions: the lab has no quiz"),
        "{text}"
    );
    assert!(
        lines[1].starts_with(
            "labs/broken/lab.toml:9:9: error: steps[0].check: unknown check kind \"repo-created\""
        ),
        "{text}"
    );
    assert!(
        lines[2].starts_with(
            "labs/broken/lab.toml:12:9: warning: steps[0].hints: the step has one hint"
        ),
        "{text}"
    );
}

#[test]
fn lint_passes_clean_labs() {
    let workspace = Workspace::new();
    let output = workspace.run(&["lab", "lint", "labs/tiny/lab.toml", "labs/tiny"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        "labs/tiny/lab.toml: ok\nlabs/tiny/lab.toml: ok\n"
    );
}

#[test]
fn lint_of_labs_folder_checks_every_lab() {
    let workspace = Workspace::new();
    let output = workspace.run(&["lab", "lint", "labs"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.starts_with("labs/broken/lab.toml:3:20: error: title: "),
        "{text}"
    );
    assert!(text.ends_with("labs/tiny/lab.toml: ok\n"), "{text}");
}

#[test]
fn lint_reports_unreadable_file_and_goes_on() {
    let workspace = Workspace::new();
    let output = workspace.run(&["lab", "lint", "missing.toml", "labs/tiny"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.starts_with("missing.toml: error: failed to read lab file missing.toml: "),
        "{text}"
    );
    assert!(text.ends_with("labs/tiny/lab.toml: ok\n"), "{text}");
}

#[test]
fn lint_passes_repository_labs() {
    let labs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../labs");
    let workspace = Workspace::new();
    let output = workspace.run(&["lab", "lint", labs.to_str().expect("UTF-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn authoring_example_lints_clean() {
    let workspace = Workspace::new();
    let example = doc_example("docs/authoring.md", "## The complete example");
    workspace.write_lab("immutable-tags", &example);

    let output = workspace.run(&["lab", "lint", "labs/immutable-tags"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(stdout(&output), "labs/immutable-tags/lab.toml: ok\n");

    let output = workspace.run(&["lab", "show", "immutable-tags"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("Protect release tags\n"));
}

#[test]
fn format_example_lints_clean() {
    let workspace = Workspace::new();
    let example = doc_example("docs/lab-format.md", "## A minimal lab");
    let path = workspace.write_lab("create-only", &example);
    let output = workspace.run(&["lab", "lint", path.to_str().expect("UTF-8 path")]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).ends_with("lab.toml: ok\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_and_quiz_take_a_lab_id() {
    let workspace = Workspace::new();
    let answers = workspace.path().join("answers.toml");
    std::fs::write(&answers, "").expect("answers file written");
    let output = workspace.run(&[
        "quiz",
        "--lab",
        "push-to-ecr",
        "--answers",
        answers.to_str().expect("UTF-8 path"),
    ]);
    assert!(
        stdout(&output).contains("Push a container image to Amazon ECR"),
        "{}",
        stdout(&output)
    );

    let missing = workspace.run(&["quiz", "--lab", "no-such-lab"]);
    assert_eq!(missing.status.code(), Some(1));
    let error = String::from_utf8_lossy(&missing.stderr);
    assert!(
        error.contains("no lab file no-such-lab exists") && error.contains("ecrlab lab list"),
        "{error}"
    );
}
