use super::*;
use crate::quiz::{QuestionKind, Scoring};

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
fn builtin_lab_has_five_steps_and_six_questions() {
    let lab = Lab::builtin_push_to_ecr();
    assert_eq!(lab.id, "push-to-ecr");
    assert_eq!(lab.version, "1.5.0");
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
            ("scan-image", CheckKind::ScanFindingsRead),
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
            ("scan-finding", QuestionKind::Finding),
        ]
    );
}

#[test]
fn builtin_lab_scoring_allows_one_retry() {
    let lab = Lab::builtin_push_to_ecr();
    let scoring = |id: &str| *lab.question(id).expect("built-in question").scoring();
    let retry = Scoring {
        attempts: 2,
        retry_penalty: 0.5,
        ..Scoring::default()
    };

    assert_eq!(
        scoring("registry-url"),
        Scoring {
            host_credit: Some(0.5),
            ..retry
        }
    );
    // Single-word concepts such as `tag*` are named by opposite answers too, so the text
    // questions give no partial credit.
    assert_eq!(scoring("tag-immutability"), retry);
    assert_eq!(scoring("scan-on-push"), retry);
    assert_eq!(scoring("token-validity"), retry);
    assert_eq!(scoring("tags-per-image"), retry);
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
    assert_eq!(lab.steps.len(), 5);
}

/// Returns the first TOML block after `heading` in a file of `docs/`.
fn doc_example(doc: &str, heading: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
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
fn format_doc_example_parses() {
    let example = doc_example("lab-format.md", "## A minimal lab");
    let lab = Lab::parse(&example, "docs/lab-format.md").expect("the example is valid");
    assert_eq!(lab.id, "create-only");
}

#[test]
fn authoring_example_lints_clean() {
    let example = doc_example("authoring.md", "## The complete example");
    let report = lint(&example, "docs/authoring.md");
    assert_eq!(report.problems, Vec::new());
    let lab = report.lab.expect("the example is valid");
    assert_eq!(lab.id, "immutable-tags");
    assert_eq!(lab.steps.len(), 2);
    assert_eq!(lab.questions.len(), 3);
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
fn question_scoring_overrides_quiz_defaults() {
    let text = MINIMAL
        .replace(
            "[[steps]]",
            "[quiz]\nattempts = 3\nretry_penalty = 0.25\n\n[[steps]]",
        )
        .replace(
            "source = \"AWS ECR User Guide\"\n",
            "source = \"AWS ECR User Guide\"\nattempts = 2\n",
        );
    let lab = Lab::parse(&text, "lab.toml").expect("valid lab");
    let scoring = lab.question("tags").expect("question").scoring();
    assert_eq!(scoring.attempts, 2);
    assert_eq!(scoring.retry_penalty, 0.25);
    assert!(!scoring.concept_credit);
    assert_eq!(scoring.host_credit, None);
}

#[test]
fn lab_without_quiz_table_scores_one_attempt() {
    let lab = Lab::parse(MINIMAL, "lab.toml").expect("valid lab");
    let scoring = lab.question("tags").expect("question").scoring();
    assert_eq!(scoring, &Scoring::default());
}

#[test]
fn scoring_tables_may_have_headers() {
    let text = MINIMAL
        .replace(
            "[[steps]]",
            "[quiz]\nattempts = 2\n\n[quiz.partial_credit]\nconcepts = true\n\n[[steps]]",
        )
        .replace("kind = \"number\"", "kind = \"url\"")
        .replace(
            "answer = \"1000\"",
            "answer = \"https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com\"",
        )
        .replace("answers = [\"50\"]", "answers = [\"public.ecr.aws\"]")
        .replace(
            "[[questions.misconceptions]]",
            "[questions.partial_credit]\nhost = 0.25\n\n[[questions.misconceptions]]",
        );
    let lab = Lab::parse(&text, "lab.toml").expect("valid lab");
    let scoring = lab.question("tags").expect("question").scoring();
    assert_eq!(scoring.attempts, 2);
    assert_eq!(scoring.host_credit, Some(0.25));
    // Every question inherits the quiz-wide concept rule, and grading applies it to `text`
    // answers only.
    assert!(scoring.concept_credit);
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
fn unknown_key_names_table_keys() {
    let text = MINIMAL.replace("hints = [", "hint = \"x\"\nhints = [");
    let problem = only_problem(&text);
    assert_eq!(problem.line, line_containing(&text, "hint = \"x\""));
    assert_eq!(problem.column, 1);
    assert_eq!(problem.field, "steps[0].hint");
    assert_eq!(
        problem.message,
        "unknown key `hint`; a [[steps]] table takes id, title, instructions, check, hints, so check the spelling or remove the key"
    );
}

#[test]
fn missing_answer_points_at_question_header() {
    let text = MINIMAL.replace("answer = \"1000\"\n", "");
    let problem = only_problem(&text);
    assert_eq!(problem.line, line_containing(&text, "[[questions]]"));
    assert_eq!(problem.column, 1);
    assert_eq!(problem.field, "questions[0].answer");
    assert_eq!(
        problem.message,
        "missing key `answer`; add answer = \"...\" to a [[questions]] table"
    );
}

#[test]
fn shape_problems_are_reported_together() {
    let text = MINIMAL
        .replace("format = 1", "format = \"1\"")
        .replace("hints = [", "hint = \"x\"\nhints = [")
        .replace("source = \"AWS ECR User Guide\"\n", "");
    let fields: Vec<String> = problems_of(&text)
        .into_iter()
        .map(|problem| problem.field)
        .collect();
    assert_eq!(
        fields,
        vec!["format", "steps[0].hint", "questions[0].source"]
    );
}

#[test]
fn syntax_errors_are_reported_together() {
    let text = MINIMAL
        .replace("title = \"Tiny lab\"", "title = \"Tiny lab")
        .replace("\"Use the AWS CLI.\",", "\"Use the AWS CLI.\"");
    let problems = problems_of(&text);
    let located: Vec<(usize, &str)> = problems
        .iter()
        .map(|problem| (problem.line, problem.field.as_str()))
        .collect();
    assert_eq!(
        located,
        vec![
            (line_containing(&text, "title = "), "title"),
            (line_containing(&text, "hints = "), "steps[0].hints[1]"),
        ]
    );
    for problem in &problems {
        assert!(
            problem.message.ends_with("; fix the TOML syntax"),
            "{}",
            problem.message
        );
    }
}

#[test]
fn unknown_check_kind_lists_known_kinds() {
    let text = MINIMAL.replace("\"repository-created\"", "\"repo-created\"");
    let problem = only_problem(&text);
    assert_eq!(problem.line, line_containing(&text, "repo-created"));
    assert_eq!(problem.field, "steps[0].check");
    let known: Vec<&str> = CheckKind::ALL.iter().map(|kind| kind.name()).collect();
    assert_eq!(
        problem.message,
        format!(
            "unknown check kind \"repo-created\"; use one of: {}",
            known.join(", ")
        )
    );
    assert!(
        problem
            .message
            .contains("repository-created, registry-login, image-tagged, image-pushed"),
        "{}",
        problem.message
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
        "unknown question kind \"essay\"; use one of: duration, number, url, text, choice, finding"
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
            "\n  labs/tiny.toml:{expected_title_line}:9: error: title: title is empty; write it out"
        )),
        "{message}"
    );
    assert!(
        message.contains(": error: steps[0].check: unknown check kind \"nope\""),
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
            "labs/tiny.toml:{}:9: error: title: title is empty; write it out",
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
