//! The postgres implementation of [`incasso_store::DossierStore`].

use incasso_store::DossierStore;

use crate::PgStore;

impl DossierStore for PgStore {}
