//! Colour in the results that commands print on standard output.
//!
//! Colour is used only when the student requests it with `--color always`, or with the default
//! `--color auto` when standard output is a terminal and `NO_COLOR` is unset or empty
//! (<https://no-color.org>). Piped output is plain text.

use std::io::IsTerminal as _;

use clap::ValueEnum;

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

/// The `--color` option of commands that print results.
#[derive(Debug, clap::Args)]
pub struct ColorArguments {
    /// When to colour the output: auto colours only on a terminal and never when NO_COLOR is
    /// set.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

impl ColorArguments {
    /// Returns whether standard output gets colour.
    pub fn enabled(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
            }
        }
    }
}

/// Colours the `PASS` and `FAIL` verdicts that start lines of `text`, and the `hint N of M:`
/// labels of failed steps. Returns `text` unchanged when `enabled` is false.
pub fn paint_verdicts(text: &str, enabled: bool) -> String {
    if !enabled {
        return text.to_owned();
    }
    let mut painted = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let (leading, rest) = line.split_at(indent);
        painted.push_str(leading);
        if let Some(after) = rest.strip_prefix("PASS ") {
            painted.push_str(&paint("PASS", GREEN));
            painted.push(' ');
            painted.push_str(after);
        } else if let Some(after) = rest.strip_prefix("FAIL ") {
            painted.push_str(&paint("FAIL", RED));
            painted.push(' ');
            painted.push_str(after);
        } else if let Some((label, after)) = rest
            .split_once(": ")
            .filter(|(label, _)| label.starts_with("hint "))
        {
            painted.push_str(&paint(label, BOLD));
            painted.push_str(": ");
            painted.push_str(after);
        } else {
            painted.push_str(rest);
        }
    }
    painted
}

/// Wraps `text` in the escape codes of `style` when `enabled`.
pub fn style(text: &str, style: Style, enabled: bool) -> String {
    if !enabled {
        return text.to_owned();
    }
    let code = match style {
        Style::Pass => GREEN,
        Style::Fail => RED,
        Style::Bold => BOLD,
    };
    paint(text, code)
}

/// A style for [`style`].
#[derive(Debug, Clone, Copy)]
pub enum Style {
    Pass,
    Fail,
    Bold,
}

fn paint(text: &str, code: &str) -> String {
    format!("{code}{text}{RESET}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_painted_at_line_starts() {
        let text = "lab 1.0.0: 1 of 2 steps passed\nPASS a: A\n     - a PASS in evidence\nFAIL b: B\n     hint 1 of 2: try\n";
        let painted = paint_verdicts(text, true);
        assert!(
            painted.contains("\x1b[32mPASS\x1b[0m a: A\n"),
            "{painted:?}"
        );
        assert!(
            painted.contains("\x1b[31mFAIL\x1b[0m b: B\n"),
            "{painted:?}"
        );
        assert!(
            painted.contains("     \x1b[1mhint 1 of 2\x1b[0m: try\n"),
            "{painted:?}"
        );
        assert!(
            painted.contains("     - a PASS in evidence\n"),
            "{painted:?}"
        );
    }

    #[test]
    fn disabled_painting_leaves_text_unchanged() {
        let text = "PASS a: A\n";
        assert_eq!(paint_verdicts(text, false), text);
        assert_eq!(style("x", Style::Bold, false), "x");
    }
}
