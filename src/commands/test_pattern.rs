//! `ctscan test-pattern`: the console's "Test pattern" over a file of
//! CloudTrail records. Each record is one log event whose message is the
//! record as compact JSON (`cloudwatch-semantics.md` §1.8, §1.9).

use std::io::{Read, Write};

use anyhow::{Context, Result};

use crate::config::TestPatternConfig;
use crate::error::ExitStatus;
use crate::read::format::{split_records, RecordText};
use crate::read::inflate::{decode, DEFAULT_MAX_DECOMPRESSED};
use crate::replay::pattern::{EventCache, Pattern};
use crate::report::sanitize::terminal;

/// Runs `test-pattern`.
pub fn run(cfg: &TestPatternConfig) -> Result<ExitStatus> {
    let mut raw = Vec::new();
    let name = match &cfg.input {
        Some(path) => {
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_end(&mut raw))
                .with_context(|| format!("{}", path.display()))?;
            path.display().to_string()
        }
        None => {
            std::io::stdin()
                .read_to_end(&mut raw)
                .context("reading stdin")?;
            "stdin".to_string()
        }
    };
    let mut out = std::io::stdout().lock();
    test_bytes(&cfg.pattern, &raw, &mut out).with_context(|| name)?;
    out.flush()?;
    Ok(ExitStatus::Ok)
}

/// Tests every record of `raw` (gzip or plain, any layout) and prints the
/// matches, numbered from 1 in input order, then the totals.
pub fn test_bytes(pattern: &Pattern, raw: &[u8], out: &mut impl Write) -> Result<()> {
    if raw.is_empty() {
        writeln!(out, "found 0 matches out of 0 events")?;
        return Ok(());
    }
    let mut inflated = Vec::new();
    let text = decode(raw, &mut inflated, DEFAULT_MAX_DECOMPRESSED)?;
    let mut total = 0usize;
    let mut matches = 0usize;
    let mut io = Ok(());
    split_records(text, |rec| {
        let bytes = match rec {
            RecordText::Range(a, b) => &text[a..b],
            RecordText::Decoded(t) => t,
        };
        total += 1;
        let ev = EventCache::from_raw(bytes);
        if let Some(extracted) = pattern.test_cached(&ev) {
            matches += 1;
            if io.is_ok() {
                io = print_match(out, total, ev.message(), &extracted.entries);
            }
        }
    })?;
    io?;
    writeln!(out, "found {matches} matches out of {total} events")?;
    Ok(())
}

fn print_match(
    out: &mut impl Write,
    number: usize,
    message: &str,
    extracted: &[(String, String)],
) -> std::io::Result<()> {
    writeln!(out, "event {number}: {}", terminal(message))?;
    for (k, v) in extracted {
        writeln!(out, "  {} = {}", terminal(k), terminal(v))?;
    }
    Ok(())
}
