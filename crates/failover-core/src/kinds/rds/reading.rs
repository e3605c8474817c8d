//! What RDS (and CloudWatch, for lag) answered for an `[[rds]]` source.

use std::time::Duration;

use crate::kinds::cloudwatch::Datapoint;

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
