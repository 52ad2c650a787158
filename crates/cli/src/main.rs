//! The `incasso` command-line program. It parses arguments, opens the store the user chose
//! (an SQLite file by default, or a `postgres://` URL), reads the clock once, and hands over to
//! the use cases in `incasso-app` and the calculators in `incasso-calc`.

mod args;
mod collection;
mod commands;
mod direct_debit;
mod dispatch;
mod dispatch_admin;
mod dossier;
mod letters;
mod paylink;
mod payments;
mod table;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc: bulk imports and runs allocate millions of small strings; glibc's allocator spent
/// a third of an import in malloc/free (measured with perf), mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = commands::run(cli, &mut out);
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(code), Ok(())) => code,
        (Err(e), _)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            // The reader went away (`incasso ... | head`): not an error of ours.
            ExitCode::SUCCESS
        }
        (Err(e), _) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        (Ok(_), Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        (Ok(_), Err(e)) => {
            eprintln!("error: writing output: {e}");
            ExitCode::from(1)
        }
    }
}
