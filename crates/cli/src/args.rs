//! Command-line arguments (clap derive). Every flag that names a place or a tenant can also come
//! from the environment: `INCASSO_DB`, `INCASSO_CREDITOR`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "incasso",
    version,
    about = "Credit management and debt collection for Dutch and Belgian businesses"
)]
pub struct Cli {
    /// The database: a file path (SQLite, the default) or a postgres:// URL.
    #[arg(long, global = true, env = "INCASSO_DB", default_value = "incasso.db")]
    pub db: String,

    /// Print one JSON object instead of a table.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the argument enums does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database (or bring its schema up to date).
    Init,
    /// Register and list creditors (administrations).
    #[command(subcommand)]
    Creditor(CreditorCommand),
    /// Import invoices and credit notes (CSV, UBL 2.1 XML).
    #[command(subcommand)]
    Import(ImportCommand),
    /// List and show debtors.
    #[command(subcommand)]
    Debtors(DebtorsCommand),
    /// List and show invoices.
    #[command(subcommand)]
    Invoices(InvoicesCommand),
    /// Fill the database with a realistic, reproducible demo ledger.
    Demo(DemoArgs),
    /// The daily run: decide for every overdue debtor what is due today and queue it in the outbox.
    Run(RunArgs),
    /// Collection cases: list, show, pause, resume, dispute, note, write off.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Collection policies: check a policy file, list or print the shipped presets.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Payments: list, the unmatched queue, manual matching, known bank accounts.
    #[command(subcommand)]
    Payments(crate::payments::PaymentsCommand),
    /// Simulate the collection engine over synthetic debtors, with crashes, checking its invariants every day.
    Simulate(incasso_sim::SimulateArgs),
    /// The daily call list and call outcomes.
    #[command(subcommand)]
    Calls(CallsCommand),
    /// The outbox of letters, messages and call tasks.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Send the due outbox actions: e-mail over SMTP, SMS through the provider.
    Dispatch(crate::dispatch::DispatchArgs),
    /// One letter: render a case's letter to PDF without sending.
    #[command(subcommand)]
    Letter(crate::letters::LetterCommand),
    /// Postal letters: the day's print batch.
    #[command(subcommand)]
    Letters(crate::letters::LettersCommand),
    /// SEPA direct-debit mandates per debtor.
    #[command(subcommand)]
    Mandate(crate::direct_debit::MandateCommand),
    /// Export files for the bank (pain.008 direct debit).
    #[command(subcommand)]
    Export(crate::direct_debit::ExportCommand),
    /// Legal calculators: statutory interest, collection costs, deadlines, allocation, rates.
    Calc {
        #[command(subcommand)]
        cmd: incasso_calc::CalcCommand,
    },
    /// Payment references: generate and check betalingskenmerk, OGM/VCS, RF.
    Ref {
        #[command(subcommand)]
        cmd: incasso_calc::RefCommand,
    },
}

