//! Letters for cases: builds `LetterData` for a case and a template from the store (creditor,
//! debtor, open invoices) with interest, collection costs and terms computed by the law engine as
//! of the letter date; renders a preview; and prints the day's postal letters as print files
//! (volumes of at most N letters) with one CSV manifest, registering each letter as dispatched on
//! that date.
//!
//! The print run is in `print` (re-exported here).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use incasso_banking::PaymentReference;
use incasso_calendar::Date;
use incasso_domain::{Creditor, CreditorId, Debtor, DebtorKind, Jurisdiction};
use incasso_dunning::{Channel, DebtorFacts, LegalEffect, Step};
use incasso_letters as letters;
use incasso_money::{Currency, Money};
use incasso_rules::costs::{
    CollectionCosts, ConsumerCostsStatus, CostsRequest, VatPosition, collection_costs,
    nl_consumer_collection_costs,
};
use incasso_rules::term::FourteenDayLetterTerm;
use incasso_rules::{Jurisdiction as LawJurisdiction, TransactionKind};
use incasso_store::{ActionRow, ActionStatus, DebtorClaims, InvoiceFilter, OverdueClaim, Store};

/// The letters crate, for callers that depend on the app only (the CLI).
pub use incasso_letters;

mod print;
pub use print::*;

/// What the caller chooses beyond the case and the template.
#[derive(Debug, Clone, Default)]
pub struct LetterOptions {
    /// The letter's language; default: the debtor's.
    pub language: Option<letters::Language>,
    /// Send by e-mail instead of post (only changes the presumed receipt of a statutory letter).
    pub email: bool,
    /// A payment link to print; default: the latest open payment link of the case (or of the
    /// letter's one invoice), see [`crate::letter_links`].
    pub payment_link: Option<String>,
    /// A portal link to print; default: made from `portal_url`.
    pub portal_link: Option<String>,
    /// The debtor-portal URL with `{case}` for the case id.
    pub portal_url: Option<String>,
    /// The tenant's open payment links, loaded once by a caller that builds many letters;
    /// `None`: loaded for this letter.
    pub payment_links: Option<std::sync::Arc<crate::letter_links::PaymentLinks>>,
    /// The tenant's collection policies, read (and each parsed) once by a caller that builds
    /// many letters; `None`: read for this letter.
    pub policies: Option<std::sync::Arc<std::sync::Mutex<crate::run::Policies>>>,
}

impl LetterOptions {
    /// The tenant's policies, read once, for [`LetterOptions::policies`].
    pub fn load_policies(
        store: &mut dyn Store,
        tenant: CreditorId,
    ) -> anyhow::Result<std::sync::Arc<std::sync::Mutex<crate::run::Policies>>> {
        Ok(std::sync::Arc::new(std::sync::Mutex::new(
            crate::run::Policies::new(store.policies(tenant).map_err(|e| anyhow!("{e}"))?),
        )))
    }
}

/// Whether the action goes by post (among its channels), so its letter is printed.
pub(crate) fn is_post(a: &ActionRow) -> bool {
    a.action.channels.split(',').any(|c| c.trim() == "post")
}

pub(crate) fn language(l: incasso_domain::Language) -> letters::Language {
    match l {
        incasso_domain::Language::Nl => letters::Language::Nl,
        incasso_domain::Language::En => letters::Language::En,
        incasso_domain::Language::Fr => letters::Language::Fr,
        incasso_domain::Language::De => letters::Language::De,
    }
}

fn law_jurisdiction(j: Jurisdiction) -> LawJurisdiction {
    match j {
        Jurisdiction::Nl => LawJurisdiction::Netherlands,
        Jurisdiction::Be => LawJurisdiction::Belgium,
    }
}

fn law_kind(k: DebtorKind) -> TransactionKind {
    match k {
        DebtorKind::Business => TransactionKind::Commercial,
        DebtorKind::Consumer => TransactionKind::Consumer,
    }
}

