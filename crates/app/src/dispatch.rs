//! Dispatch: due outbox actions sent by post, e-mail or SMS, recorded in the dossier before they leave, with quiet hours, caps and consent (issue #5).
