//! `ecrlab lab list|show|lint`: the available labs, one lab's content, and lab file checks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use ecrlab_core::lab::catalog::{self, Catalog, CatalogEntry, LAB_FILE_NAME, LabSource};
use ecrlab_core::lab::{Lab, LintReport, lint_path};

/// Width that `lab show` wraps the summary to, in characters.
const WRAP_WIDTH: usize = 80;

#[derive(Subcommand)]
pub enum LabCommand {
    /// List the available labs: the built-in lab and every */lab.toml in the labs folder.
    List(FolderArguments),
    /// Show a lab's summary, steps and questions (without hints and answers).
    Show(ShowArguments),
    /// Check lab files and print every error and warning with its line and column; exits
    /// with 1 when any file has an error.
    Lint(LintArguments),
}

#[derive(clap::Args)]
pub struct FolderArguments {
    /// Folder whose */lab.toml files are labs [default: ./labs when it exists].
    #[arg(long, env = "ECRLAB_LABS")]
    labs: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ShowArguments {
    /// A lab id from `ecrlab lab list`, or the path of a lab file or of its folder.
    lab: String,
    #[command(flatten)]
    folder: FolderArguments,
}

#[derive(clap::Args)]
pub struct LintArguments {
    /// Lab files, or folders that contain lab.toml or */lab.toml.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub fn run(command: LabCommand, stdout: &mut impl Write) -> anyhow::Result<ExitCode> {
    match command {
        LabCommand::List(arguments) => {
            let catalog = Catalog::discover(labs_folder(&arguments)?.as_deref())?;
            stdout.write_all(render_list(&catalog).as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Show(arguments) => {
            let folder = labs_folder(&arguments.folder)?;
            let found = catalog::find(&arguments.lab, folder.as_deref())?;
            for other in &found.shadowed {
                eprintln!(
                    "ecrlab: note: {} also has id {}; give its path to show it",
                    other.describe(),
                    found.lab.id
                );
            }
            stdout.write_all(render_show(&found.lab, &found.source).as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Lint(arguments) => lint(&arguments.paths, stdout),
    }
}

/// Returns the labs folder: `--labs` or `$ECRLAB_LABS` (which must exist), else `./labs` when
/// it exists, else none.
fn labs_folder(arguments: &FolderArguments) -> anyhow::Result<Option<PathBuf>> {
    match &arguments.labs {
        Some(folder) if folder.is_dir() => Ok(Some(folder.clone())),
        Some(folder) => anyhow::bail!(
            "the labs folder {} does not exist or is not a folder; pass an existing folder with --labs or ECRLAB_LABS",
            folder.display()
        ),
        None => {
            let default = PathBuf::from("labs");
            Ok(default.is_dir().then_some(default))
        }
    }
}

fn lint(paths: &[PathBuf], stdout: &mut impl Write) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for path in paths {
        for file in lab_files_at(path)? {
            let report = match lint_path(&file) {
                Ok(report) => report,
                Err(error) => {
                    writeln!(stdout, "{}: error: {error}", file.display())?;
                    failed = true;
                    continue;
                }
            };
            failed |= !report.is_valid();
            stdout.write_all(render_lint(&report).as_bytes())?;
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Returns the lab files a lint argument names: the file itself, a folder's lab.toml, or the
/// */lab.toml files of a folder of labs.
fn lab_files_at(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let own_file = path.join(LAB_FILE_NAME);
    if own_file.is_file() {
        return Ok(vec![own_file]);
    }
    let files = catalog::lab_files(path)?;
    if files.is_empty() {
        anyhow::bail!(
            "{} contains no {LAB_FILE_NAME} and no */{LAB_FILE_NAME}; pass the path of a lab file",
            path.display()
        );
    }
    Ok(files)
}

/// Renders one file's problems, or an `ok` line when it has no errors.
fn render_lint(report: &LintReport) -> String {
    let mut text = String::new();
    for problem in &report.problems {
        text.push_str(&problem.display_at(&report.origin));
        text.push('\n');
    }
    if report.is_valid() {
        let warnings = match report.warning_count() {
            0 => String::new(),
            1 => ", 1 warning".to_owned(),
            count => format!(", {count} warnings"),
        };
        text.push_str(&format!("{}: ok{warnings}\n", report.origin));
    }
    text
}

/// Renders the catalog as a table, one lab a line.
fn render_list(catalog: &Catalog) -> String {
    let header = ["ID", "VERSION", "STEPS", "QUESTIONS", "TITLE", "ORIGIN"].map(str::to_owned);
    let mut rows = vec![header];
    rows.extend(catalog.entries.iter().map(list_row));

    let widths: Vec<usize> = (0..6)
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();

    let mut text = String::new();
    for row in &rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            let width = widths[column];
            let cell = match column {
                // The counts are right-aligned, as numbers in tables usually are.
                2 | 3 => format!("{cell:>width$}"),
                5 => cell.clone(),
                _ => format!("{cell:<width$}"),
            };
            line.push_str(&cell);
            if column < 5 {
                line.push_str("  ");
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn list_row(entry: &CatalogEntry) -> [String; 6] {
    let report = &entry.report;
    if let Some(lab) = &report.lab {
        return [
            lab.id.clone(),
            lab.version.clone(),
            lab.steps.len().to_string(),
            lab.questions.len().to_string(),
            lab.title.clone(),
            entry.source.describe(),
        ];
    }

    // An invalid lab has no id, so the row names its folder and shows its first error.
    let folder = match &entry.source {
        LabSource::File(path) => path
            .parent()
            .and_then(Path::file_name)
            .map(|name| name.to_string_lossy().into_owned()),
        LabSource::BuiltIn | LabSource::BuiltInSameAs(_) => None,
    };
    let mut errors = report.problems.iter().filter(|problem| problem.is_error());
    let first = errors
        .next()
        .map(|problem| problem.display_at(&report.origin))
        .unwrap_or_default();
    let more = match errors.count() {
        0 => String::new(),
        count => format!(" (and {count} more; run ecrlab lab lint {})", report.origin),
    };
    [
        folder.unwrap_or_else(|| "?".to_owned()),
        "invalid".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        format!("{first}{more}"),
    ]
}

/// Renders a lab for reading on a terminal. Hints, correct answers and explanations are left
/// out, so showing a lab gives nothing away.
fn render_show(lab: &Lab, source: &LabSource) -> String {
    let mut text = format!(
        "{}\n{} {} ({})\n\n{}\n",
        lab.title,
        lab.id,
        lab.version,
        source.describe(),
        wrap(&lab.summary, WRAP_WIDTH)
    );

    text.push_str(&format!("\nSteps ({})\n", lab.steps.len()));
    for (index, step) in lab.steps.iter().enumerate() {
        let hints = match step.hints.len() {
            1 => "1 hint".to_owned(),
            count => format!("{count} hints"),
        };
        text.push_str(&format!(
            "\n{}. {} [{}]\n   check: {}, {hints}\n\n{}\n",
            index + 1,
            step.title,
            step.id,
            step.check.name(),
            indent(&step.instructions, "   ")
        ));
    }

    if lab.questions.is_empty() {
        return text;
    }
    text.push_str(&format!("\nQuestions ({})\n", lab.questions.len()));
    for (index, question) in lab.questions.iter().enumerate() {
        text.push_str(&format!(
            "\n{}. {} [{}, {}]\n",
            index + 1,
            question.prompt(),
            question.id(),
            question.kind()
        ));
        for (choice, label) in question.choices().iter().zip('a'..='z') {
            text.push_str(&format!("   {label}) {choice}\n"));
        }
    }
    text
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| {
            if line.trim().is_empty() {
                String::new()
            } else {
                format!("{prefix}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Wraps each paragraph of `text` at word boundaries to lines of at most `width` characters.
/// A word longer than `width` gets a line of its own.
fn wrap(text: &str, width: usize) -> String {
    let mut lines = Vec::new();
    for paragraph in text.split("\n\n") {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
        lines.push(String::new());
    }
    lines.pop();
    lines.join("\n")
}

#[cfg(test)]
mod tests;