/// The PDF creation time of a letter dated `date`: midnight UTC of that day (never the clock, so
/// rendering the same letter again gives the same bytes).
pub fn created_at(date: Date) -> jiff::Timestamp {
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn country_name(code: &str, lang: letters::Language) -> String {
    let names: &[(&str, [&str; 4])] = &[
        (
            "NL",
            ["NEDERLAND", "NETHERLANDS", "PAYS-BAS", "NIEDERLANDE"],
        ),
        ("BE", ["BELGIË", "BELGIUM", "BELGIQUE", "BELGIEN"]),
        ("DE", ["DUITSLAND", "GERMANY", "ALLEMAGNE", "DEUTSCHLAND"]),
        ("FR", ["FRANKRIJK", "FRANCE", "FRANCE", "FRANKREICH"]),
        ("LU", ["LUXEMBURG", "LUXEMBOURG", "LUXEMBOURG", "LUXEMBURG"]),
        (
            "GB",
            [
                "VERENIGD KONINKRIJK",
                "UNITED KINGDOM",
                "ROYAUME-UNI",
                "VEREINIGTES KÖNIGREICH",
            ],
        ),
    ];
    let i = match lang {
        letters::Language::Nl => 0,
        letters::Language::En => 1,
        letters::Language::Fr => 2,
        letters::Language::De => 3,
    };
    names
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| n[i].to_string())
        .unwrap_or_else(|| code.to_string())
}

fn address_lines(a: &incasso_domain::Address, home: &str, lang: letters::Language) -> Vec<String> {
    let mut lines = Vec::new();
    for l in a.street.lines() {
        let l = l.trim();
        if !l.is_empty() {
            lines.push(l.to_string());
        }
    }
    let city = format!("{} {}", a.postal_code.trim(), a.city.trim())
        .trim()
        .to_string();
    if !city.is_empty() {
        lines.push(city);
    }
    // Mail abroad: the country on the last line, in capitals (in the sender's language).
    if let Some(c) = &a.country
        && c.as_str() != home
    {
        lines.push(country_name(c.as_str(), lang));
    }
    lines
}

/// The letter-side creditor (letterhead and footer).
fn creditor_view(c: &Creditor, lang: letters::Language) -> letters::Creditor {
    let d = &c.details;
    let home = d
        .address
        .country
        .as_ref()
        .map(|c| c.as_str().to_string())
        .unwrap_or_else(|| match d.jurisdiction {
            Jurisdiction::Nl => "NL".into(),
            Jurisdiction::Be => "BE".into(),
        });
    letters::Creditor {
        name: d.name.clone(),
        address: letters::PostalAddress {
            lines: address_lines(&d.address, &home, lang),
        },
        registration_number: d
            .registration_number
            .as_ref()
            .map(|r| r.as_str().to_string()),
        vat_number: d.vat_number.as_ref().map(|v| v.as_str().to_string()),
        iban: d.iban.to_paper(),
        bic: d.bic.as_ref().map(|b| b.as_str().to_string()),
        website: d.website.clone(),
        email: d.email.as_ref().map(|e| e.as_str().to_string()),
        phone: d.phone.as_ref().map(|p| p.as_str().to_string()),
        letterhead: d.letterhead.clone(),
    }
}

fn home_country(c: &Creditor) -> String {
    c.details
        .address
        .country
        .as_ref()
        .map(|c| c.as_str().to_string())
        .unwrap_or_else(|| match c.details.jurisdiction {
            Jurisdiction::Nl => "NL".into(),
            Jurisdiction::Be => "BE".into(),
        })
}

/// One open invoice of the case as the letter needs it.
struct OpenInvoice {
    id: incasso_domain::InvoiceId,
    number: String,
    description: Option<String>,
    issue: Date,
    due: Date,
    gross: Money,
    open: Money,
    reference: Option<String>,
}

fn open_invoices(
    store: &mut dyn Store,
    creditor: &Creditor,
    debtor: &Debtor,
    date: Date,
) -> anyhow::Result<Vec<OpenInvoice>> {
    let tenant = creditor.id;
    let mut rows = Vec::new();
    store
        .for_each_invoice(
            tenant,
            &InvoiceFilter {
                overdue_as_of: Some(date),
                debtor: Some(debtor.id),
                limit: None,
            },
            &mut |r| {
                rows.push(r);
                Ok(())
            },
        )
        .map_err(|e| anyhow!("{e}"))?;
    let mut out = Vec::new();
    for r in rows {
        let Some(due) = r.due_date else { continue };
        if !r.open_amount.is_positive() {
            continue;
        }
        let inv = store.invoice(tenant, r.id).map_err(|e| anyhow!("{e}"))?;
        out.push(OpenInvoice {
            id: r.id,
            number: r.number,
            description: inv.details.description.clone(),
            issue: r.issue_date,
            due,
            gross: r.gross_amount,
            open: r.open_amount,
            reference: inv.details.payment_reference.clone(),
        });
    }
    Ok(out)
}

