use super::*;
use crate::quiz::QuestionKind;

/// A small valid lab; tests replace parts of it to make one thing wrong.
const MINIMAL: &str = r#"format = 1
id = "tiny"
title = "Tiny lab"
version = "0.1.0"
summary = "A lab for tests."

[[steps]]
id = "create"
title = "Create a repository"
check = "repository-created"
instructions = "aws ecr create-repository --repository-name my-app"
hints = ["Use the AWS CLI.", "Run aws ecr create-repository."]

[[questions]]
id = "tags"
kind = "number"
prompt = "How many tags can one image have?"
answer = "1000"
explanation = "Up to 1,000."
source = "AWS ECR User Guide"

[[questions.misconceptions]]
answers = ["50"]
explanation = "50 is the resource tag limit."
"#;

fn problems_of(text: &str) -> Vec<LabProblem> {
    match Lab::parse(text, "lab.toml") {
        Err(LabError::Invalid { problems, .. }) => problems,
        Err(other) => panic!("expected validation problems, got: {other}"),
        Ok(lab) => panic!("lab {} was accepted", lab.id),
    }
}

fn only_problem(text: &str) -> LabProblem {
    let mut problems = problems_of(text);
    assert_eq!(problems.len(), 1, "problems: {problems:?}");
    problems.remove(0)
}

fn syntax_error(text: &str) -> (usize, String) {
    match Lab::parse(text, "lab.toml") {
        Err(LabError::Syntax { line, message, .. }) => (line, message),
        Err(other) => panic!("expected a syntax error, got: {other}"),
        Ok(lab) => panic!("lab {} was accepted", lab.id),
    }
}

fn line_containing(text: &str, needle: &str) -> usize {
    nth_line_containing(text, needle, 0)
}

/// Returns the 1-based line number of the `n`th (0-based) line that contains `needle`.
fn nth_line_containing(text: &str, needle: &str, n: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.contains(needle))
        .nth(n)
        .map(|(index, _)| index + 1)
        .unwrap_or_else(|| panic!("fewer than {} lines contain {needle:?}", n + 1))
}

#[test]
fn builtin_lab_has_four_steps_and_five_questions() {
    let lab = Lab::builtin_push_to_ecr();
    assert_eq!(lab.id, "push-to-ecr");
    assert_eq!(lab.version, "1.1.0");
    assert_eq!(lab.origin, "labs/push-to-ecr/lab.toml");

    let steps: Vec<(&str, CheckKind)> = lab
        .steps
        .iter()
        .map(|step| (step.id.as_str(), step.check))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("create-repository", CheckKind::RepositoryCreated),
            ("authenticate", CheckKind::RegistryLogin),
            ("tag", CheckKind::ImageTagged),
            ("push", CheckKind::ImagePushed),
        ]
    );

    let questions: Vec<(&str, QuestionKind)> = lab
        .questions
        .iter()
        .map(|question| (question.id(), question.kind()))
        .collect();
    assert_eq!(
        questions,
        vec![
            ("registry-url", QuestionKind::Url),
            ("tag-immutability", QuestionKind::Text),
            ("scan-on-push", QuestionKind::Text),
            ("token-validity", QuestionKind::Duration),
            ("tags-per-image", QuestionKind::Number),
        ]
    );
}

#[test]
fn builtin_lab_instructions_give_exact_commands() {
    let lab = Lab::builtin_push_to_ecr();
    let commands = [
        (
            "create-repository",
            "aws ecr create-repository --repository-name my-app --image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true",
        ),
        (
            "authenticate",
            "aws ecr get-login-password | docker login --username AWS --password-stdin <registry>",
        ),
        (
            "authenticate",
            "aws ecr get-login-password | podman login --username AWS --password-stdin <registry>",
        ),
        ("tag", "docker tag my-app:latest <registry>/my-app:v1"),
        ("tag", "podman tag my-app:latest <registry>/my-app:v1"),
        ("push", "docker push <registry>/my-app:v1"),
        ("push", "podman push <registry>/my-app:v1"),
    ];
    for (step_id, command) in commands {
        let step = lab.step(step_id).expect("step exists");
        assert!(
            step.instructions.contains(command),
            "step {step_id} lacks {command:?}"
        );
    }
}

