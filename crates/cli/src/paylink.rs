//! `incasso payments link ...`: payment links at the payment provider (Mollie) and the webhook
//! that settles them through the same allocation path as a bank payment.

use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum LinkCommand {
    /// List payment links.
    List,
}

pub fn link(
    _db: &str,
    _cmd: LinkCommand,
    _json: bool,
    _out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("payment links: not built yet")
}
