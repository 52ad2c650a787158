//! Maps the element tree to the document model. Elements are matched on
//! their local name (any namespace prefix is accepted); values are validated
//! and every error carries the element path.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::UblError;
use crate::dom::{Dom, NodeId, ROOT};
use crate::error::shorten;
use crate::model::*;
use crate::values::{Amount, Decimal, Identifier, Quantity, UblDate};

const NS_INVOICE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const NS_CREDIT_NOTE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";

/// Standard alphabet; accepts input with or without `=` padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type R<T> = Result<T, UblError>;

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Name `"cbc:ID"` → local part `"ID"`.
fn local(name: &str) -> &str {
    name.split_once(':').map_or(name, |(_, l)| l)
}

struct Ctx<'d> {
    dom: &'d Dom,
}

impl<'d> Ctx<'d> {
    fn child(&self, parent: NodeId, name: &str) -> Option<NodeId> {
        let l = local(name);
        self.dom
            .children(parent)
            .find(|&c| self.dom.node(c).local() == l)
    }

    fn children<'a>(&'a self, parent: NodeId, name: &'a str) -> impl Iterator<Item = NodeId> + 'a {
        let l = local(name);
        self.dom
            .children(parent)
            .filter(move |&c| self.dom.node(c).local() == l)
    }

    /// Path of a child that is absent: the parent's path plus the
    /// conventional name (`cbc:`/`cac:` prefix).
    fn missing(&self, parent: NodeId, name: &str) -> UblError {
        UblError::Missing {
            path: format!("{}/{}", self.dom.path(parent), name),
        }
    }

    fn invalid(&self, node: NodeId, expected: &'static str, found: &str) -> UblError {
        UblError::InvalidValue {
            path: self.dom.path(node),
            expected,
            found: shorten(found),
        }
    }

