//! The load generator and the HTTP client against a small server that answers in each of the
//! three ways HTTP/1.1 delimits a body (`Content-Length`, chunked, end of stream).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use sagemaker_test_support::http::HttpClient;
use sagemaker_test_support::load::{Load, post_request};

/// How the server answers each request.
#[derive(Clone, Copy)]
enum Answer {
    Length(u16),
    Chunked,
    /// `Connection: close`, no length: the body runs to the end of the stream.
    Close,
}

/// Reads one request (head and `Content-Length` body); `None` at the end of the stream.
fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0; length];
    stream.read_exact(&mut body).ok()?;
    Some(body)
}

/// A server on a free port answering every request with its body, as `answer` says.
fn server(answer: Answer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            std::thread::spawn(move || {
                while let Some(body) = read_request(&mut stream) {
                    let mut out = Vec::new();
                    match answer {
                        Answer::Length(status) => {
                            write!(
                                out,
                                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n",
                                body.len()
                            )
                            .unwrap();
                            out.extend_from_slice(&body);
                        }
                        Answer::Chunked => {
                            write!(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                                .unwrap();
                            for part in body.chunks(2) {
                                write!(out, "{:x};ext=1\r\n", part.len()).unwrap();
                                out.extend_from_slice(part);
                                out.extend_from_slice(b"\r\n");
                            }
                            out.extend_from_slice(b"0\r\n\r\n");
                        }
                        Answer::Close => {
                            write!(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").unwrap();
                            out.extend_from_slice(&body);
                        }
                    }
                    if stream.write_all(&out).is_err() {
                        return;
                    }
                    if matches!(answer, Answer::Close) {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn run(answer: Answer, requests: u64) -> sagemaker_test_support::load::LoadReport {
    let addr = server(answer);
    let request = post_request(&addr.to_string(), "/invocations", &[], b"hello");
    Load::new(addr, request)
        .connections(3)
        .warmup(Duration::ZERO)
        .requests(requests)
        .run()
}

#[test]
fn a_request_count_is_recorded_exactly_for_every_way_of_ending_a_body() {
    for answer in [Answer::Length(200), Answer::Chunked, Answer::Close] {
        let r = run(answer, 60);
        assert_eq!((r.requests(), r.errors), (60, 0));
        assert!(r.seconds > 0.0 && r.rps() > 0.0, "{r:?}");
        assert!(r.latencies_ns.windows(2).all(|w| w[0] <= w[1]), "sorted");
        assert!(r.p50_ms() <= r.p99_ms());
    }
}

#[test]
fn answers_other_than_2xx_are_errors_not_latencies() {
    let r = run(Answer::Length(503), 20);
    assert_eq!((r.requests(), r.errors), (0, 20));
    assert!(r.p50_ms().is_nan());
}

#[test]
fn a_server_that_is_not_there_gives_errors() {
    // A port that was free a moment ago: nothing listens on it.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let request = post_request(&addr.to_string(), "/", &[], b"");
    let r = Load::new(addr, request)
        .warmup(Duration::ZERO)
        .duration(Duration::from_millis(50))
        .run();
    assert_eq!(r.requests(), 0);
    assert!(r.errors > 0, "{r:?}");
}

#[test]
fn the_client_reads_every_kind_of_body_and_sends_headers() {
    for answer in [Answer::Length(201), Answer::Chunked, Answer::Close] {
        let client = HttpClient::new(format!("http://{}/", server(answer)));
        let r = client.post_blocking("/x", &[("X-Test", "1")], b"abcde");
        assert_eq!(r.body, b"abcde");
        assert!((200..300).contains(&r.status), "{r:?}");
    }
    let addr = server(Answer::Length(404));
    let r = HttpClient::new(addr.to_string()).post_blocking("/x", &[], b"");
    assert_eq!((r.status, r.header("content-length")), (404, Some("0")));
}
