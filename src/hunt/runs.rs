//! Findings held by a worker: in memory up to a limit, then sorted into a
//! run on disk, so memory stays bounded when a rule matches most records.
//! The runs of every worker are read back merged, in [`Finding::sort_key`]
//! order.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use anyhow::{Context, Result};

use super::finding::Finding;
use crate::events::{spill_rows, temp_file};

/// One worker's findings (or several workers', once merged).
#[derive(Debug, Default)]
pub struct FindingRuns {
    memory: Vec<Finding>,
    runs: Vec<File>,
    /// A run that could not be written: reported once the scan is over.
    pub spill_error: Option<String>,
}

impl FindingRuns {
    /// Adds findings; sorts them into a run on disk once there are many.
    pub fn extend(&mut self, findings: &mut Vec<Finding>) {
        self.memory.append(findings);
        if self.memory.len() >= spill_rows() && self.spill_error.is_none() {
            match self.write_run() {
                Ok(run) => self.runs.push(run),
                Err(e) => self.spill_error = Some(format!("{e:#}")),
            }
        }
    }

    fn write_run(&mut self) -> Result<File> {
        self.memory
            .sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let file = temp_file().context("creating a temporary file for findings")?;
        let mut out = BufWriter::with_capacity(256 << 10, &file);
        for f in self.memory.drain(..) {
            write_finding(&mut out, &f)?;
        }
        out.flush()?;
        drop(out);
        Ok(file)
    }

    /// Combines two workers' findings.
    pub fn merge(mut self, mut other: FindingRuns) -> FindingRuns {
        self.memory.append(&mut other.memory);
        self.runs.append(&mut other.runs);
        self.spill_error = self.spill_error.or(other.spill_error);
        self
    }

    /// Every finding, in sort-key order.
    pub fn into_sorted(mut self) -> Result<SortedFindings> {
        self.memory
            .sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut readers = Vec::with_capacity(self.runs.len());
        for mut run in self.runs {
            run.seek(SeekFrom::Start(0))?;
            readers.push(BufReader::with_capacity(64 << 10, run));
        }
        let mut heads = BinaryHeap::with_capacity(readers.len());
        for (run, reader) in readers.iter_mut().enumerate() {
            if let Some(finding) = read_finding(reader)? {
                heads.push(Reverse(Head { finding, run }));
            }
        }
        Ok(SortedFindings {
            heads,
            readers,
            memory: self.memory.into_iter().peekable(),
            current: None,
        })
    }
}

/// The k-way merge of the runs and the in-memory findings.
pub struct SortedFindings {
    readers: Vec<BufReader<File>>,
    /// The next finding of each run that has one, least first.
    heads: BinaryHeap<Reverse<Head>>,
    memory: std::iter::Peekable<std::vec::IntoIter<Finding>>,
    /// The finding last handed out; its buffers are reused for the next
    /// one read from a run.
    current: Option<Finding>,
}

/// A run's next finding; ordered by sort key, then run, so ties keep the
/// runs' order.
struct Head {
    finding: Finding,
    run: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.finding.sort_key(), self.run).cmp(&(other.finding.sort_key(), other.run))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl SortedFindings {
    /// The next finding in order, `None` at the end.
    pub fn next_finding(&mut self) -> Result<Option<&Finding>> {
        let memory_first = match (self.heads.peek(), self.memory.peek()) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(Reverse(head)), Some(m)) => m.sort_key() < head.finding.sort_key(),
        };
        if memory_first {
            self.current = self.memory.next();
            return Ok(self.current.as_ref());
        }
        let Some(Reverse(head)) = self.heads.pop() else {
            return Ok(None);
        };
        let mut spare = self.current.take().unwrap_or_default();
        if read_finding_into(&mut self.readers[head.run], &mut spare)? {
            self.heads.push(Reverse(Head {
                finding: spare,
                run: head.run,
            }));
        }
        self.current = Some(head.finding);
        Ok(self.current.as_ref())
    }
}

/// Findings on disk: fixed-width numbers, then each text as its length
/// (`u32::MAX` for none) and bytes. Read back only by this process.
fn write_finding(out: &mut impl Write, f: &Finding) -> io::Result<()> {
    out.write_all(&f.time_us.to_le_bytes())?;
    out.write_all(&f.index.to_le_bytes())?;
    out.write_all(&f.rule.to_le_bytes())?;
    let e = &f.event;
    put_text(out, Some(&f.object))?;
    put_text(out, Some(&e.principal))?;
    for text in [
        &e.event_source,
        &e.event_name,
        &e.account_id,
        &e.region,
        &e.source_ip,
        &e.user_agent,
        &e.error_code,
        &e.event_id,
    ] {
        put_text(out, text.as_deref())?;
    }
    Ok(())
}

