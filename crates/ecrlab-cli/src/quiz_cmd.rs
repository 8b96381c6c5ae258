//! `ecrlab quiz`: asks a lab's questions one by one, or grades a file of answers.
//!
//! Interactive mode reads one answer per line. An answer that cannot be read for its question
//! (no unit on a duration, two different numbers, bytes that are not UTF-8) gets the reason and
//! does not use a try. An answer that is not correct gets short feedback and another try while
//! the question allows one; `skip` moves on. Only once a question is finished, by a correct
//! answer or its last try, does the feedback state the correct answer, the explanation and its
//! source, the explanation of a known misconception when the answer matches one, and the
//! question's score. A question left with tries, by `skip`, the end of input or an answers file,
//! gets the feedback between tries only, because a later run asks it again. The total adds up
//! the scores, so partial credit and retry penalties show in it.
//!
//! A question about scan findings is graded from the mock's evidence. While that evidence is
//! missing, it is not asked, and an answers file's answer to it is not recorded, so that no try
//! is spent on an answer that cannot be graded.
//!
//! Answers recorded in the student's progress by earlier runs count as earlier tries. Every
//! score printed grades all recorded answers with `Question::grade_attempts`, as `ecrlab
//! report` does, so running the quiz again never lowers a score: a finished question is not
//! asked again, and an empty line or the end of input adds no try. Each answer is saved to the
//! progress file before its feedback is printed, so an interrupted quiz keeps every answer
//! given, and a failed save stops the quiz.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::Context as _;
use ecrlab_core::lab::Lab;
use ecrlab_core::progress::{self, Progress, STATE_DIR_VARIABLE};
use ecrlab_core::quiz::{AnswerSheet, Grade, Question, QuestionResult, QuizResult};

/// The word that skips a question in interactive mode.
const SKIP: &str = "skip";

/// Runs the quiz of `lab` like [`run_with_progress`], saving each answer given to the lab's
/// progress file at once.
///
/// A progress file that cannot be read is reported and left as it is, and the quiz runs
/// without recording.
pub fn run_recorded(
    lab: &Lab,
    answers_file: Option<&Path>,
    input: impl BufRead,
    output: impl Write,
) -> anyhow::Result<bool> {
    let loaded = progress::progress_path(&lab.id)
        .and_then(|path| Progress::load_from(&path, lab).map(|progress| (progress, path)));
    match loaded {
        Ok((mut progress, path)) => {
            let recorder = Recorder {
                progress: &mut progress,
                path: Some(&path),
            };
            run_with_progress(lab, answers_file, input, output, recorder)
        }
        Err(error) => {
            eprintln!("ecrlab: warning: {error}; this quiz's answers are not recorded");
            let mut progress = Progress::new(lab);
            run_with_progress(
                lab,
                answers_file,
                input,
                output,
                Recorder::unsaved(&mut progress),
            )
        }
    }
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
    let mut progress = Progress::new(lab);
    run_with_progress(
        lab,
        answers_file,
        input,
        output,
        Recorder::unsaved(&mut progress),
    )
}

/// The student's progress, which the quiz appends each answer to.
struct Recorder<'a> {
    progress: &'a mut Progress,
    /// The file that the progress is saved to after each answer, or `None` to keep the answers
    /// in memory only.
    path: Option<&'a Path>,
}

