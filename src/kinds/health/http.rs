//! HTTP checks through reqwest: https (rustls), and the one round of `status`. A new connection each
//! time, like Route 53's checkers, so a server that stops accepting is seen at once.

use std::time::{Duration, Instant};

use failover_core::kinds::health::ProbeOutcome;

/// The reqwest clients for https checks, built on first use: loading the system's root
/// certificates costs memory a console with only plain-HTTP checks never needs.
#[derive(Clone, Default)]
pub struct Clients {
    built: std::sync::Arc<std::sync::OnceLock<Built>>,
}

struct Built {
    verified: Option<reqwest::Client>,
    unverified: Option<reqwest::Client>,
    build_error: Option<String>,
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("failover-console/", env!("CARGO_PKG_VERSION")))
}

impl Clients {
    pub fn new() -> Clients {
        Clients::default()
    }

    fn built(&self) -> &Built {
        self.built.get_or_init(|| {
            let verified = builder().build();
            let unverified = builder().danger_accept_invalid_certs(true).build();
            Built {
                build_error: verified.as_ref().err().map(|e| e.to_string()),
                verified: verified.ok(),
                unverified: unverified.ok(),
            }
        })
    }

    pub async fn probe(
        &self,
        url: &str,
        expect_status: u16,
        insecure: bool,
        timeout: Duration,
    ) -> ProbeOutcome {
        let built = self.built();
        let client = if insecure {
            built.unverified.as_ref()
        } else {
            built.verified.as_ref()
        };
        let Some(client) = client else {
            let detail = format!(
                "HTTP client unavailable: {}",
                built.build_error.as_deref().unwrap_or("?")
            );
            return ProbeOutcome {
                ok: false,
                latency: Duration::ZERO,
                detail,
            };
        };
        let started = Instant::now();
        let result = client.get(url).timeout(timeout).send().await;
        let latency = started.elapsed();
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                // The body is read, up to its bound, within the same timeout: a server that
                // streams without end fails the check instead of holding it.
                let limit = crate::net::http::HEALTH_BODY_LIMIT;
                if let Err(e) = crate::net::http::read_bounded(response, limit).await {
                    let detail = match e {
                        crate::net::http::BodyError::TooBig(limit) => {
                            crate::net::http::body_over(limit)
                        }
                        crate::net::http::BodyError::Read(e) => {
                            crate::net::http::describe(&e, timeout)
                        }
                    };
                    return ProbeOutcome {
                        ok: false,
                        latency,
                        detail: format!("status {status}, {detail}"),
                    };
                }
                if status == expect_status {
                    ProbeOutcome {
                        ok: true,
                        latency,
                        detail: status.to_string(),
                    }
                } else {
                    ProbeOutcome {
                        ok: false,
                        latency,
                        detail: format!("status {status} (expected {expect_status})"),
                    }
                }
            }
            Err(e) => ProbeOutcome {
                ok: false,
                latency,
                detail: crate::net::http::describe(&e, timeout),
            },
        }
    }
}
