//! The `incasso calc` and `incasso ref` commands: clap types for their arguments and `run`
//! functions that call the law engine (`incasso-rules`) and payment references
//! (`incasso-banking`) and print JSON or a readable table.
//!
//! This is the only place where the law engine's results become JSON: the domain types don't
//! derive `Serialize`; the DTOs in [`dto`] do. Argument errors are one-line messages that name the
//! argument (`--until 2024-01-01 is before --due 2024-03-31`).

mod dto;
mod parse;

use std::io::Write;

use anyhow::{Context, Result, bail};
use incasso_banking::{Betalingskenmerk, CreditorReference, Ogm, PaymentReference};
use incasso_calendar::Date;
use incasso_rules::allocation::{OpenAmounts, allocate_within_claim};
use incasso_rules::costs::{CostsRequest, VatPosition, collection_costs, nl_general_vat_rate};
use incasso_rules::jurisdiction::claim_interest;
use incasso_rules::rates::RateTables;
use incasso_rules::term::{
    Channel, DeliveryPresumption, be_waiting_period, fourteen_day_letter_term, term_from_receipt,
};
use incasso_rules::{Jurisdiction, TransactionKind};

use crate::parse::{amount, date, jurisdiction, number, rate};

/// `incasso calc ...`: the legal arithmetic.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CalcCommand {
    /// Statutory (or contractual) interest on a claim, as a specification per period.
    Interest(InterestArgs),
    /// Collection costs for the invoices in one letter.
    Costs(CostsArgs),
    /// The last day of a term (fourteen-day letter, BE waiting period).
    Deadline(DeadlineArgs),
    /// Allocation of a payment within one claim (art. 6:44 BW: costs, interest, principal).
    Allocate(AllocateArgs),
    /// The rate tables, with source and verified flag.
    Rates(RatesArgs),
}

/// Arguments of `calc interest`.
#[derive(Debug, Clone, clap::Args)]
pub struct InterestArgs {
    /// The principal, e.g. 10000 or 10000.00.
    #[arg(long, allow_hyphen_values = true)]
    pub principal: String,
    /// The last day of payment (interest runs from the next day), YYYY-MM-DD.
    #[arg(long)]
    pub due: String,
    /// The last interest day, inclusive (the payment day), YYYY-MM-DD.
    #[arg(long)]
    pub until: String,
    /// consumer or commercial.
    #[arg(long)]
    pub kind: String,
    /// nl, be or eu.
    #[arg(long, default_value = "nl")]
    pub jurisdiction: String,
    /// A contractual annual rate in percent, replacing the statutory rate.
    #[arg(long, allow_hyphen_values = true)]
    pub rate: Option<String>,
}

/// Arguments of `calc costs`.
#[derive(Debug, Clone, clap::Args)]
pub struct CostsArgs {
    /// The aggregated principal of the invoices in the letter.
    #[arg(long, allow_hyphen_values = true)]
    pub principal: String,
    /// nl, be or eu.
    #[arg(long, default_value = "nl")]
    pub jurisdiction: String,
    /// The debtor is a consumer (default: commercial).
    #[arg(long)]
    pub consumer: bool,
    /// The creditor cannot deduct VAT (BIK art. 2 lid 3): add the general VAT rate.
    #[arg(long)]
    pub vat: bool,
    /// The number of late invoices in the letter.
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    pub invoices: String,
}

/// Arguments of `calc deadline`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeadlineArgs {
    /// The day the letter was received, YYYY-MM-DD.
    #[arg(
        long,
        conflicts_with = "dispatched",
        required_unless_present = "dispatched"
    )]
    pub received: Option<String>,
    /// The day the letter was sent, YYYY-MM-DD (the receipt day is presumed).
    #[arg(long)]
    pub dispatched: Option<String>,
    /// post or email (with --dispatched).
    #[arg(long, default_value = "post")]
    pub channel: String,
    /// The length of the term in days.
    #[arg(long, default_value = "14", allow_hyphen_values = true)]
    pub days: String,
    /// nl, be or eu.
    #[arg(long, default_value = "nl")]
    pub jurisdiction: String,
}

