//! Attempts, retry penalties, partial credit, hedges and contradictions.

use std::collections::BTreeMap;

use super::*;

/// Parses scoring keys as a lab file writes them.
fn scoring_spec(text: &str) -> ScoringSpec {
    toml::from_str(text).unwrap_or_else(|error| panic!("scoring keys {text:?}: {error}"))
}

/// Returns a built-in question with the scoring keys `text` over the default scoring.
fn scored(id: &str, text: &str) -> Question {
    builtin(id)
        .with_scoring(&scoring_spec(text), &Scoring::default())
        .unwrap_or_else(|problems| panic!("scoring {text:?} of {id}: {problems:?}"))
}

fn answers(list: &[&str]) -> Vec<String> {
    list.iter().map(|answer| (*answer).to_owned()).collect()
}

#[test]
fn answers_of_every_kind_grade_as_expected() {
    let cases = [
        ("token-validity", "12 hours", Verdict::Correct),
        ("token-validity", "720 minutes", Verdict::Correct),
        ("token-validity", "43200 s", Verdict::Correct),
        ("token-validity", "43,200 seconds", Verdict::Correct),
        ("token-validity", "12h", Verdict::Correct),
        ("token-validity", "0.5 days", Verdict::Correct),
        ("token-validity", "13 hours", Verdict::Incorrect),
        ("tags-per-image", "1000", Verdict::Correct),
        ("tags-per-image", "1,000", Verdict::Correct),
        ("tags-per-image", "1000 tags", Verdict::Correct),
        ("tags-per-image", "1,000 tags per image", Verdict::Correct),
        ("tags-per-image", "10,000", Verdict::Incorrect),
        (
            "registry-url",
            "https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com",
            Verdict::Correct,
        ),
        (
            "registry-url",
            "https://123456789012.dkr.ecr.ap-southeast-2.amazonaws.com",
            Verdict::Correct,
        ),
        (
            "registry-url",
            "https://123456789012.dkr.ecr.<region>.amazonaws.com",
            Verdict::Correct,
        ),
        (
            "registry-url",
            "https://<aws_account_id>.dkr.ecr.eu-north-1.amazonaws.com",
            Verdict::Correct,
        ),
        (
            "registry-url",
            "https://12345678901.dkr.ecr.eu-north-1.amazonaws.com",
            Verdict::Incorrect,
        ),
        (
            "tag-immutability",
            "Once pushed, a tag cannot be moved to another image",
            Verdict::Correct,
        ),
        (
            "tag-immutability",
            "Images are immutable",
            Verdict::Incorrect,
        ),
        (
            "scan-on-push",
            "Each pushed image is scanned for known CVEs",
            Verdict::Correct,
        ),
    ];
    for (id, answer, verdict) in cases {
        let grade = grade(&builtin(id), answer);
        assert_eq!(grade.verdict, verdict, "{id}: answer {answer:?}");
        let score = if verdict == Verdict::Correct {
            1.0
        } else {
            0.0
        };
        assert_eq!(grade.score, score, "{id}: answer {answer:?}");
    }
}

#[test]
fn text_hedged_answers_earn_nothing() {
    let question = builtin("tag-immutability");
    for (answer, hedge) in [
        ("Maybe a pushed tag cannot be overwritten", "maybe"),
        ("I think tags cannot be moved once pushed", "i think"),
        ("Not sure, but a tag can only be pushed once", "not sure"),
        ("Tags are probably locked to their image", "probably"),
    ] {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, Verdict::Incorrect, "answer {answer:?}");
        assert_eq!(grade.score, 0.0, "answer {answer:?}");
        assert_eq!(
            grade.notes,
            vec![format!(
                "your answer hedges with \"{hedge}\", and a hedged answer earns no credit; state the answer without it"
            )],
            "answer {answer:?}"
        );
    }
}

