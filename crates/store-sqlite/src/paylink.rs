//! The sqlite implementation of [`incasso_store::PaylinkStore`].

use incasso_store::PaylinkStore;

use crate::SqliteStore;

impl PaylinkStore for SqliteStore {}
