//! The export: the due items recorded as one collection batch in one store transaction, then
//! written as a pain.008 file (byte for byte the same file again for a repeated export).

use super::*;

/// The creation date-time of a file (`YYYY-MM-DDTHH:MM:SS`), given by the caller: this module
/// never reads the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatedAt {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl CreatedAt {
    /// Parses `YYYY-MM-DDTHH:MM:SS` (a space instead of `T` is accepted).
    pub fn parse(s: &str) -> anyhow::Result<CreatedAt> {
        let bad = || anyhow!("{s:?} is not a date-time: expected YYYY-MM-DDTHH:MM:SS");
        let (d, t) = s.split_once(['T', ' ']).ok_or_else(bad)?;
        let date = incasso_calendar::parse_iso(d).map_err(|_| bad())?;
        let parts: Vec<u8> = t
            .split(':')
            .map(|p| p.parse::<u8>().map_err(|_| bad()))
            .collect::<anyhow::Result<_>>()?;
        let [hour, minute, second] = parts[..] else {
            return Err(bad());
        };
        if hour > 23 || minute > 59 || second > 59 {
            return Err(bad());
        }
        Ok(CreatedAt {
            date,
            hour,
            minute,
            second,
        })
    }

    fn pain(self) -> anyhow::Result<pain008::DateTime> {
        let d = pain008::Date::new(
            u16::try_from(self.date.year()).map_err(|_| anyhow!("year out of range"))?,
            u8::try_from(self.date.month()).map_err(|_| anyhow!("month out of range"))?,
            u8::try_from(self.date.day()).map_err(|_| anyhow!("day out of range"))?,
        )?;
        Ok(pain008::DateTime::new(
            d,
            self.hour,
            self.minute,
            self.second,
        )?)
    }
}

impl std::fmt::Display for CreatedAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )
    }
}

pub(super) fn pain_date(d: Date) -> anyhow::Result<pain008::Date> {
    Ok(pain008::Date::new(
        u16::try_from(d.year()).map_err(|_| anyhow!("year out of range"))?,
        u8::try_from(d.month()).map_err(|_| anyhow!("month out of range"))?,
        u8::try_from(d.day()).map_err(|_| anyhow!("day out of range"))?,
    )?)
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub collection_date: Date,
    pub created_at: CreatedAt,
    pub version: pain008::Version,
    /// Write this earlier batch again instead of selecting.
    pub message_id: Option<String>,
}

/// Count and total of one sequence type in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceTotal {
    pub sequence: SequenceState,
    pub count: u64,
    pub total: Money,
}

/// What an export did.
#[derive(Debug, Clone)]
pub struct ExportOutcome {
    /// The file's message id; `None` when nothing was due and no batch exists for the date.
    pub message_id: Option<String>,
    /// Whether this run recorded a new batch (false: an earlier batch's file written again).
    pub recorded: bool,
    /// The pain.008 document (empty when there is no batch).
    pub xml: Vec<u8>,
    pub collection_date: Date,
    pub count: u64,
    pub total: Money,
    pub by_sequence: Vec<SequenceTotal>,
    /// The amended mandates in the file.
    pub amendments: u64,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    /// Message ids of every batch for the date, oldest first.
    pub batches_for_date: Vec<String>,
}

pub(super) fn language_words(lang: Language) -> (&'static str, &'static str, &'static str) {
    match lang {
        Language::En => ("Invoice", "Invoices", "Instalment"),
        Language::Fr => ("Facture", "Factures", "Echeance"),
        Language::De => ("Rechnung", "Rechnungen", "Rate"),
        Language::Nl => ("Factuur", "Facturen", "Termijn"),
    }
}

