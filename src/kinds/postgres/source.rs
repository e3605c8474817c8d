//! PostgreSQL members: role from `pg_is_in_recovery()` on every reading (never from config), LSNs,
//! replay state and the primary's view of its standbys. One connection per member, reopened after
//! any error, with the reading prepared on it once: a poll is one statement, one round trip.

use std::error::Error as _;
use std::time::Duration;

use time::OffsetDateTime;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Statement};

use failover_core::kinds::Observation;
use failover_core::kinds::postgres::{
    Lsn, Member, PgSnapshot, PrimaryReading, ReplicaReading, StandbyRow,
};

use super::dsn::{self, SslMode, TlsSettings};
use super::tls;
use crate::kinds::Sender;

pub struct Poller {
    db: usize,
    member: usize,
    spec: Member,
    timeout: Duration,
    kept: Option<Kept>,
}

impl Poller {
    pub fn new(db: usize, member: usize, spec: Member, timeout: Duration) -> Poller {
        Poller {
            db,
            member,
            spec,
            timeout,
            kept: None,
        }
    }

    pub async fn run(mut self, interval: Duration, tx: Sender) {
        let mut rounds = crate::grid::Rounds::new(interval, Duration::ZERO);
        loop {
            rounds.next().await;
            let observation = self.observe().await;
            if tx.send(observation).await.is_err() {
                return;
            }
        }
    }

    pub async fn once(mut self) -> Observation {
        self.observe().await
    }

    async fn observe(&mut self) -> Observation {
        let result = match tokio::time::timeout(self.timeout, self.read()).await {
            Ok(Ok(snapshot)) => Ok(snapshot),
            Ok(Err(e)) => {
                self.kept = None;
                Err(e)
            }
            Err(_) => {
                self.kept = None;
                Err(format!(
                    "timeout after {}",
                    failover_core::text::latency(self.timeout)
                ))
            }
        };
        Observation::Postgres {
            db: self.db,
            member: self.member,
            at: OffsetDateTime::now_utc(),
            result,
        }
    }

    async fn read(&mut self) -> Result<PgSnapshot, String> {
        if self.kept.as_ref().is_none_or(|k| k.client.is_closed()) {
            self.kept = Some(Kept::open(&self.spec, self.timeout).await?);
        }
        let kept = self.kept.as_ref().ok_or("not connected")?;
        read_snapshot(kept).await.map_err(|e| describe(&e))
    }
}

async fn connect(spec: &Member, timeout: Duration) -> Result<Client, String> {
    connect_dsn(&spec.dsn, spec.password_env.as_deref(), timeout).await
}

/// A DSN read as libpq reads it: tokio-postgres's settings, and its TLS keys (which
/// tokio-postgres's parser does not know). Errors never contain the DSN.
pub fn parse_dsn(dsn: &str) -> Result<(tokio_postgres::Config, TlsSettings), String> {
    let (rest, tls) = dsn::split(dsn)?;
    let mut config: tokio_postgres::Config = rest.parse().map_err(|e| format!("{e}"))?;
    config.ssl_mode(tls.mode.wire());
    Ok((config, tls))
}

/// The connection settings of a DSN, with the password from `password_env` (when the DSN has
/// none) or else from the password file, as libpq would. Errors never contain the DSN.
pub fn config_for(
    dsn: &str,
    password_env: Option<&str>,
    timeout: Duration,
) -> Result<(tokio_postgres::Config, TlsSettings), String> {
    let (mut config, tls) = parse_dsn(dsn).map_err(|e| format!("invalid dsn: {e}"))?;
    config.connect_timeout(timeout);
    config.application_name("failover-console");
    if config.get_password().is_none() {
        if let Some(var) = password_env {
            match std::env::var(var) {
                Ok(p) => {
                    config.password(p);
                }
                Err(_) => return Err(format!("password-env {var} is not set")),
            }
        } else if let Some(p) = pgpass::lookup(&config) {
            config.password(p);
        }
    }
    Ok((config, tls))
}

