//! `ecrlab watch`: re-checks the lab whenever the mock records a new event, until every step
//! passes.
//!
//! Each poll requests the journal events newer than the last one seen
//! (`GET /_ecrlab/journal?after=SEQ`) and runs a full check only when a client other than
//! ecrlab's own grading clients caused one. On a terminal the progress is redrawn in place;
//! otherwise one line is printed each time a step's status changes.

use std::io::{IsTerminal as _, Write};
use std::process::ExitCode;
use std::time::Duration;

use ecrlab_core::check::{CheckOptions, CheckReport, check_lab};
use ecrlab_core::clients::{AdminClient, ClientError, EcrSettings, collect_evidence};
use ecrlab_core::evidence::JournalEvent;
use ecrlab_core::lab::Lab;

use crate::colour::{Style, style};
use crate::commands::LabOptions;

/// The exit status after Ctrl-C: 128 plus SIGINT's number, as shells report it.
const INTERRUPTED: u8 = 130;

/// The clear-screen sequence (ECMA-48 CUP then ED 2) that precedes each redraw on a terminal.
const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";

/// Parses `--interval`: a positive whole number followed by `ms`, `s` or `m`.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let invalid =
        || format!("invalid interval {text:?}; write a number and a unit: 500ms, 1s or 2m");
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let interval = match unit.trim() {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        _ => return Err(invalid()),
    };
    if interval.is_zero() {
        return Err(format!(
            "invalid interval {text:?}; it must be longer than 0"
        ));
    }
    Ok(interval)
}

/// The watch's output: redrawn on a terminal, one line per change elsewhere.
struct Display {
    redraw: bool,
    colour: bool,
    /// The options that the suggested `ecrlab hint` and `ecrlab quiz` commands repeat.
    options: LabOptions,
    /// The step verdicts last printed, to print only changes.
    last_verdicts: Option<Vec<bool>>,
}

/// Watches the lab at the mock at `endpoint`, polling every `interval`. Returns success when
/// every step passes, and status 130 after Ctrl-C. The commands it suggests repeat `options`.
pub async fn watch(
    endpoint: &str,
    lab: &Lab,
    options: &LabOptions,
    interval: Duration,
    colour: bool,
    out: &mut impl Write,
) -> anyhow::Result<ExitCode> {
    let settings = EcrSettings::for_mock(endpoint)?;
    let admin = settings.admin_client()?;
    let mut display = Display {
        redraw: std::io::stdout().is_terminal(),
        colour,
        options: options.clone(),
        last_verdicts: None,
    };
    if !display.redraw {
        writeln!(
            out,
            "Watching lab {} {} at {endpoint}; press Ctrl-C to stop.",
            lab.id, lab.version
        )?;
        out.flush()?;
    }

    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut watcher = Watcher {
        admin,
        settings,
        lab,
        last_seq: None,
        unreachable: false,
    };
    loop {
        let polled = tokio::select! {
            _ = &mut ctrl_c => return interrupted(out),
            polled = watcher.poll() => polled,
        };
        match polled {
            Ok(Some(report)) => {
                display.show(&report, lab, endpoint, out)?;
                if report.passed {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            Ok(None) => {}
            Err(error) => watcher.report_unreachable(endpoint, interval, error),
        }
        tokio::select! {
            _ = &mut ctrl_c => return interrupted(out),
            () = tokio::time::sleep(interval) => {}
        }
    }
}

fn interrupted(out: &mut impl Write) -> anyhow::Result<ExitCode> {
    writeln!(out, "Stopped.")?;
    out.flush()?;
    Ok(ExitCode::from(INTERRUPTED))
}

struct Watcher<'lab> {
    admin: AdminClient,
    settings: EcrSettings,
    lab: &'lab Lab,
    /// The newest journal event seen; `None` forces a full check on the next poll.
    last_seq: Option<u64>,
    /// Whether the last poll failed, so an outage is reported once.
    unreachable: bool,
}

impl Watcher<'_> {
    /// Polls the journal and returns a new report when events other than ecrlab's own grading
    /// requests arrived since the last poll.
    async fn poll(&mut self) -> Result<Option<CheckReport>, ClientError> {
        if let Some(last_seq) = self.last_seq {
            let events = self.admin.journal(last_seq).await?;
            self.reconnected();
            let Some(newest) = events.iter().map(|event| event.seq).max() else {
                return Ok(None);
            };
            self.last_seq = Some(newest);
            if events.iter().all(JournalEvent::is_from_grader) {
                return Ok(None);
            }
        }

        let evidence = collect_evidence(&self.settings.ecr_client(), &self.admin).await?;
        self.reconnected();
        // The evidence's journal was read before its repositories were described, so the
        // describe calls of this check come after this seq and the next poll skips them.
        self.last_seq = Some(
            evidence
                .events
                .iter()
                .map(|event| event.seq)
                .max()
                .unwrap_or(0),
        );
        Ok(Some(check_lab(
            self.lab,
            &evidence,
            CheckOptions::default(),
        )))
    }

    fn reconnected(&mut self) {
        if self.unreachable {
            self.unreachable = false;
            eprintln!("ecrlab: note: the mock is reachable again; watching resumes");
        }
    }

    /// Reports a failed poll once per outage, and forces a full check after it: a mock started
    /// again with another data folder starts its journal again at seq 1.
    fn report_unreachable(&mut self, endpoint: &str, interval: Duration, error: ClientError) {
        self.last_seq = None;
        if !self.unreachable {
            self.unreachable = true;
            let error = anyhow::Error::from(error);
            eprintln!(
                "ecrlab: warning: cannot check the lab at {endpoint}: {error:#}; retrying every \
                 {interval:?} until the mock answers"
            );
        }
    }
}

