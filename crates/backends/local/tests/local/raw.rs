//! Raw HTTP/1.1 over a `TcpStream`, for the requests a real client will not send: a head that
//! announces a body it never sends, or a body sent in part. Everything else goes through
//! `sagemaker_test_support::http::HttpClient`.

use std::time::Duration;

/// Writes `request` on a fresh connection and reads until the server closes it:
/// (status, headers lower-cased, body).
pub(crate) async fn exchange(
    addr: &str,
    request: Vec<u8>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let addr = addr.to_string();
    tokio::task::spawn_blocking(move || blocking_exchange(&addr, request))
        .await
        .unwrap()
}

fn blocking_exchange(addr: &str, request: Vec<u8>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(&request).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}
