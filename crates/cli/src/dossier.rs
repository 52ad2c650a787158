//! `incasso case verify` and `incasso case export`: the hash-chained event log checked end to
//! end, and the case bundle (index PDF, documents, event log JSON) for an agency or court.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::args::TenantArg;

pub fn verify(
    _db: &str,
    _tenant: TenantArg,
    _id: i64,
    _json: bool,
    _out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("case verify: not built yet")
}

pub fn export(
    _db: &str,
    _tenant: TenantArg,
    _id: i64,
    _path: PathBuf,
    _json: bool,
    _out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("case export: not built yet")
}
