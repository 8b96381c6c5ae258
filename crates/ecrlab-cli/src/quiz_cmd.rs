//! `ecrlab quiz`: asks a lab's questions one by one, or grades a file of answers.
//!
//! Interactive mode reads one answer per line. An answer that cannot be read for its question
//! (no unit on a duration, two different numbers) gets the reason and does not use a try. An
//! answer that is not correct gets short feedback and another try while the question allows
//! one; `skip` moves on. Once a question is finished, the feedback states the correct answer,
//! the explanation and its source, the explanation of a known misconception when the answer
//! matches one, and the question's score. The total adds up the scores, so partial credit and
//! retry penalties show in it.
//!
//! Answers recorded in the student's progress by earlier runs count as earlier tries. Every
//! score printed grades all recorded answers with `Question::grade_attempts`, as `ecrlab
//! report` does, so running the quiz again never lowers a score: a finished question is not
//! asked again, and an empty line or the end of input adds no try.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context as _;
use ecrlab_core::lab::Lab;
use ecrlab_core::progress::Progress;
use ecrlab_core::quiz::{AnswerSheet, Question, QuestionResult, QuizResult};

/// The word that skips a question in interactive mode.
const SKIP: &str = "skip";

/// Runs the quiz of `lab` like [`run_with_progress`] and appends each answer given to the
/// lab's saved progress.
///
/// A progress file that cannot be read is reported and left as it is, and the quiz runs
/// without recording.
pub fn run_recorded(
    lab: &Lab,
    answers_file: Option<&Path>,
    input: impl BufRead,
    output: impl Write,
) -> anyhow::Result<bool> {
    let mut progress = match Progress::load(lab) {
        Ok(progress) => Some(progress),
        Err(error) => {
            eprintln!("ecrlab: warning: {error}; this quiz's answers are not recorded");
            None
        }
    };
    let passed = run_with_progress(lab, answers_file, input, output, progress.as_mut())?;
    if let Some(progress) = progress {
        progress.save()?;
    }
    Ok(passed)
}

/// Runs the quiz without recording answers, so tests do not write to the student's state
/// directory.
#[cfg(test)]
fn run(
    lab: &Lab,
    answers_file: Option<&Path>,
    input: impl BufRead,
    output: impl Write,
) -> anyhow::Result<bool> {
    run_with_progress(lab, answers_file, input, output, None)
}

/// Every answer given to each question, by question id, oldest first, as
/// `Progress::quiz_attempts` stores them.
type Attempts = BTreeMap<String, Vec<String>>;

/// Runs the quiz of `lab`, from `answers_file` when given, otherwise interactively on `input`,
/// and appends every answer given, each try included, to `progress`. Writes feedback to
/// `output` and returns whether every question was answered correctly, on any try.
///
/// The answers already in `progress` count as earlier tries: a finished question is not asked
/// again, and the scores printed are those of every recorded answer, which `ecrlab report`
/// grades the same way.
fn run_with_progress(
    lab: &Lab,
    answers_file: Option<&Path>,
    mut input: impl BufRead,
    mut output: impl Write,
    progress: Option<&mut Progress>,
) -> anyhow::Result<bool> {
    if lab.questions.is_empty() {
        anyhow::bail!(
            "lab {} ({}) has no questions; add [[questions]] tables to it",
            lab.id,
            lab.origin
        );
    }

    let mut attempts: Attempts = progress
        .as_ref()
        .map(|progress| progress.quiz_attempts.clone())
        .unwrap_or_default();
    match answers_file {
        Some(path) => grade_file(lab, path, &mut attempts, &mut output)?,
        None => ask(lab, &mut attempts, &mut input, &mut output)?,
    }
    let result = QuizResult::grade(&lab.questions, &attempts);
    if let Some(progress) = progress {
        progress.quiz_attempts = attempts;
    }

    writeln!(
        output,
        "\nScore: {} of {} ({} of {} questions correct).",
        format_points(result.score()),
        format_points(result.max_score()),
        result.correct_count(),
        result.questions.len()
    )?;
    output.flush().context("failed to write the quiz output")?;
    Ok(result.correct_count() == result.questions.len())
}

