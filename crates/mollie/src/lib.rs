//! The Mollie client: payment links API and webhook handling, written against Mollie's published API v2 (issue #6).