impl<'a> Recorder<'a> {
    /// Returns a recorder that keeps the answers in `progress` and saves them nowhere.
    fn unsaved(progress: &'a mut Progress) -> Recorder<'a> {
        Recorder {
            progress,
            path: None,
        }
    }

    /// Returns every recorded answer to `question`, oldest first.
    fn answers(&self, question: &Question) -> Vec<String> {
        self.progress
            .quiz_attempts
            .get(question.id())
            .cloned()
            .unwrap_or_default()
    }

    /// Appends `answer` to the answers to `question` and saves the progress file. A failed
    /// save is an error, so the caller stops before its feedback shows what the unrecorded
    /// answer earned.
    fn record(&mut self, question: &Question, answer: &str) -> anyhow::Result<()> {
        self.progress.record_quiz_attempt(question.id(), answer);
        let Some(path) = self.path else {
            return Ok(());
        };
        self.progress.save_to(path).map_err(|error| {
            let folder = path.parent().unwrap_or(path);
            anyhow::anyhow!(
                "{error}; the quiz stops because your answer to question {} could not be recorded. Make {} writable, or set {STATE_DIR_VARIABLE} to a writable folder, then run the quiz again; the answers recorded before this one are kept",
                question.id(),
                folder.display()
            )
        })
    }
}

/// Runs the quiz of `lab`, from `answers_file` when given, otherwise interactively on `input`,
/// and records every answer given, each try included, with `recorder`. Writes feedback to
/// `output` and returns whether every question was answered correctly, on any try.
///
/// The answers already recorded count as earlier tries: a finished question is not asked
/// again, and the scores printed are those of every recorded answer, which `ecrlab report`
/// grades the same way.
fn run_with_progress(
    lab: &Lab,
    answers_file: Option<&Path>,
    mut input: impl BufRead,
    mut output: impl Write,
    mut recorder: Recorder<'_>,
) -> anyhow::Result<bool> {
    if lab.questions.is_empty() {
        anyhow::bail!(
            "lab {} ({}) has no questions; add [[questions]] tables to it",
            lab.id,
            lab.origin
        );
    }

    match answers_file {
        Some(path) => grade_file(lab, path, &mut recorder, &mut output)?,
        None => ask(lab, &mut recorder, &mut input, &mut output)?,
    }
    let result = QuizResult::grade(&lab.questions, &recorder.progress.quiz_attempts);

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
    recorder: &mut Recorder<'_>,
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
        let recorded = recorder.answers(question);
        let earlier = question.grade_attempts(&recorded);
        let answer = sheet.answer(question.id());
        writeln!(output, "  Your answer: {}", answer.unwrap_or("(none)"))?;
        if let (Some(_), Some(reason)) = (answer, question.grading_unavailable()) {
            writeln!(output, "  Not recorded: {reason}.")?;
            continue;
        }

        match answer {
            Some(answer) if recorded.last().is_some_and(|newest| newest == answer) => {
                writeln!(
                    output,
                    "  This answer is already recorded, so it does not use another try."
                )?;
                write_result(output, &earlier)?;
            }
            Some(_) if earlier.tries_left() == 0 => {
                writeln!(
                    output,
                    "  Not recorded: this question has no tries left; `ecrlab progress reset` starts over."
                )?;
                write_recorded_result(output, &earlier)?;
            }
            Some(answer) => {
                recorder.record(question, answer)?;
                let result = question.grade_attempts(&recorder.answers(question));
                write_result(output, &result)?;
            }
            None if !recorded.is_empty() => write_recorded_result(output, &earlier)?,
            None => write_result(output, &earlier)?,
        }
    }
    Ok(())
}

