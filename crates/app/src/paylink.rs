//! Payment links: creating a Mollie payment link for a claim and settling it from the webhook through the bank allocation path (issue #6).
