//! Micro benchmarks of the hot path, in MB/s and records/s, over the bundled
//! `sample-logs/` mirror: decompression, the prefilter, record splitting,
//! candidate parsing and aggregation, and the CIS rule pack on every record.
//!
//! `cargo bench --bench micro`

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use ctscan::events::EventStore;
use ctscan::read::filter::{Hits, Prefilter};
use ctscan::read::format::{split_records, split_records_indexed, RecordText};
use ctscan::read::inflate::Decoder;
use ctscan::read::record::{select_event, Selection};
use ctscan::read::structural::Tape;
use ctscan::replay::rules::{cis_rules, RuleSet};
use ctscan::report::all_reports;
use ctscan::source::{local, Listed};

/// The gzip log objects of sample-logs, raw and inflated.
fn corpus() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let mut raw = Vec::new();
    for entry in local::list(&root) {
        if let Listed::Object(o) = entry {
            if o.key.contains("/CloudTrail/") {
                raw.push(std::fs::read(&o.key).expect("read sample log"));
            }
        }
    }
    let mut dec = Decoder::default();
    let text = raw
        .iter()
        .map(|r| {
            let mut out = Vec::new();
            dec.decode(r, &mut out, 1 << 30).expect("decode").to_vec()
        })
        .collect();
    (raw, text)
}

/// Splits every file into records (filling `tape` if given); the record count.
fn split_all(text: &[Vec<u8>], mut tape: Option<&mut Tape>) -> usize {
    let mut n = 0;
    for t in text {
        split_records_indexed(t, tape.as_deref_mut(), |_, _| n += 1).unwrap();
    }
    n
}

fn bench(c: &mut Criterion) {
    let (raw, text) = corpus();
    let json_bytes: u64 = text.iter().map(|t| t.len() as u64).sum();
    let mut records = 0u64;
    for t in &text {
        split_records(t, |_| records += 1).expect("split");
    }
    let selection = Selection::default();
    let prefilter = Prefilter::new(&selection);

    let mut g = c.benchmark_group("bytes");
    g.throughput(Throughput::Bytes(json_bytes));
    g.bench_function("decompress (libdeflate one-shot)", |b| {
        let (mut dec, mut out) = (Decoder::default(), Vec::new());
        b.iter(|| {
            raw.iter()
                .map(|r| {
                    dec.decode(r, &mut out, 1 << 30)
                        .map(|t| t.len())
                        .unwrap_or(0)
                })
                .sum::<usize>()
        })
    });
    g.bench_function("decompress (flate2 streaming)", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            raw.iter()
                .map(|r| {
                    use std::io::Read;
                    out.clear();
                    flate2::read::MultiGzDecoder::new(&r[..])
                        .read_to_end(&mut out)
                        .unwrap_or(0)
                })
                .sum::<usize>()
        })
    });
    g.bench_function("prefilter", |b| {
        let mut hits = Hits::default();
        b.iter(|| {
            text.iter()
                .map(|t| {
                    prefilter.find_hits(t, &mut hits);
                    hits.literals.len() + hits.escapes.len()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("split records", |b| b.iter(|| split_all(&text, None)));
    g.finish();

    // Every record, as `alarm --rules cis` meets it: CIS 4.1 as published
    // has no literal to prefilter on, so each record is split with its tape
    // and judged by all 15 rules.
    let cis = RuleSet::new(cis_rules()).expect("the CIS pack compiles");
    let depth = cis
        .tape_depth()
        .expect("CIS is compiled and judges every record");
    let mut g = c.benchmark_group("every record");
    g.throughput(Throughput::Elements(records));
    g.bench_function("split records", |b| b.iter(|| split_all(&text, None)));
    g.bench_function("split records with tapes", |b| {
        let mut tape = Tape::new(depth);
        b.iter(|| split_all(&text, Some(&mut tape)))
    });
    g.bench_function("split with tapes + judge CIS 4.1-4.15", |b| {
        let mut tape = Tape::new(depth);
        b.iter(|| {
            let mut matches = 0;
            for t in &text {
                split_records_indexed(t, Some(&mut tape), |r, tape| {
                    if let RecordText::Range(a, b) = r {
                        matches += cis.judge(&t[a..b], tape, false).rules.iter().count();
                    }
                })
                .unwrap();
            }
            matches
        })
    });
    g.finish();

    let candidates: Vec<Vec<u8>> = text
        .iter()
        .flat_map(|t| {
            let mut v = Vec::new();
            split_records(t, |r| {
                if let RecordText::Range(a, b) = r {
                    if memchr::memmem::find(&t[a..b], b"GetSecretValue\"").is_some() {
                        v.push(t[a..b].to_vec());
                    }
                }
            })
            .unwrap();
            v
        })
        .collect();
    let mut g = c.benchmark_group("records");
    g.throughput(Throughput::Elements(candidates.len() as u64));
    g.bench_function("parse + normalise candidates (simd-json)", |b| {
        let (mut buf, mut simd) = (Vec::new(), simd_json::Buffers::default());
        b.iter(|| {
            candidates
                .iter()
                .filter(|c| {
                    buf.clear();
                    buf.extend_from_slice(c);
                    let v = simd_json::to_borrowed_value_with_buffers(&mut buf, &mut simd).unwrap();
                    select_event(&v, &selection).is_some()
                })
                .count()
        })
    });
    g.bench_function("aggregate (store + four reports)", |b| {
        let values: Vec<serde_json::Value> = candidates
            .iter()
            .map(|c| serde_json::from_slice(c).unwrap())
            .collect();
        b.iter(|| {
            let mut store = EventStore::default();
            for v in &values {
                if let Some(ev) = select_event(v, &selection) {
                    store.push(
                        &ev,
                        ev.event_time.map_or(0, |t| t.as_microsecond()),
                        "object",
                    );
                }
            }
            all_reports(&store).len()
        })
    });
    g.finish();
    eprintln!(
        "corpus: {} objects, {json_bytes} bytes of JSON, {records} records, {} candidates",
        raw.len(),
        candidates.len()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