/// The policy step whose template is `template` for this case: from the case's outbox action with
/// that template if there is one (the policy that queued it), else from the policy that applies
/// to the debtor now. `None` when no policy has such a step (for example `rent_arrears` or
/// `payment_plan_confirmation`).
fn find_step(
    store: &mut dyn Store,
    creditor: &Creditor,
    debtor: &Debtor,
    claims: &[OverdueClaim],
    actions: &[ActionRow],
    template: &str,
    loaded: Option<&std::sync::Mutex<crate::run::Policies>>,
) -> anyhow::Result<Option<Step>> {
    let tenant = creditor.id;
    let name = match actions.iter().rev().find(|a| a.action.template == template) {
        Some(a) => a.action.policy_name.clone(),
        None => {
            let assignments = store
                .policy_assignments(tenant)
                .map_err(|e| anyhow!("{e}"))?;
            let dc = DebtorClaims {
                debtor_id: debtor.id,
                kind: debtor.details.kind,
                tags: debtor.details.tags.clone(),
                vulnerable: debtor.details.vulnerable,
                do_not_contact: debtor.details.do_not_contact,
                claims: claims.to_vec(),
            };
            crate::run::policy_name_for(&assignments, &dc, creditor.details.jurisdiction)
        }
    };
    let step = |policies: &mut crate::run::Policies| -> anyhow::Result<Option<Step>> {
        Ok(policies
            .get(&name)?
            .steps
            .iter()
            .find(|s| s.template == template)
            .cloned())
    };
    match loaded {
        Some(shared) => step(
            &mut *shared
                .lock()
                .map_err(|_| anyhow!("the policies were left half-loaded"))?,
        ),
        None => step(&mut crate::run::Policies::new(
            store.policies(tenant).map_err(|e| anyhow!("{e}"))?,
        )),
    }
}

/// The statutory term of the letter, if the step is a statutory letter, computed from the
/// dispatch date (the letter date) by the law engine.
fn statutory_term(
    step: &Step,
    dispatched: Date,
    channel: Channel,
    debtor: &DebtorFacts,
) -> anyhow::Result<(Date, Option<FourteenDayLetterTerm>)> {
    let delivery = incasso_rules::term::DeliveryPresumption::default();
    let d = incasso_dunning::step_deadline(step, dispatched, &[channel], debtor, &delivery)
        .map_err(|e| anyhow!("deadline of {}: {e}", step.id))?;
    Ok((d.deadline, d.statutory_term))
}

