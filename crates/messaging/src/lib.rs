//! Messaging: e-mail over SMTP (HTML + text + attachments), the SMS provider client, and the pure contact rules (quiet hours, weekly caps, consent) (issue #5).
