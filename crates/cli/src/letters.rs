//! `incasso letter preview` and `incasso letters print`: letters rendered to PDF without
//! sending, and the day's postal letters combined for a print service.

use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum LetterCommand {
    /// Render a case's letter for a step to PDF without sending it.
    Preview,
}

#[derive(Debug, clap::Subcommand)]
pub enum LettersCommand {
    /// Write the day's postal letters as one PDF plus a CSV manifest for a print service.
    Print,
}

pub fn letter(
    _db: &str,
    _cmd: LetterCommand,
    _json: bool,
    _out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("letter preview: not built yet")
}

pub fn letters(
    _db: &str,
    _cmd: LettersCommand,
    _json: bool,
    _out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("letters print: not built yet")
}