fn put_text(out: &mut impl Write, text: Option<&str>) -> io::Result<()> {
    match text {
        None => out.write_all(&u32::MAX.to_le_bytes()),
        Some(t) => {
            let len = u32::try_from(t.len())
                .ok()
                .filter(|&n| n < u32::MAX)
                .ok_or_else(|| io::Error::other("a finding's text is over 4 GiB"))?;
            out.write_all(&len.to_le_bytes())?;
            out.write_all(t.as_bytes())
        }
    }
}

/// The next finding of a run, `None` at its end.
fn read_finding(r: &mut impl Read) -> io::Result<Option<Finding>> {
    let mut f = Finding::default();
    Ok(read_finding_into(r, &mut f)?.then_some(f))
}

/// Reads a run's next finding into `f`, reusing its strings' buffers;
/// false at the run's end.
fn read_finding_into(r: &mut impl Read, f: &mut Finding) -> io::Result<bool> {
    let mut time = [0u8; 8];
    // The end of the run is the end of a finding; anywhere else it is cut.
    let first = loop {
        match r.read(&mut time) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    if first == 0 {
        return Ok(false);
    }
    r.read_exact(&mut time[first..])?;
    let mut index = [0u8; 8];
    r.read_exact(&mut index)?;
    let mut rule = [0u8; 4];
    r.read_exact(&mut rule)?;
    f.time_us = i64::from_le_bytes(time);
    f.index = u64::from_le_bytes(index);
    f.rule = u32::from_le_bytes(rule);
    let e = &mut f.event;
    for text in [&mut f.object, &mut e.principal] {
        let mut slot = Some(std::mem::take(text));
        get_text_into(r, &mut slot)?;
        *text = slot.unwrap_or_default();
    }
    for text in [
        &mut e.event_source,
        &mut e.event_name,
        &mut e.account_id,
        &mut e.region,
        &mut e.source_ip,
        &mut e.user_agent,
        &mut e.error_code,
        &mut e.event_id,
    ] {
        get_text_into(r, text)?;
    }
    Ok(true)
}

/// Reads one text into `slot`, reusing the buffer it holds.
fn get_text_into(r: &mut impl Read, slot: &mut Option<String>) -> io::Result<()> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len);
    if len == u32::MAX {
        *slot = None;
        return Ok(());
    }
    let mut bytes = std::mem::take(slot).unwrap_or_default().into_bytes();
    bytes.clear();
    bytes.resize(len as usize, 0);
    r.read_exact(&mut bytes)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| io::Error::other("a finding's text on disk is not UTF-8"))?;
    *slot = Some(text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(time_us: i64, rule: u32) -> Finding {
        Finding {
            time_us,
            object: "o".into(),
            index: 0,
            rule,
            event: Default::default(),
        }
    }

    #[test]
    fn runs_and_memory_merge_in_order() {
        let run = FindingRuns {
            memory: vec![finding(5, 0), finding(1, 0)],
            ..Default::default()
        }
        .write_run()
        .unwrap();
        let a = FindingRuns {
            memory: vec![finding(3, 0), finding(0, 1)],
            runs: vec![run],
            ..Default::default()
        };
        let b = FindingRuns {
            memory: vec![finding(2, 0), finding(5, 1)],
            ..Default::default()
        };
        let mut sorted = a.merge(b).into_sorted().unwrap();
        let mut got = Vec::new();
        while let Some(f) = sorted.next_finding().unwrap() {
            got.push((f.time_us, f.rule));
        }
        assert_eq!(got, [(0, 1), (1, 0), (2, 0), (3, 0), (5, 0), (5, 1)]);
    }

    #[test]
    fn a_finding_reads_back_as_written() {
        use crate::hunt::finding::EventFields;
        let f = Finding {
            time_us: -7,
            object: "AWSLogs/1/CloudTrail/é.json.gz".into(),
            index: u64::MAX,
            rule: 56,
            event: EventFields {
                event_source: Some(String::new()),
                event_name: Some("ConsoleLogin".into()),
                principal: "arn:aws:iam::1:user/ü".into(),
                account_id: None,
                region: Some("eu-west-1".into()),
                source_ip: None,
                user_agent: Some("a\nb\"c".into()),
                error_code: None,
                event_id: Some("id".into()),
            },
        };
        let mut bytes = Vec::new();
        write_finding(&mut bytes, &f).unwrap();
        write_finding(&mut bytes, &f).unwrap();
        let mut r = bytes.as_slice();
        assert_eq!(read_finding(&mut r).unwrap().as_ref(), Some(&f));
        assert_eq!(read_finding(&mut r).unwrap().as_ref(), Some(&f));
        assert_eq!(read_finding(&mut r).unwrap(), None);
        let mut cut = &bytes[..bytes.len() / 2 + 3];
        read_finding(&mut cut).unwrap();
        assert!(read_finding(&mut cut).is_err(), "a cut run is an error");
    }
}
