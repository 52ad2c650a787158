//! Collection costs: the Dutch BIK staffel (with the B2B €40 floor per late invoice, the VAT
//! uplift and the consumer fourteen-day-letter condition), Belgian collection damages (Book XIX
//! WER caps and reminder fees; B2B €40), and the EU baseline €40 per late invoice.
//!
//! Amounts are computed exactly in cents × 1000 and rounded once, half up (the BIK prescribes no
//! rounding; rounding to cents half up is the product's choice, RULES.md §2.6).

use incasso_calendar::Date;
use incasso_money::{Currency, Money};

use crate::jurisdiction::{Jurisdiction, TransactionKind};
use crate::rates::{AnnualRate, RateDataError, RateTableId, RateTables};
use crate::term::FourteenDayLetterTerm;

/// Why collection costs cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostsError {
    #[error("the principal {0} is negative")]
    NegativePrincipal(Money),
    #[error("payments {paid} exceed the principal {principal}")]
    PaidMoreThanPrincipal { principal: Money, paid: Money },
    #[error("a VAT uplift exists only under BIK art. 2 lid 3 (NL)")]
    VatUpliftNotApplicable,
    #[error("at least one late invoice is needed")]
    NoInvoices,
    #[error("amount overflow in the collection costs")]
    Overflow,
    #[error("rate data defect: {0}")]
    RateData(#[from] RateDataError),
    #[error("no VAT rate in the data")]
    NoVatRate,
}

/// Whether the creditor can deduct the VAT it pays on collection services (BIK art. 2 lid 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VatPosition {
    /// The usual case: no uplift.
    Deductible,
    /// The creditor cannot deduct VAT and expressly declares so: the costs are increased by the
    /// general VAT rate.
    NotDeductible,
}

/// Collection costs as they appear in a letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionCosts {
    /// Costs excluding VAT.
    pub costs: Money,
    /// The VAT uplift (zero unless BIK art. 2 lid 3 applies).
    pub vat: Money,
    /// `costs + vat`.
    pub total_costs: Money,
}

/// BIK art. 2 lid 2: minimum €40.
pub const NL_BIK_MINIMUM: Money = Money::eur_cents(4_000);
/// BIK art. 2 lid 1: maximum €6,775.
pub const NL_BIK_MAXIMUM: Money = Money::eur_cents(677_500);
/// Art. 6:96 lid 4 BW / Directive 2011/7/EU art. 6: at least €40 per late invoice (B2B).
pub const FIXED_SUM_PER_LATE_INVOICE: Money = Money::eur_cents(4_000);
/// Book XIX WER: at most €7.50 for each reminder after the free first one (plus postage).
pub const BE_FURTHER_REMINDER_MAXIMUM: Money = Money::eur_cents(750);
/// Book XIX WER art. XIX.4: the damages never exceed €2,000.
pub const BE_CONSUMER_DAMAGES_MAXIMUM: Money = Money::eur_cents(200_000);

/// BIK art. 2 lid 1 staffel: (upper bound of the slice in cents, per-mille rate).
const NL_BIK_SLICES: [(i64, i64); 5] = [
    (250_000, 150),   // 15% over the first €2,500
    (500_000, 100),   // 10% over the next €2,500
    (1_000_000, 50),  // 5% over the next €5,000
    (20_000_000, 10), // 1% over the next €190,000
    (i64::MAX, 5),    // 0.5% over the remainder
];

/// `numerator / 1000` rounded half up, for a non-negative numerator (cents × 1000 → cents).
fn per_mille_round_half_up(numerator: i128) -> Option<i64> {
    i64::try_from(numerator.checked_add(500)? / 1000).ok()
}

fn check_principal(principal: Money) -> Result<(), CostsError> {
    if principal.is_negative() {
        Err(CostsError::NegativePrincipal(principal))
    } else {
        Ok(())
    }
}

