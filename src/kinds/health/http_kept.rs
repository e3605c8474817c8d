//! Plain-HTTP checks on a kept connection. A console watching fifty endpoints every second
//! would otherwise spend most of its CPU on TCP handshakes: a probe on a kept connection is a
//! write and a read.
//!
//! What a fresh connection each time buys (a server that stops accepting is seen at once) is
//! kept: a probe whose kept connection fails (closed, reset) tries once more on a new one, so a
//! stopped or refusing server fails the probe it stops in; and a connection is not used for
//! longer than `FRESH_AFTER`, so a server (or a firewall) that stops accepting new connections
//! while it still answers old ones is seen within that time. (Every 10th probe, as this was
//! first, cost an idle console with fifty checks a quarter of its CPU in handshakes.)
//!
//! The exchange is written here on the probe's own `TcpStream`, not with hyper's client: hyper
//! keeps, per connection, an 8 KiB header write buffer (not configurable), an adaptive read
//! buffer of 8 KiB, a header map, channels and a spawned task, about 20 KB a check, 200 MB at
//! 10,000 checks. An idle kept connection here is its socket and nothing else: the buffer a
//! probe reads into lives only as long as the probe.

use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use failover_core::kinds::health::ProbeOutcome;

use crate::net::http::{HEALTH_BODY_LIMIT, body_over};

/// The longest a connection is used before a probe opens a new one.
pub const FRESH_AFTER: Duration = Duration::from_secs(30);

/// The first read's buffer; it grows as an answer needs.
const FIRST_READ: usize = 1024;
/// The most an answer's head (or a chunk's size line) may take.
const HEAD_LIMIT: usize = 64 * 1024;
/// The most headers an answer may have (hyper's default, as before).
const MAX_HEADERS: usize = 100;

const CLOSED: &str = "connection closed without a response";

/// The most a probe's answer may take to be read without a buffer of its own: a whole answer
/// in one read of this size (a health endpoint's usually is) needs nothing kept between reads.
const ONE_READ: usize = 4096;

/// How a probe `start`ed.
pub enum Started {
    /// The request went out on the kept connection: `poll_answer` reads the answer.
    Sent,
    /// `finish` is to do the probe.
    Slow(Rest),
}

/// What `poll_answer` came to.
pub enum Answer {
    Status(u16),
    /// `finish` is to do the rest.
    Slow(Rest),
}

/// The rest of a probe, for `finish`.
pub enum Rest {
    /// On a new connection: there was no usable kept one, or it failed.
    Fresh,
    /// On the kept connection, after `written` bytes of the request and `read` of the answer;
    /// if it fails there, on a new connection.
    Kept {
        stream: TcpStream,
        replace_at: Instant,
        written: usize,
        read: Vec<u8>,
    },
}

/// One `http://` check's target and its kept connection.
pub struct KeptProbe {
    /// host:port to connect to.
    addr: String,
    /// The whole request: `GET`, Host and User-Agent.
    request: String,
    expect_status: u16,
    timeout: Duration,
    /// The kept connection and when it is to be replaced.
    conn: Option<(TcpStream, Instant)>,
    /// The kept connection while `start`'s request waits for `poll_answer`.
    sent: Option<(TcpStream, Instant)>,
    fresh_after: Duration,
    /// How much sooner than `fresh_after` the first connection is replaced (see `stagger`).
    first_sooner: Duration,
}

