//! One reading of a PostgreSQL server.

use std::time::Duration;

/// A write-ahead-log position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(pub u64);

impl Lsn {
    /// Parses PostgreSQL's "16/B374D848" text form: two halves of 1 to 8 hex digits each (a
    /// longer half, a sign or a space is not an LSN, where it would have overflowed the high
    /// half or been folded into it).
    pub fn parse(text: &str) -> Option<Lsn> {
        let half = |h: &str| {
            if !(1..=8).contains(&h.len()) || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(h, 16).ok().map(u64::from)
        };
        let (hi, lo) = text.split_once('/')?;
        Some(Lsn((half(hi)? << 32) | half(lo)?))
    }
}

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// One reading of a PostgreSQL server.
#[derive(Debug, Clone, PartialEq)]
pub struct PgSnapshot {
    pub in_recovery: bool,
    pub timeline: Option<u32>,
    pub server_version: String,
    /// `cluster_name`, which a standby's walreceiver reports as application_name by default.
    pub cluster_name: String,
    pub primary: Option<PrimaryReading>,
    pub replica: Option<ReplicaReading>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrimaryReading {
    pub current_lsn: Lsn,
    pub standbys: Vec<StandbyRow>,
}

/// A row of the primary's `pg_stat_replication`.
#[derive(Debug, Clone, PartialEq)]
pub struct StandbyRow {
    pub application_name: String,
    pub state: String,
    pub lag_bytes: Option<u64>,
    pub replay_lag: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaReading {
    pub receive_lsn: Option<Lsn>,
    pub replay_lsn: Option<Lsn>,
    pub replay_paused: bool,
    /// `pg_stat_wal_receiver.status`, None when no walreceiver runs.
    pub receiver_status: Option<String>,
    /// `now() - pg_last_xact_replay_timestamp()`: grows while the primary is idle.
    pub since_last_replay: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsn_round_trips() {
        let lsn = Lsn::parse("16/B374D848").unwrap();
        assert_eq!(lsn.0, (0x16 << 32) | 0xB374D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!(Lsn::parse("nope"), None);
        assert_eq!(Lsn::parse("1/100000000"), None);
        assert_eq!(Lsn::parse("+1/0"), None);
    }
}