#[test]
fn text_contradictory_answers_earn_nothing() {
    let question = scored("tag-immutability", "partial_credit = { concepts = true }");
    for answer in [
        "A tag cannot be overwritten, but it can be overwritten by an administrator",
        "Tags are not moved, though an admin may move them",
        "A pushed tag can never be changed, but it could be changed later",
    ] {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, Verdict::Incorrect, "answer {answer:?}");
        assert_eq!(grade.score, 0.0, "answer {answer:?}");
        assert!(
            grade
                .notes
                .iter()
                .any(|note| note.contains("says both that")),
            "answer {answer:?}: notes {:?}",
            grade.notes
        );
    }
}

#[test]
fn text_concept_answers_are_not_contradictions() {
    let question = builtin("tag-immutability");
    for answer in [
        "nobody can overwrite a pushed tag",
        "nothing can overwrite a tag once it is pushed",
        "you can push a tag once, and after that it cannot be overwritten",
    ] {
        let grade = grade(&question, answer);
        assert!(grade.is_correct(), "answer {answer:?}: {:?}", grade.notes);
    }
}

#[test]
fn text_partial_credit_counts_concepts() {
    let question = scored("scan-on-push", "partial_credit = { concepts = true }");
    let cases = [
        ("It scans each pushed image for CVEs", Verdict::Correct, 1.0),
        ("It scans pushed images", Verdict::Partial, 2.0 / 3.0),
        ("It scans images", Verdict::Partial, 1.0 / 3.0),
        ("It stores images", Verdict::Incorrect, 0.0),
        (
            "It scans pushed images for CVEs and blocks the push",
            Verdict::Incorrect,
            0.0,
        ),
        ("Maybe it scans pushed images", Verdict::Incorrect, 0.0),
    ];
    for (answer, verdict, score) in cases {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, verdict, "answer {answer:?}");
        assert!(
            (grade.score - score).abs() < 1e-9,
            "answer {answer:?}: score {}",
            grade.score
        );
    }
}

#[test]
fn text_without_partial_credit_is_all_or_nothing() {
    let grade = grade(&builtin("scan-on-push"), "It scans pushed images");
    assert_eq!(grade.verdict, Verdict::Incorrect);
    assert_eq!(grade.score, 0.0);
    assert_eq!(
        grade.notes,
        vec!["your answer does not say that the scan looks for known vulnerabilities (CVEs)"]
    );
}

#[test]
fn url_partial_credit_for_right_host() {
    let question = scored("registry-url", "partial_credit = { host = 0.5 }");
    let cases = [
        (
            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
            Verdict::Correct,
            1.0,
        ),
        (
            "http://123456789012.dkr.ecr.us-east-1.amazonaws.com",
            Verdict::Partial,
            0.5,
        ),
        (
            "https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com/my-app",
            Verdict::Partial,
            0.5,
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000",
            Verdict::Partial,
            0.5,
        ),
        (
            "http://123456789012.dkr.ecr.cn-north-1.amazonaws.com",
            Verdict::Incorrect,
            0.0,
        ),
        ("https://public.ecr.aws", Verdict::Incorrect, 0.0),
        ("http://localhost:5000", Verdict::Incorrect, 0.0),
    ];
    for (answer, verdict, score) in cases {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, verdict, "answer {answer:?}");
        assert_eq!(grade.score, score, "answer {answer:?}");
    }

    let strict = grade(
        &builtin("registry-url"),
        "http://123456789012.dkr.ecr.us-east-1.amazonaws.com",
    );
    assert_eq!(strict.verdict, Verdict::Incorrect);
}

