//! The postgres implementation of [`incasso_store::PaylinkStore`].

use incasso_store::PaylinkStore;

use crate::PgStore;

impl PaylinkStore for PgStore {}