/// One connection (its driver spawned on the runtime), bounded by `timeout` as a whole: TCP
/// connect, TLS as the DSN's sslmode says, startup and authentication. sslmode=prefer tries
/// TLS, and connects again without it when the handshake fails, as libpq does.
pub async fn connect_dsn(
    dsn: &str,
    password_env: Option<&str>,
    timeout: Duration,
) -> Result<Client, String> {
    let (mut config, settings) = config_for(dsn, password_env, timeout)?;
    let connector = tls::connector(&settings)?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let attempts = async {
        match config.connect(connector.clone()).await {
            Err(e)
                if settings.mode == SslMode::Prefer
                    && tls::describe(&e, &settings, &host).is_some() =>
            {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                config.connect(connector).await
            }
            result => result,
        }
    };
    let (client, connection) = match tokio::time::timeout(timeout, attempts).await {
        Ok(result) => result
            .map_err(|e| tls::describe(&e, &settings, &host).unwrap_or_else(|| describe(&e)))?,
        Err(_) => {
            return Err(format!(
                "no connection within {}",
                failover_core::text::latency(timeout)
            ));
        }
    };
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// A member's whole reading in one statement (one round trip), whichever its role: the role is
/// read once (`m`), and each role's functions run only on that role (a standby's fail on a
/// primary, and the other way round). The timeline of a primary comes from the current WAL file
/// name: pg_control_checkpoint() lags behind a promotion until the next checkpoint.
const READING: &str = "
SELECT m.r, current_setting('server_version'), current_setting('cluster_name'),
       CASE WHEN m.r THEN pg_last_wal_receive_lsn()::text END,
       CASE WHEN m.r THEN pg_last_wal_replay_lsn()::text END,
       CASE WHEN m.r THEN pg_is_wal_replay_paused() END,
       CASE WHEN m.r THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END,
       CASE WHEN m.r THEN (SELECT status FROM pg_stat_wal_receiver LIMIT 1) END,
       CASE WHEN m.r THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver LIMIT 1),
                                   (SELECT timeline_id FROM pg_control_checkpoint())) END,
       CASE WHEN NOT m.r THEN pg_current_wal_lsn()::text END,
       CASE WHEN NOT m.r THEN ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
       s.names, s.states, s.lags, s.replay_lags
  FROM (SELECT pg_is_in_recovery() AS r) m,
       LATERAL (SELECT array_agg(COALESCE(application_name, '')) AS names,
                       array_agg(COALESCE(state, '')) AS states,
                       array_agg(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint) AS lags,
                       array_agg(extract(epoch FROM replay_lag)::float8) AS replay_lags
                  FROM pg_stat_replication WHERE NOT m.r) s";

/// A connection kept between polls, with the reading prepared on it once: a poll is then a
/// bind and an execute, not a parse, plan and close of statement text.
struct Kept {
    client: Client,
    reading: Statement,
}

impl Kept {
    async fn open(spec: &Member, timeout: Duration) -> Result<Kept, String> {
        let client = connect(spec, timeout).await?;
        let reading = client.prepare(READING).await.map_err(|e| describe(&e))?;
        Ok(Kept { client, reading })
    }
}

