//! `ecrlab clock`: read and move the mock's clock through its admin API, so a drill can make
//! tokens expire without waiting 12 hours.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use ecrlab_core::clients::{AdminClient, ClockState, parse_endpoint_url};
use mock_ecr::clock::{format_duration, parse_duration};

use crate::EndpointArguments;

/// The lifetime of an ECR authorization token in seconds: 12 hours (ECR API Reference,
/// GetAuthorizationToken).
const TOKEN_LIFETIME_SECONDS: i64 = 12 * 60 * 60;

#[derive(clap::Subcommand)]
pub enum ClockCommand {
    /// Move the mock's clock forward, for example by 13h to make every current token expire.
    Advance(AdvanceArguments),
    /// Print the mock's time and how far its clock has been moved forward.
    Show(EndpointArguments),
}

#[derive(clap::Args)]
pub struct AdvanceArguments {
    /// How far to move the clock: whole numbers with d, h, m or s, largest unit first, such as
    /// 13h, 90m, 1d, 45s or 1h30m.
    #[arg(value_parser = normalized_duration)]
    by: String,
    #[command(flatten)]
    endpoint: EndpointArguments,
}

/// Validates a duration as the mock does and returns it in the mock's own spelling, so a
/// mistyped value is rejected before any request.
fn normalized_duration(text: &str) -> Result<String, String> {
    parse_duration(text)
        .map(format_duration)
        .map_err(|error| error.to_string())
}

pub async fn run(command: ClockCommand, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    match command {
        ClockCommand::Advance(arguments) => {
            let admin = admin_client(&arguments.endpoint.endpoint)?;
            let state = admin.advance_clock(&arguments.by).await?;
            write_advanced(&state, &arguments.by, out)?;
        }
        ClockCommand::Show(endpoint) => {
            let state = admin_client(&endpoint.endpoint)?.clock().await?;
            write_state(&state, out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn admin_client(endpoint: &str) -> anyhow::Result<AdminClient> {
    let url = parse_endpoint_url(endpoint)?;
    AdminClient::new(&url).with_context(|| format!("cannot build a client for {endpoint}"))
}

fn write_advanced(state: &ClockState, by: &str, out: &mut impl Write) -> std::io::Result<()> {
    let advanced_by = state.advanced_by.as_deref().unwrap_or(by);
    writeln!(
        out,
        "Moved the mock's clock forward {advanced_by}: it now reads {} ({} ahead in total).",
        state.now, state.offset
    )?;
    let advanced_seconds =
        parse_duration(advanced_by).map_or(0, |duration| duration.whole_seconds());
    if advanced_seconds >= TOKEN_LIFETIME_SECONDS {
        writeln!(
            out,
            "Every token issued before this move has expired, because tokens last 12 hours: registry requests with it are rejected with DENIED until you log in again."
        )?;
    }
    writeln!(out, "{RESET_ON_RESTART}")
}

/// The note printed after a clock move. The mock keeps its clock offset in memory only, so a
/// restart returns to the real time, and a token issued while the clock was ahead lasts longer.
const RESET_ON_RESTART: &str = "The move lasts until the mock restarts: a restart sets its clock back to the real time, and tokens issued while it was ahead then stay valid that much longer.";

fn write_state(state: &ClockState, out: &mut impl Write) -> std::io::Result<()> {
    if state.offset_seconds == 0 {
        writeln!(
            out,
            "The mock's clock reads {} and has not been moved.",
            state.now
        )
    } else {
        writeln!(
            out,
            "The mock's clock reads {}, moved forward {} in total.\n{RESET_ON_RESTART}",
            state.now, state.offset
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(offset: &str, offset_seconds: i64, advanced_by: Option<&str>) -> ClockState {
        ClockState {
            now: "2026-12-05T01:00:00.000Z".to_owned(),
            offset: offset.to_owned(),
            offset_seconds,
            advanced_by: advanced_by.map(str::to_owned),
        }
    }

    fn text(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn duration_argument_normalized() {
        assert_eq!(normalized_duration("90m"), Ok("1h30m".to_owned()));
        assert_eq!(normalized_duration("13H"), Ok("13h".to_owned()));
        let error = normalized_duration("13 hours").unwrap_err();
        assert!(error.contains("'13 hours'"), "{error}");
    }

    #[test]
    fn long_advance_mentions_expiry() {
        let output = text(|out| write_advanced(&state("13h", 46_800, Some("13h")), "13h", out));
        assert_eq!(
            output,
            "Moved the mock's clock forward 13h: it now reads 2026-12-05T01:00:00.000Z (13h ahead in total).\n\
             Every token issued before this move has expired, because tokens last 12 hours: registry requests with it are rejected with DENIED until you log in again.\n\
             The move lasts until the mock restarts: a restart sets its clock back to the real time, and tokens issued while it was ahead then stay valid that much longer.\n"
        );
    }

    #[test]
    fn short_advance_omits_expiry() {
        let output = text(|out| write_advanced(&state("14h", 50_400, Some("1h")), "1h", out));
        assert_eq!(
            output,
            format!(
                "Moved the mock's clock forward 1h: it now reads 2026-12-05T01:00:00.000Z (14h ahead in total).\n{RESET_ON_RESTART}\n"
            )
        );
    }

    #[test]
    fn show_unmoved_and_moved() {
        let unmoved = text(|out| write_state(&state("0s", 0, None), out));
        assert_eq!(
            unmoved,
            "The mock's clock reads 2026-12-05T01:00:00.000Z and has not been moved.\n"
        );
        let moved = text(|out| write_state(&state("13h", 46_800, None), out));
        assert_eq!(
            moved,
            format!(
                "The mock's clock reads 2026-12-05T01:00:00.000Z, moved forward 13h in total.\n{RESET_ON_RESTART}\n"
            )
        );
    }

    #[tokio::test]
    async fn advance_and_show_against_mock() {
        let data = tempfile::tempdir().unwrap();
        let mock = mock_ecr::MockEcr::start(mock_ecr::Config::new(data.path()))
            .await
            .unwrap();
        let endpoint = || EndpointArguments {
            endpoint: mock.endpoint().to_owned(),
        };

        let mut out = Vec::new();
        let advance = ClockCommand::Advance(AdvanceArguments {
            by: "13h".to_owned(),
            endpoint: endpoint(),
        });
        assert_eq!(run(advance, &mut out).await.unwrap(), ExitCode::SUCCESS);
        let output = String::from_utf8(out).unwrap();
        assert!(
            output.starts_with("Moved the mock's clock forward 13h"),
            "{output}"
        );
        assert!(output.contains("(13h ahead in total)"), "{output}");

        let mut out = Vec::new();
        run(ClockCommand::Show(endpoint()), &mut out).await.unwrap();
        let output = String::from_utf8(out).unwrap();
        assert!(
            output.contains(", moved forward 13h in total.\n"),
            "{output}"
        );
        assert!(
            output.ends_with(&format!("{RESET_ON_RESTART}\n")),
            "{output}"
        );

        // The mock rejects what the argument parser would, and the error names the value.
        let invalid = ClockCommand::Advance(AdvanceArguments {
            by: "0s".to_owned(),
            endpoint: endpoint(),
        });
        let error = format!("{:#}", run(invalid, &mut Vec::new()).await.unwrap_err());
        assert!(error.contains("HTTP 400"), "{error}");
        assert!(error.contains("invalid duration '0s'"), "{error}");
        mock.shutdown().await;
    }
}