/// The BIK staffel (art. 2 lid 1 and 2) on one principal: 15/10/5/1/0.5% slices, at least €40,
/// at most €6,775. Rounded once to cents, half up.
pub fn nl_bik_staffel(principal: Money) -> Result<Money, CostsError> {
    check_principal(principal)?;
    let cents = principal.minor();
    let mut lower = 0i64;
    let mut numerator: i128 = 0;
    for (upper, per_mille) in NL_BIK_SLICES {
        if cents <= lower {
            break;
        }
        let slice = cents
            .min(upper)
            .checked_sub(lower)
            .ok_or(CostsError::Overflow)?;
        numerator = numerator
            .checked_add(
                i128::from(slice)
                    .checked_mul(i128::from(per_mille))
                    .ok_or(CostsError::Overflow)?,
            )
            .ok_or(CostsError::Overflow)?;
        lower = upper;
    }
    // Rounding: half up to cents (product choice; the BIK prescribes none).
    let raw = Money::from_minor(
        per_mille_round_half_up(numerator).ok_or(CostsError::Overflow)?,
        principal.currency(),
    );
    let floor = Money::from_minor(NL_BIK_MINIMUM.minor(), principal.currency());
    let cap = Money::from_minor(NL_BIK_MAXIMUM.minor(), principal.currency());
    raw.max(floor)
        .and_then(|m| m.min(cap))
        .map_err(|_| CostsError::Overflow)
}

/// The base of the BIK staffel for a claim whose interest has been capitalised: the principal
/// plus the interest capitalised at each completed anniversary (BIK Nota van Toelichting
/// point 5), rounded half up to cents. Without a completed year this is the principal itself.
pub fn nl_bik_base(interest: &crate::interest::InterestSpecification) -> Result<Money, CostsError> {
    interest
        .capitalised_base
        .round_half_up(interest.principal.currency())
        .map_err(|_| CostsError::Overflow)
}

/// The general VAT rate in the data (the latest row of `nl_vat_general`).
pub fn nl_general_vat_rate() -> Result<AnnualRate, CostsError> {
    let tables = RateTables::embedded()?;
    tables
        .table(RateTableId::NlVatGeneral)
        .and_then(|t| t.rows.last())
        .and_then(|r| r.rate)
        .ok_or(CostsError::NoVatRate)
}

/// VAT on `costs` at `rate`, rounded half up to cents (BIK art. 2 lid 3).
fn vat_on(costs: Money, rate: AnnualRate) -> Result<Money, CostsError> {
    // rate is in ten-thousandths of a percent: costs × units / 1_000_000.
    let numerator = i128::from(costs.minor())
        .checked_mul(i128::from(rate.ten_thousandths_percent()))
        .ok_or(CostsError::Overflow)?;
    let minor = numerator.checked_add(500_000).ok_or(CostsError::Overflow)? / 1_000_000;
    Ok(Money::from_minor(
        i64::try_from(minor).map_err(|_| CostsError::Overflow)?,
        costs.currency(),
    ))
}

fn with_vat(
    costs: Money,
    vat: VatPosition,
    vat_rate: AnnualRate,
) -> Result<CollectionCosts, CostsError> {
    let vat = match vat {
        VatPosition::Deductible => Money::zero(costs.currency()),
        VatPosition::NotDeductible => vat_on(costs, vat_rate)?,
    };
    Ok(CollectionCosts {
        costs,
        vat,
        total_costs: costs.checked_add(vat).map_err(|_| CostsError::Overflow)?,
    })
}

/// What collection costs to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostsRequest {
    pub jurisdiction: Jurisdiction,
    pub kind: TransactionKind,
    /// The aggregated principal of the invoices in one letter (NL: after a year, principal plus
    /// capitalised interest; BE consumer: the balance due).
    pub principal: Money,
    /// How many late invoices the letter covers (for the €40 per late invoice).
    pub late_invoices: u32,
    pub vat: VatPosition,
    /// The general VAT rate for the uplift (see [`nl_general_vat_rate`]).
    pub vat_rate: AnnualRate,
}

