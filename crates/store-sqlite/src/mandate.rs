//! The sqlite implementation of [`incasso_store::MandateStore`].

use incasso_store::MandateStore;

use crate::SqliteStore;

impl MandateStore for SqliteStore {}
