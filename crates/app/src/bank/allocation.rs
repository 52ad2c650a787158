//! Allocation of a matched payment by law, over the in-memory ledger: the designated invoices
//! first (art. 6:43 lid 1 BW), then the debtor's other open claims in statutory order; within
//! each claim costs, interest, principal (art. 6:44 BW), all computed by `incasso_rules`. The
//! ledger's open amounts follow every allocation, so the next entry of the same import sees
//! what is still open.

use anyhow::anyhow;
use incasso_calendar::Date;
use incasso_domain::{DebtorId, InvoiceId, PaymentId};
use incasso_money::Money;
use incasso_rules::rates::AnnualRate;
use incasso_rules::{OpenAmounts, OpenClaim, allocate_payment};
use incasso_store::{Component, NewAllocation};

use super::matching::Ledger;

impl Ledger {
    /// Allocates `amount` of `payment` to the debtor's open claims: the designated invoices
    /// first (art. 6:43 lid 1 BW), then the others in statutory order; within each claim costs,
    /// interest, principal (art. 6:44 BW). Returns the allocations and the unapplied rest.
    pub(super) fn allocate(
        &self,
        debtor: DebtorId,
        designated: &[usize],
        amount: Money,
        on: Date,
        payment: PaymentId,
    ) -> anyhow::Result<(Vec<NewAllocation>, Money)> {
        let currency = amount.currency();
        let claims: Vec<usize> = self
            .of_debtor(debtor)
            .filter(|i| self.usable(*i, currency))
            .collect();
        let first: Vec<usize> = designated
            .iter()
            .copied()
            .filter(|i| claims.contains(i))
            .collect();
        let rest: Vec<usize> = claims
            .iter()
            .copied()
            .filter(|i| !first.contains(i))
            .collect();
        let claim = |i: &usize| {
            self.invoices
                .get(*i)
                .map(|inv| (inv.id, inv.open, inv.due))
                .ok_or_else(|| anyhow!("invoice index out of range"))
        };
        let first = first
            .iter()
            .map(claim)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let rest = rest.iter().map(claim).collect::<anyhow::Result<Vec<_>>>()?;
        allocate_in_order([&first, &rest], amount, on, payment)
    }

    /// Follows allocations (or their reversals) in the open amounts (principal only, as the
    /// store does). Returns false when an allocation is for an invoice the ledger does not hold
    /// (one that was not open when the import began).
    pub(super) fn apply(&mut self, allocations: &[NewAllocation]) -> bool {
        let mut all = true;
        for a in allocations {
            if a.component != Component::Principal {
                continue;
            }
            match self.position(a.invoice_id) {
                Some(i) => {
                    if let Some(inv) = self.invoices.get_mut(i)
                        && let Ok(open) = inv.open.checked_sub(a.amount)
                    {
                        inv.open = open;
                    }
                }
                None => all = false,
            }
        }
        all
    }
}

/// The statutory allocation step both payment paths share (bank entries and payment links):
/// `amount` goes to the claims group by group (the designated ones first, art. 6:43 lid 1 BW,
/// then the debtor's others), within a group in statutory order and within each claim costs,
/// interest, principal (art. 6:44 BW). A claim is (invoice, open principal, due date). Returns
/// the allocations and the unapplied rest.
pub(crate) fn allocate_in_order(
    groups: [&[(InvoiceId, Money, Option<Date>)]; 2],
    amount: Money,
    on: Date,
    payment: PaymentId,
) -> anyhow::Result<(Vec<NewAllocation>, Money)> {
    let mut remaining = amount;
    let mut out = Vec::new();
    let zero = Money::zero(amount.currency());
    for group in groups {
        if group.is_empty() || !remaining.is_positive() {
            continue;
        }
        let open: Vec<OpenClaim> = group
            .iter()
            .map(|&(_, open, due)| OpenClaim {
                open: OpenAmounts {
                    costs: zero,
                    interest: zero,
                    principal: open,
                },
                due: due.is_none_or(|d| d <= on),
                // No claim carries a stored rate yet: equally onerous, so the oldest first.
                interest_rate: AnnualRate::from_ten_thousandths_percent(0),
                since: due.unwrap_or(on),
            })
            .collect();
        let result = allocate_payment(remaining, &open, None)
            .map_err(|e| anyhow!("allocation by art. 6:43/6:44 BW failed: {e}"))?;
        for (&(invoice_id, _, _), a) in group.iter().zip(&result.per_claim) {
            for (component, part) in [
                (Component::Costs, a.costs),
                (Component::Interest, a.interest),
                (Component::Principal, a.principal),
            ] {
                if part.is_positive() {
                    out.push(NewAllocation {
                        payment_id: payment,
                        invoice_id,
                        component,
                        amount: part,
                        reverses: None,
                    });
                }
            }
        }
        remaining = result.unapplied;
    }
    Ok((out, remaining))
}
