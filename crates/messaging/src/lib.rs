//! Messaging: e-mail over SMTP (HTML + text + attachments), the SMS provider client, and the pure contact rules (quiet hours, weekly caps, consent) (issue #5).

pub mod email;
pub mod rules;
pub mod sink;
pub mod sms;
mod smtp;
pub mod templates;

pub use email::{
    Accepted, Attachment, ComposeError, ComposedEmail, EmailSender, FailureKind, OutgoingEmail,
    Secret, SendError, SmtpConfig, SmtpSecurity, SmtpSender, compose, message_id, sha256_hex,
};
pub use rules::{Channel, ContactFacts, ContactRules, Decision, next_retry};
pub use sms::{MessageBird, SmsMessage, SmsSender, segments};
pub use templates::{InvoiceLine, MessageData, RenderedEmail, Templates};
