//! The JSON shapes of the `calc` and `ref` commands (the CLI contract). Field order is the
//! printed order.

use anyhow::{Result, anyhow};
use incasso_rules::interest;
use incasso_rules::rates::RateTables;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub(crate) struct InterestPeriod {
    pub from: String,
    pub to: String,
    pub days: u32,
    pub rate: String,
    pub base: String,
    pub interest: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct InterestSpecification {
    pub principal: String,
    pub interest: String,
    pub total: String,
    pub periods: Vec<InterestPeriod>,
}

impl InterestSpecification {
    pub(crate) fn from_spec(
        spec: &interest::InterestSpecification,
    ) -> Result<InterestSpecification> {
        let currency = spec.principal.currency();
        let periods = spec
            .periods
            .iter()
            .map(|p| {
                Ok(InterestPeriod {
                    from: p.from().to_string(),
                    to: p.to().to_string(),
                    days: p.days,
                    rate: p.rate.to_percent_string(),
                    base: p
                        .base_rounded(currency)
                        .map_err(|e| anyhow!("{e}"))?
                        .to_decimal_string(),
                    interest: p
                        .interest_rounded(currency)
                        .map_err(|e| anyhow!("{e}"))?
                        .to_decimal_string(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(InterestSpecification {
            principal: spec.principal.to_decimal_string(),
            interest: spec.interest.to_decimal_string(),
            total: spec.total.to_decimal_string(),
            periods,
        })
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Costs {
    pub principal: String,
    pub costs: String,
    pub vat: String,
    pub total_costs: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Deadline {
    pub received: String,
    pub nominal_last_day: String,
    pub last_day: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct AllocationDto {
    pub costs: String,
    pub interest: String,
    pub principal: String,
    pub unapplied: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RateRow {
    pub effective_from: String,
    /// `null` where no sourced rate exists.
    pub rate: Option<String>,
    pub verified: bool,
    pub source: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RateTable {
    pub table: String,
    pub description: String,
    pub rows: Vec<RateRow>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Rates {
    pub tables: Vec<RateTable>,
}

impl Rates {
    pub(crate) fn from_tables(tables: &RateTables, unverified_only: bool) -> Rates {
        let tables = tables
            .tables
            .iter()
            .map(|t| RateTable {
                table: t.id.name().to_string(),
                description: t.id.description().to_string(),
                rows: t
                    .rows
                    .iter()
                    .filter(|r| !unverified_only || !r.verified)
                    .map(|r| RateRow {
                        effective_from: r.effective_from.to_string(),
                        rate: r.rate.map(|x| x.to_percent_string()),
                        verified: r.verified,
                        source: r.source.clone(),
                    })
                    .collect(),
            })
            .filter(|t| !t.rows.is_empty())
            .collect();
        Rates { tables }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Reference {
    pub reference: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Check {
    pub valid: bool,
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
