//! Bytes in, JSON text out: gzip detection and bounded decompression into a
//! caller-owned buffer.
//!
//! Must not allocate per call once the buffers are warm, and must never
//! inflate past the configured limit (gzip bombs).

use std::io::Read;

use flate2::read::MultiGzDecoder;

/// The default cap on one object's decompressed size.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 1 << 30;

/// Why an object could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid gzip data: {0}")]
    Gzip(std::io::Error),
    #[error(
        "decompressed size exceeds the limit of {limit} bytes (raise it with --max-object-size)"
    )]
    TooLarge { limit: u64 },
    #[error("empty file (0 bytes)")]
    Empty,
}

/// Whether the bytes start with the gzip magic number.
pub fn is_gzip(raw: &[u8]) -> bool {
    raw.starts_with(&[0x1f, 0x8b])
}

/// Returns the JSON text of `raw`: `raw` itself when plain, or its inflation
/// into `out` when gzip. `out` is cleared first and keeps its capacity.
pub fn decode<'a>(
    raw: &'a [u8],
    out: &'a mut Vec<u8>,
    limit: u64,
) -> Result<&'a [u8], DecodeError> {
    if raw.is_empty() {
        return Err(DecodeError::Empty);
    }
    if !is_gzip(raw) {
        if raw.len() as u64 > limit {
            return Err(DecodeError::TooLarge { limit });
        }
        return Ok(raw);
    }
    out.clear();
    if let Some(hint) = trailer_size(raw).filter(|&n| n as u64 <= limit) {
        out.reserve(hint);
    }
    let mut reader = MultiGzDecoder::new(raw).take(limit.saturating_add(1));
    reader.read_to_end(out).map_err(DecodeError::Gzip)?;
    if out.len() as u64 > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(out)
}

/// The decompressed size recorded in a single-member gzip trailer (mod 2^32),
/// used only as a capacity hint.
fn trailer_size(raw: &[u8]) -> Option<usize> {
    let t = raw.get(raw.len().checked_sub(4)?..)?;
    Some(u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_and_gzip_round_trip() {
        let mut out = Vec::new();
        assert_eq!(decode(b"{}", &mut out, 10).unwrap(), b"{}");
        let z = gz(b"{\"Records\":[]}");
        assert_eq!(decode(&z, &mut out, 100).unwrap(), b"{\"Records\":[]}");
    }

    #[test]
    fn bombs_truncation_and_empty_fail_cleanly() {
        let mut out = Vec::new();
        let bomb = gz(&vec![b' '; 1 << 20]);
        assert!(matches!(
            decode(&bomb, &mut out, 1000),
            Err(DecodeError::TooLarge { limit: 1000 })
        ));
        let z = gz(b"{\"Records\":[]}");
        assert!(matches!(
            decode(&z[..z.len() - 6], &mut out, 100),
            Err(DecodeError::Gzip(_))
        ));
        assert!(matches!(
            decode(&[0x1f, 0x8b, 0, 1], &mut out, 100),
            Err(DecodeError::Gzip(_))
        ));
        assert!(matches!(
            decode(b"", &mut out, 100),
            Err(DecodeError::Empty)
        ));
    }
}
