//! Typed identifiers. An id of one kind can never be passed where another is expected.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a stored key. Ids are opaque: they come from the store, never from arithmetic.
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The stored key.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

id_type!(
    /// A creditor: one administration, the tenant every other row belongs to.
    CreditorId
);
id_type!(
    /// A debtor of one creditor.
    DebtorId
);
id_type!(
    /// An invoice or credit note of one creditor.
    InvoiceId
);
id_type!(
    /// A payment received (money in).
    PaymentId
);
id_type!(
    /// An allocation of (part of) a payment to a claim component.
    AllocationId
);
id_type!(
    /// One imported file.
    ImportId
);
