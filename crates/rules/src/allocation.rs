//! Allocation of a payment (art. 6:43 and 6:44 BW): which claims a payment goes to, and within a
//! claim, how much to costs, interest and principal. Money is conserved exactly:
//! Σ allocated + unapplied = payment, always.
//!
//! Order across claims (6:43): the debtor's designation; otherwise the claims that are due, the
//! most onerous first (measured here by the interest rate), equally onerous the oldest first,
//! equally old pro rata. Within a claim (6:44 lid 1): costs, then interest, then principal.

use incasso_calendar::Date;
use incasso_money::{Currency, Money};

use crate::rates::AnnualRate;

/// Why a payment cannot be allocated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("the payment {0} is negative")]
    NegativePayment(Money),
    #[error("an open amount ({0}) is negative")]
    NegativeOpenAmount(Money),
    #[error("the designated claim {0} does not exist")]
    UnknownDesignatedClaim(usize),
    #[error("amounts in different currencies")]
    CurrencyMismatch,
    #[error("amount overflow in the allocation")]
    Overflow,
}

/// What is open on one claim, in the order of art. 6:44 lid 1 BW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenAmounts {
    /// Costs, including extrajudicial collection costs (HR 10-07-2015, ECLI:NL:HR:2015:1868).
    pub costs: Money,
    /// Interest accrued up to the payment date (all treated as "verschenen rente").
    pub interest: Money,
    pub principal: Money,
}

impl OpenAmounts {
    fn total(&self) -> Result<Money, AllocationError> {
        self.costs
            .checked_add(self.interest)
            .and_then(|s| s.checked_add(self.principal))
            .map_err(|_| AllocationError::Overflow)
    }

    fn check(&self, currency: Currency) -> Result<(), AllocationError> {
        for m in [self.costs, self.interest, self.principal] {
            if m.currency() != currency {
                return Err(AllocationError::CurrencyMismatch);
            }
            if m.is_negative() {
                return Err(AllocationError::NegativeOpenAmount(m));
            }
        }
        Ok(())
    }
}

/// How a payment was applied to one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimAllocation {
    pub costs: Money,
    pub interest: Money,
    pub principal: Money,
}

impl ClaimAllocation {
    fn zero(currency: Currency) -> ClaimAllocation {
        ClaimAllocation {
            costs: Money::zero(currency),
            interest: Money::zero(currency),
            principal: Money::zero(currency),
        }
    }

    /// Everything applied to this claim.
    pub fn total(&self) -> Result<Money, AllocationError> {
        self.costs
            .checked_add(self.interest)
            .and_then(|s| s.checked_add(self.principal))
            .map_err(|_| AllocationError::Overflow)
    }
}

/// Art. 6:44 lid 1 BW: applies `amount` to one claim, costs first, then interest, then principal.
/// Returns the allocation and the part of `amount` the claim could not absorb.
pub fn allocate_within_claim(
    amount: Money,
    open: &OpenAmounts,
) -> Result<(ClaimAllocation, Money), AllocationError> {
    let currency = amount.currency();
    if amount.is_negative() {
        return Err(AllocationError::NegativePayment(amount));
    }
    open.check(currency)?;
    let mut rest = amount;
    let mut take = |open_part: Money| -> Result<Money, AllocationError> {
        let applied = rest
            .min(open_part)
            .map_err(|_| AllocationError::CurrencyMismatch)?;
        rest = rest
            .checked_sub(applied)
            .map_err(|_| AllocationError::Overflow)?;
        Ok(applied)
    };
    let costs = take(open.costs)?;
    let interest = take(open.interest)?;
    let principal = take(open.principal)?;
    Ok((
        ClaimAllocation {
            costs,
            interest,
            principal,
        },
        rest,
    ))
}

/// One open claim of the debtor, as art. 6:43 BW looks at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenClaim {
    pub open: OpenAmounts,
    /// Whether the claim is due and payable (opeisbaar) on the payment date.
    pub due: bool,
    /// How onerous the claim is: its interest rate (HR 14-12-2012: often the highest rate; other
    /// burdens such as security rights are not modelled).
    pub interest_rate: AnnualRate,
    /// The claim's age: its due date (earlier is older).
    pub since: Date,
}

