//! Bodies are read up to a bound: a health check's to 64 KiB (on the kept connection and
//! through reqwest), Patroni's answers to 1 MiB. A real HTTP server on 127.0.0.1 (a tokio
//! listener answering every request with one fixed response) serves 10 MB bodies, with a
//! `Content-Length` and as an endless chunked stream, and bodies right at the bound.

use std::time::{Duration, Instant};

use failover_console::kinds::health::http::Clients;
use failover_console::kinds::health::http_kept::KeptProbe;
use failover_console::kinds::patroni::client::Client;
use failover_core::kinds::patroni::PatroniCluster;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TEN_MB: usize = 10 * 1000 * 1000;
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy)]
enum Body {
    /// `Content-Length: n`, then n bytes.
    Sized(usize),
    /// Chunked, no length: 64 KiB chunks for as long as the client reads (up to 10 MB).
    Stream,
}

/// Serves every request on every connection with `200` and `body`, until the test ends.
async fn serve(body: Body) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, body));
        }
    });
    format!("http://{addr}")
}

async fn answer(mut stream: TcpStream, body: Body) {
    loop {
        // The request: headers up to the blank line (these clients send no body with a GET).
        let mut request = Vec::new();
        let mut byte = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut byte).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&byte[..n]),
            }
        }
        let json_byte = b' ';
        let sent = match body {
            Body::Sized(n) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {n}\r\n\r\n"
                );
                let mut all = head.into_bytes();
                // Valid JSON when small enough to be read: `{}` padded with spaces.
                if n >= 2 {
                    all.push(b'{');
                    all.extend(std::iter::repeat_n(json_byte, n - 2));
                    all.push(b'}');
                } else {
                    all.extend(std::iter::repeat_n(json_byte, n));
                }
                stream.write_all(&all).await
            }
            Body::Stream => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                let mut result = stream.write_all(head.as_bytes()).await;
                let chunk = vec![json_byte; 64 * 1024];
                let mut sent = 0;
                while result.is_ok() && sent < TEN_MB {
                    let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                    framed.extend_from_slice(&chunk);
                    framed.extend_from_slice(b"\r\n");
                    result = stream.write_all(&framed).await;
                    sent += chunk.len();
                }
                if result.is_ok() {
                    result = stream.write_all(b"0\r\n\r\n").await;
                }
                result
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

fn patroni_client() -> Client {
    let spec = PatroniCluster {
        name: "big".into(),
        endpoints: vec![],
        sites: vec![],
        auth: None,
        max_lag_bytes: None,
        interval: Duration::from_secs(1),
        timeout: TIMEOUT,
    };
    Client::new(&spec, TIMEOUT)
}

#[tokio::test]
async fn a_ten_megabyte_health_body_fails_the_check_and_says_so() {
    for body in [Body::Sized(TEN_MB), Body::Stream] {
        let base = serve(body).await;
        let url = format!("{base}/healthz");

        let mut kept = KeptProbe::new(&url, 200, TIMEOUT).expect("plain http");
        let started = Instant::now();
        let o = kept.probe().await;
        assert_eq!(
            (o.ok, o.detail.as_str()),
            (false, "status 200, body over 64 KiB"),
            "kept connection"
        );
        // Refused at the bound, not read to the end of the 10 MB nor left to the timeout.
        assert!(started.elapsed() < TIMEOUT / 2, "{:?}", started.elapsed());

        let o = Clients::new().probe(&url, 200, false, TIMEOUT).await;
        assert_eq!(
            (o.ok, o.detail.as_str()),
            (false, "status 200, body over 64 KiB"),
            "reqwest"
        );
    }
}

#[tokio::test]
async fn a_health_body_at_the_bound_is_read_and_the_connection_kept() {
    let base = serve(Body::Sized(64 * 1024)).await;
    let url = format!("{base}/healthz");
    let mut kept = KeptProbe::new(&url, 200, TIMEOUT).expect("plain http");
    for n in 0..3 {
        let o = kept.probe().await;
        assert!(o.ok && o.detail == "200", "probe {n}: {o:?}");
    }
    let o = Clients::new().probe(&url, 200, false, TIMEOUT).await;
    assert!(o.ok && o.detail == "200", "{o:?}");

    let base = serve(Body::Sized(64 * 1024 + 1)).await;
    let mut kept = KeptProbe::new(&format!("{base}/healthz"), 200, TIMEOUT).expect("plain http");
    let o = kept.probe().await;
    assert_eq!(o.detail, "status 200, body over 64 KiB");
}

#[tokio::test]
async fn patroni_answers_are_read_up_to_one_mebibyte() {
    let client = patroni_client();
    for body in [Body::Sized(TEN_MB), Body::Stream] {
        let base = serve(body).await;
        let err = client
            .get_json(&base, "/cluster")
            .await
            .expect_err("10 MB is refused");
        assert!(
            err.ends_with("GET /cluster: body over 1 MiB"),
            "error says the bound: {err}"
        );
        let reply = client
            .post(&base, "/switchover", &serde_json::json!({}), TIMEOUT)
            .await
            .expect("a reply");
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "(body over 1 MiB)")
        );
    }
    let base = serve(Body::Sized(1024 * 1024)).await;
    let value = client
        .get_json(&base, "/cluster")
        .await
        .expect("1 MiB of JSON is read");
    assert_eq!(value, serde_json::json!({}));
}
