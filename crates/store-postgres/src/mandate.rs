//! The postgres implementation of [`incasso_store::MandateStore`].

use incasso_store::MandateStore;

use crate::PgStore;

impl MandateStore for PgStore {}