/// Grades the answers in an answers file, each as one more try after the recorded ones. An
/// answer is recorded only while its question has tries left, and not again when it repeats
/// the newest recorded answer, so grading the same file twice does not use a second try.
fn grade_file(
    lab: &Lab,
    path: &Path,
    attempts: &mut Attempts,
    output: &mut impl Write,
) -> anyhow::Result<()> {
    let sheet = AnswerSheet::from_path(path)?;
    // `AnswerSheet::grade` rejects an id that names no question, most likely a typo that would
    // otherwise lose a correct answer. Its grades are not used, because a `QuestionResult`
    // also carries the question's score.
    sheet.grade(&lab.questions)?;

    writeln!(
        output,
        "{}: grading {} answers from {}",
        lab.title,
        lab.questions.len(),
        path.display()
    )?;
    for (index, question) in lab.questions.iter().enumerate() {
        write_question(output, index, lab.questions.len(), question)?;
        let mut recorded = attempts.get(question.id()).cloned().unwrap_or_default();
        let earlier = question.grade_attempts(&recorded);
        let answer = sheet.answer(question.id());
        writeln!(output, "  Your answer: {}", answer.unwrap_or("(none)"))?;

        match answer {
            Some(answer) if recorded.last().is_some_and(|newest| newest == answer) => {
                writeln!(
                    output,
                    "  This answer is already recorded, so it does not use another try."
                )?;
            }
            Some(_) if earlier.tries_left() == 0 => {
                writeln!(
                    output,
                    "  Not recorded: this question has no tries left. The result below is from your recorded answers; `ecrlab progress reset` starts over."
                )?;
            }
            Some(answer) => recorded.push(answer.to_owned()),
            None if !recorded.is_empty() => {
                writeln!(output, "  The result below is from your recorded answers.")?;
            }
            None => {}
        }

        let result = question.grade_attempts(&recorded);
        write_indented(output, &result.feedback())?;
        if !recorded.is_empty() {
            attempts.insert(question.id().to_owned(), recorded);
        }
    }
    Ok(())
}