/// Arguments of `calc allocate`.
#[derive(Debug, Clone, clap::Args)]
pub struct AllocateArgs {
    /// The payment received.
    #[arg(long, allow_hyphen_values = true)]
    pub payment: String,
    /// Open costs (including collection costs).
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    pub costs: String,
    /// Open accrued interest.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    pub interest: String,
    /// Open principal.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    pub principal: String,
}

/// Arguments of `calc rates`.
#[derive(Debug, Clone, clap::Args)]
pub struct RatesArgs {
    /// Only the rows flagged as not verified.
    #[arg(long)]
    pub unverified: bool,
}

/// `incasso ref ...`: structured payment references.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RefCommand {
    /// Generate a payment reference from a number.
    Generate(GenerateArgs),
    /// Check a payment reference and detect its kind.
    Check(CheckArgs),
}

/// Arguments of `ref generate`.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// betalingskenmerk, ogm or rf.
    #[arg(long)]
    pub kind: String,
    /// The number to encode (for rf: up to 21 letters or digits).
    #[arg(long)]
    pub number: String,
    /// Betalingskenmerk only: the length (7, 9 to 14 or 16; default 16).
    #[arg(long)]
    pub length: Option<String>,
}

/// Arguments of `ref check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// The reference to check.
    pub value: String,
}

/// Runs a `calc` subcommand and prints its result to `out` (one JSON object with `json`).
pub fn run_calc(cmd: CalcCommand, json: bool, out: &mut dyn Write) -> Result<()> {
    match cmd {
        CalcCommand::Interest(args) => run_interest(&args, json, out),
        CalcCommand::Costs(args) => run_costs(&args, json, out),
        CalcCommand::Deadline(args) => run_deadline(&args, json, out),
        CalcCommand::Allocate(args) => run_allocate(&args, json, out),
        CalcCommand::Rates(args) => run_rates(&args, json, out),
    }
}

/// Runs a `ref` subcommand and prints its result to `out` (one JSON object with `json`).
pub fn run_ref(cmd: RefCommand, json: bool, out: &mut dyn Write) -> Result<()> {
    match cmd {
        RefCommand::Generate(args) => run_generate(&args, json, out),
        RefCommand::Check(args) => run_check(&args, json, out),
    }
}

fn print_json<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).context("cannot serialise the result")?;
    writeln!(out, "{text}").context("cannot write the result")?;
    Ok(())
}

fn kind(s: &str) -> Result<TransactionKind> {
    match s.trim().to_ascii_lowercase().as_str() {
        "consumer" => Ok(TransactionKind::Consumer),
        "commercial" => Ok(TransactionKind::Commercial),
        _ => bail!("--kind {s} is unknown: expected consumer or commercial"),
    }
}

fn run_interest(args: &InterestArgs, json: bool, out: &mut dyn Write) -> Result<()> {
    let principal = amount("--principal", &args.principal)?;
    let due = date("--due", &args.due)?;
    let until = date("--until", &args.until)?;
    let kind = kind(&args.kind)?;
    let jurisdiction = jurisdiction(&args.jurisdiction)?;
    let contractual = args
        .rate
        .as_deref()
        .map(|r| rate("--rate", r))
        .transpose()?;
    if until < due {
        bail!("--until {until} is before --due {due}");
    }
    if jurisdiction == Jurisdiction::EuBaseline && kind == TransactionKind::Consumer {
        bail!(
            "--kind consumer is not covered by --jurisdiction eu (Directive 2011/7/EU is for commercial transactions only)"
        );
    }
    let spec = claim_interest(jurisdiction, kind, contractual, principal, due, until)
        .map_err(|e| anyhow::anyhow!("cannot compute interest: {e}"))?;
    let dto = dto::InterestSpecification::from_spec(&spec)?;
    if json {
        return print_json(out, &dto);
    }
    writeln!(
        out,
        "{:<10}  {:<10}  {:>5}  {:>6}  {:>14}  {:>12}",
        "from", "to", "days", "rate", "base", "interest"
    )?;
    for p in &dto.periods {
        writeln!(
            out,
            "{:<10}  {:<10}  {:>5}  {:>6}  {:>14}  {:>12}",
            p.from, p.to, p.days, p.rate, p.base, p.interest
        )?;
    }
    writeln!(
        out,
        "principal {}  interest {}  total {}",
        dto.principal, dto.interest, dto.total
    )?;
    writeln!(
        out,
        "(the interest total is the unrounded sum of the periods, rounded once to cents)"
    )?;
    Ok(())
}