/// How one payment was applied across the debtor's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// One entry per claim, in the order the claims were given.
    pub per_claim: Vec<ClaimAllocation>,
    /// The part of the payment no claim could absorb (to refund or hold).
    pub unapplied: Money,
}

/// Applies a payment across claims (art. 6:43 BW) and within each claim (art. 6:44 BW).
///
/// `designated` is the index of the claim the debtor explicitly designated when paying. The
/// designated claim is paid first (6:43 lid 1); any excess goes to the other claims in the
/// statutory order. Claims that are not yet due come after all due claims, in the same order.
pub fn allocate_payment(
    payment: Money,
    claims: &[OpenClaim],
    designated: Option<usize>,
) -> Result<Allocation, AllocationError> {
    let currency = payment.currency();
    if payment.is_negative() {
        return Err(AllocationError::NegativePayment(payment));
    }
    for c in claims {
        c.open.check(currency)?;
    }
    if let Some(i) = designated
        && i >= claims.len()
    {
        return Err(AllocationError::UnknownDesignatedClaim(i));
    }
    let mut per_claim = vec![ClaimAllocation::zero(currency); claims.len()];
    let mut rest = payment;

    // Order of application: the designated claim, then groups of equal rank.
    let mut order: Vec<usize> = (0..claims.len())
        .filter(|i| Some(*i) != designated)
        .collect();
    let rank = |i: &usize| {
        let c = &claims[*i];
        (!c.due, std::cmp::Reverse(c.interest_rate), c.since)
    };
    order.sort_by_key(rank);

    if let Some(i) = designated {
        let (applied, left) = allocate_within_claim(rest, &claims[i].open)?;
        per_claim[i] = applied;
        rest = left;
    }

    let mut start = 0usize;
    while start < order.len() && rest.is_positive() {
        let key = rank(&order[start]);
        let end = order[start..]
            .iter()
            .position(|i| rank(i) != key)
            .map_or(order.len(), |p| start.saturating_add(p));
        let group = &order[start..end];
        rest = allocate_group(rest, group, claims, &mut per_claim)?;
        start = end;
    }

    // Invariant: money is conserved exactly.
    let applied = per_claim.iter().try_fold(Money::zero(currency), |acc, a| {
        a.total()
            .and_then(|t| acc.checked_add(t).map_err(|_| AllocationError::Overflow))
    })?;
    debug_assert_eq!(applied.checked_add(rest).ok(), Some(payment));
    Ok(Allocation {
        per_claim,
        unapplied: rest,
    })
}

/// Applies `amount` to a group of equally ranked claims: in full when it suffices, otherwise pro
/// rata to their open totals (largest remainder for the last cents, ties to the earlier claim).
fn allocate_group(
    amount: Money,
    group: &[usize],
    claims: &[OpenClaim],
    per_claim: &mut [ClaimAllocation],
) -> Result<Money, AllocationError> {
    let totals: Vec<i128> = group
        .iter()
        .map(|i| claims[*i].open.total().map(|t| i128::from(t.minor())))
        .collect::<Result<_, _>>()?;
    let group_total: i128 = totals
        .iter()
        .try_fold(0i128, |acc, t| acc.checked_add(*t))
        .ok_or(AllocationError::Overflow)?;
    let available = i128::from(amount.minor());
    let shares: Vec<i128> = if available >= group_total || group_total == 0 {
        totals.clone()
    } else {
        // Each claim's exact share is available × total / group_total: its whole cents first,
        // then one cent each by largest remainder. Amounts are i64 cents, so the products fit.
        let mut shares: Vec<i128> = Vec::with_capacity(totals.len());
        let mut remainders: Vec<i128> = Vec::with_capacity(totals.len());
        for t in &totals {
            let product = available.checked_mul(*t).ok_or(AllocationError::Overflow)?;
            shares.push(
                product
                    .checked_div(group_total)
                    .ok_or(AllocationError::Overflow)?,
            );
            remainders.push(
                product
                    .checked_rem(group_total)
                    .ok_or(AllocationError::Overflow)?,
            );
        }
        let whole: i128 = shares
            .iter()
            .try_fold(0i128, |acc, s| acc.checked_add(*s))
            .ok_or(AllocationError::Overflow)?;
        let mut leftover = available
            .checked_sub(whole)
            .ok_or(AllocationError::Overflow)?;
        let mut by_remainder: Vec<usize> = (0..totals.len()).collect();
        by_remainder.sort_by_key(|k| std::cmp::Reverse(remainders[*k]));
        for k in by_remainder {
            if leftover == 0 {
                break;
            }
            if shares[k] < totals[k] {
                shares[k] = shares[k].saturating_add(1);
                leftover = leftover.saturating_sub(1);
            }
        }
        shares
    };
    let mut rest = amount;
    for (position, claim_index) in group.iter().enumerate() {
        let share = Money::from_minor(
            i64::try_from(shares[position]).map_err(|_| AllocationError::Overflow)?,
            amount.currency(),
        );
        let (applied, left) = allocate_within_claim(share, &claims[*claim_index].open)?;
        debug_assert!(left.is_zero());
        per_claim[*claim_index] = applied;
        rest = rest
            .checked_sub(applied.total()?)
            .map_err(|_| AllocationError::Overflow)?;
    }
    Ok(rest)
}

