//! `ecrlab hint` and `ecrlab progress reset`: the student's side of the lab between checks.
//!
//! Hints are chosen from a live check, so the step that gets a hint is the first one the
//! registry's evidence does not yet show as done. The hint level reached for each step is kept
//! in the lab's progress file (`ecrlab_core::progress`).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use ecrlab_core::check::CheckOptions;
use ecrlab_core::lab::{Lab, Step};
use ecrlab_core::progress::{self, Progress};

use crate::colour::{Style, style};
use crate::commands::{LabOptions, grade};

/// Shows the next hint of the first step that has not passed, or the current one when
/// `again` is set, and records the level reached. The commands it suggests repeat `options`.
pub async fn hint(
    endpoint: &str,
    lab: &Lab,
    options: &LabOptions,
    again: bool,
    colour: bool,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    // A progress file that cannot be read stops the command before anything is saved over it.
    let mut progress = Progress::load(lab)?;
    let report = grade(endpoint, lab, CheckOptions::default()).await?;

    let Some(position) = report.steps.iter().position(|step| !step.passed) else {
        writeln!(
            out,
            "All {} steps of {} pass, so there is nothing left to hint at. Test what you learned \
             with `{}`.",
            report.steps.len(),
            lab.id,
            options.quiz_command(lab)
        )?;
        return Ok(ExitCode::SUCCESS);
    };
    let step_id = &report.steps[position].id;
    let step = lab.step(step_id).with_context(|| {
        format!(
            "the check reported step {step_id}, which lab {} lacks",
            lab.id
        )
    })?;

    let level = next_hint_level(progress.hint_level(step_id), step.hints.len(), again);
    if level != progress.hint_level(step_id) {
        progress.set_hint_level(step_id, level);
        progress.save()?;
    }
    write_hint(out, lab, options, position, step, level, colour)?;
    Ok(ExitCode::SUCCESS)
}

/// Returns the hint level to show: one more than `reached`, or `reached` itself when `again`
/// is set, and always between 1 and `count`.
fn next_hint_level(reached: usize, count: usize, again: bool) -> usize {
    let level = if again { reached } else { reached + 1 };
    level.clamp(1, count.max(1))
}

fn write_hint(
    out: &mut impl Write,
    lab: &Lab,
    options: &LabOptions,
    position: usize,
    step: &Step,
    level: usize,
    colour: bool,
) -> std::io::Result<()> {
    let count = step.hints.len();
    writeln!(
        out,
        "Step {} of {}, {}: {}",
        position + 1,
        lab.steps.len(),
        step.id,
        step.title
    )?;
    let Some(text) = step.hints.get(level - 1) else {
        return writeln!(
            out,
            "This step has no hints; its instructions are in `{}`.",
            options.lab_show_command(&lab.id)
        );
    };
    let label = format!("Hint {level} of {count}:");
    writeln!(out, "{} {text}", style(&label, Style::Bold, colour))?;
    if level < count {
        writeln!(
            out,
            "Run `{}` again for hint {} of {count}.",
            options.command("hint"),
            level + 1
        )
    } else {
        writeln!(
            out,
            "This is the last hint for this step: `{}` shows it again, and `{}` shows what \
             the registry recorded.",
            options.command("hint --again"),
            options.command("check")
        )
    }
}

/// Deletes the saved progress of `lab` and prints whether there was any.
pub fn reset_progress(lab: &Lab, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let (path, existed) = progress::reset(&lab.id)?;
    if existed {
        writeln!(
            out,
            "Deleted the progress of lab {} (hint levels and quiz answers): {}",
            lab.id,
            path.display()
        )?;
    } else {
        writeln!(
            out,
            "Lab {} has no saved progress; {} does not exist.",
            lab.id,
            path.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_level_goes_up_then_stays_at_last() {
        assert_eq!(next_hint_level(0, 3, false), 1);
        assert_eq!(next_hint_level(1, 3, false), 2);
        assert_eq!(next_hint_level(2, 3, false), 3);
        assert_eq!(next_hint_level(3, 3, false), 3);
    }

    #[test]
    fn again_repeats_reached_level() {
        assert_eq!(next_hint_level(0, 3, true), 1);
        assert_eq!(next_hint_level(2, 3, true), 2);
        // Progress saved for an older lab with more hints is clamped to this lab's hints.
        assert_eq!(next_hint_level(5, 3, true), 3);
    }
}
