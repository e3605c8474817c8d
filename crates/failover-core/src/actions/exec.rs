//! The exec action's pure half: how the plan shows a command line, and how long it can take.

use std::path::Path;
use std::time::Duration;

/// After SIGTERM to the group at the timeout, how long before SIGKILL; and after SIGKILL, how
/// long before the command is given up on.
pub const TERM_GRACE: Duration = Duration::from_secs(2);
/// After the command exits, how long its output may still take to arrive (a background child
/// that keeps the pipes open must not hold the action forever).
pub const DRAIN: Duration = Duration::from_secs(1);

/// The longest a command can hold its step: its timeout, the grace after SIGTERM, the wait
/// after SIGKILL, and the output's drain.
pub fn max_duration(timeout: Duration) -> Duration {
    timeout + TERM_GRACE * 2 + DRAIN
}

/// What a command gets of the console's environment besides the variables its step names.
pub const BASE_ENV: [&str; 4] = ["PATH", "HOME", "LANG", "TERM"];

/// The command line, shell-quoted, where it runs, the variables it is given and its timeout.
pub fn describe(
    argv: &[String],
    cwd: Option<&Path>,
    env: &[String],
    timeout: Duration,
) -> Vec<String> {
    let mut lines = vec![if argv.is_empty() {
        "run: (no command)".to_string()
    } else {
        format!("run: {}", shell_join(argv))
    }];
    if let Some(dir) = cwd {
        lines.push(format!("in {}", shell_quote(&dir.display().to_string())));
    }
    if !env.is_empty() {
        lines.push(format!(
            "with {} from the console's environment",
            env.join(", ")
        ));
    }
    lines.push(format!(
        "timeout {}: then its process group is killed (outcome unknown)",
        humantime::format_duration(timeout)
    ));
    lines
}
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}
/// As a POSIX shell would need it: bare when safe, else in single quotes.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("abc-1.2/x=y"), "abc-1.2/x=y");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The plan's command line, split as the config splits `command = "..."`, is the argv.
        #[test]
        fn shell_join_round_trips_through_shell_words(argv in prop::collection::vec(any::<String>(), 0..6)) {
            let line = shell_join(&argv);
            prop_assert_eq!(shell_words::split(&line).expect("splits"), argv.clone(), "{}", line);
            let theirs = shell_words::join(&argv);
            prop_assert_eq!(shell_words::split(&theirs).expect("splits"), argv, "{}", theirs);
        }

        #[test]
        fn splitting_any_line_never_panics(line in any::<String>()) {
            if let Ok(argv) = shell_words::split(&line) {
                // What splits joins back to a line that splits the same.
                prop_assert_eq!(shell_words::split(&shell_join(&argv)).expect("splits"), argv);
            }
        }
    }
}
