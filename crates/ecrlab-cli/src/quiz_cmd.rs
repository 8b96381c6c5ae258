//! `ecrlab quiz`: asks a lab's questions one by one, or grades a file of answers.
//!
//! Interactive mode reads one answer per line. An answer that cannot be read for its question
//! (no unit on a duration, two different numbers) gets the reason and a second try; `skip`
//! moves on. Every graded answer is followed by the explanation and its source, and by the
//! explanation of a known misconception when the answer matches one.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context as _;
use ecrlab_core::lab::Lab;
use ecrlab_core::quiz::{AnswerSheet, Grade, Question, QuizReport};

/// The word that skips a question in interactive mode.
const SKIP: &str = "skip";

/// Runs the quiz of `lab`, from `answers_file` when given, otherwise interactively on `input`.
/// Writes feedback to `output` and returns whether every answer was correct.
pub fn run(
    lab: &Lab,
    answers_file: Option<&Path>,
    mut input: impl BufRead,
    mut output: impl Write,
) -> anyhow::Result<bool> {
    if lab.questions.is_empty() {
        anyhow::bail!(
            "lab {} ({}) has no questions; add [[questions]] tables to it",
            lab.id,
            lab.origin
        );
    }

    let report = match answers_file {
        Some(path) => grade_file(lab, path, &mut output)?,
        None => ask(lab, &mut input, &mut output)?,
    };

    writeln!(
        output,
        "\nScore: {} of {} correct.",
        report.correct_count(),
        report.grades.len()
    )?;
    output.flush().context("failed to write the quiz output")?;
    Ok(report.passed())
}

fn grade_file(lab: &Lab, path: &Path, output: &mut impl Write) -> anyhow::Result<QuizReport> {
    let sheet = AnswerSheet::from_path(path)?;
    let report = sheet.grade(&lab.questions)?;

    writeln!(
        output,
        "{}: grading {} answers from {}",
        lab.title,
        lab.questions.len(),
        path.display()
    )?;
    for (index, (question, grade)) in lab.questions.iter().zip(&report.grades).enumerate() {
        write_question(output, index, lab.questions.len(), question)?;
        match &grade.answer {
            Some(answer) => writeln!(output, "  Your answer: {answer}")?,
            None => writeln!(output, "  Your answer: (none)")?,
        }
        write_grade(output, grade)?;
    }
    Ok(report)
}

fn ask(lab: &Lab, input: &mut impl BufRead, output: &mut impl Write) -> anyhow::Result<QuizReport> {
    writeln!(
        output,
        "{}: {} questions. Type each answer and press Enter, or type {SKIP} to skip a question.",
        lab.title,
        lab.questions.len()
    )?;

    let mut grades = Vec::with_capacity(lab.questions.len());
    for (index, question) in lab.questions.iter().enumerate() {
        write_question(output, index, lab.questions.len(), question)?;
        match ask_one(question, input, output)? {
            Some(grade) => {
                write_grade(output, &grade)?;
                grades.push(grade);
            }
            None => {
                writeln!(
                    output,
                    "\nInput ended; the remaining questions count as unanswered."
                )?;
                break;
            }
        }
    }

    let unanswered = lab.questions[grades.len()..]
        .iter()
        .map(Question::grade_unanswered);
    grades.extend(unanswered);
    Ok(QuizReport { grades })
}

