//! Everything printed for people: aligned tables, the summary, messages.
//! All log text passes through [`crate::report::sanitize::terminal`] first.

use std::io::Write;

use crate::report::sanitize::terminal;
use crate::report::{Column, Table};
use crate::window::format_utc;

/// Longest cell shown on a terminal before it is shortened: room for a
/// CloudTrail object's whole file name (about 80 characters) and a little
/// of the path before it.
const MAX_CELL: usize = 100;

/// A column of this name is not printed as a column: each row's note becomes
/// a footnote, marked beside the row's first count, which it qualifies.
pub const NOTE_COLUMN: &str = "note";

/// How wide a cell may be. Decided by `config` (the one place that asks
/// whether stdout is a terminal) and passed down as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellFit {
    /// Off a terminal: every cell whole, for scripts and files.
    Whole,
    /// On a terminal: long cells shortened in the middle, so the start and
    /// the identifying tail (a file name, an id) both stay visible.
    Shorten,
}

/// Renders a cell for the terminal: escaped, then fit.
fn cell(col: &Column, row: usize, fit: CellFit) -> String {
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
    let escaped = terminal(&raw).into_owned();
    match fit {
        CellFit::Whole => escaped,
        CellFit::Shorten => shorten_middle(&escaped, MAX_CELL),
    }
}

/// Cuts `text` to at most `max` characters by replacing its middle with
/// `…`. The end is kept, where keys and paths carry the part that tells
/// them apart (a file name, an id), from a `/` when one is near enough; the
/// start gets a sixth and whatever the end leaves.
pub fn shorten_middle(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max || max < 2 {
        return text.to_string();
    }
    let mut tail = max - 1 - max / 6;
    let window = &chars[chars.len() - tail..];
    if let Some(slash) = window.iter().position(|&c| c == '/') {
        tail -= slash;
    }
    let head = max - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// Prints the first `top` rows of a table with a title line, then the
/// footnotes of its [`NOTE_COLUMN`], if any.
pub fn print_table(
    out: &mut impl Write,
    table: &Table,
    top: usize,
    fit: CellFit,
) -> std::io::Result<()> {
    let n = table.rows().min(top);
    writeln!(out, "\n{} (top {} of {})", table.name, n, table.rows())?;
    if n == 0 {
        return writeln!(out, "  (no rows)");
    }
    let notes = Footnotes::of(table, n);
    let marked = table
        .columns
        .iter()
        .position(|(_, c)| matches!(c, Column::Count(_)))
        .unwrap_or(0);
    let grid: Vec<Vec<String>> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| *name != NOTE_COLUMN)
        .map(|(i, (name, col))| {
            let rows = (0..n).map(|r| match &notes.markers[r] {
                Some(m) if i == marked => format!("{} {m}", cell(col, r, fit)),
                _ => cell(col, r, fit),
            });
            std::iter::once(name.to_string()).chain(rows).collect()
        })
        .collect();
    print_grid(out, &grid, n)?;
    for line in &notes.lines {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

/// Prints columns of cells (header first) left-aligned, two spaces apart.
fn print_grid(out: &mut impl Write, grid: &[Vec<String>], rows: usize) -> std::io::Result<()> {
    let widths: Vec<usize> = grid
        .iter()
        .map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    for r in 0..=rows {
        let line: Vec<String> = grid
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", c[r], w = *w))
            .collect();
        writeln!(out, "  {}", line.join("  ").trim_end())?;
    }
    Ok(())
}

/// The shown rows' notes: a marker per row that has one (`[1]`, `[2]`, one
/// number per distinct note) and the footnote lines, never shortened.
struct Footnotes {
    markers: Vec<Option<String>>,
    lines: Vec<String>,
}

impl Footnotes {
    fn of(table: &Table, rows: usize) -> Footnotes {
        let mut notes = Footnotes {
            markers: vec![None; rows],
            lines: Vec::new(),
        };
        let Some(Column::Str(text)) = table.column(NOTE_COLUMN) else {
            return notes;
        };
        let mut seen: Vec<&str> = Vec::new();
        for (r, marker) in notes.markers.iter_mut().enumerate() {
            let Some(note) = text.get(r).filter(|n| !n.is_empty()) else {
                continue;
            };
            let k = match seen.iter().position(|s| *s == note) {
                Some(i) => i + 1,
                None => {
                    seen.push(note);
                    let key = table
                        .columns
                        .first()
                        .map(|(_, c)| cell(c, r, CellFit::Whole));
                    notes.lines.push(format!(
                        "[{}] {}: {}",
                        seen.len(),
                        key.unwrap_or_default(),
                        terminal(note)
                    ));
                    seen.len()
                }
            };
            *marker = Some(format!("[{k}]"));
        }
        notes
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/05/\
                       111122223333_CloudTrail_us-east-1_20261005T0105Z_Zx9QmT2bK7.json.gz";

    fn table() -> Table {
        Table {
            name: "log_files",
            columns: vec![
                (
                    "key",
                    Column::Str([Some(KEY), Some("short")].into_iter().collect()),
                ),
                ("events", Column::Count(vec![37, 5])),
                (
                    NOTE_COLUMN,
                    Column::Str([Some("counts every event"), None].into_iter().collect()),
                ),
            ],
        }
    }

    fn printed(fit: CellFit) -> String {
        let mut out = Vec::new();
        print_table(&mut out, &table(), 10, fit).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn off_a_terminal_cells_are_whole() {
        let pad = " ".repeat(KEY.len() - "key".len());
        let short = " ".repeat(KEY.len() - "short".len());
        assert_eq!(
            printed(CellFit::Whole),
            format!(
                "\nlog_files (top 2 of 2)\n  key{pad}  events\n  {KEY}  37 [1]\n  short{short}  5\n  \
                 [1] {KEY}: counts every event\n"
            )
        );
    }

    #[test]
    fn on_a_terminal_long_cells_keep_their_start_and_file_name() {
        let name = "111122223333_CloudTrail_us-east-1_20261005T0105Z_Zx9QmT2bK7.json.gz";
        let cut = format!("AWSLogs/111122223333…/2026/10/05/{name}");
        assert_eq!(shorten_middle(KEY, MAX_CELL), cut);
        assert_eq!(cut.chars().count(), MAX_CELL);
        // Narrower, the start gives way before the name does.
        assert_eq!(
            shorten_middle(KEY, 72),
            "AWSLogs/1111…3333_CloudTrail_us-east-1_20261005T0105Z_Zx9QmT2bK7.json.gz"
        );
        let text = printed(CellFit::Shorten);
        assert!(text.contains(&format!("\n  {cut}  37 [1]\n")), "{text}");
        // Footnotes name their row in full.
        assert!(
            text.ends_with(&format!("  [1] {KEY}: counts every event\n")),
            "{text}"
        );
    }

    #[test]
    fn short_text_is_never_cut() {
        assert_eq!(shorten_middle("abc", 3), "abc");
        assert_eq!(shorten_middle("abcdefghijklm", 12), "ab…efghijklm");
        assert_eq!(shorten_middle("abcdefgh/ijklm", 12), "abcde…/ijklm");
    }
}