impl KeptProbe {
    /// None for anything but a plain `http://` URL (https goes through reqwest and rustls).
    pub fn new(url: &str, expect_status: u16, timeout: Duration) -> Option<KeptProbe> {
        let parsed = reqwest::Url::parse(url).ok()?;
        if parsed.scheme() != "http" || !parsed.username().is_empty() {
            return None;
        }
        let host = parsed.host_str()?.to_string();
        let port = parsed.port_or_known_default()?;
        let mut path = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            path.push('?');
            path.push_str(q);
        }
        let addr = if host.contains(':') {
            format!("[{}]:{port}", host.trim_matches(['[', ']']))
        } else {
            format!("{host}:{port}")
        };
        let host_header = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: failover-console/{}\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        Some(KeptProbe {
            addr,
            request,
            expect_status,
            timeout,
            conn: None,
            sent: None,
            fresh_after: FRESH_AFTER,
            first_sooner: Duration::ZERO,
        })
    }

    /// One probe, bounded by the check's timeout.
    pub async fn probe(&mut self) -> ProbeOutcome {
        let started = Instant::now();
        match tokio::time::timeout(self.timeout, self.probe_untimed(started)).await {
            Ok(outcome) => outcome,
            Err(_) => self.timed_out(),
        }
    }

    /// One probe with no timer of its own: the caller bounds it (a slot of checks shares one
    /// deadline; a timer each costs a wake-up of the runtime each) and calls `timed_out` for
    /// a probe it gave up on.
    pub async fn probe_untimed(&mut self, started: Instant) -> ProbeOutcome {
        let result = match self.start(started) {
            Started::Sent => match std::future::poll_fn(|cx| self.poll_answer(cx)).await {
                Answer::Status(status) => Ok(status),
                Answer::Slow(rest) => self.finish(rest).await,
            },
            Started::Slow(rest) => self.finish(rest).await,
        };
        self.outcome(result, started.elapsed())
    }

    /// A probe's outcome from its status (or what went wrong) and how long it took.
    pub fn outcome(&self, result: Result<u16, String>, latency: Duration) -> ProbeOutcome {
        match result {
            Ok(status) if status == self.expect_status => ProbeOutcome {
                ok: true,
                latency,
                detail: status.to_string(),
            },
            Ok(status) => ProbeOutcome {
                ok: false,
                latency,
                detail: format!("status {status} (expected {})", self.expect_status),
            },
            Err(detail) => ProbeOutcome {
                ok: false,
                latency,
                detail,
            },
        }
    }

    /// Starts a probe without waiting: on a usable kept connection, the request written there
    /// (then `poll_answer` reads the answer); otherwise what `finish` is to do. A slot of checks
    /// starts every probe this way and reads their answers as they come, with no task, timer
    /// or buffer of their own: what a probe costs is then mostly its write and its read.
    pub fn start(&mut self, now: Instant) -> Started {
        self.sent = None;
        let Some((stream, replace_at)) = self.conn.take() else {
            return Started::Slow(Rest::Fresh);
        };
        if now >= replace_at || !idle_and_open(&stream) {
            return Started::Slow(Rest::Fresh);
        }
        let request = self.request.as_bytes();
        match stream.try_write(request) {
            Ok(n) if n == request.len() => {
                self.sent = Some((stream, replace_at));
                Started::Sent
            }
            Ok(written) => Started::Slow(Rest::Kept {
                stream,
                replace_at,
                written,
                read: Vec::new(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Started::Slow(Rest::Kept {
                stream,
                replace_at,
                written: 0,
                read: Vec::new(),
            }),
            // As if the exchange failed on the kept connection: a new one, at once.
            Err(_) => Started::Slow(Rest::Fresh),
        }
    }

    /// The answer to a request `start` wrote: its status when it came whole in one read (a head
    /// and a body of known length that fits), else what `finish` is to do with what was read.
    pub fn poll_answer(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Answer> {
        use tokio::io::AsyncRead;
        let Some((stream, _)) = self.sent.as_mut() else {
            return Poll::Ready(Answer::Slow(Rest::Fresh));
        };
        let mut space = [std::mem::MaybeUninit::<u8>::uninit(); ONE_READ];
        let mut read = tokio::io::ReadBuf::uninit(&mut space);
        match std::pin::Pin::new(stream).poll_read(cx, &mut read) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(_)) => {
                self.sent = None;
                return Poll::Ready(Answer::Slow(Rest::Fresh));
            }
        }
        let bytes = read.filled();
        let whole = match parse_head(bytes) {
            // The end of the stream, or an answer the kept connection cannot be trusted with:
            // a new connection, as `finish` makes after the kept one fails.
            _ if bytes.is_empty() => None,
            Err(_) => None,
            Ok(Some((used, head)))
                if bytes.len() < ONE_READ && !(100..200).contains(&head.status) =>
            {
                let body = (bytes.len() - used) as u64;
                match head.body {
                    Body::Empty => Some(Some((head.status, head.keep && body == 0))),
                    Body::Length(n) if n <= HEALTH_BODY_LIMIT as u64 && body >= n => {
                        Some(Some((head.status, head.keep && body == n)))
                    }
                    _ => Some(None),
                }
            }
            Ok(_) => Some(None),
        };
        let Some((stream, replace_at)) = self.sent.take() else {
            return Poll::Ready(Answer::Slow(Rest::Fresh));
        };
        Poll::Ready(match whole {
            Some(Some((status, keep))) => {
                if keep {
                    self.conn = Some((stream, replace_at));
                }
                Answer::Status(status)
            }
            Some(None) => Answer::Slow(Rest::Kept {
                stream,
                replace_at,
                written: self.request.len(),
                read: bytes.to_vec(),
            }),
            None => Answer::Slow(Rest::Fresh),
        })
    }

    /// The rest of a probe `start` or `poll_answer` could not finish: its status.
    pub async fn finish(&mut self, rest: Rest) -> Result<u16, String> {
        match rest {
            Rest::Fresh => self.fresh().await,
            Rest::Kept {
                mut stream,
                replace_at,
                written,
                read,
            } => {
                if let Ok((status, keep)) = self.exchange(&mut stream, written, read).await {
                    if keep {
                        self.conn = Some((stream, replace_at));
                    }
                    return Ok(status);
                }
                self.fresh().await
            }
        }
    }

    /// The outcome of a probe abandoned at its timeout; its connection is not used again.
    pub fn timed_out(&mut self) -> ProbeOutcome {
        self.conn = None;
        self.sent = None;
        ProbeOutcome {
            ok: false,
            latency: self.timeout,
            detail: format!(
                "timeout after {}",
                failover_core::text::latency(self.timeout)
            ),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Replaces the first connection sooner, by a share of `fresh_after` that `index` picks,
    /// so that checks started together do not all open their new connections in the same
    /// second.
    pub fn stagger(&mut self, index: usize) {
        const SPREAD: usize = 30;
        self.first_sooner = self
            .fresh_after
            .mul_f64((index % SPREAD) as f64 / SPREAD as f64);
    }

    /// A connection's longest use other than `FRESH_AFTER` (for tests).
    pub fn with_fresh_after(mut self, fresh_after: Duration) -> KeptProbe {
        self.fresh_after = fresh_after;
        self
    }

    /// The status on a new connection, kept for the next probes if the answer allows.
    async fn fresh(&mut self) -> Result<u16, String> {
        let mut stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| failover_core::text::io_error(&e))?;
        let _ = stream.set_nodelay(true);
        let (status, keep) = self.exchange(&mut stream, 0, Vec::new()).await?;
        if keep {
            let sooner = std::mem::take(&mut self.first_sooner);
            let replace_at = Instant::now() + self.fresh_after.saturating_sub(sooner);
            self.conn = Some((stream, replace_at));
        }
        Ok(status)
    }

    /// Writes the request (but its first `written` bytes) and reads the answer (after the
    /// `read` bytes of it already read) to its end: its status, and whether the connection
    /// can carry the next probe.
    async fn exchange(
        &self,
        stream: &mut TcpStream,
        written: usize,
        mut buf: Vec<u8>,
    ) -> Result<(u16, bool), String> {
        if let Some(unwritten) = self.request.as_bytes().get(written..)
            && !unwritten.is_empty()
        {
            stream
                .write_all(unwritten)
                .await
                .map_err(|e| failover_core::text::io_error(&e))?;
        }
        if buf.capacity() < FIRST_READ {
            buf.reserve(FIRST_READ - buf.len());
        }
        let head = loop {
            match parse_head(&buf)? {
                Some((used, head)) => {
                    buf.drain(..used);
                    // 100 Continue, 103 Early Hints...: the answer follows.
                    if (100..200).contains(&head.status) && head.status != 101 {
                        continue;
                    }
                    break head;
                }
                None if buf.len() >= HEAD_LIMIT => {
                    return Err(format!("not an HTTP answer: head over {}", kib(HEAD_LIMIT)));
                }
                None => read_more(stream, &mut buf).await?,
            }
        };
        let status = head.status;
        // Read the body to its end, so the connection can carry the next probe; up to its
        // bound: a bigger one fails the probe (and its connection is not used again).
        let clean = read_body(stream, &mut buf, head.body, HEALTH_BODY_LIMIT)
            .await
            .map_err(|e| format!("status {status}, {e}"))?;
        Ok((status, head.keep && clean && buf.is_empty()))
    }
}

/// Whether a kept connection can carry a probe, without waiting: nothing to read (anything,
/// even the end of the stream, means the server closed it or said something unasked).
fn idle_and_open(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Reads what the server sent next onto the end of `buf`, growing it when full; the end of
/// the stream is an error.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    if buf.len() == buf.capacity() {
        buf.reserve(buf.capacity().max(FIRST_READ));
    }
    match stream.read_buf(buf).await {
        Ok(0) => Err(CLOSED.into()),
        Ok(_) => Ok(()),
        Err(e) => Err(failover_core::text::io_error(&e)),
    }
}

/// How an answer's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Empty,
    Length(u64),
    Chunked,
    /// Neither a length nor chunked: the body ends with the connection.
    ToEnd,
}

