//! Feedback text for graded answers, one statement per line, without indentation or colour so
//! that the caller can lay it out.
//!
//! Final feedback states the verdict, the correct answer, the explanation of a matched
//! misconception, notes on the answer, the question's explanation and its source. Feedback
//! between tries leaves out everything that gives the answer away.

use super::{Grade, QuestionResult, Verdict};

impl Grade {
    /// Formats the feedback shown once the question is finished.
    pub fn feedback(&self) -> String {
        let mut lines = vec![self.verdict_line()];
        if let Some(misconception) = &self.misconception {
            lines.push(format!("A common mistake: {misconception}"));
        }
        lines.extend(self.notes.iter().map(|note| format!("- {note}")));
        lines.push(self.explanation.clone());
        lines.push(format!("Source: {}", self.source));
        lines.join("\n")
    }

    /// Formats the feedback shown when the student may try again: the verdict and the notes
    /// on the answer, but neither the correct answer nor an explanation, which state it.
    pub fn retry_feedback(&self, tries_left: u32) -> String {
        let tries = match tries_left {
            1 => "1 try left".to_owned(),
            count => format!("{count} tries left"),
        };
        let mut lines = vec![match self.verdict {
            Verdict::Partial => format!(
                "Partly correct, for {} of the credit. Try again ({tries}); a retry keeps the better score.",
                format_score(self.score)
            ),
            _ => format!("Not correct yet. Try again ({tries})."),
        }];
        if self.misconception.is_some() {
            lines.push("This answer is a common mistake.".to_owned());
        }
        lines.extend(self.notes.iter().map(|note| format!("- {note}")));
        lines.join("\n")
    }

    fn verdict_line(&self) -> String {
        match self.verdict {
            Verdict::Correct => "Correct.".to_owned(),
            Verdict::Partial => format!(
                "Partly correct, for {} of the credit. The correct answer is: {}",
                format_score(self.score),
                self.correct_answer
            ),
            Verdict::Incorrect => {
                format!("Incorrect. The correct answer is: {}", self.correct_answer)
            }
        }
    }
}

impl QuestionResult {
    /// Formats the final feedback on the newest answer, followed by the question's score and,
    /// when retries are allowed, the attempt it came from.
    pub fn feedback(&self) -> String {
        let mut text = self.last_grade().feedback();
        text.push('\n');
        text.push_str(&self.score_line());
        text
    }

    fn score_line(&self) -> String {
        let score = format_score(self.score);
        let Some(best) = self.best_attempt else {
            return format!("Score: {score} of 1.");
        };
        let attempt = &self.attempts[best];
        match attempt.try_number {
            Some(try_number) if self.attempts_allowed > 1 => {
                let penalty = if try_number > 1 && self.retry_penalty > 0.0 {
                    format!(
                        ", after losing {} of the credit per retry",
                        format_score(self.retry_penalty)
                    )
                } else {
                    String::new()
                };
                format!(
                    "Score: {score} of 1, from try {try_number} of {}{penalty}.",
                    self.attempts_allowed
                )
            }
            _ => format!("Score: {score} of 1."),
        }
    }
}

/// Formats a score with at most two decimals and no trailing zeros: `1`, `0.5`, `0.67`.
pub(crate) fn format_score(score: f64) -> String {
    let rounded = format!("{score:.2}");
    let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
    trimmed.to_owned()
}