/// Reads answers until one can be graded or the student skips. Returns `None` at the end of
/// input.
fn ask_one(
    question: &Question,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> anyhow::Result<Option<Grade>> {
    loop {
        write!(output, "> ")?;
        output.flush().context("failed to write the quiz prompt")?;

        let mut line = String::new();
        let read = input
            .read_line(&mut line)
            .context("failed to read an answer from standard input")?;
        if read == 0 {
            return Ok(None);
        }

        let answer = line.trim();
        if answer.is_empty() {
            continue;
        }
        if answer.eq_ignore_ascii_case(SKIP) {
            return Ok(Some(question.grade_unanswered()));
        }
        match question.grade(answer) {
            Ok(grade) => return Ok(Some(grade)),
            Err(error) => writeln!(output, "  {error}. Try again, or type {SKIP}.")?,
        }
    }
}

fn write_question(
    output: &mut impl Write,
    index: usize,
    count: usize,
    question: &Question,
) -> std::io::Result<()> {
    writeln!(
        output,
        "\nQuestion {} of {count} ({}): {}",
        index + 1,
        question.id(),
        question.prompt_with_choices()
    )
}

fn write_grade(output: &mut impl Write, grade: &Grade) -> std::io::Result<()> {
    if grade.is_correct() {
        writeln!(output, "  Correct.")?;
    } else {
        writeln!(
            output,
            "  Incorrect. The correct answer is: {}",
            grade.correct_answer
        )?;
    }
    if let Some(misconception) = &grade.misconception {
        writeln!(output, "  A common mistake: {misconception}")?;
    }
    for note in &grade.notes {
        writeln!(output, "  - {note}")?;
    }
    writeln!(output, "  {}", grade.explanation)?;
    writeln!(output, "  Source: {}", grade.source)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn run_interactive(input: &str) -> (bool, String) {
        let lab = Lab::builtin_push_to_ecr();
        let mut output = Vec::new();
        let passed = run(&lab, None, Cursor::new(input), &mut output).expect("quiz runs");
        (passed, String::from_utf8(output).expect("UTF-8 output"))
    }

    /// Writes `contents` to a new file in the system's temporary directory.
    fn answers_file(name: &str, contents: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("ecrlab-quiz-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("temporary file is writable");
        path
    }

    #[test]
    fn interactive_all_correct_passes() {
        let input = "\
https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com
A tag cannot be overwritten once it is pushed
It scans each pushed image for CVEs
12 hours
1,000
";
        let (passed, output) = run_interactive(input);
        assert!(passed, "{output}");
        assert_eq!(output.matches("  Correct.").count(), 5, "{output}");
        assert!(output.ends_with("\nScore: 5 of 5 correct.\n"), "{output}");
    }

    #[test]
    fn interactive_transcript_snapshot() {
        let input = "\
public.ecr.aws

Tags are immutable
skip
12
30 minutes
50
";
        let (passed, output) = run_interactive(input);
        assert!(!passed);
        insta::assert_snapshot!("interactive_transcript", output);
    }

    #[test]
    fn interactive_unreadable_answer_asks_again() {
        let (_, output) = run_interactive("skip\nskip\nskip\ntwelve\n12 h\nskip\n");
        assert!(
            output.contains(
                "  the number 12 in \"twelve\" has no unit; add one: seconds, minutes, hours or days. Try again, or type skip.\n> "
            ),
            "{output}"
        );
        assert!(output.contains("Score: 1 of 5 correct."), "{output}");
    }

    #[test]
    fn interactive_end_of_input_counts_rest_unanswered() {
        let (passed, output) =
            run_interactive("https://123456789012.dkr.ecr.us-east-1.amazonaws.com\n");
        assert!(!passed);
        assert!(
            output.contains("Input ended; the remaining questions count as unanswered."),
            "{output}"
        );
        assert!(output.ends_with("Score: 1 of 5 correct.\n"), "{output}");
    }

    #[test]
    fn answers_file_is_graded() {
        let path = answers_file(
            "graded.toml",
            "registry-url = \"https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com\"\n\
             tags-per-image = 100\n",
        );
        let lab = Lab::builtin_push_to_ecr();
        let mut output = Vec::new();
        let passed = run(&lab, Some(&path), Cursor::new(""), &mut output).expect("quiz runs");
        std::fs::remove_file(&path).expect("temporary file is removable");

        let output = String::from_utf8(output).expect("UTF-8 output");
        assert!(!passed);
        assert!(output.contains("  Your answer: (none)"), "{output}");
        assert!(
            output.contains("A common mistake: 100 is an old limit"),
            "{output}"
        );
        assert!(output.ends_with("Score: 1 of 5 correct.\n"), "{output}");
    }

    #[test]
    fn answers_file_with_unknown_id_fails() {
        let path = answers_file("unknown.toml", "tag-count = \"1000\"\n");
        let lab = Lab::builtin_push_to_ecr();
        let error = run(&lab, Some(&path), Cursor::new(""), Vec::new()).expect_err("unknown id");
        std::fs::remove_file(&path).expect("temporary file is removable");
        assert!(
            error
                .to_string()
                .contains("no question has the id \"tag-count\""),
            "{error}"
        );
    }

    #[test]
    fn missing_answers_file_names_path() {
        let lab = Lab::builtin_push_to_ecr();
        let path = Path::new("/nonexistent/answers.toml");
        let error = run(&lab, Some(path), Cursor::new(""), Vec::new()).expect_err("no file");
        assert!(
            error
                .to_string()
                .starts_with("failed to read answers file /nonexistent/answers.toml"),
            "{error}"
        );
    }
}
