//! The on-disk forms of the event table: runs (rows with every string
//! written out, so runs of different workers merge without their
//! interners), their k-way merge, and the merged table's chunks (rows with
//! interned ids, each chunk with its own arena). Owns no decisions about
//! when to spill or what the rows mean (`super`).

use std::fs::File;

use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::atomic::AtomicU64;

use super::{Col, Merged, Row, Span, Text, CHUNK_ROWS, FIELDS, INTERNED, NONE, TEXTS};

/// The fields in the table's order (indexes of [`FullRow::field`]): event
/// id, object, the other interned columns, then the other texts.
pub(super) const KEY_ORDER: [usize; FIELDS] = {
    let mut order = [0; FIELDS];
    order[0] = INTERNED + Text::EventId as usize;
    order[1] = Col::Object as usize;
    let mut at = 2;
    let mut field = 0;
    while field < FIELDS {
        if field != Col::Object as usize && field != INTERNED + Text::EventId as usize {
            order[at] = field;
            at += 1;
        }
        field += 1;
    }
    order
};

/// The rows of every run, in the table's order.
pub(super) struct RunMerge {
    readers: Vec<BufReader<File>>,
    heads: Vec<Option<FullRow>>,
}

impl RunMerge {
    pub(super) fn new(runs: Vec<File>) -> std::io::Result<RunMerge> {
        let mut readers = Vec::new();
        let mut heads = Vec::new();
        for mut run in runs {
            run.seek(SeekFrom::Start(0))?;
            let mut reader = BufReader::with_capacity(64 << 10, run);
            heads.push(read_full_row(&mut reader)?);
            readers.push(reader);
        }
        Ok(RunMerge { readers, heads })
    }

    /// The next row. Runs are few (one per worker per 16,384 rows), so the
    /// heads are compared in place, without copying keys.
    pub(super) fn next_row(&mut self) -> std::io::Result<Option<FullRow>> {
        let heads = &self.heads;
        let next = (0..heads.len())
            .filter(|&i| heads[i].is_some())
            .min_by(|&a, &b| cmp_full(heads[a].as_ref(), heads[b].as_ref()).then(a.cmp(&b)));
        let Some(i) = next else {
            return Ok(None);
        };
        let row = self.heads[i].take();
        self.heads[i] = read_full_row(&mut self.readers[i])?;
        Ok(row)
    }
}

/// Writes the merged table a chunk at a time.
pub(super) struct TableWriter {
    out: BufWriter<File>,
    rows: Vec<Row>,
    arena: String,
    chunks: Vec<u64>,
    written: u64,
    total: usize,
    span: Option<(i64, i64)>,
}

impl TableWriter {
    pub(super) fn new() -> std::io::Result<TableWriter> {
        Ok(TableWriter {
            out: BufWriter::new(temp_file()?),
            rows: Vec::new(),
            arena: String::new(),
            chunks: Vec::new(),
            written: 0,
            total: 0,
            span: None,
        })
    }

    /// The current chunk's rows and arena, to push one row into.
    pub(super) fn buffers(&mut self) -> (&mut Vec<Row>, &mut String) {
        (&mut self.rows, &mut self.arena)
    }

    /// Notes the row just pushed (rows come in time order) and writes the
    /// chunk once it is full.
    pub(super) fn pushed(&mut self, time_us: i64) -> std::io::Result<()> {
        self.span = Some(
            self.span
                .map_or((time_us, time_us), |(lo, _)| (lo, time_us)),
        );
        if self.rows.len() == CHUNK_ROWS {
            self.flush_chunk()?;
        }
        Ok(())
    }

    fn flush_chunk(&mut self) -> std::io::Result<()> {
        self.chunks.push(self.written);
        self.written += write_chunk(&mut self.out, &self.rows, &self.arena)?;
        self.total += self.rows.len();
        self.rows.clear();
        self.arena.clear();
        Ok(())
    }

    pub(super) fn finish(mut self) -> std::io::Result<Merged> {
        if !self.rows.is_empty() {
            self.flush_chunk()?;
        }
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok(Merged {
            file,
            chunks: self.chunks,
            rows: self.total,
            span: self.span,
        })
    }
}

/// A row of a run: every string written out, so runs of different workers
/// merge without their interners.
pub(super) struct FullRow {
    pub time_us: i64,
    pub read_only: Option<bool>,
    /// Every field's text, one after another.
    text: String,
    /// Where each field is in `text`: the interned columns, then the texts.
    fields: [Option<(u32, u32)>; FIELDS],
}

impl FullRow {
    /// Field `i`'s text.
    pub fn field(&self, i: usize) -> Option<&str> {
        let (start, len) = self.fields[i]?;
        // Fields start and end at character boundaries: each was a whole string.
        self.text.get(start as usize..(start + len) as usize)
    }

    /// The table's order, as [`super::EventStore::sort`]: time, the fields
    /// in [`KEY_ORDER`], read-only.
    pub fn key(&self) -> (i64, [Option<&str>; FIELDS], u8) {
        let mut fields = [None; FIELDS];
        for (slot, i) in fields.iter_mut().zip(KEY_ORDER) {
            *slot = self.field(i);
        }
        (self.time_us, fields, encode_bool(self.read_only))
    }
}