fn seconds(s: Option<f64>) -> Option<Duration> {
    s.filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

async fn read_snapshot(kept: &Kept) -> Result<PgSnapshot, tokio_postgres::Error> {
    let row = kept.client.query_one(&kept.reading, &[]).await?;
    let in_recovery: bool = row.try_get(0)?;
    let mut snapshot = PgSnapshot {
        in_recovery,
        timeline: None,
        server_version: row.try_get(1)?,
        cluster_name: row.try_get(2)?,
        primary: None,
        replica: None,
    };
    let lsn = |i: usize| -> Result<Option<Lsn>, tokio_postgres::Error> {
        Ok(row.try_get::<_, Option<&str>>(i)?.and_then(Lsn::parse))
    };
    if in_recovery {
        let tli: Option<i32> = row.try_get(8)?;
        snapshot.timeline = tli.map(|t| t as u32);
        snapshot.replica = Some(ReplicaReading {
            receive_lsn: lsn(3)?,
            replay_lsn: lsn(4)?,
            replay_paused: row.try_get::<_, Option<bool>>(5)?.unwrap_or(false),
            receiver_status: row.try_get(7)?,
            since_last_replay: seconds(row.try_get(6)?),
        });
    } else {
        let tli: Option<i32> = row.try_get(10)?;
        snapshot.timeline = tli.map(|t| t as u32);
        let names: Vec<String> = row.try_get::<_, Option<_>>(11)?.unwrap_or_default();
        let states: Vec<String> = row.try_get::<_, Option<_>>(12)?.unwrap_or_default();
        let lags: Vec<Option<i64>> = row.try_get::<_, Option<_>>(13)?.unwrap_or_default();
        let replay_lags: Vec<Option<f64>> = row.try_get::<_, Option<_>>(14)?.unwrap_or_default();
        let standbys = names
            .into_iter()
            .zip(states)
            .zip(lags.into_iter().zip(replay_lags))
            .map(
                |((application_name, state), (lag, replay_lag))| StandbyRow {
                    application_name,
                    state,
                    lag_bytes: lag.map(|l| l.max(0) as u64),
                    replay_lag: seconds(replay_lag),
                },
            )
            .collect();
        snapshot.primary = Some(PrimaryReading {
            current_lsn: lsn(9)?.unwrap_or(Lsn(0)),
            standbys,
        });
    }
    Ok(snapshot)
}

/// "connection refused", "FATAL: the database system is starting up", never a whole error chain.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return failover_core::text::io_error(io);
        }
        source = s.source();
    }
    if e.is_closed() {
        return "connection closed".into();
    }
    e.to_string()
}

/// libpq's password file: PGPASSFILE or ~/.pgpass, `host:port:database:user:password`, `*`
/// matching anything, `\:` and `\\` escaped.
pub mod pgpass {
    use std::path::PathBuf;

    use tokio_postgres::config::Host;

    pub fn lookup(config: &tokio_postgres::Config) -> Option<String> {
        let path = std::env::var_os("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).ok()?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    "{} is readable by group or others: ignored, as libpq does",
                    path.display()
                );
                return None;
            }
        }
        let text = std::fs::read_to_string(&path).ok()?;
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(_)) | None => "localhost".to_string(),
        };
        let port = config
            .get_ports()
            .first()
            .copied()
            .unwrap_or(5432)
            .to_string();
        let user = config.get_user().unwrap_or("");
        let db = config.get_dbname().unwrap_or(user);
        find(&text, &host, &port, db, user)
    }

    pub fn find(text: &str, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
        for line in text.lines() {
            if line.trim_start().starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields = split(line);
            if fields.len() < 5 {
                continue;
            }
            let wanted = [host, port, db, user];
            if fields[..4]
                .iter()
                .zip(wanted)
                .all(|(f, w)| f == "*" || f == w)
            {
                return Some(fields[4..].join(":"));
            }
        }
        None
    }

    fn split(line: &str) -> Vec<String> {
        let mut fields = vec![String::new()];
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let (Some(next), Some(f)) = (chars.next(), fields.last_mut()) {
                        f.push(next);
                    }
                }
                ':' if fields.len() < 5 => fields.push(String::new()),
                c => {
                    if let Some(f) = fields.last_mut() {
                        f.push(c)
                    }
                }
            }
        }
        fields
    }

    #[cfg(test)]
    mod tests {
        use super::find;

        #[test]
        fn matches_like_libpq() {
            let text = "# comment\n127.0.0.1:54321:postgres:postgres:s3cr\\:et\n*:*:*:app:other\n";
            assert_eq!(
                find(text, "127.0.0.1", "54321", "postgres", "postgres").as_deref(),
                Some("s3cr:et")
            );
            assert_eq!(
                find(text, "10.0.0.1", "5432", "x", "app").as_deref(),
                Some("other")
            );
            assert_eq!(find(text, "10.0.0.1", "5432", "x", "nobody"), None);
        }
    }
}
