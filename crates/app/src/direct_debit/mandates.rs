//! Mandates and the creditor identifier: input checked (reference, IBAN, BIC, identifier)
//! before the store sees it; amendments reported as the scheme wants them.

use super::*;

/// Checks a mandate reference: 1 to 35 characters of the EPC Latin set, no leading or
/// trailing `/` and no `//` (the scheme's rules for identifiers).
pub fn check_reference(field: &str, value: &str) -> anyhow::Result<String> {
    let v = value.trim();
    if v.is_empty() {
        bail!("{field}: the mandate reference is empty");
    }
    if let Some(c) = v.chars().find(|c| !pain008::is_epc_char(*c)) {
        bail!(
            "{field} {value:?}: contains {c:?}, which is outside the SEPA character set (a-z A-Z 0-9 / - ? : ( ) . , ' + space)"
        );
    }
    let len = v.chars().count();
    if len > MAX_REFERENCE {
        bail!("{field} {value:?}: is {len} characters long, at most {MAX_REFERENCE} are allowed");
    }
    if v.starts_with('/') || v.ends_with('/') || v.contains("//") {
        bail!("{field} {value:?}: must not start or end with '/' nor contain '//'");
    }
    Ok(v.to_string())
}

/// Checks a SEPA creditor identifier (ISO 7064 mod 97-10) and returns its compact form.
pub fn check_creditor_identifier(field: &str, value: &str) -> anyhow::Result<String> {
    pain008::creditor_id(value).map_err(|p| anyhow!("{field}: {p}"))
}

/// Sets the creditor's SEPA creditor identifier.
pub fn set_creditor_identifier(
    store: &mut dyn Store,
    tenant: CreditorId,
    value: &str,
    today: Date,
) -> anyhow::Result<String> {
    let id = check_creditor_identifier("creditor identifier", value)?;
    store
        .set_creditor_scheme_id(tenant, &id, today)
        .map_err(store_err)?;
    Ok(id)
}

/// A mandate as given on the command line, before checks.
#[derive(Debug, Clone)]
pub struct MandateInput {
    pub debtor: DebtorId,
    pub reference: String,
    pub signed_on: Date,
    pub iban: String,
    pub bic: Option<String>,
    pub sequence: SequenceState,
}

pub(super) fn parse_iban(field: &str, value: &str) -> anyhow::Result<Iban> {
    let iban = Iban::parse(value).map_err(|e| anyhow!("{field} {value:?}: {e}"))?;
    // The scheme's own check (SEPA country and length) as the pain.008 writer applies it.
    pain008::iban(iban.as_str()).map_err(|p| anyhow!("{field}: {p}"))?;
    Ok(iban)
}

pub(super) fn parse_bic(field: &str, value: &str) -> anyhow::Result<Bic> {
    Bic::parse(value).map_err(|e| anyhow!("{field} {value:?}: {e}"))
}

/// Registers a mandate after checking every field; the signature date may not lie after
/// `today`.
pub fn add_mandate(
    store: &mut dyn Store,
    tenant: CreditorId,
    input: &MandateInput,
    today: Date,
) -> anyhow::Result<MandateRow> {
    let reference = check_reference("--id", &input.reference)?;
    let iban = parse_iban("--iban", &input.iban)?;
    let bic = input
        .bic
        .as_deref()
        .map(|b| parse_bic("--bic", b))
        .transpose()?;
    if input.signed_on > today {
        bail!(
            "--signed {}: a mandate cannot be signed after today ({today})",
            input.signed_on
        );
    }
    let mandate = NewMandate {
        debtor_id: input.debtor,
        reference: reference.clone(),
        signed_on: input.signed_on,
        iban,
        bic,
        sequence: input.sequence,
    };
    store
        .add_mandate(tenant, &mandate)
        .map_err(|e| anyhow!("--id {reference:?}: {e}"))?;
    store.mandate(tenant, &reference).map_err(store_err)
}

/// An amendment as given on the command line, before checks.
#[derive(Debug, Clone, Default)]
pub struct AmendInput {
    pub reference: Option<String>,
    pub iban: Option<String>,
    /// `Some("")` removes the BIC.
    pub bic: Option<String>,
    pub sequence: Option<SequenceState>,
}