#[derive(Debug, PartialEq, Eq)]
struct Head {
    status: u16,
    body: Body,
    /// Whether the server means to keep the connection open (HTTP/1.1 without
    /// `Connection: close`, HTTP/1.0 with `Connection: keep-alive`).
    keep: bool,
}

/// An answer's head from the start of `buf`, and its length; None until all of it is there.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, Head)>, String> {
    // Uninitialised: a hundred headers made empty first would cost more than the parse.
    let mut headers =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut answer = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut answer,
        buf,
        &mut headers,
    );
    let used = match parsed {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(format!("not an HTTP answer: over {MAX_HEADERS} headers"));
        }
        Err(e) => return Err(format!("not an HTTP answer: {e}")),
    };
    let status = answer.code.unwrap_or_default();
    let (mut close, mut keep_alive) = (false, false);
    let (mut length, mut chunked, mut encoded) = (None, false, false);
    for header in answer.headers.iter() {
        let value = || String::from_utf8_lossy(header.value);
        if header.name.eq_ignore_ascii_case("connection") {
            for token in value().split(',') {
                close |= token.trim().eq_ignore_ascii_case("close");
                keep_alive |= token.trim().eq_ignore_ascii_case("keep-alive");
            }
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked when it is the last coding applied.
            encoded = true;
            chunked = value()
                .rsplit(',')
                .next()
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        } else if header.name.eq_ignore_ascii_case("content-length") {
            for n in value().split(',') {
                let n: u64 = n
                    .trim()
                    .parse()
                    .map_err(|_| "not an HTTP answer: invalid Content-Length".to_string())?;
                if length.is_some_and(|l| l != n) {
                    return Err("not an HTTP answer: conflicting Content-Length".into());
                }
                length = Some(n);
            }
        }
    }
    let body = match (status, encoded, length) {
        (100..=199 | 204 | 304, _, _) => Body::Empty,
        (_, true, _) if chunked => Body::Chunked,
        (_, true, _) => Body::ToEnd,
        (_, false, Some(n)) => Body::Length(n),
        (_, false, None) => Body::ToEnd,
    };
    let keep =
        !close && status != 101 && body != Body::ToEnd && (answer.version == Some(1) || keep_alive);
    Ok(Some((used, Head { status, body, keep })))
}