fn run_costs(args: &CostsArgs, json: bool, out: &mut dyn Write) -> Result<()> {
    let principal = amount("--principal", &args.principal)?;
    let jurisdiction = jurisdiction(&args.jurisdiction)?;
    let invoices = number("--invoices", &args.invoices)?;
    if invoices == 0 {
        bail!("--invoices 0 must be at least 1");
    }
    if args.vat && jurisdiction != Jurisdiction::Netherlands {
        bail!("--vat applies only with --jurisdiction nl (BIK art. 2 lid 3)");
    }
    let kind = if args.consumer {
        TransactionKind::Consumer
    } else {
        TransactionKind::Commercial
    };
    let vat_rate = nl_general_vat_rate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let costs = collection_costs(&CostsRequest {
        jurisdiction,
        kind,
        principal,
        late_invoices: invoices,
        vat: if args.vat {
            VatPosition::NotDeductible
        } else {
            VatPosition::Deductible
        },
        vat_rate,
    })
    .map_err(|e| anyhow::anyhow!("cannot compute collection costs: {e}"))?;
    let dto = dto::Costs {
        principal: principal.to_decimal_string(),
        costs: costs.costs.to_decimal_string(),
        vat: costs.vat.to_decimal_string(),
        total_costs: costs.total_costs.to_decimal_string(),
    };
    if json {
        return print_json(out, &dto);
    }
    writeln!(out, "principal    {:>12}", dto.principal)?;
    writeln!(out, "costs        {:>12}", dto.costs)?;
    writeln!(out, "vat          {:>12}", dto.vat)?;
    writeln!(out, "total costs  {:>12}", dto.total_costs)?;
    Ok(())
}

fn channel(s: &str) -> Result<Channel> {
    match s.trim().to_ascii_lowercase().as_str() {
        "post" => Ok(Channel::Post),
        "email" | "e-mail" => Ok(Channel::Email),
        _ => bail!("--channel {s} is unknown: expected post or email"),
    }
}

fn run_deadline(args: &DeadlineArgs, json: bool, out: &mut dyn Write) -> Result<()> {
    let jurisdiction = jurisdiction(&args.jurisdiction)?;
    let days = number("--days", &args.days)?;
    if days == 0 || days > 90 {
        bail!("--days {days} is out of range: expected 1 to 90 (ATW art. 4)");
    }
    let channel = channel(&args.channel)?;
    let term_error =
        |e: incasso_calendar::TermError| anyhow::anyhow!("cannot compute the term: {e}");
    let (dispatched, term) = match (&args.received, &args.dispatched) {
        (Some(received), None) => (
            None,
            term_from_receipt(date("--received", received)?, days, jurisdiction)
                .map_err(term_error)?,
        ),
        (None, Some(dispatched)) => {
            let sent: Date = date("--dispatched", dispatched)?;
            let term = match jurisdiction {
                Jurisdiction::Belgium => be_waiting_period(sent, channel, days),
                Jurisdiction::Netherlands | Jurisdiction::EuBaseline => {
                    fourteen_day_letter_term(sent, channel, &DeliveryPresumption::default(), days)
                }
            }
            .map_err(term_error)?;
            (Some(sent), term)
        }
        _ => bail!("--received or --dispatched is required (not both)"),
    };
    if json {
        // The same shape for both forms: with --dispatched, "received" is the presumed day of
        // receipt instead of an echo of the argument.
        return print_json(
            out,
            &dto::Deadline {
                received: term.received.to_string(),
                nominal_last_day: term.nominal_last_day.to_string(),
                last_day: term.last_day.to_string(),
            },
        );
    }
    if let Some(sent) = dispatched {
        writeln!(out, "dispatched        {sent}")?;
    }
    writeln!(out, "received          {}", term.received)?;
    writeln!(out, "first day         {}", term.first_day)?;
    writeln!(out, "nominal last day  {}", term.nominal_last_day)?;
    writeln!(out, "last day          {}", term.last_day)?;
    writeln!(out, "costs due from    {}", term.costs_due_from)?;
    Ok(())
}