/// Orders two run heads; an exhausted run sorts last.
fn cmp_full(a: Option<&FullRow>, b: Option<&FullRow>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a
            .time_us
            .cmp(&b.time_us)
            .then_with(|| a.key().cmp(&b.key())),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// An unnamed temporary file: created in the temporary directory and
/// unlinked at once, so nothing is left behind however ctscan ends.
pub fn temp_file() -> std::io::Result<File> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(".ctscan-{}-{n}.tmp", std::process::id()));
    // Registered for the instant the name exists, in case Ctrl-C ends the
    // process then; dropping it unlinks the name.
    let name = crate::interrupt::TempPath::register(path)?;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(name.path())
}

pub(super) fn encode_bool(b: Option<bool>) -> u8 {
    match b {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    }
}

fn decode_bool(b: u8) -> Option<bool> {
    match b {
        1 => Some(false),
        2 => Some(true),
        _ => None,
    }
}

pub(super) fn write_str(out: &mut impl Write, s: Option<&str>) -> std::io::Result<()> {
    match s {
        None => out.write_all(&u32::MAX.to_le_bytes()),
        Some(s) => {
            out.write_all(&(s.len() as u32).to_le_bytes())?;
            out.write_all(s.as_bytes())
        }
    }
}

fn read_u32(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

/// The next row of a run, or `None` at its end.
pub(super) fn read_full_row(r: &mut impl Read) -> std::io::Result<Option<FullRow>> {
    let mut time = [0; 8];
    match r.read_exact(&mut time) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let mut flag = [0; 1];
    r.read_exact(&mut flag)?;
    let mut text = Vec::new();
    let mut fields = [None; FIELDS];
    for field in &mut fields {
        *field = match read_u32(r)? {
            u32::MAX => None,
            len => {
                let start = text.len();
                text.resize(start + len as usize, 0);
                r.read_exact(&mut text[start..])?;
                Some((start as u32, len))
            }
        };
    }
    let text = String::from_utf8(text)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok(Some(FullRow {
        time_us: i64::from_le_bytes(time),
        read_only: decode_bool(flag[0]),
        text,
        fields,
    }))
}

/// Writes one chunk of the merged table; returns its length in bytes.
fn write_chunk(out: &mut impl Write, rows: &[Row], arena: &str) -> std::io::Result<u64> {
    let mut buf = Vec::with_capacity(rows.len() * 96 + arena.len() + 8);
    buf.extend_from_slice(&[0; 8]);
    buf.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    for r in rows {
        buf.extend_from_slice(&r.time_us.to_le_bytes());
        for id in r.interned {
            buf.extend_from_slice(&id.to_le_bytes());
        }
        for span in r.texts {
            buf.extend_from_slice(&(span.start as u32).to_le_bytes());
            buf.extend_from_slice(&span.len.to_le_bytes());
            buf.push(u8::from(span.present));
        }
        buf.push(encode_bool(r.read_only));
    }
    buf.extend_from_slice(&(arena.len() as u32).to_le_bytes());
    buf.extend_from_slice(arena.as_bytes());
    // The chunk's length first, so it is read back in one call.
    let len = buf.len() as u64;
    buf[..8].copy_from_slice(&len.to_le_bytes());
    out.write_all(&buf)?;
    Ok(len)
}

/// Reads the chunk at `offset` into `rows` and `arena`.
pub(super) fn read_chunk(
    file: &File,
    offset: u64,
    buf: &mut Vec<u8>,
    rows: &mut Vec<Row>,
    arena: &mut String,
) -> std::io::Result<()> {
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    let mut len = [0; 8];
    f.read_exact(&mut len)?;
    buf.clear();
    buf.resize((u64::from_le_bytes(len) as usize).saturating_sub(8), 0);
    f.read_exact(buf)?;
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "a cut chunk");
    let mut at = 0;
    let mut take = |n: usize| -> std::io::Result<&[u8]> {
        let s = buf.get(at..at + n).ok_or_else(bad)?;
        at += n;
        Ok(s)
    };
    let u32_at = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes"));
    let n = u32_at(take(4)?) as usize;
    rows.clear();
    rows.reserve(n);
    for _ in 0..n {
        let time_us = i64::from_le_bytes(take(8)?.try_into().expect("8 bytes"));
        let mut interned = [NONE; INTERNED];
        for id in &mut interned {
            *id = u32_at(take(4)?);
        }
        let mut texts = [Span::default(); TEXTS];
        for span in &mut texts {
            let b = take(9)?;
            *span = Span {
                start: u32_at(&b[..4]) as usize,
                len: u32_at(&b[4..8]),
                present: b[8] == 1,
            };
        }
        let read_only = decode_bool(take(1)?[0]);
        rows.push(Row {
            time_us,
            interned,
            texts,
            read_only,
        });
    }
    let len = u32_at(take(4)?) as usize;
    let text = take(len)?.to_vec();
    *arena = String::from_utf8(text).map_err(|_| bad())?;
    Ok(())
}