#[derive(Debug, Args)]
pub struct TenantArg {
    /// The creditor (id or exact name); may be left out when there is only one.
    #[arg(long, env = "INCASSO_CREDITOR")]
    pub creditor: Option<String>,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum CreditorCommand {
    /// Register a creditor.
    Add(CreditorAddArgs),
    /// List creditors.
    List,
}

#[derive(Debug, Args)]
pub struct CreditorAddArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub iban: String,
    /// business or consumer (a creditor is almost always a business).
    #[arg(long, default_value = "business")]
    pub kind: String,
    /// nl or be.
    #[arg(long, default_value = "nl")]
    pub jurisdiction: String,
    #[arg(long)]
    pub bic: Option<String>,
    /// Legal form, e.g. B.V., BV, NV, VOF, eenmanszaak.
    #[arg(long)]
    pub legal_form: Option<String>,
    /// KvK number (NL) or enterprise number (BE).
    #[arg(long)]
    pub registration_number: Option<String>,
    #[arg(long)]
    pub vat_number: Option<String>,
    /// The creditor cannot deduct VAT (collection costs then carry a VAT uplift, BIK art. 2 lid 3).
    #[arg(long)]
    pub no_vat_deduction: bool,
    /// Language of letters: nl, en, fr or de (default nl; fr for a Walloon creditor).
    #[arg(long, default_value = "nl")]
    pub language: String,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long, default_value = "")]
    pub street: String,
    #[arg(long, default_value = "")]
    pub postal_code: String,
    #[arg(long, default_value = "")]
    pub city: String,
    /// Two-letter country code (defaults to the jurisdiction's).
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long)]
    pub website: Option<String>,
    /// Extra text for the letterhead.
    #[arg(long)]
    pub letterhead: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import invoice files: CSV (see docs/import-csv.md) or UBL 2.1 Invoice/CreditNote XML.
    Invoices {
        #[command(flatten)]
        tenant: TenantArg,
        /// The reference day for "not yet due" in the report (default: today).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import bank statements: camt.053/.054/.052 (XML) or MT940; payments are matched and allocated.
    Bank {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DebtorsCommand {
    /// List debtors with their open amount.
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Show one debtor.
    Show {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum InvoicesCommand {
    /// List invoices; with --overdue only collectable ones past their due date.
    List {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        overdue: bool,
        /// The day to judge "overdue" on (default: today).
        #[arg(long)]
        as_of: Option<String>,
        /// Only this debtor's invoices.
        #[arg(long)]
        debtor: Option<i64>,
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Show one invoice by number, with its lines.
    Show {
        #[command(flatten)]
        tenant: TenantArg,
        number: String,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 1000)]
    pub debtors: u64,
    #[arg(long, default_value_t = 3)]
    pub invoices_per_debtor: u64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The reference date of the demo (default: today). The same seed and date give the same ledger.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Only write the CSV to this file; do not import it.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub tenant: TenantArg,
    /// The run date (default: today).
    #[arg(long)]
    pub date: Option<String>,
    /// Show what would go out and why, without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Queue sending actions even when no fresh bank statement has been imported.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// List cases.
    List {
        #[command(flatten)]
        tenant: TenantArg,
        /// Include closed cases.
        #[arg(long)]
        all: bool,
    },
    /// Show a case: state, pause, actions and its event log.
    Show {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
    },
    /// Check the case's hash-chained event log and every stored document's SHA-256.
    Verify {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
    },
    /// Write the case bundle (index PDF, documents, event log as JSON) to a zip file.
    Export {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        #[arg(long)]
        out: std::path::PathBuf,
        /// The language of index.pdf: nl, en, fr or de.
        #[arg(long, default_value = "nl")]
        language: String,
    },
    /// Record a document on a case (proof, agreement, call note, letter, e-mail, SMS) in its dossier.
    Attach {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        file: std::path::PathBuf,
        /// proof, agreement, call_note, letter, email or sms.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        note: Option<String>,
        /// The day in the case's timeline (default: today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Pause a case (manual hold, promise to pay, vulnerable debtor) until a date.
    Pause {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        /// manual_hold, promise_to_pay, vulnerable_debtor, payment_plan or dispute.
        #[arg(long, default_value = "manual_hold")]
        reason: String,
        #[arg(long)]
        until: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
        /// The day of the change (default: today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Lift a pause; the ladder resumes the next day.
    Resume {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        #[arg(long)]
        date: Option<String>,
    },
    /// Record a dispute: the case pauses until it is resolved.
    Dispute {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        #[arg(long)]
        note: String,
        #[arg(long)]
        date: Option<String>,
    },
    /// Promise to pay: the ladder waits until the promised day.
    Promise {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        #[arg(long)]
        until: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        date: Option<String>,
    },
    /// Agree a payment plan for the case's open balance: monthly instalments within the
    /// creditor's bounds. The ladder pauses while the plan is on track and resumes when an
    /// instalment is missed beyond the grace days.
    Plan {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        /// Number of monthly instalments (default: as few as the minimum instalment allows).
        #[arg(long)]
        instalments: Option<u32>,
        /// The day the plan is agreed (default: today).
        #[arg(long)]
        date: Option<String>,
        /// Days after an instalment's due date before the plan lapses.
        #[arg(long, default_value_t = 7)]
        grace_days: u32,
        /// The creditor's bound: the longest plan, in months.
        #[arg(long, default_value_t = 12)]
        max_months: u32,
        /// The creditor's bound: the smallest instalment, e.g. 25.00.
        #[arg(long, default_value = "25.00")]
        min_instalment: String,
        /// The creditor's bound: the first instalment falls due within this many days.
        #[arg(long, default_value_t = 14)]
        first_within_days: u32,
    },
    /// Add a note to the case's event log.
    Note {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        text: String,
        #[arg(long)]
        date: Option<String>,
    },
    /// Write the case off: no further collection.
    WriteOff {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        #[arg(long)]
        note: String,
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List outbox actions.
    List {
        #[command(flatten)]
        tenant: TenantArg,
        /// Only this status: queued, held, sent, cancelled, failed.
        #[arg(long)]
        status: Option<String>,
    },
    /// Record that an action went out (for example a letter posted by hand) on a date.
    MarkSent {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
        #[arg(long)]
        date: Option<String>,
    },
    /// Release a held action to the queue.
    Release {
        #[command(flatten)]
        tenant: TenantArg,
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file (TOML) and print its steps.
    Check { file: PathBuf },
    /// List the shipped presets.
    List,
    /// Print a shipped preset's TOML (a starting point for your own policy).
    Show { name: String },
    /// Store a validated policy file for the creditor (name and version come from the file; a
    /// stored version never changes: edit the version to store a new one).
    Add {
        #[command(flatten)]
        tenant: TenantArg,
        file: PathBuf,
    },
    /// Assign a policy (stored or shipped, by name) as the creditor's default, or to one debtor
    /// or invoice; with --clear, remove that assignment.
    Assign {
        #[command(flatten)]
        tenant: TenantArg,
        /// The policy name (not needed with --clear).
        name: Option<String>,
        /// A debtor id.
        #[arg(long, conflicts_with = "invoice")]
        debtor: Option<i64>,
        /// An invoice number.
        #[arg(long)]
        invoice: Option<String>,
        #[arg(long)]
        clear: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// The call tasks to do, most at stake first.
    List {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Record the outcome of a call task: promise (with --until), plan, dispute, no_answer, wrong_number.
    Outcome {
        #[command(flatten)]
        tenant: TenantArg,
        /// The call task (outbox action id).
        id: i64,
        #[arg(long)]
        outcome: String,
        /// For a promise to pay: the promised day. For a plan: the day the plan's last instalment falls due.
        #[arg(long)]
        until: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
        /// The day of the call (default: today).
        #[arg(long)]
        date: Option<String>,
    },
}