#[cfg(test)]
// Test code may use plain arithmetic on small, known values.
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use incasso_calendar::parse_iso;

    fn eur(s: &str) -> Money {
        Money::parse_decimal(s, Currency::EUR).unwrap()
    }

    fn claim(
        costs: &str,
        interest: &str,
        principal: &str,
        due: bool,
        rate: &str,
        since: &str,
    ) -> OpenClaim {
        OpenClaim {
            open: OpenAmounts {
                costs: eur(costs),
                interest: eur(interest),
                principal: eur(principal),
            },
            due,
            interest_rate: AnnualRate::parse_percent(rate).unwrap(),
            since: parse_iso(since).unwrap(),
        }
    }

    fn principals(a: &Allocation) -> Vec<String> {
        a.per_claim
            .iter()
            .map(|c| c.total().unwrap().to_decimal_string())
            .collect()
    }

    #[test]
    fn bw_6_44_costs_then_interest_then_principal() {
        // RULES.md §10.3.
        let open = OpenAmounts {
            costs: eur("150"),
            interest: eur("20"),
            principal: eur("1000"),
        };
        let (a, rest) = allocate_within_claim(eur("200"), &open).unwrap();
        assert_eq!(
            (a.costs, a.interest, a.principal, rest),
            (eur("150"), eur("20"), eur("30"), eur("0"))
        );
        let (a, rest) = allocate_within_claim(eur("100"), &open).unwrap();
        assert_eq!(
            (a.costs, a.interest, a.principal, rest),
            (eur("100"), eur("0"), eur("0"), eur("0"))
        );
        let (_, rest) = allocate_within_claim(eur("1200"), &open).unwrap();
        assert_eq!(rest, eur("30"));
    }

    #[test]
    fn bw_6_43_most_onerous_then_oldest_then_pro_rata() {
        // RULES.md §10.3: the more onerous (higher rate) first.
        let claims = [
            claim("0", "0", "500", true, "8", "2024-01-01"),
            claim("0", "0", "500", true, "12", "2024-06-01"),
        ];
        assert_eq!(
            principals(&allocate_payment(eur("600"), &claims, None).unwrap()),
            ["100.00", "500.00"]
        );
        // Equally onerous: the older first.
        let claims = [
            claim("0", "0", "500", true, "8", "2024-06-01"),
            claim("0", "0", "500", true, "8", "2024-01-01"),
        ];
        assert_eq!(
            principals(&allocate_payment(eur("600"), &claims, None).unwrap()),
            ["100.00", "500.00"]
        );
        // Equally old: pro rata to the open totals (300 on 1000 + 500).
        let claims = [
            claim("0", "0", "1000", true, "8", "2024-01-01"),
            claim("0", "0", "500", true, "8", "2024-01-01"),
        ];
        assert_eq!(
            principals(&allocate_payment(eur("300"), &claims, None).unwrap()),
            ["200.00", "100.00"]
        );
        // Pro rata with an odd cent: 0.01 on three equal claims goes to the first.
        let claims = [
            claim("0", "0", "1", true, "8", "2024-01-01"),
            claim("0", "0", "1", true, "8", "2024-01-01"),
            claim("0", "0", "1", true, "8", "2024-01-01"),
        ];
        assert_eq!(
            principals(&allocate_payment(eur("0.01"), &claims, None).unwrap()),
            ["0.01", "0.00", "0.00"]
        );
    }

    #[test]
    fn bw_6_43_due_claims_first_and_designation_governs() {
        let claims = [
            claim("0", "0", "500", false, "20", "2023-01-01"),
            claim("0", "0", "500", true, "2", "2024-06-01"),
        ];
        assert_eq!(
            principals(&allocate_payment(eur("600"), &claims, None).unwrap()),
            ["100.00", "500.00"]
        );
        let a = allocate_payment(eur("600"), &claims, Some(0)).unwrap();
        assert_eq!(principals(&a), ["500.00", "100.00"]);
        let a = allocate_payment(eur("1100"), &claims, None).unwrap();
        assert_eq!(a.unapplied, eur("100"));
        assert_eq!(
            allocate_payment(eur("1"), &claims, Some(5)),
            Err(AllocationError::UnknownDesignatedClaim(5))
        );
        assert!(matches!(
            allocate_payment(eur("-1"), &claims, None),
            Err(AllocationError::NegativePayment(_))
        ));
    }

    fn arb_claim() -> impl proptest::strategy::Strategy<Value = OpenClaim> {
        use proptest::prelude::*;
        (
            0i64..50_000,
            0i64..50_000,
            0i64..500_000,
            proptest::bool::ANY,
            0u32..4,
            0i32..4,
        )
            .prop_map(|(c, i, p, due, rate, age)| OpenClaim {
                open: OpenAmounts {
                    costs: Money::eur_cents(c),
                    interest: Money::eur_cents(i),
                    principal: Money::eur_cents(p),
                },
                due,
                interest_rate: AnnualRate::from_ten_thousandths_percent(rate * 40_000),
                since: incasso_calendar::from_day_number(20_000 + age * 30).unwrap(),
            })
    }

    proptest::proptest! {
        #[test]
        fn allocation_conserves_money_and_follows_the_order(
            payment in 0i64..2_000_000,
            claims in proptest::collection::vec(arb_claim(), 0..6),
        ) {
            let payment = Money::eur_cents(payment);
            let a = allocate_payment(payment, &claims, None).unwrap();
            // Conservation: Σ allocated + unapplied = payment, and nothing is over-applied.
            let mut sum = a.unapplied;
            for (alloc, c) in a.per_claim.iter().zip(&claims) {
                sum = sum.checked_add(alloc.total().unwrap()).unwrap();
                proptest::prop_assert!(alloc.costs <= c.open.costs && alloc.interest <= c.open.interest && alloc.principal <= c.open.principal);
                proptest::prop_assert!(!alloc.costs.is_negative() && !alloc.interest.is_negative() && !alloc.principal.is_negative());
                // 6:44: interest only once costs are paid, principal only once interest is paid.
                if alloc.interest.is_positive() { proptest::prop_assert_eq!(alloc.costs, c.open.costs); }
                if alloc.principal.is_positive() { proptest::prop_assert_eq!(alloc.interest, c.open.interest); }
            }
            proptest::prop_assert_eq!(sum, payment);
            // Unapplied only when every claim is paid in full.
            if a.unapplied.is_positive() {
                for (alloc, c) in a.per_claim.iter().zip(&claims) {
                    proptest::prop_assert_eq!(alloc.total().unwrap(), c.open.total().unwrap());
                }
            }
            // 6:43: a claim of strictly lower rank receives something only when every claim of
            // strictly higher rank is paid in full.
            let rank = |c: &OpenClaim| (!c.due, std::cmp::Reverse(c.interest_rate), c.since);
            for (i, lo) in claims.iter().enumerate() {
                if a.per_claim[i].total().unwrap().is_positive() {
                    for (j, hi) in claims.iter().enumerate() {
                        if rank(hi) < rank(lo) {
                            proptest::prop_assert_eq!(a.per_claim[j].total().unwrap(), hi.open.total().unwrap());
                        }
                    }
                }
            }
        }
    }
}
