//! `incasso mandate ...` and `incasso export direct-debit`: SEPA direct-debit mandates per
//! debtor and the pain.008 collection file for a collection date.

use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum MandateCommand {
    /// List mandates.
    List,
}

#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// Write a pain.008 direct-debit file for a collection date.
    DirectDebit,
}

pub fn mandate(
    _db: &str,
    _cmd: MandateCommand,
    _json: bool,
    _out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("mandates: not built yet")
}

pub fn export(
    _db: &str,
    _cmd: ExportCommand,
    _json: bool,
    _out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("export: not built yet")
}