/// The remittance text: the invoice numbers, or the instalments with the debtor's open invoice
/// numbers; at most 140 characters, cut at a word.
pub(super) fn remittance(due: &Due, lang: Language) -> String {
    let (one, many, instalment) = language_words(lang);
    let mut words: Vec<String> = Vec::new();
    let invoices: Vec<&DueItem> = due
        .items
        .iter()
        .filter(|i| matches!(i.item.target, CollectionTarget::Invoice(_)))
        .collect();
    let instalments: Vec<&DueItem> = due
        .items
        .iter()
        .filter(|i| matches!(i.item.target, CollectionTarget::Instalment { .. }))
        .collect();
    if !instalments.is_empty() {
        words.push(instalment.to_string());
        words.extend(instalments.iter().map(|i| i.label.clone()));
        if !due.invoice_numbers.is_empty() {
            words.push(
                if due.invoice_numbers.len() == 1 {
                    one
                } else {
                    many
                }
                .to_string(),
            );
            words.extend(due.invoice_numbers.iter().cloned());
        }
    }
    if !invoices.is_empty() {
        words.push(if invoices.len() == 1 { one } else { many }.to_string());
        words.extend(invoices.iter().map(|i| i.label.clone()));
    }
    let mut text = String::new();
    for w in words {
        let w: String = w.chars().filter(|c| pain008::is_epc_char(*c)).collect();
        if w.is_empty() {
            continue;
        }
        let extra = usize::from(!text.is_empty()) + w.chars().count();
        if text.chars().count() + extra > 140 {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&w);
    }
    text
}

/// Builds the pain.008 message of a recorded batch (pure).
pub fn message(
    creditor: &incasso_domain::Creditor,
    batch: &NewCollectionBatch,
) -> anyhow::Result<pain008::Message> {
    let created = CreatedAt::parse(&batch.created_at)?.pain()?;
    let collection_date = pain_date(batch.collection_date)?;
    let mut blocks = Vec::new();
    for seq in [
        SequenceState::First,
        SequenceState::Recurring,
        SequenceState::OneOff,
        SequenceState::Final,
    ] {
        let transactions: Vec<pain008::Transaction> = batch
            .collections
            .iter()
            .filter(|c| c.sequence == seq)
            .map(|c| transaction(c, &batch.scheme_id))
            .collect::<anyhow::Result<_>>()?;
        if transactions.is_empty() {
            continue;
        }
        blocks.push(pain008::PaymentInformation {
            id: format!("{}-{}", batch.message_id, seq.code().to_uppercase()),
            sequence_type: pain_sequence(seq),
            collection_date,
            // One booking per collection, so the bank statement shows each with its
            // end-to-end id and remittance text and the import can match and allocate it.
            batch_booking: Some(false),
            transactions,
        });
    }
    let d = &creditor.details;
    Ok(pain008::Message {
        message_id: batch.message_id.clone(),
        created_at: created,
        initiating_party: d.name.clone(),
        creditor: pain008::Creditor {
            name: d.name.clone(),
            iban: d.iban.as_str().to_string(),
            bic: d.bic.as_ref().map(|b| b.as_str().to_string()),
            scheme_id: batch.scheme_id.clone(),
        },
        scheme: pain008::Scheme::Core,
        batches: blocks,
    })
}

pub(super) fn pain_sequence(s: SequenceState) -> pain008::SequenceType {
    match s {
        SequenceState::First => pain008::SequenceType::First,
        SequenceState::Recurring => pain008::SequenceType::Recurring,
        SequenceState::OneOff => pain008::SequenceType::OneOff,
        SequenceState::Final => pain008::SequenceType::Final,
    }
}

pub(super) fn transaction(
    c: &NewCollection,
    scheme_id: &str,
) -> anyhow::Result<pain008::Transaction> {
    let amendment = c.amendment.as_ref().map(|a| pain008::Amendment {
        original_mandate_id: a.original_reference.clone(),
        original_creditor: a
            .original_scheme_id
            .as_ref()
            .filter(|o| o.as_str() != scheme_id)
            .map(|o| pain008::OriginalCreditor {
                name: None,
                scheme_id: Some(o.clone()),
            }),
        original_debtor_account: a.original_iban.as_ref().map(|o| {
            if c.other_bank {
                pain008::OriginalDebtorAccount::Smnda
            } else {
                pain008::OriginalDebtorAccount::Iban(o.as_str().to_string())
            }
        }),
        debtor_agent_changed: false,
    });
    Ok(pain008::Transaction {
        end_to_end_id: c.end_to_end_id.clone(),
        amount_cents: u64::try_from(c.amount.minor())
            .map_err(|_| anyhow!("collection {}: negative amount", c.end_to_end_id))?,
        mandate: pain008::Mandate {
            id: c.mandate_reference.clone(),
            signed_on: pain_date(c.signed_on)?,
            amendment,
        },
        debtor: pain008::Debtor {
            name: c.debtor_name.clone(),
            iban: c.iban.as_str().to_string(),
            bic: c.bic.as_ref().map(|b| b.as_str().to_string()),
        },
        remittance: (!c.remittance.is_empty())
            .then(|| pain008::Remittance::Unstructured(c.remittance.clone())),
    })
}

