use super::*;
use crate::lab::Lab;

fn spec(kind: QuestionKind, answer: &str) -> QuestionSpec {
    QuestionSpec {
        id: "q".to_owned(),
        kind,
        prompt: "A prompt?".to_owned(),
        answer: answer.to_owned(),
        accept: Vec::new(),
        explanation: "An explanation.".to_owned(),
        source: "A source".to_owned(),
        choices: None,
        concepts: Vec::new(),
        misconceptions: Vec::new(),
        finding_field: None,
        min_severity: None,
    }
}

fn misconception(answers: &[&str], explanation: &str) -> MisconceptionSpec {
    MisconceptionSpec {
        answers: Some(answers.iter().map(|answer| (*answer).to_owned()).collect()),
        phrases: None,
        explanation: explanation.to_owned(),
    }
}

fn question(spec: QuestionSpec) -> Question {
    Question::from_spec(spec).unwrap_or_else(|problems| panic!("invalid spec: {problems:?}"))
}

fn problems(spec: QuestionSpec) -> Vec<SpecProblem> {
    match Question::from_spec(spec) {
        Ok(question) => panic!("spec {} was accepted", question.id()),
        Err(problems) => problems,
    }
}

/// Returns a question of the built-in lab with the default scoring (one attempt, no partial
/// credit) in place of the lab's, so that tests state the scoring they rely on.
fn builtin(id: &str) -> Question {
    Lab::builtin_push_to_ecr()
        .question(id)
        .unwrap_or_else(|| panic!("the built-in lab has no question {id}"))
        .clone()
        .with_scoring(&ScoringSpec::default(), &Scoring::default())
        .unwrap_or_else(|problems| panic!("default scoring of {id}: {problems:?}"))
}

fn grade(question: &Question, answer: &str) -> Grade {
    question
        .grade(answer)
        .unwrap_or_else(|error| panic!("answer {answer:?} was unreadable: {error}"))
}

#[test]
fn duration_grades_equal_durations_correct() {
    let question = builtin("token-validity");
    for answer in [
        "12 hours",
        "12h",
        "720 minutes",
        "43200 s",
        "43,200 seconds",
        "0.5 days",
    ] {
        assert!(grade(&question, answer).is_correct(), "answer {answer:?}");
    }
}

#[test]
fn duration_misconceptions_get_their_explanation() {
    let question = builtin("token-validity");
    for answer in ["30 minutes", "half an hour is 30 min", "200 days"] {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, Verdict::Incorrect, "answer {answer:?}");
        let explanation = grade.misconception.expect("misconception matched");
        assert!(explanation.contains("12 hours"), "answer {answer:?}");
    }
}

#[test]
fn duration_wrong_answer_notes_reading() {
    let grade = grade(&builtin("token-validity"), "1 day");
    assert_eq!(grade.verdict, Verdict::Incorrect);
    assert_eq!(grade.misconception, None);
    assert_eq!(grade.notes, vec!["your answer reads as 1 day".to_owned()]);
    assert_eq!(grade.correct_answer, "12 hours");
}

#[test]
fn duration_without_unit_is_unreadable() {
    let error = builtin("token-validity").grade("12").expect_err("no unit");
    assert!(matches!(error, AnswerError::MissingUnit { .. }));
    assert!(error.to_string().contains("has no unit"));
}

#[test]
fn duration_ranges_and_hedges_are_unreadable() {
    let question = builtin("token-validity");
    let cases = [
        ("1 to 12 hours", "1 hour, 12 hours"),
        ("10 to 12h", "10 hours, 12 hours"),
        ("between 1 and 12 hours", "1 hour, 12 hours"),
        ("12 hours? maybe 24", "12 hours, 24 hours"),
        ("12 or 24 hours", "12 hours, 24 hours"),
        ("12-24 hours", "12 hours, 24 hours"),
    ];
    for (answer, values) in cases {
        let error = question.grade(answer).expect_err("two values");
        let message = error.to_string();
        assert!(
            matches!(error, AnswerError::SeveralDurations { .. }),
            "answer {answer:?}: {message}"
        );
        assert!(
            message.contains(&format!("({values})")),
            "answer {answer:?}: {message}"
        );
        assert!(
            message.ends_with("answer with one duration"),
            "answer {answer:?}: {message}"
        );
    }
}

