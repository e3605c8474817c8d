//! Durations written the way operators write them: "500ms", "2s", "1m30s".

use std::time::Duration;

use serde::{Deserialize, Deserializer, de};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigDuration(pub Duration);

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map(ConfigDuration).map_err(de::Error::custom)
    }
}

pub fn parse(text: &str) -> Result<Duration, String> {
    let expected = "expected a number with a unit, e.g. \"500ms\", \"2s\", \"1m30s\"";
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with('-') {
        return Err(format!("invalid duration {text:?}: {expected}"));
    }
    humantime::parse_duration(trimmed).map_err(|_| format!("invalid duration {text:?}: {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_operator_durations() {
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("1m30s").unwrap(), Duration::from_secs(90));
        assert!(parse("5").is_err());
        assert!(parse("-1s").is_err());
        assert!(parse("soon").unwrap_err().contains("\"soon\""));
    }
}
