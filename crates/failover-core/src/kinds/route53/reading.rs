//! What Route 53 holds for a record: its record sets and their health checks.

use crate::kinds::cloudwatch::Datapoint;

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
}
