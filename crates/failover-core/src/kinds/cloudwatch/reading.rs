//! What CloudWatch answered.

use time::OffsetDateTime;

/// One CloudWatch datapoint: the statistic over one period, stamped with the period's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Datapoint {
    pub value: f64,
    pub at: OffsetDateTime,
}
