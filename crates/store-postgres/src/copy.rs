//! `COPY ... FROM STDIN` in PostgreSQL's text format, streamed: rows are encoded into a buffer
//! that is handed to the server whenever it grows past a megabyte, so a million-row import
//! never holds its whole COPY payload in memory.
//!
//! Text format: columns separated by a tab, rows ended by a newline, `\N` for NULL, and
//! backslash, tab, newline and carriage return escaped with a backslash.

use std::io::Write;

use postgres::{CopyInWriter, Transaction};

use crate::{StoreError, map_pg};

/// Bytes buffered before they are written to the server.
const FLUSH_AT: usize = 1 << 20;

/// One COPY in progress.
pub struct CopyRows<'t> {
    out: CopyInWriter<'t>,
    buf: Vec<u8>,
    /// No field written yet in the current row.
    row_start: bool,
}

/// Turns a write error of the COPY stream back into the database error it wraps, if any.
fn map_io(e: std::io::Error) -> StoreError {
    match e.into_inner() {
        Some(inner) => match inner.downcast::<postgres::Error>() {
            Ok(pg) => map_pg(*pg),
            Err(other) => StoreError::Other(anyhow::anyhow!("COPY stream: {other}")),
        },
        None => StoreError::Other(anyhow::anyhow!("COPY stream failed")),
    }
}

impl<'t> CopyRows<'t> {
    /// Starts `COPY table (columns) FROM STDIN`.
    pub fn start(
        tx: &'t mut Transaction<'_>,
        table: &str,
        columns: &str,
    ) -> Result<CopyRows<'t>, StoreError> {
        let out = tx
            .copy_in(&format!("COPY {table} ({columns}) FROM STDIN"))
            .map_err(map_pg)?;
        Ok(CopyRows {
            out,
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            row_start: true,
        })
    }

    fn sep(&mut self) {
        if self.row_start {
            self.row_start = false;
        } else {
            self.buf.push(b'\t');
        }
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        // Writing to a Vec cannot fail.
        let _ = write!(self.buf, "{v}");
        self
    }

    pub fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.sep();
        self.buf.push(if v { b't' } else { b'f' });
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        escape_into(&mut self.buf, s.as_bytes());
        self
    }

    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    /// A BYTEA value in hex form (`\x0102...`), whose backslash the text format doubles.
    pub fn bytea(&mut self, bytes: &[u8]) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.sep();
        self.buf.extend_from_slice(b"\\\\x");
        self.buf.reserve(bytes.len() * 2);
        for b in bytes {
            self.buf.push(HEX[usize::from(b >> 4)]);
            self.buf.push(HEX[usize::from(b & 0x0f)]);
        }
        self
    }

    /// Ends the current row, sending the buffer when it is large enough.
    pub fn end_row(&mut self) -> Result<(), StoreError> {
        self.buf.push(b'\n');
        self.row_start = true;
        if self.buf.len() >= FLUSH_AT {
            self.out.write_all(&self.buf).map_err(map_io)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Sends what is left and ends the COPY; returns the number of rows the server took.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf).map_err(map_io)?;
            self.buf.clear();
        }
        self.out.finish().map_err(map_pg)
    }
}

/// Appends `bytes` to `buf`, escaping what the COPY text format requires.
pub fn escape_into(buf: &mut Vec<u8>, bytes: &[u8]) {
    if !bytes
        .iter()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        buf.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    #[test]
    fn escapes_the_four_special_bytes() {
        let mut buf = Vec::new();
        escape_into(&mut buf, "a\\b\tc\nd\re é".as_bytes());
        assert_eq!(buf, "a\\\\b\\tc\\nd\\re é".as_bytes());
        let mut plain = Vec::new();
        escape_into(&mut plain, b"plain");
        assert_eq!(plain, b"plain");
    }
}
