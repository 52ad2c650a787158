//! The links a letter prints: the latest open payment link (Mollie) of the case, or of the one
//! invoice the letter is about, and the debtor-portal link made from the configured portal URL
//! (`{case}` replaced by the case id). Used wherever letters are built: the preview, the print
//! run and the e-mail dispatch.

use std::collections::HashMap;

use incasso_calendar::Date;
use incasso_domain::{CreditorId, InvoiceId};
use incasso_store::{PaylinkScope, PaylinkStatus, Store};

/// One usable link.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    id: i64,
    url: String,
    /// The last day (UTC) the link can be paid, when the provider gave an expiry.
    last_day: Option<Date>,
}

/// The tenant's open payment links with a URL, indexed by case and by invoice. Loaded once per
/// print run or dispatch run (a link made meanwhile shows in the next run's letters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentLinks {
    by_case: HashMap<i64, Vec<Link>>,
    by_invoice: HashMap<InvoiceId, Vec<Link>>,
}

/// The UTC day of an ISO 8601 / RFC 3339 moment; `None` when it cannot be read (the link is
/// then treated as not expiring: the provider refuses payment on an expired link anyway).
fn last_day(expires_at: &str) -> Option<Date> {
    let t: jiff::Timestamp = expires_at.parse().ok()?;
    Some(t.to_zoned(jiff::tz::TimeZone::UTC).date())
}

impl PaymentLinks {
    /// The open links of the tenant.
    pub fn load(store: &mut dyn Store, tenant: CreditorId) -> anyhow::Result<PaymentLinks> {
        let mut links = PaymentLinks::default();
        for row in store.paylinks(tenant)? {
            if row.status != PaylinkStatus::Open {
                continue;
            }
            let Some(url) = row.url.clone().filter(|u| !u.trim().is_empty()) else {
                continue;
            };
            let link = Link {
                id: row.id,
                url,
                last_day: row.expires_at.as_deref().and_then(last_day),
            };
            match row.link.scope {
                PaylinkScope::Case(c) => links.by_case.entry(c).or_default().push(link),
                PaylinkScope::Invoice(i) => links.by_invoice.entry(i).or_default().push(link),
            }
        }
        Ok(links)
    }

    /// The URL of the latest (highest id) open link for the case, or for the letter's one
    /// invoice, that has not expired before `date`.
    pub fn for_letter(&self, case_id: i64, invoices: &[InvoiceId], date: Date) -> Option<String> {
        let mut candidates: Vec<&Link> = self
            .by_case
            .get(&case_id)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        if let [one] = invoices
            && let Some(v) = self.by_invoice.get(one)
        {
            candidates.extend(v.iter());
        }
        candidates
            .into_iter()
            .filter(|l| l.last_day.is_none_or(|d| d >= date))
            .max_by_key(|l| l.id)
            .map(|l| l.url.clone())
    }
}

/// The portal link of a case from a URL pattern with `{case}`.
pub fn portal_link(pattern: &str, case_id: i64) -> String {
    pattern.replace("{case}", &case_id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Date {
        incasso_calendar::parse_iso(s).unwrap()
    }

    #[test]
    fn the_latest_unexpired_link_of_the_case_or_its_one_invoice_is_chosen() {
        let inv = InvoiceId::new(7);
        let mut links = PaymentLinks::default();
        let link = |id: i64, url: &str, last: Option<&str>| Link {
            id,
            url: url.into(),
            last_day: last.map(day),
        };
        links.by_case.insert(
            3,
            vec![
                link(1, "https://pay/old", None),
                link(4, "https://pay/expired", Some("2026-11-30")),
            ],
        );
        links
            .by_invoice
            .insert(inv, vec![link(2, "https://pay/invoice", None)]);
        let d = day("2026-12-03");
        assert_eq!(
            links.for_letter(3, &[inv], d).as_deref(),
            Some("https://pay/invoice")
        );
        let other = InvoiceId::new(8);
        assert_eq!(
            links.for_letter(3, &[inv, other], d).as_deref(),
            Some("https://pay/old"),
            "an invoice link pays one invoice: only for a letter about that invoice alone"
        );
        assert_eq!(
            links.for_letter(3, &[], day("2026-11-30")).as_deref(),
            Some("https://pay/expired"),
            "still valid on its last day"
        );
        assert_eq!(links.for_letter(9, &[other], d), None);
        assert_eq!(
            last_day("2026-12-31T23:59:59+01:00"),
            Some(day("2026-12-31"))
        );
        assert_eq!(last_day("soon"), None);
        assert_eq!(
            portal_link("https://portaal.example/c/{case}", 42),
            "https://portaal.example/c/42"
        );
    }
}