    fn text(&self, node: NodeId) -> &'d str {
        self.dom.node(node).text.trim_matches(is_xml_space)
    }

    fn attr(&self, node: NodeId, name: &str) -> Option<&'d str> {
        self.dom
            .node(node)
            .attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim_matches(is_xml_space))
            .filter(|v| !v.is_empty())
    }

    /// Text of the first child `name`; `None` when absent or empty.
    fn opt_string(&self, parent: NodeId, name: &str) -> Option<String> {
        self.child(parent, name)
            .map(|c| self.text(c))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    }

    fn strings(&self, parent: NodeId, name: &str) -> Vec<String> {
        self.children(parent, name)
            .map(|c| self.text(c))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn req_node(&self, parent: NodeId, name: &str) -> R<NodeId> {
        self.child(parent, name)
            .ok_or_else(|| self.missing(parent, name))
    }

    fn req_string(&self, parent: NodeId, name: &str) -> R<String> {
        let node = self.req_node(parent, name)?;
        let text = self.text(node);
        if text.is_empty() {
            return Err(self.invalid(node, "a non-empty value", text));
        }
        Ok(text.to_owned())
    }

    fn identifier(&self, node: NodeId) -> Option<Identifier> {
        let value = self.text(node);
        (!value.is_empty()).then(|| Identifier {
            value: value.to_owned(),
            scheme_id: self.attr(node, "schemeID").map(str::to_owned),
        })
    }

    fn opt_identifier(&self, parent: NodeId, name: &str) -> Option<Identifier> {
        self.child(parent, name).and_then(|c| self.identifier(c))
    }

    fn date(&self, node: NodeId) -> R<UblDate> {
        let text = self.text(node);
        UblDate::parse(text).ok_or_else(|| self.invalid(node, "an ISO date YYYY-MM-DD", text))
    }

    fn opt_date(&self, parent: NodeId, name: &str) -> R<Option<UblDate>> {
        match self.child(parent, name) {
            Some(c) if !self.text(c).is_empty() => self.date(c).map(Some),
            _ => Ok(None),
        }
    }

    fn decimal(&self, node: NodeId, expected: &'static str) -> R<Decimal> {
        let text = self.text(node);
        Decimal::parse(text).ok_or_else(|| self.invalid(node, expected, text))
    }

    fn opt_decimal(&self, parent: NodeId, name: &str) -> R<Option<Decimal>> {
        match self.child(parent, name) {
            Some(c) if !self.text(c).is_empty() => self.decimal(c, "a decimal number").map(Some),
            _ => Ok(None),
        }
    }

    fn amount(&self, node: NodeId) -> R<Amount> {
        let value = self.decimal(node, "a decimal amount")?;
        let currency = match self
            .dom
            .node(node)
            .attrs
            .iter()
            .find(|(k, _)| k == "currencyID")
        {
            None => {
                return Err(UblError::Missing {
                    path: format!("{}/@currencyID", self.dom.path(node)),
                });
            }
            Some((_, v)) => v.trim_matches(is_xml_space),
        };
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(UblError::InvalidValue {
                path: format!("{}/@currencyID", self.dom.path(node)),
                expected: "an ISO 4217 currency code (three capital letters)",
                found: shorten(currency),
            });
        }
        Ok(Amount {
            value,
            currency_id: currency.to_owned(),
        })
    }

    fn opt_amount(&self, parent: NodeId, name: &str) -> R<Option<Amount>> {
        self.child(parent, name).map(|c| self.amount(c)).transpose()
    }

    fn req_amount(&self, parent: NodeId, name: &str) -> R<Amount> {
        self.amount(self.req_node(parent, name)?)
    }

    fn opt_quantity(&self, parent: NodeId, name: &str) -> R<Option<Quantity>> {
        match self.child(parent, name) {
            Some(c) => Ok(Some(Quantity {
                value: self.decimal(c, "a decimal quantity")?,
                unit_code: self.attr(c, "unitCode").map(str::to_owned),
            })),
            None => Ok(None),
        }
    }

    fn period(&self, node: NodeId) -> R<Period> {
        Ok(Period {
            start_date: self.opt_date(node, "cbc:StartDate")?,
            end_date: self.opt_date(node, "cbc:EndDate")?,
        })
    }

    fn address(&self, node: NodeId) -> Address {
        Address {
            street_name: self.opt_string(node, "cbc:StreetName"),
            additional_street_name: self.opt_string(node, "cbc:AdditionalStreetName"),
            building_number: self.opt_string(node, "cbc:BuildingNumber"),
            city_name: self.opt_string(node, "cbc:CityName"),
            postal_zone: self.opt_string(node, "cbc:PostalZone"),
            country_subentity: self.opt_string(node, "cbc:CountrySubentity"),
            address_lines: self
                .children(node, "cac:AddressLine")
                .flat_map(|l| self.strings(l, "cbc:Line"))
                .collect(),
            country_code: self
                .child(node, "cac:Country")
                .and_then(|c| self.opt_string(c, "cbc:IdentificationCode")),
        }
    }

    fn party(&self, party: NodeId) -> Party {
        Party {
            endpoint_id: self.opt_identifier(party, "cbc:EndpointID"),
            identifications: self
                .children(party, "cac:PartyIdentification")
                .filter_map(|p| self.opt_identifier(p, "cbc:ID"))
                .collect(),
            name: self
                .children(party, "cac:PartyName")
                .find_map(|p| self.opt_string(p, "cbc:Name")),
            postal_address: self
                .child(party, "cac:PostalAddress")
                .map(|a| self.address(a)),
            tax_schemes: self
                .children(party, "cac:PartyTaxScheme")
                .map(|t| PartyTaxScheme {
                    company_id: self.opt_identifier(t, "cbc:CompanyID"),
                    tax_scheme_id: self
                        .child(t, "cac:TaxScheme")
                        .and_then(|s| self.opt_string(s, "cbc:ID")),
                })
                .collect(),
            legal_entity: self
                .child(party, "cac:PartyLegalEntity")
                .map(|l| PartyLegalEntity {
                    registration_name: self.opt_string(l, "cbc:RegistrationName"),
                    company_id: self.opt_identifier(l, "cbc:CompanyID"),
                    company_legal_form: self.opt_string(l, "cbc:CompanyLegalForm"),
                }),
            contact: self.child(party, "cac:Contact").map(|c| Contact {
                name: self.opt_string(c, "cbc:Name"),
                telephone: self.opt_string(c, "cbc:Telephone"),
                electronic_mail: self.opt_string(c, "cbc:ElectronicMail"),
            }),
        }
    }

    /// `cac:AccountingSupplierParty/cac:Party` and the like (required).
    fn role_party(&self, root: NodeId, role: &str) -> R<Party> {
        let role_node = self.req_node(root, role)?;
        let party = self.req_node(role_node, "cac:Party")?;
        Ok(self.party(party))
    }

    fn tax_category(&self, node: NodeId) -> R<TaxCategory> {
        Ok(TaxCategory {
            id: self.opt_string(node, "cbc:ID"),
            percent: self.opt_decimal(node, "cbc:Percent")?,
            exemption_reason_code: self.opt_string(node, "cbc:TaxExemptionReasonCode"),
            exemption_reason: self.opt_string(node, "cbc:TaxExemptionReason"),
            tax_scheme_id: self
                .child(node, "cac:TaxScheme")
                .and_then(|s| self.opt_string(s, "cbc:ID")),
        })
    }

    fn opt_tax_category(&self, parent: NodeId, name: &str) -> R<Option<TaxCategory>> {
        self.child(parent, name)
            .map(|c| self.tax_category(c))
            .transpose()
    }

    fn payment_means(&self, node: NodeId) -> R<PaymentMeans> {
        let code_node = self.child(node, "cbc:PaymentMeansCode");
        Ok(PaymentMeans {
            code: self.opt_string(node, "cbc:PaymentMeansCode"),
            code_name: code_node
                .and_then(|c| self.attr(c, "name"))
                .map(str::to_owned),
            payment_due_date: self.opt_date(node, "cbc:PaymentDueDate")?,
            payment_channel_code: self.opt_string(node, "cbc:PaymentChannelCode"),
            instruction_id: self.opt_string(node, "cbc:InstructionID"),
            instruction_notes: self.strings(node, "cbc:InstructionNote"),
            payment_ids: self.strings(node, "cbc:PaymentID"),
            payee_financial_account: self.child(node, "cac:PayeeFinancialAccount").map(|a| {
                FinancialAccount {
                    id: self.opt_string(a, "cbc:ID"),
                    name: self.opt_string(a, "cbc:Name"),
                    branch_id: self
                        .child(a, "cac:FinancialInstitutionBranch")
                        .and_then(|b| self.opt_string(b, "cbc:ID")),
                }
            }),
            card_account: self.child(node, "cac:CardAccount").map(|c| CardAccount {
                primary_account_number_id: self.opt_string(c, "cbc:PrimaryAccountNumberID"),
                network_id: self.opt_string(c, "cbc:NetworkID"),
                holder_name: self.opt_string(c, "cbc:HolderName"),
            }),
            payment_mandate: self
                .child(node, "cac:PaymentMandate")
                .map(|m| PaymentMandate {
                    id: self.opt_string(m, "cbc:ID"),
                    payer_account_id: self
                        .child(m, "cac:PayerFinancialAccount")
                        .and_then(|a| self.opt_string(a, "cbc:ID")),
                }),
        })
    }

    fn additional_document(&self, node: NodeId) -> R<AdditionalDocument> {
        let id_node = self.req_node(node, "cbc:ID")?;
        let id = self
            .identifier(id_node)
            .ok_or_else(|| self.invalid(id_node, "a non-empty value", ""))?;
        let attachment = self.child(node, "cac:Attachment");
        let embedded = match attachment
            .and_then(|a| self.child(a, "cbc:EmbeddedDocumentBinaryObject"))
        {
            None => None,
            Some(obj) => {
                let raw = &self.dom.node(obj).text;
                let compact: Vec<u8> = raw.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                let content = BASE64
                    .decode(&compact)
                    .map_err(|_| self.invalid(obj, "valid base64", self.text(obj)))?;
                Some(EmbeddedBinary {
                    mime_code: self.attr(obj, "mimeCode").map(str::to_owned),
                    filename: self.attr(obj, "filename").map(str::to_owned),
                    content,
                })
            }
        };
        Ok(AdditionalDocument {
            id,
            document_type_code: self.opt_string(node, "cbc:DocumentTypeCode"),
            description: self.opt_string(node, "cbc:DocumentDescription"),
            embedded,
            external_uri: attachment
                .and_then(|a| self.child(a, "cac:ExternalReference"))
                .and_then(|e| self.opt_string(e, "cbc:URI")),
        })
    }

    fn line(&self, node: NodeId, quantity_name: &str) -> R<Line> {
        let item = self.child(node, "cac:Item");
        let price = self.child(node, "cac:Price");
        Ok(Line {
            id: self.req_string(node, "cbc:ID")?,
            notes: self.strings(node, "cbc:Note"),
            quantity: self.opt_quantity(node, quantity_name)?,
            line_extension_amount: self.opt_amount(node, "cbc:LineExtensionAmount")?,
            accounting_cost: self.opt_string(node, "cbc:AccountingCost"),
            period: self
                .child(node, "cac:InvoicePeriod")
                .map(|p| self.period(p))
                .transpose()?,
            order_line_reference: self
                .child(node, "cac:OrderLineReference")
                .and_then(|o| self.opt_string(o, "cbc:LineID")),
            item_name: item.and_then(|i| self.opt_string(i, "cbc:Name")),
            item_description: item.and_then(|i| self.opt_string(i, "cbc:Description")),
            sellers_item_id: item
                .and_then(|i| self.child(i, "cac:SellersItemIdentification"))
                .and_then(|s| self.opt_string(s, "cbc:ID")),
            tax_category: item
                .map(|i| self.opt_tax_category(i, "cac:ClassifiedTaxCategory"))
                .transpose()?
                .flatten(),
            price_amount: price
                .map(|p| self.opt_amount(p, "cbc:PriceAmount"))
                .transpose()?
                .flatten(),
            price_base_quantity: price
                .map(|p| self.opt_quantity(p, "cbc:BaseQuantity"))
                .transpose()?
                .flatten(),
        })
    }

    fn document(&self, kind: DocumentKind) -> R<UblDocument> {
        let root = ROOT;
        let (type_code_name, line_name, quantity_name) = match kind {
            DocumentKind::Invoice => (
                "cbc:InvoiceTypeCode",
                "cac:InvoiceLine",
                "cbc:InvoicedQuantity",
            ),
            DocumentKind::CreditNote => (
                "cbc:CreditNoteTypeCode",
                "cac:CreditNoteLine",
                "cbc:CreditedQuantity",
            ),
        };
        let id = self.req_string(root, "cbc:ID")?;
        let issue_date = self.date(self.req_node(root, "cbc:IssueDate")?)?;
        let order = self.child(root, "cac:OrderReference");
        let lmt = self.req_node(root, "cac:LegalMonetaryTotal")?;
        let monetary_total = MonetaryTotal {
            line_extension_amount: self.opt_amount(lmt, "cbc:LineExtensionAmount")?,
            tax_exclusive_amount: self.opt_amount(lmt, "cbc:TaxExclusiveAmount")?,
            tax_inclusive_amount: self.opt_amount(lmt, "cbc:TaxInclusiveAmount")?,
            allowance_total_amount: self.opt_amount(lmt, "cbc:AllowanceTotalAmount")?,
            charge_total_amount: self.opt_amount(lmt, "cbc:ChargeTotalAmount")?,
            prepaid_amount: self.opt_amount(lmt, "cbc:PrepaidAmount")?,
            payable_rounding_amount: self.opt_amount(lmt, "cbc:PayableRoundingAmount")?,
            payable_amount: self.req_amount(lmt, "cbc:PayableAmount")?,
        };
        Ok(UblDocument {
            kind,
            customization_id: self.opt_string(root, "cbc:CustomizationID"),
            profile_id: self.opt_string(root, "cbc:ProfileID"),
            id,
            issue_date,
            due_date: self.opt_date(root, "cbc:DueDate")?,
            type_code: self.opt_string(root, type_code_name),
            notes: self.strings(root, "cbc:Note"),
            tax_point_date: self.opt_date(root, "cbc:TaxPointDate")?,
            document_currency_code: self.opt_string(root, "cbc:DocumentCurrencyCode"),
            tax_currency_code: self.opt_string(root, "cbc:TaxCurrencyCode"),
            accounting_cost: self.opt_string(root, "cbc:AccountingCost"),
            buyer_reference: self.opt_string(root, "cbc:BuyerReference"),
            invoice_period: self
                .child(root, "cac:InvoicePeriod")
                .map(|p| self.period(p))
                .transpose()?,
            order_reference: order.and_then(|o| self.opt_string(o, "cbc:ID")),
            sales_order_id: order.and_then(|o| self.opt_string(o, "cbc:SalesOrderID")),
            billing_references: self
                .children(root, "cac:BillingReference")
                .filter_map(|b| self.child(b, "cac:InvoiceDocumentReference"))
                .map(|r| {
                    Ok(DocumentReference {
                        id: self.req_string(r, "cbc:ID")?,
                        issue_date: self.opt_date(r, "cbc:IssueDate")?,
                    })
                })
                .collect::<R<_>>()?,
            contract_reference: self
                .child(root, "cac:ContractDocumentReference")
                .and_then(|c| self.opt_string(c, "cbc:ID")),
            additional_documents: self
                .children(root, "cac:AdditionalDocumentReference")
                .map(|d| self.additional_document(d))
                .collect::<R<_>>()?,
            supplier: self.role_party(root, "cac:AccountingSupplierParty")?,
            customer: self.role_party(root, "cac:AccountingCustomerParty")?,
            payee: self.child(root, "cac:PayeeParty").map(|p| self.party(p)),
            payment_means: self
                .children(root, "cac:PaymentMeans")
                .map(|m| self.payment_means(m))
                .collect::<R<_>>()?,
            payment_terms: self
                .children(root, "cac:PaymentTerms")
                .map(|t| {
                    Ok(PaymentTerms {
                        notes: self.strings(t, "cbc:Note"),
                        payment_due_date: self.opt_date(t, "cbc:PaymentDueDate")?,
                    })
                })
                .collect::<R<_>>()?,
            allowance_charges: self
                .children(root, "cac:AllowanceCharge")
                .map(|a| {
                    let indicator = self.req_node(a, "cbc:ChargeIndicator")?;
                    let charge_indicator = match self.text(indicator) {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        other => {
                            return Err(self.invalid(
                                indicator,
                                "a boolean (true or false)",
                                other,
                            ));
                        }
                    };
                    Ok(AllowanceCharge {
                        charge_indicator,
                        reason_code: self.opt_string(a, "cbc:AllowanceChargeReasonCode"),
                        reason: self.opt_string(a, "cbc:AllowanceChargeReason"),
                        amount: self.req_amount(a, "cbc:Amount")?,
                        base_amount: self.opt_amount(a, "cbc:BaseAmount")?,
                        tax_category: self.opt_tax_category(a, "cac:TaxCategory")?,
                    })
                })
                .collect::<R<_>>()?,
            tax_totals: self
                .children(root, "cac:TaxTotal")
                .map(|t| {
                    Ok(TaxTotal {
                        tax_amount: self.req_amount(t, "cbc:TaxAmount")?,
                        subtotals: self
                            .children(t, "cac:TaxSubtotal")
                            .map(|s| {
                                Ok(TaxSubtotal {
                                    taxable_amount: self.opt_amount(s, "cbc:TaxableAmount")?,
                                    tax_amount: self.req_amount(s, "cbc:TaxAmount")?,
                                    category: self.opt_tax_category(s, "cac:TaxCategory")?,
                                })
                            })
                            .collect::<R<_>>()?,
                    })
                })
                .collect::<R<_>>()?,
            monetary_total,
            lines: self
                .children(root, line_name)
                .map(|l| self.line(l, quantity_name))
                .collect::<R<_>>()?,
        })
    }
}

/// Checks the root element and extracts the document.
pub(crate) fn extract(dom: &Dom) -> R<UblDocument> {
    let root = dom.node(ROOT);
    let namespace = dom.root_namespace();
    let kind = match (root.local(), namespace) {
        ("Invoice", Some(NS_INVOICE)) => DocumentKind::Invoice,
        ("CreditNote", Some(NS_CREDIT_NOTE)) => DocumentKind::CreditNote,
        _ => {
            return Err(UblError::NotUblInvoice {
                root: root.qname.clone(),
                namespace: namespace.map(str::to_owned),
            });
        }
    };
    Ctx { dom }.document(kind)
}