fn run_allocate(args: &AllocateArgs, json: bool, out: &mut dyn Write) -> Result<()> {
    let payment = amount("--payment", &args.payment)?;
    let open = OpenAmounts {
        costs: amount("--costs", &args.costs)?,
        interest: amount("--interest", &args.interest)?,
        principal: amount("--principal", &args.principal)?,
    };
    let (applied, unapplied) = allocate_within_claim(payment, &open)
        .map_err(|e| anyhow::anyhow!("cannot allocate the payment: {e}"))?;
    let dto = dto::AllocationDto {
        costs: applied.costs.to_decimal_string(),
        interest: applied.interest.to_decimal_string(),
        principal: applied.principal.to_decimal_string(),
        unapplied: unapplied.to_decimal_string(),
    };
    if json {
        return print_json(out, &dto);
    }
    writeln!(out, "costs      {:>12}", dto.costs)?;
    writeln!(out, "interest   {:>12}", dto.interest)?;
    writeln!(out, "principal  {:>12}", dto.principal)?;
    writeln!(out, "unapplied  {:>12}", dto.unapplied)?;
    Ok(())
}

fn run_rates(args: &RatesArgs, json: bool, out: &mut dyn Write) -> Result<()> {
    let tables = RateTables::embedded().map_err(|e| anyhow::anyhow!("{e}"))?;
    let dto = dto::Rates::from_tables(tables, args.unverified);
    if json {
        return print_json(out, &dto);
    }
    for t in &dto.tables {
        writeln!(out, "{} ({})", t.table, t.description)?;
        for r in &t.rows {
            let flag = if r.verified { "" } else { "  UNVERIFIED" };
            writeln!(
                out,
                "  {}  {:>6}  {}{flag}",
                r.effective_from,
                r.rate.as_deref().unwrap_or("-"),
                r.source
            )?;
        }
    }
    Ok(())
}

fn run_generate(args: &GenerateArgs, json: bool, out: &mut dyn Write) -> Result<()> {
    let kind = args.kind.trim().to_ascii_lowercase();
    if kind != "betalingskenmerk" && args.length.is_some() {
        bail!("--length applies only to --kind betalingskenmerk");
    }
    let numeric = || -> Result<u64> {
        let t = args.number.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            bail!("--number {t} is not a number of digits");
        }
        t.parse::<u64>()
            .with_context(|| format!("--number {t} is too large"))
    };
    let reference = match kind.as_str() {
        "betalingskenmerk" => {
            let length = match &args.length {
                Some(l) => {
                    usize::try_from(number("--length", l)?).context("--length is too large")?
                }
                None => 16,
            };
            Betalingskenmerk::generate_with_length(numeric()?, length)
                .map_err(|e| anyhow::anyhow!("--number {}: {e}", args.number.trim()))?
                .to_string()
        }
        "ogm" => Ogm::generate(numeric()?)
            .map_err(|e| anyhow::anyhow!("--number {}: {e}", args.number.trim()))?
            .formatted(),
        "rf" => CreditorReference::generate(&args.number)
            .map_err(|e| anyhow::anyhow!("--number {}: {e}", args.number.trim()))?
            .to_string(),
        other => bail!("--kind {other} is unknown: expected betalingskenmerk, ogm or rf"),
    };
    if json {
        return print_json(out, &dto::Reference { reference });
    }
    writeln!(out, "{reference}")?;
    Ok(())
}

fn run_check(args: &CheckArgs, json: bool, out: &mut dyn Write) -> Result<()> {
    let result = PaymentReference::parse_any(&args.value);
    let dto = match &result {
        Ok(r) => dto::Check {
            valid: true,
            kind: Some(r.kind().to_string()),
            error: None,
        },
        Err(e) => dto::Check {
            valid: false,
            kind: None,
            error: Some(e.to_string()),
        },
    };
    if json {
        return print_json(out, &dto);
    }
    match result {
        Ok(r) => writeln!(out, "valid {} {r}", r.kind())?,
        Err(e) => writeln!(out, "invalid: {e}")?,
    }
    Ok(())
}