/// What an amendment did.
#[derive(Debug, Clone)]
pub struct Amended {
    pub mandate: MandateRow,
    /// The debtor moved to another bank: the next collection is presented as FRST with
    /// `SMNDA`.
    pub other_bank: bool,
}

/// Whether two accounts are held at the same bank: by BIC (institution and country, the first
/// six characters) when both are known, else by the IBAN's national bank code.
pub fn same_bank(a: &Iban, a_bic: Option<&Bic>, b: &Iban, b_bic: Option<&Bic>) -> bool {
    if let (Some(x), Some(y)) = (a_bic, b_bic) {
        return x.as_str().get(..6) == y.as_str().get(..6);
    }
    if a.country() != b.country() {
        return false;
    }
    // Where the bank identifier sits in the BBAN (offset after the check digits, length), per
    // the ISO 13616 registry; the first 4 characters elsewhere.
    let (skip, len) = match a.country() {
        "BE" | "LU" => (0, 3),
        "DE" => (0, 8),
        "FR" | "MC" => (0, 5),
        "IT" | "SM" => (1, 5),
        "AT" => (0, 5),
        _ => (0, 4),
    };
    let range = 4 + skip..4 + skip + len;
    a.as_str().get(range.clone()) == b.as_str().get(range)
}

/// Amends a mandate. A new IBAN at another bank on a mandate the bank has seen makes the next
/// collection FRST (unless a sequence type is given).
pub fn amend_mandate(
    store: &mut dyn Store,
    tenant: CreditorId,
    reference: &str,
    input: &AmendInput,
    today: Date,
) -> anyhow::Result<Amended> {
    let current = store
        .mandate(tenant, reference)
        .map_err(|e| anyhow!("mandate {reference:?}: {e}"))?;
    let new_reference = input
        .reference
        .as_deref()
        .map(|r| check_reference("--new-id", r))
        .transpose()?;
    let iban = input
        .iban
        .as_deref()
        .map(|i| parse_iban("--iban", i))
        .transpose()?;
    let bic = match input.bic.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(b) => Some(Some(parse_bic("--bic", b)?)),
    };
    if new_reference.is_none() && iban.is_none() && bic.is_none() && input.sequence.is_none() {
        bail!("nothing to amend: give --new-id, --iban, --bic or --sequence");
    }
    let known_to_bank = current.last_collection.is_some()
        || matches!(
            current.mandate.sequence,
            SequenceState::Recurring | SequenceState::Final
        );
    let mut other_bank = false;
    let mut sequence = input.sequence;
    if let Some(new_iban) = &iban
        && *new_iban != current.mandate.iban
    {
        let new_bic = match &bic {
            Some(b) => b.as_ref(),
            None => current.mandate.bic.as_ref(),
        };
        // Compare with the account the bank knows (the original one while an amendment is
        // pending).
        let (known_iban, known_bic) = match &current.pending.original_iban {
            Some(o) => (o, current.pending.original_bic.as_ref()),
            None => (&current.mandate.iban, current.mandate.bic.as_ref()),
        };
        other_bank = known_to_bank && !same_bank(known_iban, known_bic, new_iban, new_bic);
        if other_bank && sequence.is_none() && current.mandate.sequence == SequenceState::Recurring
        {
            sequence = Some(SequenceState::First);
        }
    }
    let amendment = MandateAmendment {
        on: Some(today),
        reference: new_reference,
        iban,
        bic,
        sequence,
    };
    let mandate = store
        .amend_mandate(tenant, reference, &amendment)
        .map_err(|e| anyhow!("mandate {reference:?}: {e}"))?;
    Ok(Amended {
        mandate,
        other_bank,
    })
}

/// Revokes a mandate: it is never collected on again.
pub fn revoke_mandate(
    store: &mut dyn Store,
    tenant: CreditorId,
    reference: &str,
    on: Date,
) -> anyhow::Result<()> {
    store
        .revoke_mandate(tenant, reference, on, "")
        .map_err(|e| anyhow!("mandate {reference:?}: {e}"))
}