fn ask(
    lab: &Lab,
    recorder: &mut Recorder<'_>,
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
        if let Some(reason) = question.grading_unavailable() {
            writeln!(output, "  Not asked in this run: {reason}.")?;
            continue;
        }
        let earlier = question.grade_attempts(&recorder.answers(question));
        if earlier.tries_left() == 0 {
            write_already_answered(output, &earlier)?;
            continue;
        }
        write_tries(output, question)?;
        write_earlier_tries(output, &earlier)?;

        let outcome = ask_question(question, recorder, input, output)?;
        let tries_left = outcome.result.tries_left();
        if tries_left == 0 {
            write_result(output, &outcome.result)?;
        } else if !outcome.input_ended {
            writeln!(
                output,
                "  Skipped with {}, and a score so far of {} of 1; the next run of the quiz asks this question again.",
                count_tries(tries_left),
                format_points(outcome.result.score)
            )?;
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

/// Writes the feedback on a question after this run's answer. Once the question is finished,
/// that is the full feedback, with the correct answer and the question's score. While tries
/// remain, it is only what [`Grade::retry_feedback`] shows, because a later run still accepts
/// a retry, and the feedback must not give the answer away.
fn write_result(output: &mut impl Write, result: &QuestionResult) -> anyhow::Result<()> {
    let tries_left = result.tries_left();
    if tries_left == 0 {
        write_indented(output, &result.feedback())?;
        write_earlier_misconceptions(output, result)?;
    } else if result.attempts.is_empty() {
        writeln!(
            output,
            "  Not answered yet, with {}; the quiz shows the correct answer once you answer correctly or use every try.",
            count_tries(tries_left)
        )?;
    } else {
        write_indented(output, &result.last_grade().retry_feedback(tries_left))?;
        writeln!(
            output,
            "  Score so far: {} of 1.",
            format_points(result.score)
        )?;
    }
    Ok(())
}

/// Writes the result of a question's recorded answers, labelled as such, where the answer
/// being graded is not recorded or missing. The correct answer and the explanation follow
/// only when the question has no tries left.
fn write_recorded_result(output: &mut impl Write, result: &QuestionResult) -> anyhow::Result<()> {
    let grade = scoring_grade(result);
    writeln!(
        output,
        "  Your recorded result: {:?}, {}, score {} of 1.",
        grade.answer.as_deref().unwrap_or_default(),
        grade.verdict.label(),
        format_points(result.score)
    )?;
    let tries_left = result.tries_left();
    if tries_left > 0 {
        writeln!(
            output,
            "  You have {}; add an answer to the file to use one.",
            count_tries(tries_left)
        )?;
        return Ok(());
    }
    writeln!(output, "  The correct answer is: {}", grade.correct_answer)?;
    write_indented(output, &grade.explanation)?;
    writeln!(output, "  Source: {}", grade.source)?;
    Ok(())
}

/// Returns the grade of the answer that a question's score came from, or of the newest answer
/// when none scored.
fn scoring_grade(result: &QuestionResult) -> &Grade {
    result.best_attempt.map_or_else(
        || result.last_grade(),
        |index| &result.attempts[index].grade,
    )
}

/// Writes the one line that replaces a finished question: the answer its score came from, or
/// the newest answer when none scored.
fn write_already_answered(output: &mut impl Write, result: &QuestionResult) -> anyhow::Result<()> {
    writeln!(
        output,
        "  Already answered: {:?}, score {} of 1; `ecrlab progress reset` starts over.",
        scoring_grade(result).answer.as_deref().unwrap_or_default(),
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
    writeln!(
        output,
        "  You used {used} {tries} earlier, for a score of {} of 1; {} left, and a retry keeps the better score.",
        format_points(result.score),
        count_tries(result.tries_left())
    )?;
    Ok(())
}

/// Formats a number of tries: `1 try`, `2 tries`.
fn count_tries(count: u32) -> String {
    if count == 1 {
        "1 try".to_owned()
    } else {
        format!("{count} tries")
    }
}

/// The result of asking one question in interactive mode.
struct QuestionOutcome {
    /// The question graded over every recorded answer.
    result: QuestionResult,
    /// Whether the input ended before the question was finished.
    input_ended: bool,
}

/// Reads answers to `question` after the recorded ones until one is correct, every try is
/// used, the student skips or the input ends. Records each readable answer before grading it,
/// and prints the reason for an answer that cannot be read and feedback without the correct
/// answer between tries.
fn ask_question(
    question: &Question,
    recorder: &mut Recorder<'_>,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> anyhow::Result<QuestionOutcome> {
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

        recorder.record(question, &answer)?;
        let result = question.grade_attempts(&recorder.answers(question));
        let tries_left = result.tries_left();
        if tries_left == 0 {
            break false;
        }
        write_indented(output, &result.last_grade().retry_feedback(tries_left))?;
    };
    Ok(QuestionOutcome {
        result: question.grade_attempts(&recorder.answers(question)),
        input_ended,
    })
}

/// Prompts for an answer and reads the next line that is not blank. Returns `None` at the end
/// of input. A line that is not valid UTF-8 is rejected with a message, and the prompt
/// repeats.
fn read_answer(
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> anyhow::Result<Option<String>> {
    loop {
        write!(output, "> ")?;
        output.flush().context("failed to write the quiz prompt")?;

        let mut bytes = Vec::new();
        let read = input
            .read_until(b'\n', &mut bytes)
            .context("failed to read an answer from standard input")?;
        if read == 0 {
            return Ok(None);
        }
        let Ok(line) = String::from_utf8(bytes) else {
            writeln!(
                output,
                "  Your answer contains bytes that are not valid UTF-8, so it was not read; check the terminal's character encoding and type the answer again, or type {SKIP}."
            )?;
            continue;
        };
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

    /// Returns the built-in lab without its question about scan findings, whose answers the
    /// mock's evidence decides. The tests below exercise the quiz on the five questions with
    /// fixed answers; the tests after `finding_question_waits_for_evidence` cover the other.
    fn quiz_lab() -> Lab {
        let mut lab = Lab::builtin_push_to_ecr();
        lab.questions.retain(|question| !question.needs_evidence());
        lab
    }

    fn run_interactive(input: &str) -> (bool, String) {
        let lab = quiz_lab();
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
        let mut progress = Progress::new(&quiz_lab());
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
        let lab = quiz_lab();
        let mut output = Vec::new();
        run_with_progress(
            &lab,
            file,
            Cursor::new(input),
            &mut output,
            Recorder::unsaved(progress),
        )
        .expect("quiz runs");
        String::from_utf8(output).expect("UTF-8 output")
    }

    /// Formats the total line for the score that `ecrlab report` computes from `progress`: the
    /// sum of `grade_attempts` over every recorded answer.
    fn report_total(progress: &Progress) -> String {
        let lab = quiz_lab();
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
    /// are a partly correct answer, a blank line and a skip, an answer that states the opposite
    /// and a correct retry, a skipped question, an unreadable answer and two wrong tries, and a
    /// misconception and a correct retry.
    const TRANSCRIPT_INPUT: &str = "\
http://<aws_account_id>.dkr.ecr.<region>.amazonaws.com

skip
Tags get overwritten when you push again
A pushed tag cannot be overwritten
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

    /// Returns the part of `output` about question `number` of 5.
    fn question_section(output: &str, number: usize) -> &str {
        let start = output
            .find(&format!("Question {number} of 5"))
            .unwrap_or_else(|| panic!("question {number} is asked: {output}"));
        let end = output[start..]
            .find("\nQuestion ")
            .or_else(|| output[start..].find("\nScore: "))
            .map_or(output.len(), |length| start + length);
        &output[start..end]
    }

    #[test]
    fn interactive_retry_feedback_hides_answer() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        let retry =
            "  Not correct yet. Try again (1 try left).\n  This answer is a common mistake.\n> ";
        assert!(output.contains(retry), "{output}");

        let second = question_section(&output, 2);
        assert!(
            second.contains("  Not correct yet. Try again (1 try left).\n"),
            "{output}"
        );
        assert!(
            second.contains(
                "  Score: 0.5 of 1, from try 2 of 2, after losing 0.5 of the credit per retry.\n"
            ),
            "{output}"
        );
    }

    #[test]
    fn interactive_skip_hides_answer() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        for number in [1, 3] {
            let section = question_section(&output, number);
            assert!(!section.contains("The correct answer is"), "{section}");
            assert!(!section.contains("Source: "), "{section}");
        }
        assert!(
            question_section(&output, 3).contains(
                "  Skipped with 2 tries, and a score so far of 0 of 1; the next run of the quiz asks this question again.\n"
            ),
            "{output}"
        );
    }

    #[test]
    fn interactive_partial_answer_keeps_credit_on_skip() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        let first = question_section(&output, 1);
        assert!(
            first.contains(
                "  Partly correct, for 0.5 of the credit. Try again (1 try left); a retry keeps the better score.\n"
            ),
            "{output}"
        );
        assert!(
            first.contains(
                "  Skipped with 1 try, and a score so far of 0.5 of 1; the next run of the quiz asks this question again.\n"
            ),
            "{output}"
        );
    }

    #[test]
    fn interactive_opposite_answer_earns_nothing() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        let second = question_section(&output, 2);
        assert!(!second.contains("Partly correct"), "{second}");
        assert!(
            second.contains(
                "  Not correct yet. Try again (1 try left).\n  - your answer does not say that a tag, once pushed, cannot be overwritten or moved to another image\n"
            ),
            "{second}"
        );
    }

    #[test]
    fn interactive_total_adds_partial_credit() {
        let (_, output) = run_interactive(TRANSCRIPT_INPUT);
        // 0.5 for the partly correct answer, 0.5 for each correct retry, 0 for the rest.
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
        let lab = quiz_lab();
        let mut progress = Progress::new(&lab);
        let input = Cursor::new(
            "public.ecr.aws\nhttps://<aws_account_id>.dkr.ecr.<region>.amazonaws.com\nskip\nskip\n12\n12 hours\n",
        );
        run_with_progress(
            &lab,
            None,
            input,
            Vec::new(),
            Recorder::unsaved(&mut progress),
        )
        .expect("quiz runs");

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

    /// Input that fails once its lines are read, as a terminal closed during the quiz does.
    struct ClosedTerminal;

    impl std::io::Read for ClosedTerminal {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("the terminal was closed"))
        }
    }

    #[test]
    fn interactive_saves_each_answer_at_once() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("progress").join("push-to-ecr.json");
        let lab = quiz_lab();
        let mut progress = Progress::new(&lab);
        let recorder = Recorder {
            progress: &mut progress,
            path: Some(&path),
        };
        let input = std::io::BufReader::new(std::io::Read::chain(
            Cursor::new("public.ecr.aws\n"),
            ClosedTerminal,
        ));

        let error = run_with_progress(&lab, None, input, Vec::new(), recorder)
            .expect_err("the closed terminal fails the quiz");
        assert!(
            format!("{error:#}").contains("the terminal was closed"),
            "{error:#}"
        );
        let saved = Progress::load_from(&path, &lab).expect("progress file is readable");
        assert_eq!(saved.quiz_attempts["registry-url"], ["public.ecr.aws"]);
    }

    #[test]
    fn interactive_save_failure_stops_quiz() {
        let folder = tempfile::tempdir().expect("temporary folder");
        // A regular file where the progress folder belongs makes every save fail.
        let blocker = folder.path().join("progress");
        std::fs::write(&blocker, "").expect("temporary file is writable");
        let path = blocker.join("push-to-ecr.json");
        let lab = quiz_lab();
        let mut progress = Progress::new(&lab);
        let recorder = Recorder {
            progress: &mut progress,
            path: Some(&path),
        };
        let input = Cursor::new("public.ecr.aws\nlocalhost\nskip\n");
        let mut output = Vec::new();

        let error = run_with_progress(&lab, None, input, &mut output, recorder)
            .expect_err("the failed save stops the quiz");
        let message = error.to_string();
        let output = String::from_utf8(output).expect("UTF-8 output");
        assert!(
            message.starts_with(&format!(
                "failed to write progress file {}: ",
                path.display()
            )),
            "{message}"
        );
        assert!(
            message.contains("your answer to question registry-url could not be recorded"),
            "{message}"
        );
        assert!(
            message.contains(&format!(
                "Make {} writable, or set ECRLAB_STATE_DIR to a writable folder",
                blocker.display()
            )),
            "{message}"
        );
        // The quiz stops before the answer's feedback and asks nothing more.
        assert_eq!(output.matches("> ").count(), 1, "{output}");
        assert!(!output.contains("Not correct yet"), "{output}");
        assert!(!output.contains("Score: "), "{output}");
    }

    #[test]
    fn interactive_non_utf8_answer_asks_again() {
        let lab = quiz_lab();
        let input: &[u8] = b"skip\nskip\nskip\n12 h\xff\xfeours\n12 hours\nskip\n";
        let mut output = Vec::new();
        let passed = run(&lab, None, Cursor::new(input), &mut output).expect("quiz runs");
        let output = String::from_utf8(output).expect("UTF-8 output");

        assert!(!passed);
        assert!(
            question_section(&output, 4).contains(
                ">   Your answer contains bytes that are not valid UTF-8, so it was not read; check the terminal's character encoding and type the answer again, or type skip.\n>   Correct.\n"
            ),
            "{output}"
        );
        assert!(
            output.ends_with("Score: 1 of 5 (1 of 5 questions correct).\n"),
            "{output}"
        );
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
    fn interactive_end_of_input_hides_answer() {
        let (_, output) = run_interactive("public.ecr.aws\n");
        let feedback =
            "  Not correct yet. Try again (1 try left).\n  This answer is a common mistake.\n> \n";
        assert!(output.contains(feedback), "{output}");
        assert!(!output.contains("The correct answer is"), "{output}");
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
            // 1 for registry-url, 0 for the incomplete tag-immutability answer, 1 for
            // token-validity.
            assert!(
                output.ends_with("\nScore: 2 of 5 (2 of 5 questions correct).\n"),
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
                "  Not recorded: this question has no tries left; `ecrlab progress reset` starts over.\n  Your recorded result: \"1 day\", incorrect, score 0 of 1.\n  The correct answer is: 12 hours\n"
            ),
            "{first}"
        );
        assert!(
            first.contains(
                "  Your answer: (none)\n  Your recorded result: \"1000\", correct, score 1 of 1.\n"
            ),
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
        let lab = quiz_lab();
        let mut output = Vec::new();
        let passed = run(&lab, Some(&path), Cursor::new(""), &mut output).expect("quiz runs");
        std::fs::remove_file(&path).expect("temporary file is removable");

        let output = String::from_utf8(output).expect("UTF-8 output");
        assert!(!passed);
        assert!(output.contains("  Your answer: (none)"), "{output}");
        // 100 is a misconception, and its explanation waits for the question's last try.
        assert!(
            question_section(&output, 5).contains(
                "  Not correct yet. Try again (1 try left).\n  This answer is a common mistake.\n  Score so far: 0 of 1.\n"
            ),
            "{output}"
        );
        assert!(!output.contains("100 is an old limit"), "{output}");
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
        let lab = quiz_lab();
        let mut output = Vec::new();
        let passed = run(&lab, Some(&path), Cursor::new(""), &mut output).expect("quiz runs");
        std::fs::remove_file(&path).expect("temporary file is removable");

        let output = String::from_utf8(output).expect("UTF-8 output");
        assert!(!passed);
        assert!(
            question_section(&output, 1).contains(
                "  Partly correct, for 0.5 of the credit. Try again (1 try left); a retry keeps the better score.\n"
            ),
            "{output}"
        );
        // The scan-on-push answer names one of its three concepts, and the question gives no
        // partial credit.
        assert!(
            question_section(&output, 3).contains("  Not correct yet. Try again (1 try left).\n"),
            "{output}"
        );
        assert!(
            output.ends_with("Score: 1.5 of 5 (1 of 5 questions correct).\n"),
            "{output}"
        );
    }

    #[test]
    fn answers_file_retry_hides_answer() {
        let path = answers_file(
            "retry.toml",
            "registry-url = \"http://<aws_account_id>.dkr.ecr.<region>.amazonaws.com\"\n\
             token-validity = \"30 minutes\"\n",
        );
        let lab = quiz_lab();
        let mut output = Vec::new();
        run(&lab, Some(&path), Cursor::new(""), &mut output).expect("quiz runs");
        std::fs::remove_file(&path).expect("temporary file is removable");

        let output = String::from_utf8(output).expect("UTF-8 output");
        assert!(!output.contains("The correct answer is"), "{output}");
        assert!(!output.contains("Source: "), "{output}");
        assert!(
            question_section(&output, 1).contains("  Score so far: 0.5 of 1.\n"),
            "{output}"
        );
        assert!(
            question_section(&output, 2).contains(
                "  Your answer: (none)\n  Not answered yet, with 2 tries; the quiz shows the correct answer once you answer correctly or use every try.\n"
            ),
            "{output}"
        );
    }

    #[test]
    fn answers_file_last_try_shows_answer() {
        let path = answers_file("last-try.toml", "token-validity = \"13 hours\"\n");
        let mut progress = progress_with(&[("token-validity", &["30 minutes"])]);
        let output = run_again(&mut progress, Some(&path), "");
        std::fs::remove_file(&path).expect("temporary file is removable");

        let fourth = question_section(&output, 4);
        assert!(
            fourth.contains("  Incorrect. The correct answer is: 12 hours\n"),
            "{output}"
        );
        assert!(
            fourth.contains("  Your earlier answer \"30 minutes\" is a common mistake: "),
            "{output}"
        );
    }

    #[test]
    fn answers_file_no_tries_left_labels_recorded_result() {
        let path = answers_file("finished.toml", "registry-url = \"public.ecr.aws\"\n");
        let mut progress = progress_with(&[("registry-url", &[REGISTRY_URL])]);
        let output = run_again(&mut progress, Some(&path), "");
        std::fs::remove_file(&path).expect("temporary file is removable");

        let first = question_section(&output, 1);
        assert!(
            first.contains(&format!(
                "  Your answer: public.ecr.aws\n  Not recorded: this question has no tries left; `ecrlab progress reset` starts over.\n  Your recorded result: \"{REGISTRY_URL}\", correct, score 1 of 1.\n"
            )),
            "{output}"
        );
        assert!(!first.contains("  Correct."), "{output}");
        assert_eq!(progress.quiz_attempts["registry-url"], [REGISTRY_URL]);
    }

    #[test]
    fn answers_file_with_unknown_id_fails() {
        let path = answers_file("unknown.toml", "tag-count = \"1000\"\n");
        let lab = quiz_lab();
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
        let lab = quiz_lab();
        let path = Path::new("/nonexistent/answers.toml");
        let error = run(&lab, Some(path), Cursor::new(""), Vec::new()).expect_err("no file");
        assert!(
            error
                .to_string()
                .starts_with("failed to read answers file /nonexistent/answers.toml"),
            "{error}"
        );
    }

    /// Returns the evidence of one image pushed as `my-app:scan` to a repository that scans on
    /// push, whose scan found a HIGH finding in libssl3 and a LOW one in libc6.
    fn scanned_evidence() -> ecrlab_core::evidence::Evidence {
        use ecrlab_core::evidence::{
            Evidence, ImageScan, ImageState, JournalEvent, Outcome, RepositoryState, ScanFinding,
            Source,
        };
        const DIGEST: &str =
            "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        let event = |seq: u64, source: Source, action: &str| JournalEvent {
            seq,
            time: format!("2026-03-01T10:{seq:02}:00Z"),
            account: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            source,
            action: action.to_owned(),
            repository: Some("my-app".to_owned()),
            reference: Some("scan".to_owned()),
            digest: Some(DIGEST.to_owned()),
            host: Some("localhost:5000".to_owned()),
            user_agent: Some("docker/27.3.1".to_owned()),
            outcome: Outcome::Ok,
            error_code: None,
            message: None,
        };
        let finding = |name: &str, severity: &str, package: &str| ScanFinding {
            name: name.to_owned(),
            severity: severity.to_owned(),
            package_name: Some(package.to_owned()),
            package_version: None,
        };
        Evidence {
            events: vec![
                event(1, Source::Scanner, "ImageScanStarted"),
                event(2, Source::Registry, "ManifestPut"),
                event(3, Source::Scanner, "ImageScanCompleted"),
            ],
            repositories: vec![RepositoryState {
                region: "us-east-1".to_owned(),
                name: "my-app".to_owned(),
                uri: "localhost:5000/my-app".to_owned(),
                tag_mutability: "IMMUTABLE".to_owned(),
                scan_on_push: true,
                images: vec![ImageState {
                    digest: DIGEST.to_owned(),
                    tags: vec!["scan".to_owned()],
                    size_bytes: 6_144,
                    manifest_media_type: None,
                    pushed_at: None,
                    scan: Some(ImageScan {
                        status: "COMPLETE".to_owned(),
                        description: None,
                        completed_at: None,
                        findings: vec![
                            finding("CVE-2026-28388", "HIGH", "libssl3"),
                            finding("CVE-2026-4438", "LOW", "libc6"),
                        ],
                    }),
                }],
            }],
        }
    }

    /// Returns the built-in lab, whose question about scan findings has read no evidence.
    fn lab_without_evidence() -> Lab {
        Lab::builtin_push_to_ecr()
    }

    const NO_EVIDENCE: &str = "this question is graded from the scan findings of the images you pushed, which were not read from the mock; start the mock with `ecrlab serve` and answer again";

    #[test]
    fn finding_question_waits_for_evidence() {
        let lab = lab_without_evidence();
        let mut progress = Progress::new(&lab);
        let mut output = Vec::new();
        let input = format!(
            "{REGISTRY_URL}\nA tag cannot be overwritten\nIt scans each pushed image for CVEs\n12 hours\n1000\nlibssl3\n"
        );
        let passed = run_with_progress(
            &lab,
            None,
            Cursor::new(input),
            &mut output,
            Recorder::unsaved(&mut progress),
        )
        .expect("quiz runs");
        let output = String::from_utf8(output).unwrap();

        assert!(!passed, "{output}");
        assert!(
            output.contains(&format!(
                "Question 6 of 6 (scan-finding): Which package of the image you pushed in the scanning step has a finding of severity HIGH or CRITICAL? Answer with its package_name, as aws ecr describe-image-scan-findings prints it.\n  Not asked in this run: {NO_EVIDENCE}.\n"
            )),
            "{output}"
        );
        assert!(
            output.ends_with("\nScore: 5 of 6 (5 of 6 questions correct).\n"),
            "{output}"
        );
        assert!(!progress.quiz_attempts.contains_key("scan-finding"));
    }

    #[test]
    fn answers_file_finding_not_recorded_without_evidence() {
        let path = answers_file("finding.toml", "scan-finding = \"libssl3\"\n");
        let lab = lab_without_evidence();
        let mut progress = Progress::new(&lab);
        let mut output = Vec::new();
        run_with_progress(
            &lab,
            Some(&path),
            Cursor::new(""),
            &mut output,
            Recorder::unsaved(&mut progress),
        )
        .expect("quiz runs");
        std::fs::remove_file(&path).expect("temporary file is removable");
        let output = String::from_utf8(output).unwrap();

        assert!(
            output.contains(&format!(
                "  Your answer: libssl3\n  Not recorded: {NO_EVIDENCE}.\n"
            )),
            "{output}"
        );
        assert!(!progress.quiz_attempts.contains_key("scan-finding"));
    }

    #[test]
    fn finding_question_graded_from_evidence() {
        let mut lab = Lab::builtin_push_to_ecr();
        lab.questions =
            ecrlab_core::quiz::questions_with_evidence(&lab.questions, &scanned_evidence());
        lab.questions
            .retain(|question| question.id() == "scan-finding");
        let run_on = |input: &str| {
            let mut progress = Progress::new(&lab);
            let mut output = Vec::new();
            let passed = run_with_progress(
                &lab,
                None,
                Cursor::new(input.to_owned()),
                &mut output,
                Recorder::unsaved(&mut progress),
            )
            .expect("quiz runs");
            (passed, String::from_utf8(output).unwrap(), progress)
        };

        let (passed, output, progress) = run_on("libc6\nlibssl3\n");
        assert!(passed, "{output}");
        assert!(
            output.contains(
                "  Not correct yet. Try again (1 try left).\n  - package libc6 has findings of severity LOW in my-app:scan, and the question asks for HIGH or CRITICAL\n"
            ),
            "{output}"
        );
        assert!(output.contains(">   Correct.\n"), "{output}");
        assert_eq!(progress.quiz_attempts["scan-finding"], ["libc6", "libssl3"]);

        let (passed, output, _) = run_on("libc6\nopenssl\n");
        assert!(!passed, "{output}");
        assert!(
            output
                .contains("The correct answer is: libssl3 (HIGH CVE-2026-28388 in my-app:scan)\n"),
            "{output}"
        );
    }
}
