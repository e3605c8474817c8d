//! What the pollers report: plain data, produced by `sources`, consumed by `app::update`.

use std::time::Duration;

use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    Probe {
        check: usize,
        at: OffsetDateTime,
        outcome: ProbeOutcome,
    },
    Postgres {
        db: usize,
        member: usize,
        at: OffsetDateTime,
        result: Result<PgSnapshot, String>,
    },
    Dns {
        record: usize,
        resolver: usize,
        at: OffsetDateTime,
        answer: DnsAnswer,
    },
    /// One read of a `[[route53]]` record: its record sets and their health checks.
    Route53 {
        record: usize,
        at: OffsetDateTime,
        result: Result<R53Reading, AwsError>,
    },
    /// One read of an `[[rds]]` source: its instances, their cluster, their replica lag.
    Rds {
        source: usize,
        at: OffsetDateTime,
        result: Result<RdsReading, AwsError>,
    },
    /// One read of a Patroni cluster (`[[database]] kind = "patroni"`).
    Patroni {
        cluster: usize,
        at: OffsetDateTime,
        reading: crate::patroni::Reading,
    },
    /// One read of a `[[cloudwatch]]` check: the latest datapoint, if any.
    CloudWatch {
        check: usize,
        at: OffsetDateTime,
        result: Result<Option<Datapoint>, AwsError>,
    },
}

