//! The worker protocol's frames: a 4-byte big-endian length and a JSON header, then an
//! 8-byte big-endian length and the body. Both lengths are checked before anything is
//! allocated.

use std::io::{self, Read, Write};

use serde_json::Value;

/// The largest header accepted (headers are a few small fields).
pub(crate) const MAX_HEADER: u32 = 1 << 20;
/// The largest body accepted from a worker: batch transform's 100 MB `MaxPayloadInMB` limit.
pub(crate) const MAX_BODY: u64 = 100 * 1024 * 1024;

pub(crate) fn write(out: &mut impl Write, header: &Value, body: &[u8]) -> io::Result<()> {
    let head = serde_json::to_vec(header)?;
    let len = u32::try_from(head.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "header too large"))?;
    let mut buf = Vec::with_capacity(12 + head.len());
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(&head);
    buf.extend_from_slice(&(body.len() as u64).to_be_bytes());
    out.write_all(&buf)?;
    out.write_all(body)?;
    out.flush()
}

pub(crate) fn read(input: &mut impl Read) -> io::Result<(Value, Vec<u8>)> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    let n = u32::from_be_bytes(len);
    if n > MAX_HEADER {
        return Err(invalid(format!(
            "a worker sent a {n}-byte header (limit {MAX_HEADER})"
        )));
    }
    let mut head = vec![0u8; n as usize];
    input.read_exact(&mut head)?;
    let header: Value = serde_json::from_slice(&head)
        .map_err(|e| invalid(format!("a worker sent a header that is not JSON: {e}")))?;
    let mut len = [0u8; 8];
    input.read_exact(&mut len)?;
    let m = u64::from_be_bytes(len);
    if m > MAX_BODY {
        return Err(invalid(format!(
            "a worker sent a {m}-byte body (limit {MAX_BODY})"
        )));
    }
    let mut body = Vec::with_capacity(m.min(1 << 20) as usize);
    input.take(m).read_to_end(&mut body)?;
    if body.len() as u64 != m {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "a worker's body ended early",
        ));
    }
    Ok((header, body))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let mut buf = Vec::new();
        write(&mut buf, &serde_json::json!({"status": 200}), b"1,2\n").unwrap();
        let (header, body) = read(&mut buf.as_slice()).unwrap();
        assert_eq!(header["status"], 200);
        assert_eq!(body, b"1,2\n");

        let mut huge = (MAX_HEADER + 1).to_be_bytes().to_vec();
        huge.extend_from_slice(b"{}");
        let err = read(&mut huge.as_slice()).unwrap_err();
        assert!(err.to_string().contains("header"), "{err}");

        let mut big_body = 2u32.to_be_bytes().to_vec();
        big_body.extend_from_slice(b"{}");
        big_body.extend_from_slice(&(MAX_BODY + 1).to_be_bytes());
        assert!(read(&mut big_body.as_slice()).is_err());
    }
}