fn ask(
    lab: &Lab,
    attempts: &mut Attempts,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> anyhow::Result<()> {
    writeln!(
        output,
        "{}: {} questions. Type each answer and press Enter, or type {SKIP} to skip a question.",
        lab.title,
        lab.questions.len()
    )?;

    for (index, question) in lab.questions.iter().enumerate() {
        write_question(output, index, lab.questions.len(), question)?;
        let recorded = attempts.get(question.id()).cloned().unwrap_or_default();
        let earlier = question.grade_attempts(&recorded);
        if earlier.tries_left() == 0 {
            write_already_answered(output, &earlier)?;
            continue;
        }
        write_tries(output, question)?;
        write_earlier_tries(output, &earlier)?;

        let outcome = ask_question(question, recorded, input, output)?;
        if outcome.answered_now || !outcome.input_ended {
            write_indented(output, &outcome.result.feedback())?;
            write_earlier_misconceptions(output, &outcome.result)?;
        }
        if !outcome.answers.is_empty() {
            attempts.insert(question.id().to_owned(), outcome.answers);
        }
        if outcome.input_ended {
            writeln!(
                output,
                "\nInput ended; the remaining questions keep the answers recorded earlier, and those without one count as unanswered."
            )?;
            break;
        }
    }
    Ok(())
}

/// Writes the one line that replaces a finished question: the answer its score came from, or
/// the newest answer when none scored.
fn write_already_answered(output: &mut impl Write, result: &QuestionResult) -> anyhow::Result<()> {
    let grade = result.best_attempt.map_or_else(
        || result.last_grade(),
        |index| &result.attempts[index].grade,
    );
    writeln!(
        output,
        "  Already answered: {:?}, score {} of 1; `ecrlab progress reset` starts over.",
        grade.answer.as_deref().unwrap_or_default(),
        format_points(result.score)
    )?;
    Ok(())
}

/// Names the tries of a question that earlier runs used, with the score they earned, so the
/// student sees why fewer tries are left.
fn write_earlier_tries(output: &mut impl Write, result: &QuestionResult) -> anyhow::Result<()> {
    let used = result
        .attempts
        .iter()
        .filter(|attempt| attempt.try_number.is_some())
        .count();
    if used == 0 {
        return Ok(());
    }
    let tries = if used == 1 { "try" } else { "tries" };
    let left = result.tries_left();
    let left_tries = if left == 1 { "try" } else { "tries" };
    writeln!(
        output,
        "  You used {used} {tries} earlier, for a score of {} of 1; {left} {left_tries} left, and a retry keeps the better score.",
        format_points(result.score)
    )?;
    Ok(())
}

/// The result of asking one question in interactive mode.
struct QuestionOutcome {
    /// Every answer to the question, the recorded ones first.
    answers: Vec<String>,
    /// The question graded over `answers`.
    result: QuestionResult,
    /// Whether this run added an answer.
    answered_now: bool,
    /// Whether the input ended before the question was finished.
    input_ended: bool,
}

/// Reads answers to `question` after the `recorded` ones until one is correct, every try is
/// used, the student skips or the input ends. Prints the reason for an answer that cannot be
/// read, and feedback without the correct answer between tries.
fn ask_question(
    question: &Question,
    recorded: Vec<String>,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> anyhow::Result<QuestionOutcome> {
    let recorded_count = recorded.len();
    let mut answers = recorded;
    let input_ended = loop {
        let Some(answer) = read_answer(input, output)? else {
            break true;
        };
        if answer.eq_ignore_ascii_case(SKIP) {
            break false;
        }
        if let Err(error) = question.grade(&answer) {
            writeln!(output, "  {error}. Try again, or type {SKIP}.")?;
            continue;
        }

        answers.push(answer);
        let result = question.grade_attempts(&answers);
        let tries_left = result.tries_left();
        if tries_left == 0 {
            break false;
        }
        write_indented(output, &result.last_grade().retry_feedback(tries_left))?;
    };
    Ok(QuestionOutcome {
        result: question.grade_attempts(&answers),
        answered_now: answers.len() > recorded_count,
        answers,
        input_ended,
    })
}

/// Prompts for an answer and reads the next line that is not blank. Returns `None` at the end
/// of input.
fn read_answer(
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> anyhow::Result<Option<String>> {
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
        if !answer.is_empty() {
            return Ok(Some(answer.to_owned()));
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

/// States how many tries a question allows and what a retry costs, when it allows more than
/// one.
fn write_tries(output: &mut impl Write, question: &Question) -> std::io::Result<()> {
    let scoring = question.scoring();
    if scoring.attempts <= 1 {
        return Ok(());
    }
    if scoring.retry_penalty > 0.0 {
        writeln!(
            output,
            "  {} tries; each retry loses {} of the credit.",
            scoring.attempts,
            format_points(scoring.retry_penalty)
        )
    } else {
        writeln!(output, "  {} tries.", scoring.attempts)
    }
}

/// Explains the misconceptions that earlier tries matched, which the feedback between tries
/// only names and the final feedback, about the newest answer, leaves out.
fn write_earlier_misconceptions(
    output: &mut impl Write,
    result: &QuestionResult,
) -> std::io::Result<()> {
    let Some((_, earlier)) = result.attempts.split_last() else {
        return Ok(());
    };
    let last = &result.last_grade().misconception;
    for attempt in earlier {
        let grade = &attempt.grade;
        let (Some(answer), Some(misconception)) = (&grade.answer, &grade.misconception) else {
            continue;
        };
        if Some(misconception) != last.as_ref() {
            writeln!(
                output,
                "  Your earlier answer {answer:?} is a common mistake: {misconception}"
            )?;
        }
    }
    Ok(())
}

/// Writes `text` with each line indented by two spaces.
fn write_indented(output: &mut impl Write, text: &str) -> std::io::Result<()> {
    for line in text.lines() {
        writeln!(output, "  {line}")?;
    }
    Ok(())
}

/// Formats a score with at most two decimals and no trailing zeros: `4`, `3.5`, `0.67`, as the
/// feedback of each question does.
fn format_points(points: f64) -> String {
    let rounded = format!("{points:.2}");
    rounded
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_owned()
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

    const INPUT_ENDED: &str = "Input ended; the remaining questions keep the answers recorded earlier, and those without one count as unanswered.";

    const REGISTRY_URL: &str = "https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com";

    /// Returns progress of the built-in lab with `recorded` answers, by question id.
    fn progress_with(recorded: &[(&str, &[&str])]) -> Progress {
        let mut progress = Progress::new(&Lab::builtin_push_to_ecr());
        for (id, answers) in recorded {
            for answer in *answers {
                progress.record_quiz_attempt(id, answer);
            }
        }
        progress
    }

    /// Runs the quiz with `progress`, interactively on `input` or from the answers file
    /// `file`, and returns the output.
    fn run_again(progress: &mut Progress, file: Option<&Path>, input: &str) -> String {
        let lab = Lab::builtin_push_to_ecr();
        let mut output = Vec::new();
        run_with_progress(&lab, file, Cursor::new(input), &mut output, Some(progress))
            .expect("quiz runs");
        String::from_utf8(output).expect("UTF-8 output")
    }

    /// Formats the total line for the score that `ecrlab report` computes from `progress`: the
    /// sum of `grade_attempts` over every recorded answer.
    fn report_total(progress: &Progress) -> String {
        let lab = Lab::builtin_push_to_ecr();
        let result = QuizResult::grade(&lab.questions, &progress.quiz_attempts);
        format!(
            "\nScore: {} of 5 ({} of 5 questions correct).\n",
            format_points(result.score()),
            result.correct_count()
        )
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
        assert!(
            output.ends_with("\nScore: 5 of 5 (5 of 5 questions correct).\n"),
            "{output}"
        );
    }

    /// Answers that use every path of the interactive quiz, one question after another. They
    /// are a misconception and a correct retry, a blank line, a partly correct answer and a
    /// skip, a skipped question, an unreadable answer and two wrong tries, and a wrong answer
    /// and a correct retry.
    const TRANSCRIPT_INPUT: &str = "\
public.ecr.aws
https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com

Tags are immutable
skip
skip
12
30 minutes
13 hours
50
1000
";

    #[test]
    fn interactive_transcript_snapshot() {
        let (passed, output) = run_interactive(TRANSCRIPT_INPUT);
        assert!(!passed);
        insta::assert_snapshot!("interactive_transcript", output);
    }

    #[test]
    fn interactive_output_has_no_escape_codes() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        assert!(!output.contains('\u{1b}'), "{output}");
    }

    #[test]
    fn interactive_retry_feedback_hides_answer() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        let retry =
            "  Not correct yet. Try again (1 try left).\n  This answer is a common mistake.\n> ";
        assert!(output.contains(retry), "{output}");

        let first_question = &output[..output.find("Question 2 of 5").expect("question 2")];
        assert!(
            !first_question.contains("The correct answer is"),
            "{output}"
        );
        assert!(
            first_question.contains(
                "  Score: 0.5 of 1, from try 2 of 2, after losing 0.5 of the credit per retry.\n"
            ),
            "{output}"
        );
    }

    #[test]
    fn interactive_partial_answer_keeps_credit_on_skip() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        assert!(
            output.contains(
                "  Partly correct, for 0.5 of the credit. Try again (1 try left); a retry keeps the better score.\n"
            ),
            "{output}"
        );
        assert!(
            output.contains("  Score: 0.5 of 1, from try 1 of 2.\n"),
            "{output}"
        );
    }

    #[test]
    fn interactive_total_adds_partial_credit() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        // 0.5 for each correct retry, 0.5 for the partly correct answer, 0 for the rest.
        assert!(
            output.ends_with("\nScore: 1.5 of 5 (2 of 5 questions correct).\n"),
            "{output}"
        );
    }

    #[test]
    fn interactive_explains_earlier_misconception() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        let fourth = output.find("Question 4 of 5").expect("question 4 is asked");
        let fifth = output.find("Question 5 of 5").expect("question 5 is asked");
        assert!(
            output[fourth..fifth].contains(
                "  Your earlier answer \"30 minutes\" is a common mistake: 30 minutes is much shorter"
            ),
            "{output}"
        );
    }

    #[test]
    fn interactive_stops_after_last_try() {
        let input = "public.ecr.aws\nlocalhost\n12 hours\n";
        let (_, output) = run_interactive(input);
        let second = output.find("Question 2 of 5").expect("question 2 is asked");
        assert!(
            output[..second].contains("  Incorrect. The correct answer is: https://"),
            "{output}"
        );
        // The third line answers question 2, which "12 hours" does not.
        assert!(
            output[second..].contains("  Not correct yet. Try again (1 try left).\n"),
            "{output}"
        );
    }

    #[test]
    fn interactive_records_every_try() {
        let lab = Lab::builtin_push_to_ecr();
        let mut progress = Progress::new(&lab);
        let input = Cursor::new(
            "public.ecr.aws\nhttps://<aws_account_id>.dkr.ecr.<region>.amazonaws.com\nskip\nskip\n12\n12 hours\n",
        );
        run_with_progress(&lab, None, input, Vec::new(), Some(&mut progress)).expect("quiz runs");

        let recorded = |id: &str| progress.quiz_attempts.get(id).cloned().unwrap_or_default();
        assert_eq!(
            recorded("registry-url"),
            vec![
                "public.ecr.aws".to_owned(),
                "https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com".to_owned(),
            ]
        );
        assert_eq!(recorded("tag-immutability"), Vec::<String>::new());
        // The unreadable "12" used no try, so only "12 hours" is recorded.
        assert_eq!(recorded("token-validity"), vec!["12 hours".to_owned()]);
        assert_eq!(recorded("tags-per-image"), Vec::<String>::new());
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
        assert!(
            output.contains("Score: 1 of 5 (1 of 5 questions correct)."),
            "{output}"
        );
    }

    #[test]
    fn interactive_end_of_input_counts_rest_unanswered() {
        let (passed, output) =
            run_interactive("https://123456789012.dkr.ecr.us-east-1.amazonaws.com\n");
        assert!(!passed);
        assert!(output.contains(INPUT_ENDED), "{output}");
        assert!(
            output.ends_with("Score: 1 of 5 (1 of 5 questions correct).\n"),
            "{output}"
        );
    }

    #[test]
    fn interactive_end_of_input_grades_tries_given() {
        let (_, output) = run_interactive("public.ecr.aws\n");
        let feedback = "  Incorrect. The correct answer is: https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com\n";
        assert!(output.contains(feedback), "{output}");
        assert!(output.contains(INPUT_ENDED), "{output}");
        assert!(
            output.ends_with("Score: 0 of 5 (0 of 5 questions correct).\n"),
            "{output}"
        );
    }

    #[test]
    fn rerun_skips_finished_questions() {
        let mut progress = progress_with(&[
            ("registry-url", &[REGISTRY_URL]),
            ("tags-per-image", &["50", "100"]),
        ]);
        let output = run_again(&mut progress, None, "skip\nskip\nskip\n");

        assert!(
            output.contains(&format!(
                "  Already answered: \"{REGISTRY_URL}\", score 1 of 1; `ecrlab progress reset` starts over.\n"
            )),
            "{output}"
        );
        assert!(
            output.contains(
                "  Already answered: \"100\", score 0 of 1; `ecrlab progress reset` starts over.\n"
            ),
            "{output}"
        );
        // Three questions are asked, each once, and the finished two are not.
        assert_eq!(output.matches("> ").count(), 3, "{output}");
        assert!(
            output.ends_with("\nScore: 1 of 5 (1 of 5 questions correct).\n"),
            "{output}"
        );
        assert!(output.ends_with(&report_total(&progress)), "{output}");
    }

    #[test]
    fn rerun_asks_only_remaining_tries() {
        let mut progress = progress_with(&[("token-validity", &["30 minutes"])]);
        let output = run_again(&mut progress, None, "skip\nskip\nskip\n12 hours\nskip\n");

        assert!(
            output.contains(
                "  You used 1 try earlier, for a score of 0 of 1; 1 try left, and a retry keeps the better score.\n"
            ),
            "{output}"
        );
        assert!(
            output.contains(
                "  Score: 0.5 of 1, from try 2 of 2, after losing 0.5 of the credit per retry.\n"
            ),
            "{output}"
        );
        assert_eq!(
            progress.quiz_attempts["token-validity"],
            ["30 minutes", "12 hours"]
        );
        assert!(
            output.ends_with("\nScore: 0.5 of 5 (1 of 5 questions correct).\n"),
            "{output}"
        );
        assert!(output.ends_with(&report_total(&progress)), "{output}");
    }

    #[test]
    fn rerun_end_of_input_keeps_scores() {
        let recorded: &[(&str, &[&str])] = &[
            ("registry-url", &[REGISTRY_URL]),
            ("tag-immutability", &["Tags are immutable"]),
            ("token-validity", &["12 hours"]),
        ];
        for input in ["", "\n", "\n\n"] {
            let mut progress = progress_with(recorded);
            let before = progress.clone();
            let output = run_again(&mut progress, None, input);

            assert_eq!(progress, before, "input {input:?}");
            assert!(output.contains(INPUT_ENDED), "input {input:?}: {output}");
            // 1 for registry-url, 0.5 for the partly correct tag-immutability answer, 1 for
            // token-validity.
            assert!(
                output.ends_with("\nScore: 2.5 of 5 (2 of 5 questions correct).\n"),
                "input {input:?}: {output}"
            );
            assert!(output.ends_with(&report_total(&progress)), "{output}");
        }
    }

    #[test]
    fn rerun_answers_file_records_while_tries_remain() {
        let path = answers_file(
            "rerun.toml",
            &format!("registry-url = \"{REGISTRY_URL}\"\ntoken-validity = \"12 hours\"\n"),
        );
        let mut progress = progress_with(&[
            ("registry-url", &["public.ecr.aws"]),
            ("token-validity", &["30 minutes", "1 day"]),
            ("tags-per-image", &["1000"]),
        ]);

        let first = run_again(&mut progress, Some(&path), "");
        let second = run_again(&mut progress, Some(&path), "");
        std::fs::remove_file(&path).expect("temporary file is removable");

        assert_eq!(
            progress.quiz_attempts["registry-url"],
            ["public.ecr.aws", REGISTRY_URL]
        );
        assert_eq!(
            progress.quiz_attempts["token-validity"],
            ["30 minutes", "1 day"]
        );
        assert!(
            first.contains(
                "  Not recorded: this question has no tries left. The result below is from your recorded answers; `ecrlab progress reset` starts over.\n"
            ),
            "{first}"
        );
        assert!(
            first.contains("  The result below is from your recorded answers.\n"),
            "{first}"
        );
        assert!(
            second.contains("  This answer is already recorded, so it does not use another try.\n"),
            "{second}"
        );
        // 0.5 for the correct retry of registry-url, 1 for the recorded tags-per-image answer.
        for output in [&first, &second] {
            assert!(
                output.ends_with("\nScore: 1.5 of 5 (2 of 5 questions correct).\n"),
                "{output}"
            );
            assert!(output.ends_with(&report_total(&progress)), "{output}");
        }
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
        assert!(
            output.ends_with("Score: 1 of 5 (1 of 5 questions correct).\n"),
            "{output}"
        );
    }

    #[test]
    fn answers_file_earns_partial_credit() {
        let path = answers_file(
            "partial.toml",
            "registry-url = \"http://<aws_account_id>.dkr.ecr.<region>.amazonaws.com\"\n\
             scan-on-push = \"It scans the image\"\n\
             tags-per-image = 1000\n",
        );
        let lab = Lab::builtin_push_to_ecr();
        let mut output = Vec::new();
        let passed = run(&lab, Some(&path), Cursor::new(""), &mut output).expect("quiz runs");
        std::fs::remove_file(&path).expect("temporary file is removable");

        let output = String::from_utf8(output).expect("UTF-8 output");
        assert!(!passed);
        assert!(
            output.contains(
                "  Partly correct, for 0.5 of the credit. The correct answer is: https://"
            ),
            "{output}"
        );
        // The scan-on-push answer names one of its three concepts.
        assert!(
            output.contains("  Partly correct, for 0.33 of the credit."),
            "{output}"
        );
        assert!(!output.contains("Try again"), "{output}");
        assert!(
            output.ends_with("Score: 1.83 of 5 (1 of 5 questions correct).\n"),
            "{output}"
        );
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
