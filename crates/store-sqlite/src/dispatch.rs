//! The sqlite implementation of [`incasso_store::DispatchStore`].

use incasso_store::DispatchStore;

use crate::SqliteStore;

impl DispatchStore for SqliteStore {}