#[test]
fn builtin_lab_hints_grow_to_full_command() {
    let lab = Lab::builtin_push_to_ecr();
    for step in &lab.steps {
        assert!(step.hints.len() >= 2, "step {} has too few hints", step.id);
        let last = step.hints.last().expect("hints are not empty");
        assert!(
            last.starts_with("Run: "),
            "last hint of {}: {last}",
            step.id
        );
    }
}

#[test]
fn builtin_lab_file_matches_embedded_text() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../labs/push-to-ecr/lab.toml");
    let lab = Lab::from_path(&path).expect("the lab file parses");
    assert_eq!(lab.id, "push-to-ecr");
    assert_eq!(lab.steps.len(), 4);
}

#[test]
fn format_doc_example_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lab-format.md");
    let doc = std::fs::read_to_string(&path).expect("docs/lab-format.md is readable");
    let heading = doc
        .find("## A minimal lab")
        .expect("the doc has a minimal lab");
    let start = doc[heading..].find("```toml\n").expect("a TOML block") + heading + 8;
    let end = doc[start..].find("```").expect("the block ends") + start;
    let lab = Lab::parse(&doc[start..end], "docs/lab-format.md").expect("the example is valid");
    assert_eq!(lab.id, "create-only");
}

#[test]
fn minimal_lab_parses() {
    let lab = Lab::parse(MINIMAL, "lab.toml").expect("valid lab");
    assert_eq!(lab.title, "Tiny lab");
    assert_eq!(lab.summary, "A lab for tests.");
    assert_eq!(lab.steps[0].hints.len(), 2);
    assert!(lab.question("tags").is_some());
    assert!(lab.question("missing").is_none());
}

#[test]
fn from_path_names_missing_file() {
    let error = Lab::from_path(Path::new("/nonexistent/lab.toml")).expect_err("no file");
    let message = error.to_string();
    assert!(
        message.starts_with("failed to read lab file /nonexistent/lab.toml: "),
        "{message}"
    );
}

#[test]
fn unknown_field_is_syntax_error_with_line() {
    let text = MINIMAL.replace("hints = [", "hint = \"x\"\nhints = [");
    let (line, message) = syntax_error(&text);
    assert_eq!(line, line_containing(&text, "hint = \"x\""));
    assert!(message.contains("unknown field `hint`"), "{message}");
}

#[test]
fn missing_answer_is_syntax_error_at_question() {
    let text = MINIMAL.replace("answer = \"1000\"\n", "");
    let (line, message) = syntax_error(&text);
    assert_eq!(line, line_containing(&text, "[[questions]]"));
    assert!(message.contains("missing field `answer`"), "{message}");

    let error = Lab::parse(&text, "lab.toml").expect_err("missing answer");
    assert!(
        error
            .to_string()
            .ends_with("docs/lab-format.md lists every field"),
        "{error}"
    );
}

#[test]
fn unknown_check_kind_lists_known_kinds() {
    let text = MINIMAL.replace("\"repository-created\"", "\"repo-created\"");
    let problem = only_problem(&text);
    assert_eq!(problem.line, line_containing(&text, "repo-created"));
    assert_eq!(problem.field, "steps[0].check");
    assert_eq!(
        problem.message,
        "unknown check kind \"repo-created\"; use one of: repository-created, registry-login, image-tagged, image-pushed"
    );
}

#[test]
fn duplicate_step_id_names_first_line() {
    let step = MINIMAL[MINIMAL.find("[[steps]]").expect("step")
        ..MINIMAL.find("[[questions]]").expect("question")]
        .to_owned();
    let text = MINIMAL.replace("[[questions]]", &format!("{step}[[questions]]"));
    let problem = only_problem(&text);
    assert_eq!(problem.field, "steps[1].id");
    assert_eq!(
        problem.line,
        nth_line_containing(&text, "id = \"create\"", 1)
    );
    let first = line_containing(&text, "id = \"create\"");
    assert!(
        problem.message.contains(&format!(
            "duplicate step id \"create\", first used on line {first}"
        )),
        "{}",
        problem.message
    );
}

#[test]
fn empty_hints_are_rejected() {
    let text = MINIMAL.replace(
        "hints = [\"Use the AWS CLI.\", \"Run aws ecr create-repository.\"]",
        "hints = []",
    );
    let problem = only_problem(&text);
    assert_eq!(problem.field, "steps[0].hints");
    assert!(
        problem.message.starts_with("hints is empty"),
        "{}",
        problem.message
    );

    let text = MINIMAL.replace("\"Use the AWS CLI.\"", "\" \"");
    let problem = only_problem(&text);
    assert_eq!(problem.field, "steps[0].hints[0]");
}