#[test]
fn retries_apply_penalty_per_retry() {
    let question = scored("token-validity", "attempts = 3\nretry_penalty = 0.25");
    let cases: &[(&[&str], Verdict, f64, Option<usize>)] = &[
        (&["12 hours"], Verdict::Correct, 1.0, Some(0)),
        (&["1 day", "12 hours"], Verdict::Correct, 0.75, Some(1)),
        (
            &["1 day", "2 days", "720 minutes"],
            Verdict::Correct,
            0.5,
            Some(2),
        ),
        (
            &["1 day", "2 days", "3 days", "12h"],
            Verdict::Incorrect,
            0.0,
            None,
        ),
        (&["12 hours", "1 day"], Verdict::Correct, 1.0, Some(0)),
        (&["12 hours", "12 hours"], Verdict::Correct, 1.0, Some(0)),
        (&["12", "12 hours"], Verdict::Correct, 1.0, Some(1)),
        (&["30 minutes", "12h"], Verdict::Correct, 0.75, Some(1)),
        (&[], Verdict::Incorrect, 0.0, None),
    ];
    for (list, verdict, score, best) in cases {
        let result = question.grade_attempts(&answers(list));
        assert_eq!(result.verdict, *verdict, "answers {list:?}");
        assert_eq!(result.score, *score, "answers {list:?}");
        assert_eq!(result.best_attempt, *best, "answers {list:?}");
        assert_eq!(result.attempts.len(), list.len(), "answers {list:?}");
    }
}

#[test]
fn attempts_record_tries_and_counting() {
    let question = scored("token-validity", "attempts = 2\nretry_penalty = 0.5");
    let result = question.grade_attempts(&answers(&["12", "1 day", "3 days", "12 hours"]));
    let tries: Vec<Option<u32>> = result
        .attempts
        .iter()
        .map(|attempt| attempt.try_number)
        .collect();
    assert_eq!(tries, vec![None, Some(1), Some(2), Some(3)]);
    let counted: Vec<bool> = result
        .attempts
        .iter()
        .map(|attempt| attempt.counted)
        .collect();
    assert_eq!(counted, vec![false, true, true, false]);
    assert_eq!(result.score, 0.0);
    assert_eq!(result.tries_left(), 0);
    assert!(result.attempts[0].grade.notes[0].contains("has no unit"));
}

#[test]
fn tries_left_counts_readable_answers() {
    let question = scored("tags-per-image", "attempts = 3");
    let cases: &[(&[&str], u32)] = &[
        (&[], 3),
        (&["50"], 2),
        (&["lots", "50"], 2),
        (&["50", "100"], 1),
        (&["50", "1000"], 0),
        (&["50", "100", "10"], 0),
    ];
    for (list, left) in cases {
        let result = question.grade_attempts(&answers(list));
        assert_eq!(result.tries_left(), *left, "answers {list:?}");
    }
}

#[test]
fn retry_keeps_best_partial_score() {
    let question = scored(
        "scan-on-push",
        "attempts = 2\nretry_penalty = 0.5\npartial_credit = { concepts = true }",
    );
    let result = question.grade_attempts(&answers(&[
        "It scans pushed images",
        "It scans each pushed image for CVEs",
    ]));
    assert_eq!(result.best_attempt, Some(0));
    assert_eq!(result.verdict, Verdict::Partial);
    assert!((result.score - 2.0 / 3.0).abs() < 1e-9, "{}", result.score);
    assert_eq!(result.attempts[1].score, 0.5);
}

#[test]
fn full_penalty_retry_is_correct_but_scores_nothing() {
    let question = scored("tags-per-image", "attempts = 2\nretry_penalty = 1");
    let result = question.grade_attempts(&answers(&["50", "1000"]));
    assert_eq!(result.verdict, Verdict::Correct);
    assert_eq!(result.score, 0.0);
    assert_eq!(result.best_attempt, Some(1));
    assert_eq!(result.tries_left(), 0);
}