fn costs_explanation(
    request: &CostsRequest,
    costs: &CollectionCosts,
    lang: letters::Language,
) -> String {
    let base = letters::format::amount(request.principal.minor(), lang);
    let n = request.late_invoices;
    let mut text = match (request.jurisdiction, request.kind, lang) {
        (LawJurisdiction::Netherlands, _, letters::Language::Nl) => format!(
            "staffel van het Besluit vergoeding voor buitengerechtelijke incassokosten (art. 2) over de hoofdsom van {base}: 15% over de eerste € 2.500, aflopend tot 0,5%; minimaal € 40, maximaal € 6.775"
        ),
        (LawJurisdiction::Netherlands, _, letters::Language::En) => format!(
            "scale of the Dutch Extrajudicial Collection Costs Decree (BIK art. 2) on the principal of {base}: 15% of the first €2,500, decreasing to 0.5%; minimum €40, maximum €6,775"
        ),
        (LawJurisdiction::Netherlands, _, letters::Language::Fr) => format!(
            "barème du décret néerlandais sur les frais de recouvrement (BIK art. 2) sur le principal de {base} : 15 % des premiers 2.500 €, dégressif jusqu'à 0,5 % ; minimum 40 €, maximum 6.775 €"
        ),
        (LawJurisdiction::Netherlands, _, letters::Language::De) => format!(
            "Staffel des niederländischen Beschlusses über Inkassokosten (BIK Art. 2) auf die Hauptforderung von {base}: 15 % der ersten 2.500 €, fallend bis 0,5 %; mindestens 40 €, höchstens 6.775 €"
        ),
        (LawJurisdiction::Belgium, TransactionKind::Consumer, letters::Language::Nl) => format!(
            "maximale schadevergoeding volgens Boek XIX WER (art. XIX.4) op het saldo van {base}"
        ),
        (LawJurisdiction::Belgium, TransactionKind::Consumer, letters::Language::En) => format!(
            "maximum damages under Book XIX of the Belgian Code of Economic Law (art. XIX.4) on the balance of {base}"
        ),
        (LawJurisdiction::Belgium, TransactionKind::Consumer, letters::Language::Fr) => format!(
            "indemnité maximale selon le livre XIX du CDE (art. XIX.4) sur le solde de {base}"
        ),
        (LawJurisdiction::Belgium, TransactionKind::Consumer, letters::Language::De) => {
            format!("Höchstentschädigung nach Buch XIX WGB (Art. XIX.4) auf den Saldo von {base}")
        }
        (_, _, letters::Language::Nl) => format!(
            "vaste vergoeding van € 40 per te laat betaalde factuur ({n} facturen, Richtlijn 2011/7/EU)"
        ),
        (_, _, letters::Language::En) => {
            format!("fixed sum of €40 per late invoice ({n} invoices, Directive 2011/7/EU)")
        }
        (_, _, letters::Language::Fr) => format!(
            "indemnité forfaitaire de 40 € par facture payée en retard ({n} factures, directive 2011/7/UE)"
        ),
        (_, _, letters::Language::De) => format!(
            "Pauschale von 40 € je verspätet bezahlter Rechnung ({n} Rechnungen, Richtlinie 2011/7/EU)"
        ),
    };
    if request.jurisdiction == LawJurisdiction::Netherlands
        && request.kind == TransactionKind::Commercial
    {
        text.push_str(&match lang {
            letters::Language::Nl => format!("; ten minste € 40 per te late factuur ({n})"),
            letters::Language::En => format!("; at least €40 per late invoice ({n})"),
            letters::Language::Fr => format!("; au moins 40 € par facture en retard ({n})"),
            letters::Language::De => format!("; mindestens 40 € je verspäteter Rechnung ({n})"),
        });
    }
    if costs.vat.is_positive() {
        text.push_str(&match lang {
            letters::Language::Nl => {
                "; verhoogd met btw omdat wij de btw niet kunnen verrekenen (BIK art. 2 lid 3)"
                    .to_string()
            }
            letters::Language::En => {
                "; increased by VAT because we cannot deduct VAT (BIK art. 2(3))".to_string()
            }
            letters::Language::Fr => {
                "; majoré de la TVA, que nous ne pouvons pas déduire (BIK art. 2, al. 3)"
                    .to_string()
            }
            letters::Language::De => {
                "; zuzüglich MwSt., da wir nicht vorsteuerabzugsberechtigt sind (BIK Art. 2 Abs. 3)"
                    .to_string()
            }
        });
    }
    text
}

