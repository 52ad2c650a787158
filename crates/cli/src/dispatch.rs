//! `incasso dispatch`: sends the due outbox actions (e-mail over SMTP, SMS through the
//! provider), each recorded in the dossier before it leaves, with quiet hours, contact caps and
//! consent applied.

use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DispatchArgs {}

pub fn dispatch(
    _db: &str,
    _args: DispatchArgs,
    _json: bool,
    _out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("dispatch: not built yet")
}