#[test]
fn duration_bound_message_echoes_unit() {
    let question = builtin("token-validity");
    let cases = [
        ("at least 12 hours", "gives a bound (at least 12 hours)"),
        ("more than 720 min", "gives a bound (more than 720 min)"),
    ];
    for (answer, expected) in cases {
        let error = question.grade(answer).expect_err("a bound");
        assert!(
            error.to_string().contains(expected),
            "answer {answer:?}: {error}"
        );
    }
}

/// A question mark does not make a one-value answer ambiguous, so the value is graded. In
/// `text` answers punctuation is ignored too, and only hedge words cost the credit.
#[test]
fn question_mark_is_not_a_hedge() {
    assert!(grade(&builtin("token-validity"), "12h?").is_correct());
    assert!(grade(&builtin("tags-per-image"), "1000?").is_correct());
    let question = builtin("tag-immutability");
    assert!(grade(&question, "A pushed tag cannot be overwritten?").is_correct());
    assert_eq!(
        grade(&question, "Maybe a pushed tag cannot be overwritten?").verdict,
        Verdict::Incorrect
    );
}

#[test]
fn number_power_reads_as_one_value() {
    let question = builtin("tags-per-image");
    for answer in ["10^3", "10 ^ 3 tags", "10\u{b3}"] {
        assert!(grade(&question, answer).is_correct(), "answer {answer:?}");
    }
    let wrong = grade(&question, "10^2");
    assert_eq!(wrong.verdict, Verdict::Incorrect);
    assert!(
        wrong.misconception.is_some(),
        "10^2 reads as 100, a known mistake"
    );
}

#[test]
fn duration_negative_and_past_are_unreadable() {
    let question = builtin("token-validity");
    let negative = question.grade("-12 hours").expect_err("negative");
    assert!(
        negative.to_string().contains("cannot be negative"),
        "{negative}"
    );
    let past = question.grade("12 hours ago").expect_err("a moment");
    assert!(past.to_string().contains("moment in the past"), "{past}");
}

#[test]
fn duration_too_large_is_unreadable() {
    let question = builtin("token-validity");
    for answer in ["1e1000 hours", "99999999999999999999999 hours"] {
        let error = question.grade(answer).expect_err("too large");
        assert!(
            matches!(error, AnswerError::NumberTooLarge { .. }),
            "answer {answer:?}: {error}"
        );
    }
}

#[test]
fn number_grades_separators_and_words() {
    let question = builtin("tags-per-image");
    for answer in [
        "1000",
        "1,000",
        "1 000",
        "one thousand",
        "up to 1,000 tags",
        "1e3",
        "the ec2 docs say 1000",
    ] {
        assert!(grade(&question, answer).is_correct(), "answer {answer:?}");
    }
}

#[test]
fn number_negative_grades_incorrect() {
    let grade = grade(&builtin("tags-per-image"), "-1000");
    assert_eq!(grade.verdict, Verdict::Incorrect);
    assert_eq!(grade.notes, vec!["your answer reads as -1,000".to_owned()]);
}

#[test]
fn number_bound_is_unreadable() {
    let question = builtin("tags-per-image");
    for (answer, bound) in [
        ("1000+", "1,000+"),
        ("more than 1000", "more than 1,000"),
        ("1000 or more", "1,000 or more"),
    ] {
        let error = question.grade(answer).expect_err("a bound");
        assert_eq!(
            error,
            AnswerError::Bound {
                answer: answer.to_owned(),
                bound: bound.to_owned(),
            }
        );
        assert!(
            error.to_string().contains("answer with the exact value"),
            "{error}"
        );
    }
}

#[test]
fn number_european_thousands_point_is_ambiguous() {
    let question = builtin("tags-per-image");
    let error = question.grade("1.000").expect_err("ambiguous");
    assert_eq!(
        error.to_string(),
        "\"1.000\" in \"1.000\" is ambiguous: it reads as 1 with a decimal point, or as 1,000 \
         with a European thousands separator; write 1,000 or 1"
    );

    let million = grade(&question, "1.000.000");
    assert_eq!(million.verdict, Verdict::Incorrect);
    assert_eq!(
        million.notes,
        vec!["your answer reads as 1,000,000".to_owned()]
    );
}

