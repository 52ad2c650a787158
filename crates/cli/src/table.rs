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
