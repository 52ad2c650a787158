//! The sqlite implementation of [`incasso_store::DossierStore`].

use incasso_store::DossierStore;

use crate::SqliteStore;

impl DossierStore for SqliteStore {}
