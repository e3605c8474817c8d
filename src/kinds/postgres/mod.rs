//! `[[database]] kind = "postgres"`: one poller per member, the promote action, the write check
//! (`wait = "writable"`), and what a DSN means (the core asks the driver, which it does not
//! link).

pub mod dsn;
mod promote;
pub mod source;
pub mod tls;
pub mod writable;

use failover_core::config::{Drivers, Dsn};
use failover_core::kinds::Postgres;
use failover_core::kinds::postgres::Database;
use tokio::task::JoinSet;
use tokio_postgres::config::Host;

pub use promote::{execute, preflight, read_back};

use super::{Pollers, Sender, Source};

impl Source for Postgres {
    fn spawn(specs: &[Database], tx: &Sender, pollers: &mut Pollers) {
        for (d, db) in specs.iter().enumerate() {
            for (m, member) in db.members.iter().enumerate() {
                let poller = source::Poller::new(d, m, member.clone(), db.timeout);
                let tx = tx.clone();
                let interval = db.interval;
                let name = format!("db/{}/{}", db.name, member.name);
                pollers.spawn(vec![name], async move { poller.run(interval, tx).await });
            }
        }
    }

    fn read_once(specs: &[Database], tx: &Sender, tasks: &mut JoinSet<()>) {
        for (d, db) in specs.iter().enumerate() {
            for (m, member) in db.members.iter().enumerate() {
                let poller = source::Poller::new(d, m, member.clone(), db.timeout);
                let tx = tx.clone();
                tasks.spawn(async move {
                    let _ = tx.send(poller.once().await).await;
                });
            }
        }
    }
}

/// The config's drivers: tokio-postgres reads the DSNs.
pub struct PostgresDsns;

impl Drivers for PostgresDsns {
    fn postgres_dsn(&self, dsn: &str) -> Result<Dsn, String> {
        let (config, settings) = source::parse_dsn(dsn)?;
        // A file of roots that cannot be read would fail every connection: said here instead.
        if settings.rootcert_file().is_some() && settings.mode != dsn::SslMode::Disable {
            tls::roots(&settings)?;
        }
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                Host::Tcp(h) => h.clone(),
                Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_default();
        let port = config.get_ports().first().copied().unwrap_or(5432);
        Ok(Dsn {
            endpoint: format!("{host}:{port}"),
            target: target(dsn),
            has_password: config.get_password().is_some(),
        })
    }
}

/// "host 127.0.0.1 port 54322 user postgres db postgres", from the DSN's own fields only.
pub fn target(dsn: &str) -> String {
    let Ok((config, _)) = source::parse_dsn(dsn) else {
        return "invalid dsn".into();
    };
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let mut text = format!("host {host} port {port}");
    if let Some(user) = config.get_user() {
        text.push_str(&format!(" user {user}"));
    }
    if let Some(db) = config.get_dbname() {
        text.push_str(&format!(" db {db}"));
    }
    text
}