/// Reads a body to its end without keeping it, up to `limit` bytes of it: a `Content-Length`
/// over the bound is refused before reading, a chunk as soon as it would pass the bound, a
/// body without either as soon as it passes it. `buf` starts with what was read after the
/// head, and ends with what was read after the body. True when the connection is left at the
/// end of an answer.
async fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    body: Body,
    limit: usize,
) -> Result<bool, String> {
    let limit = limit as u64;
    match body {
        Body::Empty => Ok(true),
        Body::Length(n) if n > limit => Err(body_over(limit as usize)),
        Body::Length(n) => {
            skip(stream, buf, n).await?;
            Ok(true)
        }
        Body::ToEnd => {
            let mut read = buf.len() as u64;
            buf.clear();
            loop {
                if read > limit {
                    return Err(body_over(limit as usize));
                }
                match read_more(stream, buf).await {
                    Ok(()) => {
                        read += buf.len() as u64;
                        buf.clear();
                    }
                    Err(e) if e == CLOSED => return Ok(false),
                    Err(e) => return Err(e),
                }
            }
        }
        Body::Chunked => {
            let mut read = 0u64;
            loop {
                let (used, size) = match httparse::parse_chunk_size(buf) {
                    Ok(httparse::Status::Complete(found)) => found,
                    Ok(httparse::Status::Partial) if buf.len() < HEAD_LIMIT => {
                        read_more(stream, buf).await?;
                        continue;
                    }
                    Ok(httparse::Status::Partial) | Err(_) => {
                        return Err("not an HTTP answer: invalid chunk size".into());
                    }
                };
                buf.drain(..used);
                read = read.saturating_add(size);
                if read > limit {
                    return Err(body_over(limit as usize));
                }
                if size == 0 {
                    break;
                }
                skip(stream, buf, size).await?;
                while buf.len() < 2 {
                    read_more(stream, buf).await?;
                }
                if !buf.starts_with(b"\r\n") {
                    return Err("not an HTTP answer: chunk longer than its size".into());
                }
                buf.drain(..2);
            }
            // Trailers, if any, up to the empty line; they count towards the bound.
            loop {
                match memchr::memmem::find(buf, b"\r\n") {
                    Some(0) => {
                        buf.drain(..2);
                        return Ok(true);
                    }
                    Some(end) => {
                        read += end as u64 + 2;
                        buf.drain(..end + 2);
                    }
                    None => {
                        if read + buf.len() as u64 > limit {
                            return Err(body_over(limit as usize));
                        }
                        read_more(stream, buf).await?;
                    }
                }
                if read > limit {
                    return Err(body_over(limit as usize));
                }
            }
        }
    }
}