#[test]
fn number_misplaced_separator_is_unreadable() {
    let error = builtin("tags-per-image")
        .grade("1,0000")
        .expect_err("misplaced separator");
    assert_eq!(
        error.to_string(),
        "\"1,0000\" in \"1,0000\" is not a number, because its separator does not split the \
         digits into groups of three; write 10000 for a whole number or 1.0000 with a decimal point"
    );
}

#[test]
fn number_misconceptions_explain_fifty_and_hundred() {
    let question = builtin("tags-per-image");
    let fifty = grade(&question, "50");
    assert_eq!(fifty.verdict, Verdict::Incorrect);
    assert!(
        fifty
            .misconception
            .as_deref()
            .is_some_and(|text| text.contains("resource tags"))
    );
    let hundred = grade(&question, "one hundred");
    assert_eq!(hundred.verdict, Verdict::Incorrect);
    assert!(
        hundred
            .misconception
            .as_deref()
            .is_some_and(|text| text.contains("old limit"))
    );
}

#[test]
fn number_with_two_values_is_unreadable() {
    let error = builtin("tags-per-image")
        .grade("100 or 1000")
        .expect_err("two numbers");
    assert!(matches!(error, AnswerError::SeveralNumbers { .. }));
}

#[test]
fn url_accepts_placeholders_and_concrete_values() {
    let question = builtin("registry-url");
    let answers = [
        "https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com",
        "<account-id>.dkr.ecr.<region>.amazonaws.com",
        "https://{account}.dkr.ecr.{region}.amazonaws.com/",
        "ACCOUNT_ID.dkr.ecr.REGION.amazonaws.com",
        "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.eu-west-2.amazonaws.com",
        "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
        "The registry is https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com.",
    ];
    for answer in answers {
        let grade = grade(&question, answer);
        assert!(grade.is_correct(), "answer {answer:?}: {:?}", grade.notes);
    }
}

#[test]
fn url_rejects_wrong_shapes_with_notes() {
    let question = builtin("registry-url");
    let cases = [
        ("http://<account>.dkr.ecr.<region>.amazonaws.com", "HTTPS"),
        (
            "https://<account>.dkr.ecr.<region>.amazonaws.com/my-app",
            "names a repository",
        ),
        ("https://1234.dkr.ecr.us-east-1.amazonaws.com", "12 digits"),
        (
            "https://123456789012.dkr.ecr.us-middle-1.amazonaws.com",
            "not an AWS Region",
        ),
        (
            "https://123456789012.dkr.ecr.cn-north-1.amazonaws.com",
            "amazonaws.com.cn",
        ),
        (
            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com.cn",
            "China Regions only",
        ),
        (
            "https://registry.example.com",
            "not a private registry host",
        ),
    ];
    for (answer, note) in cases {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, Verdict::Incorrect, "answer {answer:?}");
        assert!(
            grade.notes.iter().any(|text| text.contains(note)),
            "answer {answer:?}: notes {:?} lack {note:?}",
            grade.notes
        );
    }
}

#[test]
fn url_misconceptions_name_public_and_api_endpoints() {
    let question = builtin("registry-url");
    let public = grade(&question, "https://public.ecr.aws");
    assert!(
        public
            .misconception
            .as_deref()
            .is_some_and(|text| text.contains("ECR Public"))
    );
    let api = grade(&question, "https://api.ecr.us-east-1.amazonaws.com");
    assert!(
        api.misconception
            .as_deref()
            .is_some_and(|text| text.contains("ECR API"))
    );
}

#[test]
fn url_mock_address_gets_explanation() {
    let question = builtin("registry-url");
    for answer in [
        "localhost:5000",
        "http://localhost:5000",
        "http://localhost:5000/",
        "localhost:5000/my-app",
        "http://127.0.0.1:5000",
        "The mock at localhost:5123",
    ] {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, Verdict::Incorrect, "answer {answer:?}");
        let explanation = grade
            .misconception
            .unwrap_or_else(|| panic!("answer {answer:?} matched no misconception"));
        assert!(
            explanation.contains("local mock registry"),
            "answer {answer:?}: {explanation}"
        );
        assert!(
            explanation.contains("https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com"),
            "answer {answer:?}: {explanation}"
        );
    }
}

