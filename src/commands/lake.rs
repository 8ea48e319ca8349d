//! `ctscan lake status DIR`: what an event lake holds, per shard of each
//! sweep (`ingest --shard I/N`): which shards finished, what each
//! ingested, which hold a lock now and which are missing.

use std::io::Write;

use anyhow::Result;

use crate::cli::OutputFormat;
use crate::config::LakeConfig;
use crate::error::ExitStatus;
use crate::lake::load_manifest;
use crate::lake::shards::{status, ShardHoldings, Status};
use crate::report::terminal::human_bytes;

/// Runs `lake status`. Missing shards are information, not a failure: the
/// exit status stays 0 (`cli.md` keeps 1 for findings asked to fail on).
pub fn run(cfg: &LakeConfig) -> Result<ExitStatus> {
    let manifest = load_manifest(&cfg.lake)?;
    let st = status(&cfg.lake, &manifest)?;
    let mut out = std::io::stdout().lock();
    match cfg.format {
        OutputFormat::Json => {
            let holdings: Vec<_> = st
                .holdings
                .iter()
                .map(|(shard, h)| serde_json::json!({"shard": shard, "holds": h}))
                .collect();
            let doc = serde_json::json!({
                "lake": cfg.name,
                "sweeps": st.sweeps,
                "holdings": holdings,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        OutputFormat::Table => print_status(&mut out, cfg, &st)?,
    }
    out.flush()?;
    Ok(ExitStatus::Ok)
}

fn print_status(out: &mut impl Write, cfg: &LakeConfig, st: &Status) -> std::io::Result<()> {
    writeln!(out, "lake {}: {} shard sweep(s)", cfg.name, st.sweeps.len())?;
    for (count, sweep) in &st.sweeps {
        let list = |v: &[u32]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.iter()
                    .map(|i| format!("{i}/{count}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let done: Vec<u32> = sweep.finished.iter().map(|f| f.shard.index).collect();
        writeln!(out, "N = {count}: finished {}", list(&done))?;
        writeln!(out, "  missing {}", list(&sweep.missing))?;
        writeln!(
            out,
            "  locked (running, or died holding its lock) {}",
            list(&sweep.locked)
        )?;
    }
    writeln!(out, "shard\tobjects\tfailed\trecords read\trows\tbytes")?;
    for (shard, h) in &st.holdings {
        let name = shard.map_or("(no shard)".to_string(), |s| s.to_string());
        print_holdings(out, &name, h)?;
    }
    Ok(())
}

fn print_holdings(out: &mut impl Write, name: &str, h: &ShardHoldings) -> std::io::Result<()> {
    writeln!(
        out,
        "{name}\t{}\t{}\t{}\t{}\t{}",
        h.objects,
        h.failed,
        h.records_read,
        h.rows,
        human_bytes(h.bytes)
    )
}
