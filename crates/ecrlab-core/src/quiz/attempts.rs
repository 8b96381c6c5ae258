//! Grading a sequence of answers to one question with its attempts and retry penalty.
//!
//! Grading is a pure function of the question and the answers, so a report can grade stored
//! answers again and get the same result. The rules:
//!
//! - Each readable answer uses one try. An answer that cannot be read (a duration without a
//!   unit, two numbers) uses none, as in an interactive quiz, which asks again.
//! - Only the first `attempts` tries count, and none after a correct answer, which ends the
//!   question.
//! - Try n scores its answer's credit multiplied by `1 - (n - 1) * retry_penalty`, at least 0.
//! - The question's score is the best score of a counted try, the earliest on a tie.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Grade, Question, Verdict};

/// One answer of a sequence, graded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptResult {
    /// The answer graded on its own, with its feedback.
    pub grade: Grade,
    /// The try this answer used, from 1; `None` for an answer that could not be read.
    pub try_number: Option<u32>,
    /// Whether the answer counts toward the score.
    pub counted: bool,
    /// The answer's credit after the retry penalty; 0 when it does not count.
    pub score: f64,
}

/// The result of one question over all of a student's answers to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionResult {
    pub question_id: String,
    /// Every answer, oldest first.
    pub attempts: Vec<AttemptResult>,
    /// The verdict of the attempt that scored best, `incorrect` when none counts.
    pub verdict: Verdict,
    /// The question's score, from 0.0 to 1.0.
    pub score: f64,
    /// The index in `attempts` of the attempt that scored best, `None` when none scored.
    pub best_attempt: Option<usize>,
    /// The tries the question allows.
    pub attempts_allowed: u32,
    /// The share of the credit lost for each retry.
    pub retry_penalty: f64,
    /// The grade of the newest answer, or of an unanswered question; `attempts` already
    /// contains the former, so it is not serialized.
    #[serde(skip)]
    last_grade: Grade,
}

/// The results of a whole quiz, in question order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuizResult {
    pub questions: Vec<QuestionResult>,
}

impl Question {
    /// Grades a student's answers to this question, oldest first, with the question's
    /// attempts, retry penalty and partial credit. An empty list grades as unanswered.
    pub fn grade_attempts(&self, answers: &[String]) -> QuestionResult {
        let scoring = self.scoring();
        let mut attempts = Vec::with_capacity(answers.len());
        let mut tries_used = 0u32;
        let mut finished = false;

        for answer in answers {
            let grade = match self.grade(answer) {
                Ok(grade) => grade,
                Err(error) => {
                    attempts.push(AttemptResult {
                        grade: self.grade_unreadable(answer, &error),
                        try_number: None,
                        counted: false,
                        score: 0.0,
                    });
                    continue;
                }
            };
            tries_used = tries_used.saturating_add(1);
            let counted = !finished && tries_used <= scoring.attempts;
            let score = if counted {
                grade.score * scoring.retry_weight(tries_used)
            } else {
                0.0
            };
            finished |= grade.is_correct();
            attempts.push(AttemptResult {
                grade,
                try_number: Some(tries_used),
                counted,
                score,
            });
        }

        let last_grade = match attempts.last() {
            Some(attempt) => attempt.grade.clone(),
            None => self.grade_unanswered(),
        };
        let best_attempt = best_attempt(&attempts);
        let (verdict, score) = match best_attempt {
            Some(index) => (attempts[index].grade.verdict, attempts[index].score),
            None => (Verdict::Incorrect, 0.0),
        };
        QuestionResult {
            question_id: self.id().to_owned(),
            attempts,
            verdict,
            score,
            best_attempt,
            attempts_allowed: scoring.attempts,
            retry_penalty: scoring.retry_penalty,
            last_grade,
        }
    }
}

/// Returns the index of the counted attempt with the highest score, and among equal scores the
/// best verdict, the earliest on a tie. A correct retry worth nothing after its penalty still
/// counts as correct. Returns `None` when no counted attempt is better than incorrect.
fn best_attempt(attempts: &[AttemptResult]) -> Option<usize> {
    let rank = |attempt: &AttemptResult| match attempt.grade.verdict {
        Verdict::Correct => 2,
        Verdict::Partial => 1,
        Verdict::Incorrect => 0,
    };
    let mut best: Option<usize> = None;
    for (index, attempt) in attempts.iter().enumerate() {
        if !attempt.counted || (attempt.score <= 0.0 && rank(attempt) == 0) {
            continue;
        }
        let better = best.is_none_or(|current| {
            let current = &attempts[current];
            attempt.score > current.score
                || (attempt.score == current.score && rank(attempt) > rank(current))
        });
        if better {
            best = Some(index);
        }
    }
    best
}

impl QuestionResult {
    /// Returns how many tries the student has left: 0 once an answer is correct or every try
    /// is used.
    pub fn tries_left(&self) -> u32 {
        if self.is_correct() {
            return 0;
        }
        let used = self
            .attempts
            .iter()
            .filter(|attempt| attempt.try_number.is_some())
            .count();
        let used = u32::try_from(used).unwrap_or(u32::MAX);
        self.attempts_allowed.saturating_sub(used)
    }

    /// Returns whether an answer was correct, possibly on a retry.
    pub fn is_correct(&self) -> bool {
        self.verdict == Verdict::Correct
    }

    /// Returns the grade of the newest answer, or the grade of an unanswered question.
    pub fn last_grade(&self) -> &Grade {
        &self.last_grade
    }
}

impl QuizResult {
    /// Grades every question with the student's answers, keyed by question id as
    /// `Progress::quiz_attempts` stores them. A question without answers grades as unanswered,
    /// and answers to ids that no question has are ignored.
    pub fn grade(questions: &[Question], answers: &BTreeMap<String, Vec<String>>) -> QuizResult {
        let questions = questions
            .iter()
            .map(|question| {
                let answers = answers.get(question.id()).map_or(&[][..], Vec::as_slice);
                question.grade_attempts(answers)
            })
            .collect();
        QuizResult { questions }
    }

    /// Returns the sum of the questions' scores.
    pub fn score(&self) -> f64 {
        self.questions.iter().map(|question| question.score).sum()
    }

    /// Returns the highest possible score: one point per question.
    pub fn max_score(&self) -> f64 {
        self.questions.len() as f64
    }

    pub fn correct_count(&self) -> usize {
        self.questions
            .iter()
            .filter(|question| question.is_correct())
            .count()
    }
}