/// Port 443 is the default port of HTTPS, so a URL that states it names the same registry
/// as one without a port.
#[test]
fn url_with_default_port_is_correct() {
    let question = builtin("registry-url");
    for answer in [
        "https://123456789012.dkr.ecr.us-east-1.amazonaws.com:443",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com:443",
    ] {
        let grade = grade(&question, answer);
        assert!(grade.is_correct(), "answer {answer:?}: {:?}", grade.notes);
    }
}

#[test]
fn url_with_port_notes_the_port() {
    let grade = grade(
        &builtin("registry-url"),
        "https://123456789012.dkr.ecr.us-east-1.amazonaws.com:5000",
    );
    assert_eq!(grade.verdict, Verdict::Incorrect);
    assert!(
        grade
            .notes
            .iter()
            .any(|note| note.contains("remove `:5000`")),
        "notes {:?}",
        grade.notes
    );
}

#[test]
fn text_immutability_accepts_key_concept() {
    let question = builtin("tag-immutability");
    let answers = [
        "Once a tag is pushed it can't be overwritten.",
        "Tags cannot be moved to a different image after they are pushed",
        "It prevents overwriting image tags",
        "Pushing the same tag again fails with TAG_INVALID",
        "An IMMUTABLE repository rejects a push whose tag already exists",
        "a tag always points to the same image",
        "you cannot push the same tag twice",
        "a tag can only be pushed once",
        "the tag is locked to its image",
        "tags are permanent",
        "nothing can overwrite a pushed tag",
    ];
    for answer in answers {
        let grade = grade(&question, answer);
        assert!(grade.is_correct(), "answer {answer:?}: {:?}", grade.notes);
    }
}

#[test]
fn text_immutability_rejects_missing_concepts() {
    let question = builtin("tag-immutability");
    let cases = [
        (
            "Images cannot be changed",
            "the setting is about image tags",
        ),
        ("Tags are immutable", "cannot be overwritten"),
        (
            "A tag can be overwritten by any push",
            "cannot be overwritten",
        ),
        (
            "It does not prevent overwriting tags",
            "cannot be overwritten",
        ),
        (
            "tags can always be overwritten, nothing is permanent",
            "cannot be overwritten",
        ),
        ("tags are not locked", "cannot be overwritten"),
        ("you can push the same tag twice", "cannot be overwritten"),
    ];
    for (answer, missing) in cases {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, Verdict::Incorrect, "answer {answer:?}");
        assert!(
            grade.notes.iter().any(|note| note.contains(missing)),
            "answer {answer:?}: notes {:?} lack {missing:?}",
            grade.notes
        );
    }
}

/// Returns `question` with partial credit for the share of concepts an answer names, as the
/// built-in lab gives its text questions.
fn with_concept_credit(question: Question) -> Question {
    let partial_credit = PartialCreditSpec {
        concepts: Some(toml::Spanned::new(0..0, true)),
        host: None,
    };
    let spec = ScoringSpec {
        partial_credit: Some(toml::Spanned::new(0..0, partial_credit)),
        ..ScoringSpec::default()
    };
    question
        .with_scoring(&spec, &Scoring::default())
        .expect("concept credit applies to text questions")
}

/// Answers that state the opposite of tag immutability name tags too, which is the first
/// concept, so each must match a misconception to earn nothing.
#[test]
fn text_immutability_opposites_earn_nothing() {
    let question = with_concept_credit(builtin("tag-immutability"));
    let opposites = [
        "tags are mutable",
        "tags are not permanent",
        "a tag can be overwritten",
        "a pushed tag can be moved to another image",
        "tags can be changed after a push",
        "you can push the same tag again",
        "the repository allows overwriting tags",
        "tags are not immutable",
        "tags are not locked",
        "mutable tags",
        "tags may be overwritten by a later push",
    ];
    for answer in opposites {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, Verdict::Incorrect, "answer {answer:?}");
        assert_eq!(grade.score, 0.0, "answer {answer:?}");
        assert!(
            grade
                .misconception
                .as_deref()
                .is_some_and(|text| text.contains("opposite of tag immutability")),
            "answer {answer:?}: {:?}",
            grade.misconception
        );
    }

    let reference = question.answer().to_owned();
    assert!(grade(&question, &reference).is_correct());
    for answer in [
        "nobody can overwrite a pushed tag",
        "no push can overwrite a tag",
        "it does not allow overwriting tags",
        "tags are not mutable once pushed, they cannot be overwritten",
    ] {
        let grade = grade(&question, answer);
        assert!(grade.is_correct(), "answer {answer:?}: {:?}", grade.notes);
    }
}