/// Reads past the next `n` bytes (some of them maybe in `buf` already) without keeping them.
async fn skip(stream: &mut TcpStream, buf: &mut Vec<u8>, mut n: u64) -> Result<(), String> {
    loop {
        let here = (buf.len() as u64).min(n);
        buf.drain(..here as usize);
        n -= here;
        if n == 0 {
            return Ok(());
        }
        // Larger reads for a larger body, up to 16 KiB.
        if buf.capacity() < 16 * 1024 && n > buf.capacity() as u64 {
            buf.reserve(buf.capacity() * 2);
        }
        read_more(stream, buf).await?;
    }
}

fn kib(n: usize) -> String {
    format!("{} KiB", n / 1024)
}

#[cfg(test)]
mod tests {
    //! Against a server on 127.0.0.1 that answers with canned bytes, connection by connection.

    use std::sync::{Arc, Mutex};

    use tokio::net::TcpListener;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);

    /// What the server does next on a connection.
    #[derive(Clone)]
    enum Step {
        /// Reads a request, then writes each piece with a write of its own.
        Answer(Vec<&'static [u8]>),
        /// Reads a request and closes the connection without answering.
        Hangup,
        /// Closes the connection (idle: no request is waiting).
        Close,
        /// Closes the server's side of the connection (a FIN), reading on.
        Shutdown,
    }
    use Step::*;

    fn answer(bytes: &'static [u8]) -> Step {
        Answer(vec![bytes])
    }

    #[derive(Default)]
    struct Seen {
        connections: usize,
        /// Every request, with the connection (0, 1...) it came on.
        requests: Vec<(usize, String)>,
        /// The connections the server has closed (or closed its side of).
        closed: Vec<usize>,
    }

    struct Server {
        url: String,
        seen: Arc<Mutex<Seen>>,
    }

    impl Server {
        /// Connection k follows `scripts[k]` (the last script for any later one); after its
        /// script, unless it closed, a connection reads (and records) requests until the client
        /// closes it.
        async fn start(scripts: Vec<Vec<Step>>) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let seen = Arc::new(Mutex::new(Seen::default()));
            let shared = seen.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let k = {
                        let mut seen = shared.lock().unwrap();
                        seen.connections += 1;
                        seen.connections - 1
                    };
                    let script = scripts[k.min(scripts.len() - 1)].clone();
                    tokio::spawn(serve(stream, k, script, shared.clone()));
                }
            });
            Server {
                url: format!("http://{addr}/healthz?x=1"),
                seen,
            }
        }

        fn probe(&self) -> KeptProbe {
            KeptProbe::new(&self.url, 200, TIMEOUT).expect("plain http")
        }

        fn connections(&self) -> usize {
            self.seen.lock().unwrap().connections
        }

        fn requests_on(&self, k: usize) -> usize {
            let seen = self.seen.lock().unwrap();
            seen.requests.iter().filter(|(c, _)| *c == k).count()
        }

        /// Waits (5 s at most) until `done` holds of what the server saw.
        async fn until(&self, what: &str, done: impl Fn(&Seen) -> bool) {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !done(&self.seen.lock().unwrap()) {
                assert!(Instant::now() < deadline, "waited 5 s for {what}");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }

    async fn serve(mut stream: TcpStream, k: usize, script: Vec<Step>, seen: Arc<Mutex<Seen>>) {
        let mut pending = Vec::new();
        let mut open = true;
        for step in script {
            match step {
                Answer(pieces) => {
                    let Some(request) = read_request(&mut stream, &mut pending).await else {
                        open = false;
                        break;
                    };
                    seen.lock().unwrap().requests.push((k, request));
                    for (i, piece) in pieces.iter().enumerate() {
                        if i > 0 {
                            // So that the client most likely reads the pieces apart; the test
                            // passes either way, it is only less telling.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        if stream.write_all(piece).await.is_err() {
                            open = false;
                        }
                    }
                }
                Hangup => {
                    if let Some(request) = read_request(&mut stream, &mut pending).await {
                        seen.lock().unwrap().requests.push((k, request));
                    }
                    open = false;
                    break;
                }
                Close => {
                    open = false;
                    break;
                }
                Shutdown => {
                    let _ = stream.shutdown().await;
                    seen.lock().unwrap().closed.push(k);
                }
            }
        }
        while open && let Some(request) = read_request(&mut stream, &mut pending).await {
            seen.lock().unwrap().requests.push((k, request));
        }
        drop(stream);
        seen.lock().unwrap().closed.push(k);
    }

    /// The next request's head (these requests have no body); None at the end of the stream.
    async fn read_request(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<String> {
        loop {
            if let Some(end) = memchr::memmem::find(pending, b"\r\n\r\n") {
                let request = String::from_utf8_lossy(&pending[..end + 4]).into_owned();
                pending.drain(..end + 4);
                return Some(request);
            }
            let mut chunk = [0u8; 1024];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => pending.extend_from_slice(&chunk[..n]),
            }
        }
    }

    const OK_CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n";
    const OK_SIZED: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    fn assert_ok(o: &ProbeOutcome, what: &str) {
        assert!(o.ok && o.detail == "200", "{what}: {o:?}");
    }

    #[tokio::test]
    async fn the_request_is_a_get_with_host_and_user_agent() {
        let server = Server::start(vec![vec![answer(OK_SIZED)]]).await;
        assert_ok(&server.probe().probe().await, "probe");
        let request = server.seen.lock().unwrap().requests[0].1.clone();
        let port = server
            .url
            .split(':')
            .nth(2)
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        assert_eq!(
            request,
            format!(
                "GET /healthz?x=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
                 User-Agent: failover-console/{}\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[tokio::test]
    async fn a_chunked_answer_is_read_and_its_connection_carries_the_next_probes() {
        let server = Server::start(vec![vec![answer(OK_CHUNKED); 3]]).await;
        let mut probe = server.probe();
        for n in 0..3 {
            assert_ok(&probe.probe().await, &format!("probe {n}"));
        }
        assert_eq!(server.connections(), 1, "one connection for three probes");
        assert_eq!(server.requests_on(0), 3);
    }

    #[tokio::test]
    async fn interim_answers_are_skipped_and_empty_bodies_keep_the_connection() {
        let server = Server::start(vec![vec![
            answer(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            answer(b"HTTP/1.1 204 No Content\r\n\r\n"),
            answer(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
            answer(OK_SIZED),
        ]])
        .await;
        let mut probe = server.probe();
        assert_ok(&probe.probe().await, "after 100 and 103");
        let o = probe.probe().await;
        assert_eq!(
            (o.ok, o.detail.as_str()),
            (false, "status 204 (expected 200)")
        );
        let o = probe.probe().await;
        assert_eq!(
            (o.ok, o.detail.as_str()),
            (false, "status 304 (expected 200)")
        );
        assert_ok(
            &probe.probe().await,
            "after 204 and 304, on the same connection",
        );
        assert_eq!(server.connections(), 1);
    }

    #[tokio::test]
    async fn an_answer_with_bytes_after_its_body_is_not_kept() {
        // Whole in one write, so one read: a body of 2 bytes, then 5 the server was not asked for.
        let extra: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokextra";
        let server = Server::start(vec![vec![answer(extra)], vec![answer(OK_SIZED)]]).await;
        let mut probe = server.probe();
        assert_ok(&probe.probe().await, "with bytes after the body");
        assert_ok(&probe.probe().await, "the next");
        assert_eq!(
            server.connections(),
            2,
            "the first connection is not used again"
        );
        assert_eq!(server.requests_on(0), 1);
    }

    #[tokio::test]
    async fn a_whole_answer_in_one_read_keeps_its_connection_probe_after_probe() {
        let server = Server::start(vec![vec![answer(OK_SIZED); 5]]).await;
        let mut probe = server.probe();
        for n in 0..5 {
            assert_ok(&probe.probe().await, &format!("probe {n}"));
        }
        assert_eq!((server.connections(), server.requests_on(0)), (1, 5));
    }

    #[tokio::test]
    async fn after_connection_close_the_next_probe_opens_a_new_connection() {
        let close: &[u8] = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
        // The server leaves the connection open: the client must not use it again.
        let server = Server::start(vec![vec![answer(close)], vec![answer(OK_SIZED)]]).await;
        let mut probe = server.probe();
        assert_ok(&probe.probe().await, "with Connection: close");
        assert_ok(&probe.probe().await, "the next");
        assert_eq!(server.connections(), 2);
        assert_eq!(
            server.requests_on(0),
            1,
            "no request after Connection: close"
        );
        // Dropped, not left open: the server sees the first connection end.
        server
            .until("the first connection's end", |s| s.closed.contains(&0))
            .await;
    }

    #[tokio::test]
    async fn an_http_1_0_answer_is_kept_only_with_keep_alive() {
        let server =
            Server::start(vec![
                vec![answer(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")],
                vec![
                    answer(
                        b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
                    );
                    2
                ],
            ])
            .await;
        let mut probe = server.probe();
        for n in 0..3 {
            assert_ok(&probe.probe().await, &format!("probe {n}"));
        }
        assert_eq!(
            server.connections(),
            2,
            "a new connection after plain HTTP/1.0 only"
        );
        assert_eq!((server.requests_on(0), server.requests_on(1)), (1, 2));
    }

    #[tokio::test]
    async fn a_body_without_length_is_read_to_the_end_of_the_connection() {
        let server = Server::start(vec![
            vec![answer(b"HTTP/1.0 200 OK\r\n\r\nok, till the end"), Close],
            vec![answer(b"HTTP/1.1 200 OK\r\n\r\nok"), Close],
        ])
        .await;
        let mut probe = server.probe();
        assert_ok(&probe.probe().await, "HTTP/1.0");
        assert_ok(&probe.probe().await, "HTTP/1.1");
        assert_eq!(server.connections(), 2);
    }

    #[tokio::test]
    async fn an_answer_in_pieces_is_put_together() {
        let server = Server::start(vec![vec![
            Answer(vec![
                b"HTTP/1.1 2",
                b"00 OK\r\nContent-Le",
                b"ngth: 5\r\n\r",
                b"\nhel",
                b"lo",
            ]),
            Answer(vec![
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"5\r",
                b"\nhello\r\n0\r\n",
                b"\r\n",
            ]),
            answer(OK_SIZED),
        ]])
        .await;
        let mut probe = server.probe();
        for n in 0..3 {
            assert_ok(&probe.probe().await, &format!("probe {n}"));
        }
        assert_eq!(server.connections(), 1);
    }

    #[test]
    fn a_head_cut_anywhere_is_waited_for() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n";
        for cut in 0..head.len() {
            assert_eq!(parse_head(&head[..cut]), Ok(None), "cut at {cut}");
        }
        let whole = Head {
            status: 200,
            body: Body::Length(5),
            keep: true,
        };
        assert_eq!(parse_head(head), Ok(Some((head.len(), whole))));
    }

    #[tokio::test]
    async fn garbage_is_not_an_http_answer() {
        let server = Server::start(vec![vec![answer(b"SSH-2.0-OpenSSH_9.2\r\n")]]).await;
        let o = server.probe().probe().await;
        assert!(
            !o.ok && o.detail.starts_with("not an HTTP answer: "),
            "{o:?}"
        );
        let server = Server::start(vec![vec![answer(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        )]])
        .await;
        let o = server.probe().probe().await;
        assert_eq!(
            o.detail,
            "status 200, not an HTTP answer: invalid chunk size"
        );
    }

    #[tokio::test]
    async fn too_many_headers_fail_the_probe_and_say_so() {
        let mut many = String::from("HTTP/1.1 200 OK\r\n");
        for n in 0..=MAX_HEADERS {
            many.push_str(&format!("X-{n}: y\r\n"));
        }
        many.push_str("Content-Length: 0\r\n\r\n");
        let server = Server::start(vec![vec![answer(many.leak().as_bytes())]]).await;
        let o = server.probe().probe().await;
        assert_eq!(
            (o.ok, o.detail.as_str()),
            (false, "not an HTTP answer: over 100 headers")
        );
    }

    #[tokio::test]
    async fn a_server_that_closes_without_answering_fails_the_probe() {
        let server = Server::start(vec![vec![Hangup]]).await;
        let o = server.probe().probe().await;
        assert_eq!(
            (o.ok, o.detail.as_str()),
            (false, "connection closed without a response")
        );
        // No second try: the connection that failed was a new one.
        assert_eq!(server.connections(), 1);
    }

    #[tokio::test]
    async fn an_answer_cut_short_fails_the_probe() {
        let server = Server::start(vec![vec![
            answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"),
            Close,
        ]])
        .await;
        let o = server.probe().probe().await;
        assert_eq!(
            (o.ok, o.detail.as_str()),
            (false, "status 200, connection closed without a response")
        );
    }

    #[tokio::test]
    async fn a_kept_connection_the_server_closed_while_idle_is_replaced_in_the_same_probe() {
        // The server closes its side and reads on: a request written on it would be seen.
        let server = Server::start(vec![
            vec![answer(OK_SIZED), Shutdown],
            vec![answer(OK_SIZED); 2],
        ])
        .await;
        let mut probe = server.probe();
        assert_ok(&probe.probe().await, "first");
        let (kept, _) = probe.conn.as_ref().expect("a kept connection");
        let end = tokio::time::timeout(TIMEOUT, kept.peek(&mut [0u8; 1])).await;
        assert!(
            matches!(end, Ok(Ok(0))),
            "the server's FIN reached the client: {end:?}"
        );
        assert_ok(
            &probe.probe().await,
            "after the server closed the kept connection",
        );
        assert_ok(&probe.probe().await, "on the new connection");
        assert_eq!(server.connections(), 2);
        assert_eq!(
            (server.requests_on(0), server.requests_on(1)),
            (1, 2),
            "seen closed before a request was written on it"
        );
    }

    #[tokio::test]
    async fn a_kept_connection_that_fails_mid_answer_is_replaced_in_the_same_probe() {
        // The kept connection is closed after the request, without an answer: a second try.
        let server =
            Server::start(vec![vec![answer(OK_SIZED), Hangup], vec![answer(OK_SIZED)]]).await;
        let mut probe = server.probe();
        assert_ok(&probe.probe().await, "first");
        assert_ok(&probe.probe().await, "second, on a new connection");
        assert_eq!((server.connections(), server.requests_on(0)), (2, 2));
    }

    #[tokio::test]
    async fn a_kept_connection_is_replaced_when_old_enough() {
        let server = Server::start(vec![vec![answer(OK_SIZED); 2], vec![answer(OK_SIZED)]]).await;
        let mut probe = server.probe().with_fresh_after(Duration::from_millis(200));
        assert_ok(&probe.probe().await, "first");
        assert_ok(&probe.probe().await, "second, on the same connection");
        assert_eq!(server.connections(), 1);
        let renew = Instant::now() + Duration::from_millis(200);
        tokio::time::sleep_until(renew.into()).await;
        assert_ok(&probe.probe().await, "third, on a new connection");
        assert_eq!(server.connections(), 2);
    }

    #[tokio::test]
    async fn a_probe_that_timed_out_does_not_keep_its_connection() {
        let server = Server::start(vec![
            vec![answer(OK_SIZED), Answer(vec![])],
            vec![answer(OK_SIZED)],
        ])
        .await;
        let mut probe = KeptProbe::new(&server.url, 200, Duration::from_millis(300)).unwrap();
        assert_ok(&probe.probe().await, "first");
        let o = probe.probe().await;
        assert_eq!((o.ok, o.detail.as_str()), (false, "timeout after 300ms"));
        assert_ok(&probe.probe().await, "after the timeout");
        assert_eq!(server.connections(), 2);
    }
}