impl Display {
    fn show(
        &mut self,
        report: &CheckReport,
        lab: &Lab,
        endpoint: &str,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        let verdicts: Vec<bool> = report.steps.iter().map(|step| step.passed).collect();
        if self.last_verdicts.as_ref() == Some(&verdicts) {
            return Ok(());
        }
        self.last_verdicts = Some(verdicts);
        if self.redraw {
            self.draw(report, lab, endpoint, out)?;
        } else {
            writeln!(out, "{}", self.progress_line(report))?;
        }
        if report.passed {
            writeln!(
                out,
                "Lab {} complete: every step passes. Next, answer the quiz with `{}`.",
                lab.id,
                self.options.quiz_command(lab)
            )?;
        }
        out.flush()
    }

    /// Returns `N of M steps passed: id PASS, id FAIL, ...`.
    fn progress_line(&self, report: &CheckReport) -> String {
        let statuses: Vec<String> = report
            .steps
            .iter()
            .map(|step| format!("{} {}", step.id, self.verdict(step.passed)))
            .collect();
        format!(
            "{} of {} steps passed: {}",
            report.steps.iter().filter(|step| step.passed).count(),
            report.steps.len(),
            statuses.join(", ")
        )
    }

    fn verdict(&self, passed: bool) -> String {
        if passed {
            style("PASS", Style::Pass, self.colour)
        } else {
            style("FAIL", Style::Fail, self.colour)
        }
    }

    /// Clears the terminal and draws each step's status, with the evidence of the first step
    /// that has not passed.
    fn draw(
        &self,
        report: &CheckReport,
        lab: &Lab,
        endpoint: &str,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        write!(out, "{CLEAR_SCREEN}")?;
        writeln!(
            out,
            "Watching lab {} {} at {endpoint}; press Ctrl-C to stop.\n",
            lab.id, lab.version
        )?;
        let passed = report.steps.iter().filter(|step| step.passed).count();
        let summary = format!("{passed} of {} steps passed", report.steps.len());
        writeln!(out, "{}", style(&summary, Style::Bold, self.colour))?;
        let first_failed = report.steps.iter().position(|step| !step.passed);
        for (index, step) in report.steps.iter().enumerate() {
            writeln!(
                out,
                "{} {}: {}",
                self.verdict(step.passed),
                step.id,
                step.title
            )?;
            if Some(index) == first_failed {
                for sentence in &step.evidence {
                    writeln!(out, "     - {sentence}")?;
                }
                writeln!(
                    out,
                    "     `{}` gives a hint for this step.",
                    self.options.command("hint")
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_units_are_parsed() {
        assert_eq!(parse_interval("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn invalid_intervals_are_rejected() {
        for text in ["", "1", "s", "1h", "0s", "-1s", "1.5s"] {
            assert!(parse_interval(text).is_err(), "{text:?} must be rejected");
        }
    }
}