/// Answers that deny a scan, its target or its timing name the concepts' words, and would
/// otherwise earn credit for them.
#[test]
fn text_scan_on_push_opposites_earn_nothing() {
    let question = with_concept_credit(builtin("scan-on-push"));
    let opposites = [
        "images are not scanned for vulnerabilities on push",
        "it does not scan pushed images for CVEs",
        "ECR never scans images when they are pushed",
        "pushed images are stored without scanning for vulnerabilities",
        "it scans pushed images, but it does not look for vulnerabilities",
        "it scans images for CVEs, but not on push",
        "it scans images for CVEs before they are pushed",
    ];
    for answer in opposites {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, Verdict::Incorrect, "answer {answer:?}");
        assert_eq!(grade.score, 0.0, "answer {answer:?}");
        assert!(
            grade
                .misconception
                .as_deref()
                .is_some_and(|text| text.contains("does scan each image")),
            "answer {answer:?}: {:?}",
            grade.misconception
        );
    }

    let reference = question.answer().to_owned();
    assert!(grade(&question, &reference).is_correct());
    for answer in [
        "it scans each pushed image for CVEs and does not block the push",
        "right after a push, ECR checks the image for known vulnerabilities",
        "scans images for vulnerabilities on push; it does not fix vulnerabilities",
    ] {
        let grade = grade(&question, answer);
        assert!(grade.is_correct(), "answer {answer:?}: {:?}", grade.notes);
    }
}

#[test]
fn text_misconception_overrides_concepts() {
    let grade = grade(
        &builtin("tag-immutability"),
        "A pushed tag cannot be overwritten or deleted",
    );
    assert_eq!(grade.verdict, Verdict::Incorrect);
    assert!(
        grade
            .misconception
            .as_deref()
            .is_some_and(|text| text.contains("deletion"))
    );
}

#[test]
fn text_scan_on_push_grades_concepts() {
    let question = builtin("scan-on-push");
    let correct = [
        "Images are scanned for vulnerabilities when they are pushed",
        "ECR checks each uploaded image for known CVEs",
        "scans on push for security issues, and it does not block the push",
    ];
    for answer in correct {
        let grade = grade(&question, answer);
        assert!(grade.is_correct(), "answer {answer:?}: {:?}", grade.notes);
    }

    let blocked = grade(
        &question,
        "It scans pushed images for CVEs and blocks the push",
    );
    assert_eq!(blocked.verdict, Verdict::Incorrect);
    assert!(
        blocked
            .misconception
            .as_deref()
            .is_some_and(|text| text.contains("does not block"))
    );

    let vulns = grade(&question, "it scans pushed images for known vulns");
    assert!(vulns.is_correct(), "notes {:?}", vulns.notes);

    let vague = grade(&question, "It scans images");
    assert_eq!(vague.verdict, Verdict::Incorrect);
    assert_eq!(vague.notes.len(), 2, "notes {:?}", vague.notes);
}

#[test]
fn text_scan_rejection_hits_misconception() {
    let question = builtin("scan-on-push");
    for answer in [
        "pushes are scanned for CVEs and vulnerable images are rejected",
        "images with known vulnerabilities are blocked when pushed",
        "ECR scans each push, and a push with CVEs is denied",
        "it scans for vulns and rejects vulnerable images on push",
    ] {
        let grade = grade(&question, answer);
        assert_eq!(grade.verdict, Verdict::Incorrect, "answer {answer:?}");
        let explanation = grade
            .misconception
            .unwrap_or_else(|| panic!("answer {answer:?} matched no misconception"));
        assert!(
            explanation.contains("does not block"),
            "answer {answer:?}: {explanation}"
        );
    }
}

