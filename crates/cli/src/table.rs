//! Plain-text tables for the terminal: columns sized to their content, numbers right-aligned.

use std::io::{self, Write};

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table collected in memory and printed at once (for listings of modest size).
pub struct Table {
    headers: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[(&'static str, Align)]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        let widths = self.widths();
        let header: Vec<String> = self.headers.iter().map(|(h, _)| (*h).to_string()).collect();
        write_row(out, &header, &self.headers, &widths)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        writeln!(out, "{}", rule.join("  "))?;
        for r in &self.rows {
            write_row(out, r, &self.headers, &widths)?;
        }
        Ok(())
    }

    fn widths(&self) -> Vec<usize> {
        self.headers
            .iter()
            .enumerate()
            .map(|(i, (h, _))| {
                self.rows
                    .iter()
                    .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                    .max()
                    .unwrap_or(0)
                    .max(h.len())
            })
            .collect()
    }
}

/// Writes one row with fixed widths (used for streaming listings too).
pub fn write_row(
    out: &mut dyn Write,
    cells: &[String],
    headers: &[(&'static str, Align)],
    widths: &[usize],
) -> io::Result<()> {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        let w = widths.get(i).copied().unwrap_or(0);
        let pad = w.saturating_sub(cell.chars().count());
        if i > 0 {
            line.push_str("  ");
        }
        match headers.get(i).map(|h| h.1) {
            Some(Align::Right) => {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
            _ => {
                line.push_str(cell);
                if i + 1 < cells.len() {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
    }
    writeln!(out, "{line}")
}

/// Appends one cell padded to `width` characters (and the two-space column gap).
pub fn push_cell(line: &mut String, text: &str, width: usize, align: Align) {
    let len = text.chars().count();
    let pad = width.saturating_sub(len);
    if align == Align::Right {
        line.extend(std::iter::repeat_n(' ', pad));
    }
    line.push_str(text);
    if align == Align::Left {
        line.extend(std::iter::repeat_n(' ', pad));
    }
    line.push_str("  ");
}

/// Appends an ISO date (or blanks) as a cell, without going through `Display`.
pub fn push_date(line: &mut String, date: Option<incasso_calendar::Date>, width: usize) {
    match date {
        Some(d) => {
            let (y, m, day) = (d.year(), d.month(), d.day());
            let digits = |n: i16, w: usize, line: &mut String| {
                let s = n.unsigned_abs();
                let mut buf = [b'0'; 4];
                let mut v = s;
                for slot in buf[..w].iter_mut().rev() {
                    *slot = b'0' + (v % 10) as u8;
                    v /= 10;
                }
                for b in &buf[..w] {
                    line.push(char::from(*b));
                }
            };
            digits(y, 4, line);
            line.push('-');
            digits(i16::from(m), 2, line);
            line.push('-');
            digits(i16::from(day), 2, line);
            line.extend(std::iter::repeat_n(' ', width.saturating_sub(10)));
        }
        None => line.extend(std::iter::repeat_n(' ', width)),
    }
    line.push_str("  ");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_dates_pad_like_write_row() {
        let mut line = String::new();
        push_cell(&mut line, "F-1", 5, Align::Left);
        push_cell(&mut line, "9.50", 6, Align::Right);
        push_date(
            &mut line,
            incasso_calendar::parse_iso("2026-03-07").ok(),
            10,
        );
        push_date(&mut line, None, 10);
        assert_eq!(line, "F-1      9.50  2026-03-07              ");
        let mut reference = Vec::new();
        write_row(
            &mut reference,
            &["F-1".into(), "9.50".into(), "2026-03-07".into()],
            &[("a", Align::Left), ("b", Align::Right), ("c", Align::Left)],
            &[5, 6, 10],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(reference).unwrap().trim_end(),
            line.trim_end()
        );
    }
}