/// The collection costs for one letter.
///
/// - NL: the BIK staffel on the aggregated principal (several invoices in one letter are added
///   up, RULES.md §2.5); B2B at least €40 per late invoice (art. 6:96 lid 4 BW, read as a floor,
///   RULES.md §9.8); VAT uplift only when the creditor cannot deduct VAT.
/// - BE: consumer: the Book XIX WER cap on the balance; commercial: €40 per late invoice.
/// - EU baseline: €40 per late invoice.
///
/// For NL consumers the amount is what the fourteen-day letter must state; it is due only after
/// the letter's term (see [`nl_consumer_collection_costs`]).
pub fn collection_costs(request: &CostsRequest) -> Result<CollectionCosts, CostsError> {
    let CostsRequest {
        jurisdiction,
        kind,
        principal,
        late_invoices,
        vat,
        vat_rate,
    } = *request;
    check_principal(principal)?;
    if late_invoices == 0 {
        return Err(CostsError::NoInvoices);
    }
    if vat == VatPosition::NotDeductible && jurisdiction != Jurisdiction::Netherlands {
        return Err(CostsError::VatUpliftNotApplicable);
    }
    let per_invoice = |n: u32| -> Result<Money, CostsError> {
        Money::from_minor(FIXED_SUM_PER_LATE_INVOICE.minor(), principal.currency())
            .checked_mul_int(i64::from(n))
            .map_err(|_| CostsError::Overflow)
    };
    let costs = match (jurisdiction, kind) {
        (Jurisdiction::Netherlands, TransactionKind::Consumer) => nl_bik_staffel(principal)?,
        (Jurisdiction::Netherlands, TransactionKind::Commercial) => nl_bik_staffel(principal)?
            .max(per_invoice(late_invoices)?)
            .map_err(|_| CostsError::Overflow)?,
        (Jurisdiction::Belgium, TransactionKind::Consumer) => be_consumer_damages_cap(principal)?,
        (Jurisdiction::Belgium | Jurisdiction::EuBaseline, TransactionKind::Commercial)
        | (Jurisdiction::EuBaseline, TransactionKind::Consumer) => per_invoice(late_invoices)?,
    };
    with_vat(costs, vat, vat_rate)
}

/// The collection costs for several late invoices in one letter: their principals are added up
/// and counted (see [`collection_costs`]).
pub fn collection_costs_for_invoices(
    jurisdiction: Jurisdiction,
    kind: TransactionKind,
    principals: &[Money],
    vat: VatPosition,
    vat_rate: AnnualRate,
) -> Result<CollectionCosts, CostsError> {
    let first = principals.first().ok_or(CostsError::NoInvoices)?;
    let mut principal = Money::zero(first.currency());
    for p in principals {
        check_principal(*p)?;
        principal = principal
            .checked_add(*p)
            .map_err(|_| CostsError::Overflow)?;
    }
    let late_invoices = u32::try_from(principals.len()).map_err(|_| CostsError::Overflow)?;
    collection_costs(&CostsRequest {
        jurisdiction,
        kind,
        principal,
        late_invoices,
        vat,
        vat_rate,
    })
}

/// Whether NL consumer collection costs are due, and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerCostsStatus {
    /// The fourteen-day letter's term has not expired: nothing is due before `first_due_day`.
    NotYetDue { first_due_day: Date },
    /// The principal was paid in full within the term: no collection costs.
    PaidWithinTerm,
    /// Due, recalculated on the principal still open at the end of the term.
    Due(CollectionCosts),
}

/// NL consumer collection costs (art. 6:96 lid 6 BW): due only once the term of a valid
/// fourteen-day letter has expired unpaid, and then calculated on the principal still open at
/// the end of the term (a partial payment within the 14 days lowers the costs, HR 25-11-2016,
/// ECLI:NL:HR:2016:2704).
///
/// `paid_within_term` is the sum of payments on the principal up to and including the last day
/// of the term; `today` is the day of assessment.
pub fn nl_consumer_collection_costs(
    principal: Money,
    paid_within_term: Money,
    letter: &FourteenDayLetterTerm,
    today: Date,
    vat: VatPosition,
    vat_rate: AnnualRate,
) -> Result<ConsumerCostsStatus, CostsError> {
    check_principal(principal)?;
    if today < letter.costs_due_from {
        return Ok(ConsumerCostsStatus::NotYetDue {
            first_due_day: letter.costs_due_from,
        });
    }
    let remaining = principal
        .checked_sub(paid_within_term)
        .map_err(|_| CostsError::Overflow)?;
    if remaining.is_negative() {
        return Err(CostsError::PaidMoreThanPrincipal {
            principal,
            paid: paid_within_term,
        });
    }
    if remaining.is_zero() {
        return Ok(ConsumerCostsStatus::PaidWithinTerm);
    }
    Ok(ConsumerCostsStatus::Due(with_vat(
        nl_bik_staffel(remaining)?,
        vat,
        vat_rate,
    )?))
}