/// One CloudWatch datapoint: the statistic over one period, stamped with the period's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Datapoint {
    pub value: f64,
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RdsReading {
    /// One per configured instance, in config order: the instance, or why it could not be read.
    pub instances: Vec<Result<RdsInstance, String>>,
    /// The Aurora clusters named by the config or by the instances.
    pub clusters: Vec<Result<RdsCluster, String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RdsInstance {
    pub id: String,
    /// "available", "modifying", "rebooting"...
    pub status: String,
    pub engine: String,
    pub availability_zone: Option<String>,
    pub multi_az: bool,
    pub role: RdsRole,
    /// Replicas and Aurora readers only.
    pub lag: Option<LagReading>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdsRole {
    /// A stand-alone instance (it may have read replicas).
    Primary {
        replicas: Vec<String>,
    },
    ReadReplica {
        source: String,
    },
    AuroraWriter {
        cluster: String,
    },
    AuroraReader {
        cluster: String,
    },
    /// An Aurora instance whose cluster could not be read (or does not list it).
    AuroraUnknown {
        cluster: String,
    },
}

impl RdsRole {
    /// Lag applies (the instance replicates from another).
    pub fn is_replica(&self) -> bool {
        matches!(
            self,
            RdsRole::ReadReplica { .. } | RdsRole::AuroraReader { .. }
        )
    }
}

/// The CloudWatch metric that carries an RDS replica's lag, and its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LagMetric {
    /// `AWS/RDS ReplicaLag`, in seconds.
    ReplicaLag,
    /// `AWS/RDS AuroraReplicaLag`, in milliseconds.
    AuroraReplicaLag,
}

impl LagMetric {
    pub fn name(self) -> &'static str {
        match self {
            LagMetric::ReplicaLag => "ReplicaLag",
            LagMetric::AuroraReplicaLag => "AuroraReplicaLag",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            LagMetric::ReplicaLag => "s",
            LagMetric::AuroraReplicaLag => "ms",
        }
    }

    /// The metric's value as a duration (negative values, e.g. MySQL's -1 for "not
    /// replicating", are None).
    pub fn duration(self, value: f64) -> Option<Duration> {
        let secs = match self {
            LagMetric::ReplicaLag => value,
            LagMetric::AuroraReplicaLag => value / 1000.0,
        };
        Duration::try_from_secs_f64(secs).ok()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LagReading {
    pub metric: LagMetric,
    /// The latest datapoint (Ok(None): none in the window), or why the metric could not be read.
    pub latest: Result<Option<Datapoint>, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RdsCluster {
    pub id: String,
    pub status: String,
    pub engine: String,
    pub multi_az: bool,
    /// (DB instance identifier, is the writer).
    pub members: Vec<(String, bool)>,
}

/// What Route 53 holds for one name and type.
#[derive(Debug, Clone, PartialEq)]
pub struct R53Reading {
    /// Exact matches of the name and type, in Route 53's order.
    pub sets: Vec<R53Set>,
}

/// One resource record set.
#[derive(Debug, Clone, PartialEq)]
pub struct R53Set {
    pub set_identifier: Option<String>,
    /// "PRIMARY" or "SECONDARY" for failover routing; None for a plain record set.
    pub failover: Option<String>,
    /// Normalised like the DNS pane's answers, sorted. Empty for an alias.
    pub values: Vec<String>,
    /// "alias to NAME" when the set is an alias.
    pub alias: Option<String>,
    pub ttl: Option<i64>,
    pub health_check: Option<HealthCheckReading>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckReading {
    pub id: String,
    /// From GetHealthCheckStatus, or why it could not be read.
    pub status: Result<CheckerShare, String>,
    /// A calculated check, where GetHealthCheckStatus does not apply: the CloudWatch metric
    /// (`AWS/Route53` `HealthCheckStatus` or `HealthCheckPercentageHealthy`) `status` came from.
    pub calculated: Option<(String, Datapoint)>,
}

/// How many of Route 53's checkers report the endpoint healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckerShare {
    pub healthy: u32,
    pub total: u32,
}

impl CheckerShare {
    pub fn percent(&self) -> u32 {
        (u64::from(self.healthy) * 100)
            .checked_div(u64::from(self.total))
            .map_or(0, |p| u32::try_from(p).unwrap_or(u32::MAX))
    }

    /// Route 53 considers a check healthy when more than 18 % of its checkers report it healthy.
    pub fn healthy(&self) -> bool {
        self.total > 0 && u64::from(self.healthy) * 100 > 18 * u64::from(self.total)
    }
}

/// Why an AWS call failed, classified for the operator. Never holds credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub kind: AwsErrorKind,
    /// What the SDK said, for the detail line.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    NoCredentials,
    /// No region in the config, the environment or the profile (RDS and CloudWatch need one).
    NoRegion,
    CredentialsExpired,
    AccessDenied,
    /// Throttled: the poller backs off (the next try is in `retry_in`).
    Throttled {
        retry_in_secs: u64,
    },
    Unreachable,
    Timeout,
    NotFound,
    Other,
}

impl AwsError {
    /// One line for the pane: "credentials expired for profile ops", "throttled: next try in 60s"...
    pub fn describe(&self, profile: Option<&str>) -> String {
        let whose = match profile {
            Some(p) => format!("profile {p}"),
            None => "the default credential chain".to_string(),
        };
        match self.kind {
            AwsErrorKind::NoCredentials => format!("no credentials from {whose}"),
            AwsErrorKind::NoRegion => match profile {
                Some(p) => {
                    format!("no region: set region in the config, AWS_REGION or profile {p}")
                }
                None => "no region: set region in the config or AWS_REGION".to_string(),
            },
            AwsErrorKind::CredentialsExpired => format!("credentials expired for {whose}"),
            AwsErrorKind::AccessDenied => format!("access denied for {whose}: {}", self.message),
            AwsErrorKind::Throttled { retry_in_secs } => {
                format!("throttled by AWS: next try in {retry_in_secs}s")
            }
            AwsErrorKind::Unreachable => format!("endpoint unreachable: {}", self.message),
            AwsErrorKind::Timeout => format!("timeout: {}", self.message),
            AwsErrorKind::NotFound if self.message.to_ascii_lowercase().contains("not found") => {
                self.message.clone()
            }
            AwsErrorKind::NotFound => format!("not found: {}", self.message),
            AwsErrorKind::Other => self.message.clone(),
        }
    }
}

/// One HTTP or TCP probe.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOutcome {
    pub ok: bool,
    pub latency: Duration,
    /// "200", "status 503 (expected 200)", "connection refused", "timeout after 500ms"...
    pub detail: String,
}

/// A write-ahead-log position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(pub u64);

impl Lsn {
    /// Parses PostgreSQL's "16/B374D848" text form.
    pub fn parse(text: &str) -> Option<Lsn> {
        let (hi, lo) = text.split_once('/')?;
        let hi = u64::from_str_radix(hi, 16).ok()?;
        let lo = u64::from_str_radix(lo, 16).ok()?;
        Some(Lsn((hi << 32) | lo))
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

#[derive(Debug, Clone, PartialEq)]
pub enum DnsAnswer {
    Records {
        values: Vec<String>,
        ttl: u32,
    },
    /// The name exists but has no record of this type.
    NoData,
    NxDomain,
    ServFail,
    Refused,
    Timeout,
    Error(String),
}

impl DnsAnswer {
    pub fn describe(&self) -> String {
        match self {
            DnsAnswer::Records { values, .. } => values.join(", "),
            DnsAnswer::NoData => "NODATA (no record of this type)".into(),
            DnsAnswer::NxDomain => "NXDOMAIN".into(),
            DnsAnswer::ServFail => "SERVFAIL".into(),
            DnsAnswer::Refused => "REFUSED".into(),
            DnsAnswer::Timeout => "timeout".into(),
            DnsAnswer::Error(e) => e.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route53_healthy_above_18_percent() {
        let share = |healthy, total| CheckerShare { healthy, total };
        assert!(!share(0, 0).healthy());
        assert!(share(3, 16).healthy()); // 18.75 %
        assert!(!share(2, 16).healthy()); // 12.5 %
        assert!(share(1, 1).healthy());
        assert!(!share(0, 8).healthy());
        assert!(share(2, 8).healthy());
    }

    #[test]
    fn lsn_round_trips() {
        let lsn = Lsn::parse("16/B374D848").unwrap();
        assert_eq!(lsn.0, (0x16 << 32) | 0xB374D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!(Lsn::parse("nope"), None);
    }
}