pub(super) fn summarise(
    outcome: &mut ExportOutcome,
    batch: &NewCollectionBatch,
    currency: Currency,
) -> anyhow::Result<()> {
    let mut total = Money::zero(currency);
    let mut by: Vec<SequenceTotal> = Vec::new();
    for c in &batch.collections {
        total = total.checked_add(c.amount)?;
        match by.iter_mut().find(|s| s.sequence == c.sequence) {
            Some(s) => {
                s.count += 1;
                s.total = s.total.checked_add(c.amount)?;
            }
            None => by.push(SequenceTotal {
                sequence: c.sequence,
                count: 1,
                total: c.amount,
            }),
        }
        if c.amendment.is_some() {
            outcome.amendments += 1;
        }
    }
    let order = |s: SequenceState| match s {
        SequenceState::First => 0,
        SequenceState::Recurring => 1,
        SequenceState::OneOff => 2,
        SequenceState::Final => 3,
    };
    by.sort_by_key(|s| order(s.sequence));
    outcome.count = batch.collections.len() as u64;
    outcome.total = total;
    outcome.by_sequence = by;
    outcome.message_id = Some(batch.message_id.clone());
    Ok(())
}

/// Exports the direct debits due on the collection date: selects, records the batch, then
/// builds the pain.008 document (see the module documentation).
pub fn export(
    store: &mut dyn Store,
    tenant: CreditorId,
    request: &ExportRequest,
) -> anyhow::Result<ExportOutcome> {
    let day = request.collection_date;
    let creditor = store.creditor(tenant).map_err(store_err)?;
    let scheme_id = store
        .creditor_scheme_id(tenant)
        .map_err(store_err)?
        .ok_or_else(|| anyhow!("creditor identifier: none set for {:?}; set it with `incasso mandate creditor-id NL..ZZZ...`", creditor.details.name))?;
    let mut outcome = ExportOutcome {
        message_id: None,
        recorded: false,
        xml: Vec::new(),
        collection_date: day,
        count: 0,
        total: Money::zero(Currency::EUR),
        by_sequence: Vec::new(),
        amendments: 0,
        skipped: Vec::new(),
        warnings: Vec::new(),
        batches_for_date: Vec::new(),
    };
    if let Some(id) = &request.message_id {
        let batches = store.collection_batches(tenant, None).map_err(store_err)?;
        let batch = batches
            .into_iter()
            .find(|b| b.batch.message_id == *id)
            .ok_or_else(|| anyhow!("--message-id {id:?}: no such direct-debit batch"))?;
        if batch.batch.collection_date != day {
            bail!(
                "--message-id {id:?}: the batch is for collection date {}, not {day}",
                batch.batch.collection_date
            );
        }
        outcome.batches_for_date = vec![batch.batch.message_id.clone()];
        return finish(outcome, &creditor, &batch, request.version);
    }

    let target2 = BusinessCalendar::target2();
    if !target2.is_business_day(day) {
        let next = target2.next_business_day(day).ok();
        bail!(
            "--collection-date {day}: not a TARGET2 business day, on which SEPA collections settle{}",
            next.map(|n| format!(" (the next one is {n})"))
                .unwrap_or_default()
        );
    }
    let created_on = request.created_at.date;
    if day < created_on {
        bail!("--collection-date {day}: lies before the file's creation date {created_on}");
    }
    // SDD Core since November 2016: every collection reaches the debtor bank at least one
    // TARGET2 business day before the collection date.
    if let Ok(latest) = target2.add_business_days(created_on, 1)
        && day < latest
    {
        outcome.warnings.push(format!(
            "the collection date {day} is less than one TARGET2 business day after {created_on}: the bank will move it to {latest} or refuse the file"
        ));
    }

    let facts = read_facts(store, tenant)?;
    let (due, skipped) = select(&facts, day, created_on);
    outcome.skipped = skipped;
    let earlier = store
        .collection_batches(tenant, Some(day))
        .map_err(store_err)?;
    outcome.batches_for_date = earlier.iter().map(|b| b.batch.message_id.clone()).collect();
    if due.is_empty() {
        return match earlier.last() {
            Some(last) => finish(outcome, &creditor, last, request.version),
            None => Ok(outcome),
        };
    }

    let message_id = format!(
        "DD{}{:02}{:02}-{}",
        day.year(),
        day.month(),
        day.day(),
        earlier.len() + 1
    );
    let mut collections = Vec::new();
    for (n, d) in due.iter().enumerate() {
        let debtor = store
            .debtor(tenant, d.mandate.mandate.debtor_id)
            .map_err(store_err)?;
        let mut amount = Money::zero(Currency::EUR);
        for i in &d.items {
            amount = amount.checked_add(i.item.amount)?;
        }
        if amount.minor() > i64::try_from(pain008::MAX_AMOUNT_CENTS).unwrap_or(i64::MAX) {
            outcome.skipped.push(Skipped {
                debtor: debtor.id,
                mandate: d.mandate.mandate.reference.clone(),
                reason: format!("{amount} exceeds the largest amount of one SEPA collection"),
            });
            continue;
        }
        let pending = &d.mandate.pending;
        let other_bank = match &pending.original_iban {
            Some(o) => !same_bank(
                o,
                pending.original_bic.as_ref(),
                &d.mandate.mandate.iban,
                d.mandate.mandate.bic.as_ref(),
            ),
            None => false,
        };
        collections.push(NewCollection {
            items: d.items.iter().map(|i| i.item.clone()).collect(),
            mandate: d.mandate.id,
            debtor_id: debtor.id,
            end_to_end_id: format!("{message_id}-{}", n + 1),
            amount,
            sequence: d.mandate.mandate.sequence,
            debtor_name: debtor.details.name.clone(),
            iban: d.mandate.mandate.iban.clone(),
            bic: d.mandate.mandate.bic.clone(),
            mandate_reference: d.mandate.mandate.reference.clone(),
            signed_on: d.mandate.mandate.signed_on,
            amendment: (!pending.is_empty()).then(|| PendingAmendment {
                since: pending.since,
                original_reference: pending.original_reference.clone(),
                original_iban: pending.original_iban.clone(),
                original_bic: pending.original_bic.clone(),
                original_scheme_id: pending.original_scheme_id.clone(),
            }),
            other_bank,
            remittance: remittance(d, debtor.details.language),
        });
        // A collection the file cannot carry (a debtor name outside the Latin character set,
        // an IBAN the scheme refuses) is skipped with the writer's reason; the others go.
        let one = NewCollectionBatch {
            message_id: message_id.clone(),
            collection_date: day,
            created_at: request.created_at.to_string(),
            scheme_id: scheme_id.clone(),
            collections: collections.split_off(collections.len() - 1),
        };
        match message(&creditor, &one).and_then(|m| {
            pain008::write(&m, pain008::Options::new(request.version)).map_err(anyhow::Error::from)
        }) {
            Ok(_) => collections.extend(one.collections),
            Err(e) => outcome.skipped.push(Skipped {
                debtor: debtor.id,
                mandate: d.mandate.mandate.reference.clone(),
                reason: format!("cannot be written to pain.008: {e}"),
            }),
        }
    }
    if collections.is_empty() {
        return match earlier.last() {
            Some(last) => finish(outcome, &creditor, last, request.version),
            None => Ok(outcome),
        };
    }
    let batch = NewCollectionBatch {
        message_id: message_id.clone(),
        collection_date: day,
        created_at: request.created_at.to_string(),
        scheme_id,
        collections,
    };
    // Check that the file can be written before anything is recorded: a refusal (a debtor
    // name outside the character set, a bad IBAN) changes nothing.
    pain008::write(
        &message(&creditor, &batch)?,
        pain008::Options::new(request.version),
    )
    .map_err(|e| anyhow!("pain.008: {e}"))?;
    let id = store
        .record_collection_batch(tenant, &batch)
        .map_err(|e| anyhow!("recording the direct-debit batch {message_id}: {e} (another export may have run at the same time; run it again)"))?;
    outcome.recorded = true;
    outcome.batches_for_date.push(message_id);
    finish(
        outcome,
        &creditor,
        &CollectionBatchRow { id, batch },
        request.version,
    )
}

pub(super) fn finish(
    mut outcome: ExportOutcome,
    creditor: &incasso_domain::Creditor,
    batch: &CollectionBatchRow,
    version: pain008::Version,
) -> anyhow::Result<ExportOutcome> {
    let msg = message(creditor, &batch.batch)?;
    outcome.xml = pain008::write(&msg, pain008::Options::new(version))
        .with_context(|| format!("writing pain.008 for batch {}", batch.batch.message_id))?;
    summarise(&mut outcome, &batch.batch, Currency::EUR)?;
    Ok(outcome)
}