#[test]
fn text_accept_matches_whole_answer() {
    let mut spec = spec(QuestionKind::Text, "alpha beta");
    spec.concepts = vec![ConceptSpec {
        name: "it names alpha".to_owned(),
        phrases: vec!["alpha".to_owned()],
    }];
    spec.accept = vec!["gamma DELTA".to_owned()];
    let question = question(spec);
    assert!(grade(&question, "Gamma, delta.").is_correct());
    assert!(grade(&question, "alpha").is_correct());
    assert_eq!(grade(&question, "gamma").verdict, Verdict::Incorrect);
}

fn choice_spec() -> QuestionSpec {
    let mut spec = spec(QuestionKind::Choice, "IMMUTABLE");
    spec.choices = Some(vec![
        "MUTABLE".to_owned(),
        "IMMUTABLE".to_owned(),
        "LOCKED".to_owned(),
    ]);
    spec.misconceptions = vec![misconception(&["LOCKED"], "There is no LOCKED setting.")];
    spec
}

#[test]
fn choice_reads_letters_and_text() {
    let question = question(choice_spec());
    for answer in ["b", "B)", "(b)", "immutable", " Immutable. "] {
        assert!(grade(&question, answer).is_correct(), "answer {answer:?}");
    }
    assert_eq!(grade(&question, "a").verdict, Verdict::Incorrect);
    let locked = grade(&question, "c");
    assert_eq!(
        locked.misconception.as_deref(),
        Some("There is no LOCKED setting.")
    );
}

#[test]
fn choice_unknown_answer_is_unreadable() {
    let error = question(choice_spec()).grade("d").expect_err("no choice d");
    assert_eq!(
        error,
        AnswerError::UnknownChoice {
            answer: "d".to_owned(),
            last_letter: 'c',
        }
    );
}

#[test]
fn choice_prompt_lists_letters() {
    assert_eq!(
        question(choice_spec()).prompt_with_choices(),
        "A prompt?\n  a) MUTABLE\n  b) IMMUTABLE\n  c) LOCKED"
    );
}

#[test]
fn spec_rejects_missing_text_fields() {
    let mut spec = spec(QuestionKind::Number, "5");
    spec.prompt = " ".to_owned();
    spec.explanation = String::new();
    spec.source = String::new();
    let fields: Vec<SpecField> = problems(spec)
        .into_iter()
        .map(|problem| problem.field)
        .collect();
    assert_eq!(
        fields,
        vec![SpecField::Prompt, SpecField::Explanation, SpecField::Source]
    );
}

#[test]
fn spec_rejects_unreadable_answer() {
    let found = problems(spec(QuestionKind::Duration, "twelve"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].field, SpecField::Answer);
    assert!(
        found[0].message.contains("cannot be read"),
        "{}",
        found[0].message
    );

    let found = problems(spec(QuestionKind::Url, "https://registry.example.com"));
    assert_eq!(found[0].field, SpecField::Answer);
}

#[test]
fn spec_rejects_empty_answer() {
    let found = problems(spec(QuestionKind::Number, "  "));
    assert_eq!(found[0].field, SpecField::Answer);
    assert!(found[0].message.contains("empty"));
}

#[test]
fn spec_rejects_fields_of_other_kinds() {
    let mut spec = spec(QuestionKind::Number, "5");
    spec.choices = Some(vec!["5".to_owned(), "6".to_owned()]);
    spec.concepts = vec![ConceptSpec {
        name: "five".to_owned(),
        phrases: vec!["five".to_owned()],
    }];
    spec.misconceptions = vec![MisconceptionSpec {
        answers: None,
        phrases: Some(vec!["six".to_owned()]),
        explanation: "Six is wrong.".to_owned(),
    }];
    let fields: Vec<SpecField> = problems(spec)
        .into_iter()
        .map(|problem| problem.field)
        .collect();
    assert_eq!(
        fields,
        vec![
            SpecField::Choices,
            SpecField::Concepts,
            SpecField::Misconception(0)
        ]
    );
}