/// Book XIX WER art. XIX.4: the maximum damages on a consumer's balance: €20 up to €150;
/// €30 + 10% of the amount above €150 up to €500; €65 + 5% of the amount above €500; at most
/// €2,000. Rounded half up to cents.
pub fn be_consumer_damages_cap(balance: Money) -> Result<Money, CostsError> {
    check_principal(balance)?;
    let cents = i128::from(balance.minor());
    // In cents × 1000.
    // (threshold in cents, fixed part in cents × 1000, per-mille rate above the threshold).
    let (threshold, fixed, per_mille): (i128, i128, i128) = if cents <= 15_000 {
        (0, 2_000_000, 0)
    } else if cents <= 50_000 {
        (15_000, 3_000_000, 100)
    } else {
        (50_000, 6_500_000, 50)
    };
    let numerator = cents
        .checked_sub(threshold)
        .and_then(|above| above.checked_mul(per_mille))
        .and_then(|variable| variable.checked_add(fixed))
        .ok_or(CostsError::Overflow)?;
    let raw = Money::from_minor(
        per_mille_round_half_up(numerator).ok_or(CostsError::Overflow)?,
        balance.currency(),
    );
    raw.min(Money::from_minor(
        BE_CONSUMER_DAMAGES_MAXIMUM.minor(),
        balance.currency(),
    ))
    .map_err(|_| CostsError::Overflow)
}

/// Book XIX WER: the maximum reminder fees after `reminders_sent` reminders: the first is free,
/// each further one at most €7.50 (postage excluded).
pub fn be_consumer_reminder_fees(
    reminders_sent: u32,
    currency: Currency,
) -> Result<Money, CostsError> {
    let further = i64::from(reminders_sent.saturating_sub(1));
    Money::from_minor(BE_FURTHER_REMINDER_MAXIMUM.minor(), currency)
        .checked_mul_int(further)
        .map_err(|_| CostsError::Overflow)
}

