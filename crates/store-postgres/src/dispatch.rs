//! The postgres implementation of [`incasso_store::DispatchStore`].

use incasso_store::DispatchStore;

use crate::PgStore;

impl DispatchStore for PgStore {}