#[test]
fn spec_text_needs_concepts_that_fit_answer() {
    let found = problems(spec(QuestionKind::Text, "Tags cannot move"));
    assert_eq!(found[0].field, SpecField::Concepts);

    let mut unmatched = spec(QuestionKind::Text, "Tags cannot move");
    unmatched.concepts = vec![ConceptSpec {
        name: "it names vulnerabilities".to_owned(),
        phrases: vec!["vulnerab*".to_owned()],
    }];
    let found = problems(unmatched);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].field, SpecField::Answer);
    assert!(found[0].message.contains("does not grade as correct"));
}

#[test]
fn spec_rejects_empty_misconception_lists() {
    let mut number = spec(QuestionKind::Number, "5");
    number.misconceptions = vec![misconception(&[], "Wrong.")];
    assert_eq!(problems(number)[0].field, SpecField::Misconception(0));

    let mut text = spec(QuestionKind::Text, "tags");
    text.concepts = vec![ConceptSpec {
        name: "it names tags".to_owned(),
        phrases: vec!["tag*".to_owned()],
    }];
    text.misconceptions = vec![MisconceptionSpec {
        answers: None,
        phrases: Some(Vec::new()),
        explanation: "Wrong.".to_owned(),
    }];
    assert_eq!(problems(text)[0].field, SpecField::Misconception(0));
}

#[test]
fn spec_rejects_bad_phrase() {
    let mut spec = spec(QuestionKind::Text, "tags");
    spec.concepts = vec![ConceptSpec {
        name: "tags".to_owned(),
        phrases: vec!["tag".to_owned(), "ta*gs".to_owned()],
    }];
    let found = problems(spec);
    assert_eq!(found[0].field, SpecField::ConceptPhrase(0, 1));
}

#[test]
fn spec_rejects_misconception_that_is_correct() {
    let mut spec = spec(QuestionKind::Number, "1000");
    spec.misconceptions = vec![misconception(&["50", "1,000"], "Wrong.")];
    let fields: Vec<SpecField> = problems(spec)
        .into_iter()
        .map(|problem| problem.field)
        .collect();
    // The answer itself now matches the misconception, so both are reported.
    assert_eq!(
        fields,
        vec![SpecField::Answer, SpecField::MisconceptionAnswer(0, 1)]
    );
}

#[test]
fn spec_rejects_choice_answer_outside_choices() {
    let mut spec = choice_spec();
    spec.answer = "FROZEN".to_owned();
    let found = problems(spec);
    assert_eq!(found[0].field, SpecField::Answer);

    let mut single = choice_spec();
    single.choices = Some(vec!["IMMUTABLE".to_owned()]);
    assert_eq!(problems(single)[0].field, SpecField::Choices);

    let mut repeated = choice_spec();
    repeated.choices = Some(vec!["IMMUTABLE".to_owned(), "immutable".to_owned()]);
    assert_eq!(problems(repeated)[0].field, SpecField::Choices);
}

#[test]
fn unanswered_and_unreadable_grade_incorrect() {
    let question = builtin("tags-per-image");
    let skipped = question.grade_unanswered();
    assert_eq!(skipped.verdict, Verdict::Incorrect);
    assert_eq!(skipped.answer, None);

    let error = question.grade("lots").expect_err("no number");
    let unreadable = question.grade_unreadable("lots", &error);
    assert_eq!(unreadable.verdict, Verdict::Incorrect);
    assert_eq!(unreadable.answer.as_deref(), Some("lots"));
    assert_eq!(unreadable.notes, vec![error.to_string()]);
}

#[test]
fn empty_answer_is_unreadable() {
    assert_eq!(
        builtin("tag-immutability").grade("   "),
        Err(AnswerError::Empty)
    );
}

