//! A real HTTP/1.1 client for tests (hyper's client connection over a tokio `TcpStream`):
//! one fresh connection per request, closed once the answer has been read, as SageMaker's
//! clients see the runtime server.
//!
//! Tests that deliberately send malformed, partial or slow requests cannot use a client that
//! only writes correct HTTP; they keep a raw `TcpStream` and say so.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// How long one exchange (connect, send, read the whole answer) may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A client for one server, addressed as `127.0.0.1:port` or `http://127.0.0.1:port[/]`.
#[derive(Debug, Clone)]
pub struct HttpClient {
    authority: String,
}

/// One answer: status, headers (names lower-cased, in order), the whole body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// (status, headers, body).
    pub fn into_parts(self) -> (u16, Vec<(String, String)>, Vec<u8>) {
        (self.status, self.headers, self.body)
    }
}

/// The first value of header `name` (lower case) in `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl HttpClient {
    /// A client for `addr`: `host:port`, or an `http://host:port` URL (a path is ignored).
    ///
    /// ```
    /// let c = sagemaker_test_support::http::HttpClient::new("http://127.0.0.1:8080/");
    /// assert_eq!(c.authority(), "127.0.0.1:8080");
    /// ```
    pub fn new(addr: impl AsRef<str>) -> Self {
        let addr = addr.as_ref();
        let rest = addr.strip_prefix("http://").unwrap_or(addr);
        let authority = rest.split('/').next().unwrap_or(rest).to_string();
        HttpClient { authority }
    }

    /// The `host:port` requests go to.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// `GET path`; panics when the exchange fails (no answer is a test failure).
    pub async fn get(&self, path: &str) -> Response {
        self.send("GET", path, &[], Bytes::new())
            .await
            .unwrap_or_else(|e| panic!("GET {path} on {}: {e}", self.authority))
    }

    /// `POST path` with `headers` and `body`; panics when the exchange fails.
    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.send("POST", path, headers, Bytes::copy_from_slice(body))
            .await
            .unwrap_or_else(|e| panic!("POST {path} on {}: {e}", self.authority))
    }

    /// [`post`](Self::post) from synchronous code, on a current-thread runtime of its own
    /// (so not from inside a tokio runtime).
    pub fn post_blocking(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.try_post_blocking(path, headers, body)
            .unwrap_or_else(|e| panic!("POST {path} on {}: {e}", self.authority))
    }

    /// [`post_blocking`](Self::post_blocking) that returns a failed exchange as an error.
    pub fn try_post_blocking(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, Error> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(self.send("POST", path, headers, Bytes::copy_from_slice(body)))
    }

    /// One exchange on a fresh connection, within [`TIMEOUT`].
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Response, Error> {
        tokio::time::timeout(TIMEOUT, self.exchange(method, path, headers, body))
            .await
            .map_err(|_| Error(format!("no complete answer within {TIMEOUT:?}")))?
    }

    async fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Response, Error> {
        let stream = tokio::net::TcpStream::connect(&self.authority).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // The connection task ends when `sender` is dropped after the answer is read.
        tokio::spawn(connection);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.authority);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| Error(format!("building the request: {e}")))?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_string(), v)
            })
            .collect();
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// Why an exchange failed: connecting, HTTP, or the timeout.
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(format!("connecting: {e}"))
    }
}

impl From<hyper::Error> for Error {
    fn from(e: hyper::Error) -> Self {
        Error(format!("HTTP: {e}"))
    }
}
