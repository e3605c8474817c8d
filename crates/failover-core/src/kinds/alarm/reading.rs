//! What DescribeAlarms answered.

use time::OffsetDateTime;

/// An alarm's state, as CloudWatch names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmValue {
    Ok,
    Alarm,
    InsufficientData,
    /// A state this console does not know (a newer API): shown as CloudWatch wrote it.
    Other(String),
}

impl AlarmValue {
    pub fn from_api(text: &str) -> AlarmValue {
        match text {
            "OK" => AlarmValue::Ok,
            "ALARM" => AlarmValue::Alarm,
            "INSUFFICIENT_DATA" => AlarmValue::InsufficientData,
            other => AlarmValue::Other(other.to_string()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            AlarmValue::Ok => "OK",
            AlarmValue::Alarm => "ALARM",
            AlarmValue::InsufficientData => "INSUFFICIENT_DATA",
            AlarmValue::Other(text) => text,
        }
    }
}

/// One alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmInfo {
    pub name: String,
    pub state: AlarmValue,
    /// CloudWatch's StateReason: why it is in that state.
    pub reason: String,
    /// StateUpdatedTimestamp: when it entered that state.
    pub since: Option<OffsetDateTime>,
}

/// One read of an `[[alarm]]` source: the alarms CloudWatch returned, by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlarmReading {
    pub alarms: Vec<AlarmInfo>,
}