/// Builds the letter for `template` on `case_id`, dated `date` (the dispatch date): the open
/// overdue invoices of the case's debtor, and, as the policy step with that template says,
/// statutory interest, collection costs (claimed, or announced with their exact amount), the
/// Belgian reminder fee, and the term computed from the dispatch date.
pub fn letter_data(
    store: &mut dyn Store,
    creditor: &Creditor,
    case_id: i64,
    template: &str,
    date: Date,
    opts: &LetterOptions,
) -> anyhow::Result<letters::LetterData> {
    let tenant = creditor.id;
    let case = store.case(tenant, case_id).map_err(|e| anyhow!("{e}"))?;
    let debtor = store
        .debtor(tenant, case.debtor_id)
        .map_err(|e| anyhow!("{e}"))?;
    let lang = opts
        .language
        .unwrap_or_else(|| language(debtor.details.language));
    let invoices = open_invoices(store, creditor, &debtor, date)?;
    if invoices.is_empty() {
        bail!(
            "case {case_id} ({}) has no open overdue invoice on {date}: there is nothing to write",
            debtor.details.name
        );
    }
    let claims: Vec<OverdueClaim> = invoices
        .iter()
        .map(|i| OverdueClaim {
            invoice_id: i.id,
            principal: i.gross,
            open: i.open,
            due: i.due,
        })
        .collect();
    let actions = store
        .actions(tenant, Some(case_id))
        .map_err(|e| anyhow!("{e}"))?;
    let step = find_step(
        store,
        creditor,
        &debtor,
        &claims,
        &actions,
        template,
        opts.policies.as_deref(),
    )?;
    let jurisdiction = creditor.details.jurisdiction;
    let kind = debtor.details.kind;
    let facts = DebtorFacts {
        kind,
        jurisdiction,
        tags: debtor.details.tags.clone(),
        risk_class: None,
        vulnerable: debtor.details.vulnerable,
        do_not_contact: debtor.details.do_not_contact,
    };
    let channel = if opts.email {
        Channel::Email
    } else {
        Channel::Post
    };
    let has = |e: LegalEffect| step.as_ref().is_some_and(|s| s.has(e));

    // The deadline and, for a statutory letter, its term from the dispatch date.
    let (deadline, term) = match &step {
        Some(s) => statutory_term(s, date, channel, &facts)?,
        None if template == "rent_arrears"
            && kind == DebtorKind::Consumer
            && jurisdiction == Jurisdiction::Nl =>
        {
            // Rent arrears of a Dutch consumer tenant: a fourteen-day letter (art. 6:96 lid 6 BW).
            let term = incasso_rules::term::fourteen_day_letter_term(
                date,
                if opts.email {
                    incasso_rules::term::Channel::Email
                } else {
                    incasso_rules::term::Channel::Post
                },
                &incasso_rules::term::DeliveryPresumption::default(),
                14,
            )
            .map_err(|e| anyhow!("term: {e}"))?;
            (term.last_day, Some(term))
        }
        None => (
            incasso_calendar::add_days(date, 14).ok_or_else(|| anyhow!("date out of range"))?,
            None,
        ),
    };
    let announces_statutory = has(LegalEffect::FourteenDayLetter)
        || has(LegalEffect::BeFirstReminder)
        || (step.is_none() && term.is_some());

    // Interest per claim (the law engine's specification), when the step claims it.
    let law_j = law_jurisdiction(jurisdiction);
    let law_k = law_kind(kind);
    let principal =
        Money::sum(Currency::EUR, invoices.iter().map(|i| i.open)).map_err(|e| anyhow!("{e}"))?;
    let interest = if has(LegalEffect::ClaimInterest) {
        let mut lines = Vec::new();
        let mut total = Money::zero(Currency::EUR);
        let mut statute = String::new();
        for inv in &invoices {
            let spec = incasso_rules::claim_interest(law_j, law_k, None, inv.open, inv.due, date)
                .map_err(|e| anyhow!("interest on {}: {e}", inv.number))?;
            for p in &spec.periods {
                lines.push(letters::InterestLine {
                    invoice: inv.number.clone(),
                    from: p.from(),
                    to: p.to(),
                    days: p.days,
                    rate: p.rate.ten_thousandths_percent(),
                    base: p
                        .base_rounded(Currency::EUR)
                        .map_err(|e| anyhow!("{e}"))?
                        .minor(),
                    amount: p
                        .interest_rounded(Currency::EUR)
                        .map_err(|e| anyhow!("{e}"))?
                        .minor(),
                });
            }
            total = total
                .checked_add(spec.interest)
                .map_err(|e| anyhow!("{e}"))?;
            if statute.is_empty() {
                statute = incasso_rules::jurisdiction::interest_rule(
                    law_j,
                    law_k,
                    None,
                    incasso_rules::interest::LeapDayAnniversary::default(),
                )
                .map(|r| r.statute.to_string())
                .unwrap_or_default();
            }
        }
        Some(letters::Interest {
            statute,
            lines,
            total: total.minor(),
        })
    } else {
        None
    };
    let interest_rate = incasso_rules::jurisdiction::interest_rule(
        law_j,
        law_k,
        None,
        incasso_rules::interest::LeapDayAnniversary::default(),
    )
    .ok()
    .and_then(|r| r.schedule.rate_on(date))
    .map(|r| r.ten_thousandths_percent());

    // Collection costs, on all open claims together (one letter, RULES.md §2.5).
    let vat = match (jurisdiction, creditor.details.vat_deductible) {
        (Jurisdiction::Nl, false) => VatPosition::NotDeductible,
        _ => VatPosition::Deductible,
    };
    let request = CostsRequest {
        jurisdiction: law_j,
        kind: law_k,
        principal,
        late_invoices: u32::try_from(invoices.len()).unwrap_or(u32::MAX),
        vat,
        vat_rate: incasso_rules::costs::nl_general_vat_rate().map_err(|e| anyhow!("{e}"))?,
    };
    // The statutory letter already dispatched for this case (its term gates consumer costs).
    let gate = match (kind, jurisdiction) {
        (DebtorKind::Consumer, Jurisdiction::Nl) => Some(LegalEffect::FourteenDayLetter),
        (DebtorKind::Consumer, Jurisdiction::Be) => Some(LegalEffect::BeFirstReminder),
        (DebtorKind::Business, _) => None,
    };
    let sent_gate_term = match gate {
        None => None,
        Some(effect) => {
            let mut found = None;
            for a in actions
                .iter()
                .filter(|a| a.action.status == ActionStatus::Sent)
            {
                let Some(dispatched) = a.dispatched_on else {
                    continue;
                };
                let Some(s) = find_step(
                    store,
                    creditor,
                    &debtor,
                    &claims,
                    &actions,
                    &a.action.template,
                    opts.policies.as_deref(),
                )?
                else {
                    continue;
                };
                if !s.has(effect) {
                    continue;
                }
                let ch = if is_post(a) {
                    Channel::Post
                } else {
                    Channel::Email
                };
                if let (_, Some(t)) = statutory_term(&s, dispatched, ch, &facts)? {
                    found = Some(t);
                }
            }
            found
        }
    };
    let costs = if has(LegalEffect::ClaimCosts) {
        let due = match (kind, jurisdiction, &sent_gate_term) {
            (DebtorKind::Consumer, Jurisdiction::Nl, Some(t)) => {
                match nl_consumer_collection_costs(
                    principal,
                    Money::zero(Currency::EUR),
                    t,
                    date,
                    request.vat,
                    request.vat_rate,
                )
                .map_err(|e| anyhow!("{e}"))?
                {
                    ConsumerCostsStatus::Due(c) => Some(c),
                    _ => None,
                }
            }
            (DebtorKind::Consumer, _, Some(t)) if date >= t.costs_due_from => {
                Some(collection_costs(&request).map_err(|e| anyhow!("{e}"))?)
            }
            (DebtorKind::Consumer, _, _) => None,
            _ => Some(collection_costs(&request).map_err(|e| anyhow!("{e}"))?),
        };
        due.map(|c| (letters::CostsStatus::Claimed, c))
    } else {
        None
    };
    let costs = match costs {
        Some(c) => Some(c),
        None if announces_statutory
            || has(LegalEffect::AnnounceCosts)
            || template == "formal_notice" =>
        {
            Some((
                letters::CostsStatus::Announced,
                collection_costs(&request).map_err(|e| anyhow!("{e}"))?,
            ))
        }
        None => None,
    };
    let reminder_fee = (has(LegalEffect::ReminderFee)
        && kind == DebtorKind::Consumer
        && jurisdiction == Jurisdiction::Be
        && sent_gate_term.is_some())
    .then_some(incasso_rules::costs::BE_FURTHER_REMINDER_MAXIMUM.minor());

    let costs = costs.map(|(status, c)| letters::Costs {
        status,
        amount: c.costs.minor(),
        vat: c.vat.minor(),
        total: c.total_costs.minor(),
        explanation: costs_explanation(&request, &c, lang),
    });
    let claimed_costs = costs
        .as_ref()
        .filter(|c| c.status == letters::CostsStatus::Claimed)
        .map_or(0, |c| c.total);
    let total = [
        interest.as_ref().map_or(0, |i| i.total),
        claimed_costs,
        reminder_fee.unwrap_or(0),
    ]
    .iter()
    .try_fold(principal.minor(), |acc, x| acc.checked_add(*x))
    .ok_or_else(|| anyhow!("amounts overflow"))?;

    // Payment plan confirmation: the active plan's instalments; the first is what to pay now.
    let instalments: Vec<letters::Instalment> = if template == "payment_plan_confirmation" {
        let plans = store.plans(tenant, true).map_err(|e| anyhow!("{e}"))?;
        let plan = plans
            .iter()
            .find(|p| p.plan.case_id == case_id)
            .ok_or_else(|| anyhow!("case {case_id} has no active payment plan to confirm"))?;
        plan.plan
            .instalments
            .iter()
            .map(|(due, amount)| letters::Instalment {
                due: *due,
                amount: amount.minor(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let pay_amount = instalments.first().map_or(total, |i| i.amount.min(total));

    // The payment reference: the invoice's own structured reference when the letter is about one
    // invoice that has one (the bank import matches it); otherwise the invoice numbers as text
    // (the bank import matches invoice numbers in the remittance text).
    let (reference, structured) = match invoices.as_slice() {
        [one] if one.reference.is_some() => {
            let r = one.reference.clone().unwrap_or_default();
            let structured = PaymentReference::parse_any(&r).is_ok();
            (r, structured)
        }
        _ => {
            let mut text = invoices
                .iter()
                .map(|i| i.number.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            if text.chars().count() > 140 {
                text = format!("dossier {case_id}");
            }
            (text, false)
        }
    };
    let payment_link = match (&opts.payment_link, &opts.payment_links) {
        (Some(l), _) => Some(l.clone()),
        (None, links) => {
            let ids: Vec<_> = invoices.iter().map(|i| i.id).collect();
            let loaded;
            let links = match links {
                Some(l) => l.as_ref(),
                None => {
                    loaded = crate::letter_links::PaymentLinks::load(store, tenant)?;
                    &loaded
                }
            };
            links.for_letter(case_id, &ids, date)
        }
    };
    let portal_link = opts.portal_link.clone().or_else(|| {
        opts.portal_url
            .as_deref()
            .map(|p| crate::letter_links::portal_link(p, case_id))
    });
    let home = home_country(creditor);
    let our_reference = debtor
        .details
        .number
        .as_ref()
        .map(|n| n.as_str().to_string())
        .unwrap_or_else(|| format!("D{}", debtor.id.get()));
    Ok(letters::LetterData {
        language: lang,
        creditor: creditor_view(creditor, lang),
        debtor: letters::Recipient {
            name: debtor.details.name.clone(),
            contact_person: debtor.details.contact_person.clone(),
            address: letters::PostalAddress {
                lines: address_lines(&debtor.details.address, &home, lang),
            },
        },
        letter_date: date,
        our_reference,
        case_number: case_id.to_string(),
        invoices: invoices
            .iter()
            .map(|i| letters::InvoiceLine {
                number: i.number.clone(),
                description: i.description.clone(),
                date: i.issue,
                due_date: Some(i.due),
                amount: i.gross.minor(),
                paid: i.gross.minor().saturating_sub(i.open.minor()).max(0),
                open: i.open.minor(),
            })
            .collect(),
        interest,
        costs,
        reminder_fee,
        interest_rate,
        total,
        payment: letters::PaymentInstructions {
            beneficiary: creditor.details.name.clone(),
            iban: creditor.details.iban.as_str().to_string(),
            bic: creditor
                .details
                .bic
                .as_ref()
                .map(|b| b.as_str().to_string()),
            amount: pay_amount,
            reference,
            structured,
        },
        qr: true,
        payment_link,
        portal_link,
        deadline,
        term: term.map(|t| letters::StatutoryTerm {
            days: step.as_ref().map_or(14, |s| s.term_days),
            received: t.received,
            first_day: t.first_day,
            last_day: t.last_day,
            costs_due_from: t.costs_due_from,
        }),
        instalments,
        signatory: None,
    })
}

/// Renders a case's letter for a template without sending or recording anything.
pub fn preview(
    store: &mut dyn Store,
    creditor: &Creditor,
    templates: &letters::Templates,
    case_id: i64,
    template: &str,
    date: Date,
    opts: &LetterOptions,
) -> anyhow::Result<(letters::LetterData, Vec<u8>)> {
    let data = letter_data(store, creditor, case_id, template, date, opts)?;
    let t = templates.get(template, data.language)?;
    let pdf = letters::render(&data, &t, created_at(date))?;
    Ok((data, pdf))
}
