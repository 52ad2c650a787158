//! `cargo run --release -p incasso-sim --example simulate -- --debtors 10000 --days 730`: the
//! `incasso simulate` command without the CLI (for measuring; the CLI wires the same function).

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: incasso_sim::SimulateArgs,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    incasso_sim::run_command(cli.args, cli.json, &mut std::io::stdout())
}
