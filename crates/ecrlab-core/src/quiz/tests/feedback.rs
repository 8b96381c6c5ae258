//! Feedback text, pinned by insta snapshots.

use super::*;

fn scored(id: &str, text: &str) -> Question {
    let spec: ScoringSpec =
        toml::from_str(text).unwrap_or_else(|error| panic!("scoring keys {text:?}: {error}"));
    builtin(id)
        .with_scoring(&spec, &Scoring::default())
        .unwrap_or_else(|problems| panic!("scoring {text:?} of {id}: {problems:?}"))
}

#[test]
fn feedback_correct_answer() {
    let grade = grade(&builtin("token-validity"), "720 minutes");
    insta::assert_snapshot!("feedback_correct", grade.feedback());
}

#[test]
fn feedback_partly_correct_answer() {
    let question = scored("scan-on-push", "partial_credit = { concepts = true }");
    let grade = grade(&question, "It scans pushed images");
    insta::assert_snapshot!("feedback_partly_correct", grade.feedback());
}

#[test]
fn feedback_misconception() {
    let grade = grade(&builtin("tags-per-image"), "50 tags");
    insta::assert_snapshot!("feedback_misconception", grade.feedback());
}

#[test]
fn feedback_wrong_answer() {
    let grade = grade(
        &builtin("registry-url"),
        "http://123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app",
    );
    insta::assert_snapshot!("feedback_wrong", grade.feedback());
}

#[test]
fn feedback_unanswered() {
    let grade = builtin("token-validity").grade_unanswered();
    insta::assert_snapshot!("feedback_unanswered", grade.feedback());
}

#[test]
fn retry_feedback_hides_the_answer() {
    let question = builtin("token-validity");
    let misconception = grade(&question, "30 minutes");
    let text = misconception.retry_feedback(2);
    assert!(!text.contains("12 hours"), "{text}");
    assert!(!text.contains(question.explanation()), "{text}");
    insta::assert_snapshot!("retry_feedback_misconception", text);

    let partial = grade(
        &scored("scan-on-push", "partial_credit = { concepts = true }"),
        "It scans images",
    );
    insta::assert_snapshot!("retry_feedback_partial", partial.retry_feedback(1));
}

#[test]
fn question_result_feedback_names_try_and_penalty() {
    let question = scored("token-validity", "attempts = 3\nretry_penalty = 0.25");
    let answers = ["1 day".to_owned(), "12h".to_owned()];
    let result = question.grade_attempts(&answers);
    insta::assert_snapshot!("result_feedback_retry", result.feedback());

    let single = builtin("tags-per-image").grade_attempts(&["100".to_owned()]);
    assert!(
        single.feedback().ends_with("\nScore: 0 of 1."),
        "{}",
        single.feedback()
    );
    let skipped = builtin("tags-per-image").grade_attempts(&[]);
    assert!(
        skipped
            .feedback()
            .starts_with("Incorrect. The correct answer is: 1,000\n- no answer was given\n"),
        "{}",
        skipped.feedback()
    );
}

#[test]
fn format_score_trims_zeros() {
    let cases = [
        (1.0, "1"),
        (0.0, "0"),
        (0.5, "0.5"),
        (2.0 / 3.0, "0.67"),
        (0.25, "0.25"),
        (10.0, "10"),
    ];
    for (score, text) in cases {
        assert_eq!(
            crate::quiz::feedback::format_score(score),
            text,
            "score {score}"
        );
    }
}