#[test]
fn quiz_defaults_apply_unless_question_overrides() {
    let defaults = Scoring::from_quiz_spec(&scoring_spec(
        "attempts = 3\nretry_penalty = 0.5\npartial_credit = { concepts = true, host = 0.5 }",
    ))
    .expect("valid defaults");

    let number = builtin("tags-per-image")
        .with_scoring(&ScoringSpec::default(), &defaults)
        .expect("defaults fit every kind");
    assert_eq!(number.scoring(), &defaults);

    let own = builtin("scan-on-push")
        .with_scoring(&scoring_spec("attempts = 1\nretry_penalty = 0"), &defaults)
        .expect("valid keys");
    assert_eq!(own.scoring().attempts, 1);
    assert_eq!(own.scoring().retry_penalty, 0.0);
    assert!(own.scoring().concept_credit);
}

#[test]
fn scoring_keys_are_validated() {
    let cases: &[(&str, QuestionKind, &[&str])] = &[
        ("attempts = 0", QuestionKind::Number, &["attempts"]),
        ("attempts = -2", QuestionKind::Number, &["attempts"]),
        ("attempts = 5000000000", QuestionKind::Number, &["attempts"]),
        (
            "attempts = 2\nretry_penalty = 1.5",
            QuestionKind::Number,
            &["retry_penalty"],
        ),
        (
            "attempts = 2\nretry_penalty = -0.1",
            QuestionKind::Number,
            &["retry_penalty"],
        ),
        (
            "retry_penalty = 0.5",
            QuestionKind::Number,
            &["retry_penalty"],
        ),
        (
            "partial_credit = {}",
            QuestionKind::Text,
            &["partial_credit"],
        ),
        (
            "partial_credit = { host = 1.0 }",
            QuestionKind::Url,
            &["partial_credit.host"],
        ),
        (
            "partial_credit = { host = 0 }",
            QuestionKind::Url,
            &["partial_credit.host"],
        ),
        (
            "partial_credit = { concepts = true }",
            QuestionKind::Number,
            &["partial_credit.concepts"],
        ),
        (
            "partial_credit = { host = 0.5 }",
            QuestionKind::Text,
            &["partial_credit.host"],
        ),
        (
            "attempts = 0\npartial_credit = { concepts = true }",
            QuestionKind::Duration,
            &["attempts", "partial_credit.concepts"],
        ),
    ];
    let ids = [
        (QuestionKind::Number, "tags-per-image"),
        (QuestionKind::Duration, "token-validity"),
        (QuestionKind::Url, "registry-url"),
        (QuestionKind::Text, "scan-on-push"),
    ];
    for (text, kind, fields) in cases {
        let (_, id) = ids
            .iter()
            .find(|(candidate, _)| candidate == kind)
            .expect("a built-in question of each kind");
        let problems = builtin(id)
            .with_scoring(&scoring_spec(text), &Scoring::default())
            .expect_err("invalid scoring keys");
        let found: Vec<&str> = problems.iter().map(|problem| problem.field).collect();
        assert_eq!(found, *fields, "keys {text:?}");
        for problem in &problems {
            assert!(
                problem.message.contains("; "),
                "keys {text:?}: message {:?} names no fix",
                problem.message
            );
            assert!(
                text.get(problem.span.clone())
                    .is_some_and(|value| !value.is_empty()),
                "keys {text:?}: span {:?}",
                problem.span
            );
        }
    }
}

#[test]
fn scoring_problem_spans_point_at_values() {
    let text = "attempts = 2\nretry_penalty = 7\n";
    let problems = Scoring::from_quiz_spec(&scoring_spec(text)).expect_err("penalty above 1");
    assert_eq!(problems.len(), 1);
    assert_eq!(&text[problems[0].span.clone()], "7");
    assert_eq!(
        problems[0].message,
        "retry_penalty is 7, but it is the share of the credit lost per retry; write a number from 0 to 1, such as 0.25"
    );
}

#[test]
fn scoring_spec_rejects_unknown_keys() {
    let error = toml::from_str::<ScoringSpec>("tries = 2").expect_err("unknown key");
    assert!(error.message().contains("tries"), "{error}");
    let error = toml::from_str::<ScoringSpec>("partial_credit = { words = true }")
        .expect_err("unknown rule");
    assert!(error.message().contains("words"), "{error}");
}

