//! What a resolver answered.

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
