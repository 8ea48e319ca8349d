//! Everything printed for people: aligned tables, the summary, messages.
//! All log text passes through [`crate::report::sanitize::terminal`] first.

use std::io::Write;

use crate::report::sanitize::terminal;
use crate::report::{Column, Table};
use crate::window::format_utc;

/// Longest cell shown before it is cut with an ellipsis.
const MAX_CELL: usize = 64;

/// Renders a cell for the terminal: escaped, cut to [`MAX_CELL`] characters.
fn cell(col: &Column, row: usize) -> String {
    let raw = match col {
        Column::Str(v) => v.get(row).unwrap_or_default().to_string(),
        Column::Count(v) => v[row].to_string(),
        Column::Bool(v) => v[row].map(|b| b.to_string()).unwrap_or_default(),
        Column::Float(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
        Column::Time(v) => v[row]
            .and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
            .map(format_utc)
            .unwrap_or_default(),
    };
    let escaped = terminal(&raw);
    if escaped.chars().count() > MAX_CELL {
        let cut: String = escaped.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    } else {
        escaped.into_owned()
    }
}

/// Prints the first `top` rows of a table with a title line.
pub fn print_table(out: &mut impl Write, table: &Table, top: usize) -> std::io::Result<()> {
    let n = table.rows().min(top);
    writeln!(out, "\n{} (top {} of {})", table.name, n, table.rows())?;
    if n == 0 {
        return writeln!(out, "  (no rows)");
    }
    let grid: Vec<Vec<String>> = table
        .columns
        .iter()
        .map(|(name, col)| {
            std::iter::once(name.to_string())
                .chain((0..n).map(|r| cell(col, r)))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = grid
        .iter()
        .map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    for r in 0..=n {
        let line: Vec<String> = grid
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", c[r], w = *w))
            .collect();
        writeln!(out, "  {}", line.join("  ").trim_end())?;
    }
    Ok(())
}

/// Prints `ctscan: <object>: <message>` on stderr, escaped.
pub fn warn(object: &str, message: &str) {
    eprintln!("ctscan: {}: {}", terminal(object), terminal(message));
}

/// Formats a byte count for people (KiB, MiB, GiB).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