#[test]
fn quiz_result_regrades_stored_attempts() {
    let lab = Lab::builtin_push_to_ecr();
    let mut stored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    stored.insert("token-validity".to_owned(), answers(&["30 minutes"]));
    stored.insert("tags-per-image".to_owned(), answers(&["1,000 tags"]));
    stored.insert("removed-question".to_owned(), answers(&["anything"]));

    let result = QuizResult::grade(&lab.questions, &stored);
    let scores: Vec<(&str, f64)> = result
        .questions
        .iter()
        .map(|question| (question.question_id.as_str(), question.score))
        .collect();
    assert_eq!(
        scores,
        vec![
            ("registry-url", 0.0),
            ("tag-immutability", 0.0),
            ("scan-on-push", 0.0),
            ("token-validity", 0.0),
            ("tags-per-image", 1.0),
            ("scan-finding", 0.0),
        ]
    );
    assert_eq!(result.score(), 1.0);
    assert_eq!(result.max_score(), 6.0);
    assert_eq!(result.correct_count(), 1);
    assert_eq!(result, QuizResult::grade(&lab.questions, &stored));
}

/// The reference answers of questions with a fixed answer key score full marks. A `finding`
/// question's answers come from the evidence, so `quiz::finding` tests it.
#[test]
fn reference_answers_score_full_marks() {
    let lab = Lab::builtin_push_to_ecr();
    let fixed: Vec<Question> = lab
        .questions
        .iter()
        .filter(|question| !question.needs_evidence())
        .cloned()
        .collect();
    assert_eq!(fixed.len(), lab.questions.len() - 1);
    let stored: BTreeMap<String, Vec<String>> = fixed
        .iter()
        .map(|question| (question.id().to_owned(), vec![question.answer().to_owned()]))
        .collect();
    let result = QuizResult::grade(&fixed, &stored);
    assert_eq!(result.score(), result.max_score());
    assert_eq!(result.correct_count(), fixed.len());
}

#[test]
fn scoring_keys_deserialize_inside_lab_tables() {
    /// The shape a lab file gives the keys: a `[quiz]` table and keys in `[[questions]]`.
    #[derive(serde::Deserialize)]
    struct LabShape {
        quiz: Option<toml::Spanned<ScoringSpec>>,
        questions: Vec<QuestionShape>,
    }
    #[derive(serde::Deserialize)]
    struct QuestionShape {
        attempts: Option<toml::Spanned<i64>>,
        retry_penalty: Option<toml::Spanned<f64>>,
        partial_credit: Option<toml::Spanned<PartialCreditSpec>>,
    }

    let text = "\
[quiz]
attempts = 2
retry_penalty = 0.5

[[questions]]
attempts = 3
retry_penalty = 1
partial_credit = { concepts = true }
";
    let lab: LabShape = toml::from_str(text).expect("valid TOML");
    let defaults =
        Scoring::from_quiz_spec(lab.quiz.expect("[quiz] table").get_ref()).expect("valid defaults");
    assert_eq!(defaults.attempts, 2);
    assert_eq!(defaults.retry_penalty, 0.5);

    assert_eq!(lab.questions.len(), 1);
    let question = lab.questions.into_iter().next().expect("one question");
    let spec = ScoringSpec {
        attempts: question.attempts,
        retry_penalty: question.retry_penalty,
        partial_credit: question.partial_credit,
    };
    let scoring = builtin("scan-on-push")
        .with_scoring(&spec, &defaults)
        .expect("valid keys")
        .scoring()
        .to_owned();
    assert_eq!(scoring.attempts, 3);
    assert_eq!(scoring.retry_penalty, 1.0);
    assert!(scoring.concept_credit);
    let span = spec.partial_credit.expect("partial_credit").span();
    assert_eq!(&text[span], "{ concepts = true }");
}