#[test]
fn invalid_ids_and_version_are_rejected() {
    let text = MINIMAL
        .replace("id = \"tiny\"", "id = \"Tiny Lab\"")
        .replace("version = \"0.1.0\"", "version = \"1.0\"")
        .replace("id = \"create\"", "id = \"create-\"");
    let fields: Vec<String> = problems_of(&text)
        .into_iter()
        .map(|problem| problem.field)
        .collect();
    assert_eq!(fields, vec!["id", "version", "steps[0].id"]);
}

#[test]
fn unsupported_format_names_supported_one() {
    let text = MINIMAL.replace("format = 1", "format = 2");
    let problem = only_problem(&text);
    assert_eq!(problem.line, 1);
    assert_eq!(problem.field, "format");
    assert!(
        problem.message.contains("set format = 1"),
        "{}",
        problem.message
    );
}

#[test]
fn lab_without_steps_is_rejected() {
    let start = MINIMAL.find("[[steps]]").expect("step");
    let end = MINIMAL.find("[[questions]]").expect("question");
    let text = format!("{}{}", &MINIMAL[..start], &MINIMAL[end..]);
    let problem = only_problem(&text);
    assert_eq!(problem.field, "steps");
}

#[test]
fn unknown_question_kind_lists_kinds() {
    let text = MINIMAL.replace("kind = \"number\"", "kind = \"essay\"");
    let problem = only_problem(&text);
    assert_eq!(problem.field, "questions[0].kind");
    assert_eq!(
        problem.message,
        "unknown question kind \"essay\"; use one of: duration, number, url, text, choice"
    );
}

#[test]
fn question_problem_points_at_its_line() {
    let text = MINIMAL.replace("answers = [\"50\"]", "answers = [\"50\", \"1,000\"]");
    let problems = problems_of(&text);
    let misconception = problems
        .iter()
        .find(|problem| problem.field == "questions[0].misconceptions[0].answers[1]")
        .expect("the misconception answer is reported");
    assert_eq!(misconception.line, line_containing(&text, "\"1,000\""));

    let text = MINIMAL.replace("answer = \"1000\"", "answer = \"lots\"");
    let problem = only_problem(&text);
    assert_eq!(problem.field, "questions[0].answer");
    assert_eq!(problem.line, line_containing(&text, "\"lots\""));
}

#[test]
fn duplicate_question_id_is_rejected() {
    let question = &MINIMAL[MINIMAL.find("[[questions]]").expect("question")..];
    let text = format!("{MINIMAL}\n{question}");
    let problem = only_problem(&text);
    assert_eq!(problem.field, "questions[1].id");
    assert!(
        problem
            .message
            .starts_with("duplicate question id \"tags\"")
    );
}

#[test]
fn several_problems_are_reported_together() {
    let text = MINIMAL
        .replace("\"repository-created\"", "\"nope\"")
        .replace("title = \"Tiny lab\"", "title = \"\"");
    let error = Lab::parse(&text, "labs/tiny.toml").expect_err("two problems");
    let message = error.to_string();
    let expected_title_line = line_containing(&text, "title = \"\"");
    assert!(
        message.starts_with("labs/tiny.toml has 2 problems:\n"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "\n  labs/tiny.toml:{expected_title_line}: title: title is empty; write it out"
        )),
        "{message}"
    );
    assert!(
        message.contains(": steps[0].check: unknown check kind \"nope\""),
        "{message}"
    );
}

#[test]
fn single_problem_message_is_one_line() {
    let text = MINIMAL.replace("title = \"Tiny lab\"", "title = \" \"");
    let error = Lab::parse(&text, "labs/tiny.toml").expect_err("empty title");
    assert_eq!(
        error.to_string(),
        format!(
            "labs/tiny.toml:{}: title: title is empty; write it out",
            line_containing(&text, "title = \" \"")
        )
    );
}

#[test]
fn check_kind_names_round_trip() {
    for kind in CheckKind::ALL {
        assert_eq!(CheckKind::from_name(kind.name()), Some(kind));
    }
}