#[cfg(test)]
// Test code may use plain arithmetic on small, known values.
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::term::{Channel, DeliveryPresumption, fourteen_day_letter_term};
    use incasso_calendar::parse_iso;

    fn eur(s: &str) -> Money {
        Money::parse_decimal(s, Currency::EUR).unwrap()
    }

    fn vat21() -> AnnualRate {
        nl_general_vat_rate().unwrap()
    }

    fn check_bik(principal: &str, vat: VatPosition) -> (String, String, String) {
        let c = collection_costs(&CostsRequest {
            jurisdiction: Jurisdiction::Netherlands,
            kind: TransactionKind::Consumer,
            principal: eur(principal),
            late_invoices: 1,
            vat,
            vat_rate: vat21(),
        })
        .unwrap();
        (
            c.costs.to_decimal_string(),
            c.vat.to_decimal_string(),
            c.total_costs.to_decimal_string(),
        )
    }

    #[test]
    fn bik_art2_staffel() {
        // RULES.md §10.1 and §2.6.
        for (principal, costs) in [
            ("0.01", "40.00"),
            ("100.00", "40.00"),
            ("266.66", "40.00"),
            ("267.00", "40.05"),
            ("1000.00", "150.00"),
            ("2500.00", "375.00"),
            ("3000.00", "425.00"),
            ("5000.00", "625.00"),
            ("10000.00", "875.00"),
            ("25000.00", "1025.00"),
            ("200000.00", "2775.00"),
            ("250000.00", "3025.00"),
            ("1000000.00", "6775.00"),
            ("2000000.00", "6775.00"),
        ] {
            assert_eq!(
                nl_bik_staffel(eur(principal)).unwrap().to_decimal_string(),
                costs,
                "{principal}"
            );
        }
    }

    #[test]
    fn bik_art2_lid3_vat_uplift() {
        // RULES.md §10.1 and §2.6 (21% uplift only when the creditor cannot deduct VAT).
        for (principal, total) in [
            ("100.00", "48.40"),
            ("266.66", "48.40"),
            ("267.00", "48.46"),
            ("1000.00", "181.50"),
            ("2500.00", "453.75"),
            ("3000.00", "514.25"),
            ("5000.00", "756.25"),
            ("10000.00", "1058.75"),
            ("25000.00", "1240.25"),
            ("200000.00", "3357.75"),
            ("250000.00", "3660.25"),
            ("1000000.00", "8197.75"),
        ] {
            assert_eq!(
                check_bik(principal, VatPosition::NotDeductible).2,
                total,
                "{principal}"
            );
        }
        assert_eq!(
            check_bik("2500.00", VatPosition::Deductible),
            ("375.00".into(), "0.00".into(), "375.00".into())
        );
    }

    #[test]
    fn bw_6_96_lid4_b2b_forty_euro_per_late_invoice() {
        let b2b = |principal: &str, invoices: u32| {
            collection_costs(&CostsRequest {
                jurisdiction: Jurisdiction::Netherlands,
                kind: TransactionKind::Commercial,
                principal: eur(principal),
                late_invoices: invoices,
                vat: VatPosition::Deductible,
                vat_rate: vat21(),
            })
            .unwrap()
            .costs
            .to_decimal_string()
        };
        // Three invoices of 100 in one letter: staffel on 300 = 45.00, floor 3 × 40 = 120.
        assert_eq!(b2b("300.00", 3), "120.00");
        // Aggregated 3000 over 3 invoices: staffel 425 is above the floor.
        assert_eq!(b2b("3000.00", 3), "425.00");
        assert_eq!(b2b("100.00", 1), "40.00");
    }

    #[test]
    fn bik_nota_van_toelichting_5_base_after_a_year_includes_capitalised_interest() {
        use crate::jurisdiction::claim_interest;
        let d = |s: &str| parse_iso(s).unwrap();
        let within_a_year = claim_interest(
            Jurisdiction::Netherlands,
            TransactionKind::Commercial,
            None,
            eur("10000"),
            d("2024-03-31"),
            d("2025-03-31"),
        )
        .unwrap();
        assert_eq!(nl_bik_base(&within_a_year).unwrap(), eur("10000"));
        let after_a_year = claim_interest(
            Jurisdiction::Netherlands,
            TransactionKind::Commercial,
            None,
            eur("10000"),
            d("2024-03-31"),
            d("2025-06-30"),
        )
        .unwrap();
        assert_eq!(nl_bik_base(&after_a_year).unwrap(), eur("11204.11"));
        // Staffel on 11,204.11: 875 + 1% of 1,204.11 = 887.04.
        assert_eq!(
            nl_bik_staffel(nl_bik_base(&after_a_year).unwrap()).unwrap(),
            eur("887.04")
        );
    }

    #[test]
    fn bik_several_invoices_in_one_letter_are_aggregated() {
        let invoices = [eur("1000"), eur("1000"), eur("1000")];
        let b2c = collection_costs_for_invoices(
            Jurisdiction::Netherlands,
            TransactionKind::Consumer,
            &invoices,
            VatPosition::Deductible,
            vat21(),
        )
        .unwrap();
        // Aggregated: staffel on 3,000 = 425, not 3 × 150 = 450.
        assert_eq!(b2c.costs, eur("425"));
        let small = [eur("50"), eur("60")];
        let b2b = collection_costs_for_invoices(
            Jurisdiction::Netherlands,
            TransactionKind::Commercial,
            &small,
            VatPosition::Deductible,
            vat21(),
        )
        .unwrap();
        assert_eq!(b2b.costs, eur("80"));
        assert_eq!(
            collection_costs_for_invoices(
                Jurisdiction::Netherlands,
                TransactionKind::Commercial,
                &[],
                VatPosition::Deductible,
                vat21()
            ),
            Err(CostsError::NoInvoices)
        );
    }

    #[test]
    fn be_book_xix_damages_cap() {
        // RULES.md §10.5.
        for (balance, cap) in [
            ("150.00", "20.00"),
            ("150.01", "30.00"),
            ("500.00", "65.00"),
            ("1000.00", "90.00"),
            ("39200.00", "2000.00"),
            ("50000.00", "2000.00"),
            ("0.01", "20.00"),
        ] {
            assert_eq!(
                be_consumer_damages_cap(eur(balance))
                    .unwrap()
                    .to_decimal_string(),
                cap,
                "{balance}"
            );
        }
    }

    #[test]
    fn be_book_xix_reminder_fees_first_free() {
        assert_eq!(
            be_consumer_reminder_fees(0, Currency::EUR)
                .unwrap()
                .to_decimal_string(),
            "0.00"
        );
        assert_eq!(
            be_consumer_reminder_fees(1, Currency::EUR)
                .unwrap()
                .to_decimal_string(),
            "0.00"
        );
        assert_eq!(
            be_consumer_reminder_fees(3, Currency::EUR)
                .unwrap()
                .to_decimal_string(),
            "15.00"
        );
    }

    #[test]
    fn be_law_2002_and_eu_directive_art6_forty_euro() {
        for j in [Jurisdiction::Belgium, Jurisdiction::EuBaseline] {
            let c = collection_costs(&CostsRequest {
                jurisdiction: j,
                kind: TransactionKind::Commercial,
                principal: eur("3000"),
                late_invoices: 3,
                vat: VatPosition::Deductible,
                vat_rate: vat21(),
            })
            .unwrap();
            assert_eq!(c.costs.to_decimal_string(), "120.00");
        }
        let be_vat = collection_costs(&CostsRequest {
            jurisdiction: Jurisdiction::Belgium,
            kind: TransactionKind::Commercial,
            principal: eur("3000"),
            late_invoices: 1,
            vat: VatPosition::NotDeductible,
            vat_rate: vat21(),
        });
        assert_eq!(be_vat, Err(CostsError::VatUpliftNotApplicable));
    }

    #[test]
    fn bw_6_96_lid6_consumer_costs_only_after_the_term_and_on_the_remaining_principal() {
        let d = |s: &str| parse_iso(s).unwrap();
        // Received Friday 2025-04-04; nominal last day Good Friday 18 April; last day Tuesday 22 April.
        let letter = fourteen_day_letter_term(
            d("2025-04-02"),
            Channel::Post,
            &DeliveryPresumption::default(),
            14,
        )
        .unwrap();
        assert_eq!(letter.received, d("2025-04-04"));
        assert_eq!(letter.costs_due_from, d("2025-04-23"));
        let status = |today: &str, paid: &str| {
            nl_consumer_collection_costs(
                eur("3000"),
                eur(paid),
                &letter,
                d(today),
                VatPosition::Deductible,
                vat21(),
            )
            .unwrap()
        };
        assert_eq!(
            status("2025-04-22", "0"),
            ConsumerCostsStatus::NotYetDue {
                first_due_day: d("2025-04-23")
            }
        );
        let ConsumerCostsStatus::Due(full) = status("2025-04-23", "0") else {
            panic!("costs should be due")
        };
        assert_eq!(full.costs.to_decimal_string(), "425.00");
        // A partial payment of 1000 within the term: costs on 2000 = 300.
        let ConsumerCostsStatus::Due(partial) = status("2025-04-23", "1000") else {
            panic!("costs should be due")
        };
        assert_eq!(partial.costs.to_decimal_string(), "300.00");
        assert_eq!(
            status("2025-05-01", "3000"),
            ConsumerCostsStatus::PaidWithinTerm
        );
    }

    proptest::proptest! {
        #[test]
        fn costs_never_decrease_and_never_exceed_the_cap(a in 0i64..200_000_000, b in 0i64..200_000_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            let nl_lo = nl_bik_staffel(Money::eur_cents(lo)).unwrap();
            let nl_hi = nl_bik_staffel(Money::eur_cents(hi)).unwrap();
            proptest::prop_assert!(nl_lo <= nl_hi);
            proptest::prop_assert!(nl_hi <= NL_BIK_MAXIMUM && nl_lo >= NL_BIK_MINIMUM);
            let be_lo = be_consumer_damages_cap(Money::eur_cents(lo)).unwrap();
            let be_hi = be_consumer_damages_cap(Money::eur_cents(hi)).unwrap();
            proptest::prop_assert!(be_lo <= be_hi);
            proptest::prop_assert!(be_hi <= BE_CONSUMER_DAMAGES_MAXIMUM);
        }
    }
}
