//! The rds-promote and rds-failover actions' pure half: their fields and how the plan shows
//! them. The binary calls RDS.

use std::time::Duration;

use crate::kinds::aws::{AwsSettings, human, poll_every, where_text};

/// `action = "rds-promote"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Promote {
    pub instance: String,
    pub aws: AwsSettings,
    pub timeout: Duration,
}

/// `action = "rds-failover"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failover {
    pub cluster: String,
    pub target: String,
    pub aws: AwsSettings,
    pub timeout: Duration,
}

pub fn describe_promote(p: &Promote) -> Vec<String> {
    vec![
        format!("RDS PromoteReadReplica {}", p.instance),
        format!(
            "check first: DescribeDBInstances {} is a read replica (ReadReplicaSourceDBInstanceIdentifier set) and available",
            p.instance
        ),
        format!(
            "then DescribeDBInstances every {} until {} has no ReadReplicaSourceDBInstanceIdentifier and is available, up to {} (still a replica by then: outcome unknown)",
            human(poll_every(p.timeout)),
            p.instance,
            human(p.timeout)
        ),
        where_text(&p.aws, None),
    ]
}
pub fn describe_failover(f: &Failover) -> Vec<String> {
    vec![
        format!(
            "RDS FailoverDBCluster {} TargetDBInstanceIdentifier {}",
            f.cluster, f.target
        ),
        format!(
            "check first: DescribeDBClusters {} is available, {} is a member and not the writer",
            f.cluster, f.target
        ),
        format!(
            "then DescribeDBClusters every {} until {} IsClusterWriter and {} is available, up to {} (not by then: outcome unknown)",
            human(poll_every(f.timeout)),
            f.target,
            f.cluster,
            human(f.timeout)
        ),
        where_text(&f.aws, None),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promote() -> Promote {
        Promote {
            instance: "orders-b".into(),
            aws: AwsSettings::default(),
            timeout: Duration::from_secs(300),
        }
    }

    #[test]
    fn describe_says_what_is_called_and_how_it_is_read_back() {
        let lines = describe_promote(&promote());
        assert_eq!(lines[0], "RDS PromoteReadReplica orders-b");
        assert!(
            lines[2].contains("every 5s") && lines[2].contains("up to 5m"),
            "{lines:?}"
        );
        assert_eq!(
            lines[3],
            "AWS: region from the default chain, credentials from the default chain"
        );
    }
}
