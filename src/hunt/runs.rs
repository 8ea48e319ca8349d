//! Findings held by a worker: in memory up to a limit, then sorted into a
//! run on disk, so memory stays bounded when a rule matches most records.
//! The runs of every worker are read back merged, in [`Finding::sort_key`]
//! order.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

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
        self.memory.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let file = temp_file().context("creating a temporary file for findings")?;
        let mut out = BufWriter::new(&file);
        for f in self.memory.drain(..) {
            serde_json::to_writer(&mut out, &f)?;
            out.write_all(b"\n")?;
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
        self.memory.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut readers = Vec::with_capacity(self.runs.len());
        for mut run in self.runs {
            run.seek(SeekFrom::Start(0))?;
            readers.push(BufReader::with_capacity(64 << 10, run));
        }
        let mut sorted = SortedFindings {
            heads: Vec::new(),
            readers,
            memory: self.memory.into_iter().peekable(),
            line: String::new(),
        };
        for i in 0..sorted.readers.len() {
            let head = sorted.read_one(i)?;
            sorted.heads.push(head);
        }
        Ok(sorted)
    }
}

/// The k-way merge of the runs and the in-memory findings.
pub struct SortedFindings {
    readers: Vec<BufReader<File>>,
    heads: Vec<Option<Finding>>,
    memory: std::iter::Peekable<std::vec::IntoIter<Finding>>,
    line: String,
}

impl SortedFindings {
    fn read_one(&mut self, i: usize) -> Result<Option<Finding>> {
        self.line.clear();
        if self.readers[i].read_line(&mut self.line)? == 0 {
            return Ok(None);
        }
        Ok(Some(serde_json::from_str(&self.line)?))
    }

    /// The next finding in order, `None` at the end.
    pub fn next_finding(&mut self) -> Result<Option<Finding>> {
        let from_run = (0..self.heads.len())
            .filter(|&i| self.heads[i].is_some())
            .min_by(|&a, &b| {
                let key = |i: usize| self.heads[i].as_ref().map(Finding::sort_key);
                key(a).cmp(&key(b)).then(a.cmp(&b))
            });
        let memory_first = match (from_run, self.memory.peek()) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(i), Some(m)) => {
                Some(m.sort_key()) < self.heads[i].as_ref().map(Finding::sort_key)
            }
        };
        if memory_first {
            return Ok(self.memory.next());
        }
        let i = from_run.unwrap_or_default();
        let next = self.read_one(i)?;
        Ok(std::mem::replace(&mut self.heads[i], next))
    }
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
}
