//! SMS: the provider interface, the MessageBird (Bird) REST client written against its
//! published API (`POST {base}/messages`, `Authorization: AccessKey <key>`, JSON body with
//! `originator`, `recipients`, `body`, `reference`; 201 with the message `id`, errors as
//! `{"errors":[{"code","description","parameter"}]}`), and GSM-7 / UCS-2 segment counting.

use std::fmt;
use std::time::Duration;

use crate::email::{Accepted, FailureKind, Secret, SendError};

/// One SMS to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// Sender: a phone number or up to 11 letters and digits.
    pub originator: String,
    /// Recipient in international format (`+31612345678` or `31612345678`).
    pub recipient: String,
    pub body: String,
    /// Our reference, echoed in delivery reports (the attempt's id).
    pub reference: String,
}

/// Sends SMS messages.
pub trait SmsSender {
    fn send(&self, msg: &SmsMessage) -> Result<Accepted, SendError>;
}

/// The MessageBird REST client.
pub struct MessageBird {
    base_url: String,
    access_key: Secret,
    agent: ureq::Agent,
}

impl fmt::Debug for MessageBird {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageBird")
            .field("base_url", &self.base_url)
            .field("access_key", &self.access_key)
            .finish()
    }
}

/// MessageBird's production endpoint.
pub const MESSAGEBIRD_URL: &str = "https://rest.messagebird.com";

impl MessageBird {
    /// A client for `base_url` (normally [`MESSAGEBIRD_URL`]; tests use a local server).
    pub fn new(base_url: &str, access_key: Secret, timeout: Duration) -> MessageBird {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        MessageBird {
            base_url: base_url.trim_end_matches('/').to_string(),
            access_key,
            agent,
        }
    }
}

fn msisdn(recipient: &str) -> Result<u64, SendError> {
    let digits: String = recipient
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = digits.strip_prefix('+').unwrap_or(&digits);
    let digits = digits.strip_prefix("00").unwrap_or(digits);
    if digits.len() < 8 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(SendError {
            kind: FailureKind::Permanent,
            reason: format!("recipient {recipient:?} is not an international phone number"),
        });
    }
    digits.parse().map_err(|_| SendError {
        kind: FailureKind::Permanent,
        reason: format!("recipient {recipient:?} is not a phone number"),
    })
}

impl SmsSender for MessageBird {
    fn send(&self, msg: &SmsMessage) -> Result<Accepted, SendError> {
        let body = serde_json::json!({
            "originator": msg.originator,
            "recipients": [msisdn(&msg.recipient)?],
            "body": msg.body,
            "reference": msg.reference,
            "datacoding": "auto",
        });
        let url = format!("{}/messages", self.base_url);
        let temporary = |reason: String| SendError {
            kind: FailureKind::Temporary,
            reason,
        };
        let mut resp = self
            .agent
            .post(&url)
            .header(
                "Authorization",
                &format!("AccessKey {}", self.access_key.expose()),
            )
            .header("Accept", "application/json")
            .content_type("application/json")
            .send(body.to_string())
            .map_err(|e| temporary(format!("MessageBird {url}: {e}")))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| temporary(format!("MessageBird {url}: reading the response: {e}")))?;
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if status == 201 || status == 200 {
            let id = json["id"].as_str().unwrap_or_default();
            if id.is_empty() {
                return Err(temporary(format!(
                    "MessageBird answered {status} without a message id"
                )));
            }
            return Ok(Accepted {
                provider_id: id.to_string(),
            });
        }
        let described: Vec<String> = json["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        format!(
                            "code {}: {}",
                            e["code"],
                            e["description"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let reason = format!(
            "MessageBird answered {status}: {}",
            if described.is_empty() {
                "no error description".to_string()
            } else {
                described.join("; ")
            }
        )
        .replace(self.access_key.expose(), "***");
        let kind = if status == 429 || status >= 500 {
            FailureKind::Temporary
        } else {
            FailureKind::Permanent
        };
        Err(SendError { kind, reason })
    }
}

/// How an SMS text is encoded and how many parts it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    /// `true` for GSM 03.38 7-bit, `false` for UCS-2.
    pub gsm7: bool,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    pub parts: usize,
}

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// Counts segments: GSM-7 takes 160 septets in one part or 153 per part when split (extension
/// characters such as `€` take two); otherwise UCS-2 with 70 / 67 code units.
pub fn segments(text: &str) -> Segments {
    let mut septets = 0usize;
    let mut gsm7 = true;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENDED.contains(c) {
            septets += 2;
        } else {
            gsm7 = false;
            break;
        }
    }
    if gsm7 {
        let parts = if septets <= 160 {
            1
        } else {
            septets.div_ceil(153)
        };
        Segments {
            gsm7,
            units: septets,
            parts,
        }
    } else {
        let units = text.encode_utf16().count();
        let parts = if units <= 70 { 1 } else { units.div_ceil(67) };
        Segments { gsm7, units, parts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_counting() {
        assert_eq!(segments(&"a".repeat(160)).parts, 1);
        assert_eq!(segments(&"a".repeat(161)).parts, 2);
        assert_eq!(segments(&"a".repeat(306)).parts, 2);
        assert_eq!(segments(&"a".repeat(307)).parts, 3);
        // € is an extension character: two septets.
        let s = segments("€ 12,50");
        assert!(s.gsm7);
        assert_eq!(s.units, 8);
        // ç (lower case) is not in GSM-7 → UCS-2.
        let s = segments("reçu");
        assert!(!s.gsm7);
        assert_eq!(s.parts, 1);
        assert_eq!(segments(&"ç".repeat(71)).parts, 2);
        assert_eq!(segments(&"ç".repeat(134)).parts, 2);
        assert_eq!(segments(&"ç".repeat(135)).parts, 3);
    }

    #[test]
    fn recipients_are_international_numbers() {
        assert_eq!(msisdn("+31 6 1234 5678").unwrap(), 31612345678);
        assert_eq!(msisdn("0032470123456").unwrap(), 32470123456);
        assert_eq!(msisdn("06-12").unwrap_err().kind, FailureKind::Permanent);
    }

    #[test]
    fn debug_hides_the_access_key() {
        let c = MessageBird::new(
            "http://127.0.0.1:1",
            Secret::new("live_supersecretkey"),
            Duration::from_secs(1),
        );
        assert!(!format!("{c:?}").contains("supersecret"));
    }
}
