//! Benchmark (not a test): the interest specification of 1,000,000 claims, each spanning about
//! three years across several NL commercial rate changes and anniversaries, on one core.
//! Run with `cargo bench -p incasso-rules --bench interest`; it prints the elapsed time.

use std::hint::black_box;
use std::time::Instant;

use incasso_calendar::{add_days, parse_iso};
use incasso_money::Money;
use incasso_rules::interest::{
    Compounding, InterestCalculation, LeapDayAnniversary, specify_interest,
};
use incasso_rules::rates::{RateTableId, RateTables};

const CLAIMS: i64 = 1_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tables = RateTables::embedded()?;
    let schedule = tables
        .table(RateTableId::Nl6_119a)
        .ok_or("missing nl_6_119a")?
        .schedule();
    let base = parse_iso("2023-01-01")?;
    let started = Instant::now();
    let mut periods = 0usize;
    let mut interest_sum = 0i64;
    for n in 0..CLAIMS {
        let offset = i32::try_from(n % 365)?;
        let first_day = add_days(base, offset).ok_or("date")?;
        let last_day = add_days(first_day, 3 * 365 - 1).ok_or("date")?;
        let spec = specify_interest(&InterestCalculation {
            principal: Money::eur_cents(10_000 + n * 7),
            first_day,
            last_day,
            rates: &schedule,
            compounding: Compounding::Annual(LeapDayAnniversary::FirstOfMarch),
        })?;
        periods += spec.periods.len();
        interest_sum = interest_sum.wrapping_add(black_box(spec).interest.minor());
    }
    let elapsed = started.elapsed();
    println!(
        "interest specification: {CLAIMS} claims x 3 years, {periods} periods in {:.3?} ({:.0} ns per claim); checksum {interest_sum}",
        elapsed,
        elapsed.as_nanos() / u128::try_from(CLAIMS)?
    );
    Ok(())
}
