//! Durations written the way operators write them: "500ms", "2s", "1m30s".
//!
//! Every duration in the config is at most [`LONGEST`] (a day): a longer one is refused when
//! the file is read, so no key's value added to a clock or an `Instant` can overflow. Keys
//! with a tighter range (timeouts: at most [`LONGEST_TIMEOUT`]) check it where they are parsed.

use std::time::Duration;

use serde::{Deserialize, Deserializer, de};

/// The longest duration any key takes: one day.
pub const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest timeout of a source's read: one hour.
pub const LONGEST_TIMEOUT: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigDuration(pub Duration);

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map(ConfigDuration).map_err(de::Error::custom)
    }
}

/// A duration of at most [`LONGEST`].
pub fn parse(text: &str) -> Result<Duration, String> {
    let expected = "expected a number with a unit, e.g. \"500ms\", \"2s\", \"1m30s\"";
    let too_long = || format!("duration {text:?} too long: expected at most 1d (24h)");
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with('-') {
        return Err(format!("invalid duration {text:?}: {expected}"));
    }
    match humantime::parse_duration(trimmed) {
        Ok(d) if d <= LONGEST => Ok(d),
        Ok(_) | Err(humantime::DurationError::NumberOverflow) => Err(too_long()),
        Err(_) => Err(format!("invalid duration {text:?}: {expected}")),
    }
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

    #[test]
    fn a_day_at_most_and_overflow_is_named_as_such() {
        assert_eq!(parse("24h").unwrap(), LONGEST);
        assert_eq!(parse("1d").unwrap(), LONGEST);
        for huge in [
            "24h 1ms",
            "2d",
            "18446744073709551615s",
            "18446744073709551616s",
            "99999999999999999999999999d",
        ] {
            let e = parse(huge).unwrap_err();
            assert!(e.contains("too long: expected at most 1d"), "{huge}: {e}");
        }
    }
}