#[test]
fn sheet_grades_every_question() {
    let lab = Lab::builtin_push_to_ecr();
    let sheet = AnswerSheet::parse(
        r#"
registry-url = "https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com"
tag-immutability = "A pushed tag cannot be overwritten."
token-validity = "30 minutes"
tags-per-image = 1000
"#,
        "answers.toml",
    )
    .expect("valid answers file");
    let report = sheet.grade(&lab.questions).expect("known ids");

    let verdicts: Vec<(&str, Verdict)> = report
        .grades
        .iter()
        .map(|grade| (grade.question_id.as_str(), grade.verdict))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("registry-url", Verdict::Correct),
            ("tag-immutability", Verdict::Correct),
            ("scan-on-push", Verdict::Incorrect),
            ("token-validity", Verdict::Incorrect),
            ("tags-per-image", Verdict::Correct),
            ("scan-finding", Verdict::Incorrect),
        ]
    );
    assert_eq!(report.correct_count(), 3);
    assert_eq!(report.score(), 3.0);
    assert!(!report.passed());
    assert_eq!(
        report.grades[2].notes,
        vec!["no answer was given".to_owned()]
    );
}

#[test]
fn sheet_unknown_id_names_line_and_ids() {
    let lab = Lab::builtin_push_to_ecr();
    let sheet = AnswerSheet::parse("tags-per-image = 1000\ntoken-valid = \"12h\"\n", "a.toml")
        .expect("valid TOML");
    let error = sheet.grade(&lab.questions).expect_err("unknown id");
    let message = error.to_string();
    assert!(message.starts_with("a.toml:2: "), "{message}");
    assert!(message.contains("\"token-valid\""), "{message}");
    assert!(message.contains("token-validity"), "{message}");
}

#[test]
fn sheet_rejects_bad_values_and_syntax() {
    let error = AnswerSheet::parse("a = \"x\"\nb = [1, 2]\n", "a.toml").expect_err("array");
    let message = error.to_string();
    assert!(message.starts_with("a.toml:2: "), "{message}");
    assert!(message.contains("array"), "{message}");

    let error = AnswerSheet::parse("a = \"x\"\nb = \n", "a.toml").expect_err("syntax");
    assert!(error.to_string().starts_with("a.toml:2: "), "{error}");
}

#[test]
fn sheet_unreadable_answer_grades_incorrect() {
    let lab = Lab::builtin_push_to_ecr();
    let sheet = AnswerSheet::parse("token-validity = \"12\"\n", "a.toml").expect("valid");
    let report = sheet.grade(&lab.questions).expect("known ids");
    let grade = &report.grades[3];
    assert_eq!(grade.question_id, "token-validity");
    assert_eq!(grade.verdict, Verdict::Incorrect);
    assert!(grade.notes[0].contains("has no unit"), "{:?}", grade.notes);
}

#[test]
fn sheet_range_and_bound_graded_incorrect() {
    let lab = Lab::builtin_push_to_ecr();
    let sheet = AnswerSheet::parse(
        "registry-url = \"localhost:5000\"\ntoken-validity = \"1 to 12 hours\"\ntags-per-image = \"1000+\"\n",
        "a.toml",
    )
    .expect("valid");
    let report = sheet.grade(&lab.questions).expect("known ids");
    assert_eq!(report.correct_count(), 0);

    let registry = &report.grades[0];
    assert!(registry.misconception.is_some(), "{registry:?}");
    let token = &report.grades[3];
    assert_eq!(token.verdict, Verdict::Incorrect);
    assert!(
        token.notes[0].contains("several durations (1 hour, 12 hours)"),
        "{:?}",
        token.notes
    );
    let tags = &report.grades[4];
    assert_eq!(tags.verdict, Verdict::Incorrect);
    assert!(tags.notes[0].contains("gives a bound"), "{:?}", tags.notes);
}

#[test]
fn sheet_reads_toml_numbers() {
    let lab = Lab::builtin_push_to_ecr();
    let sheet = AnswerSheet::parse("tags-per-image = 1e3\n", "a.toml").expect("valid");
    let report = sheet.grade(&lab.questions).expect("known ids");
    assert!(report.grades[4].is_correct(), "{:?}", report.grades[4]);

    let sheet = AnswerSheet::parse("tags-per-image = -1000\n", "a.toml").expect("valid");
    let report = sheet.grade(&lab.questions).expect("known ids");
    assert_eq!(report.grades[4].verdict, Verdict::Incorrect);
}

#[test]
fn question_kind_names_round_trip() {
    for kind in QuestionKind::ALL {
        assert_eq!(QuestionKind::from_name(kind.name()), Some(kind));
    }
    assert_eq!(QuestionKind::from_name("essay"), None);
}

mod feedback;
mod scoring;
