//! NO_COLOR through the real binary in tmux: the screen the console draws has no colour at all
//! (the mono theme: weight, reverse, underline), where the same config without it is in colour.
//! No lab server is used: the one source is a port nothing listens on.
// tmux comes with the lab's packages (`scripts/lab up`): run by `scripts/test` with the feature.
#![cfg(feature = "lab")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::tmux::Tmux;

/// A config in `dir` whose theme is dark (colours), with one health check that fails.
fn config(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        r#"
[console]
title = "no colour test"
journal = "journal.jsonl"
theme = "dark"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "nothing"
site = "primary"
tcp = "127.0.0.1:9"
interval = "1s"
timeout = "200ms"
"#,
    )
    .expect("write the config");
    path
}

/// The pane with its escape sequences (`capture-pane -e`).
fn styled_screen(tmux: &Tmux) -> String {
    let out = Command::new("tmux")
        .args(["capture-pane", "-p", "-e", "-t", &tmux.session])
        .output()
        .expect("tmux capture-pane");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The parameters of every SGR sequence (`ESC [ ... m`) in `text`.
fn sgr_params(text: &str) -> Vec<Vec<u16>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        rest = &rest[at + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with('m') {
            out.push(
                rest[..end]
                    .split(';')
                    .map(|p| p.parse().unwrap_or(0))
                    .collect(),
            );
        }
        rest = &rest[end..];
    }
    out
}

/// A foreground or background colour: 30-38, 40-48, 90-97, 100-107 (38 and 48 start the 256
/// and RGB forms). The default-colour resets 39 and 49 are not colours.
fn is_colour(sequence: &[u16]) -> bool {
    sequence
        .iter()
        .any(|p| matches!(p, 30..=38 | 40..=48 | 90..=97 | 100..=107))
}

/// The console in tmux with `no_color` as NO_COLOR, once it has drawn the failing check.
fn drawn(config: &Path, tag: &str, no_color: &str) -> (Tmux, String) {
    let tmux = Tmux::start_with(config, tag, &[("NO_COLOR", no_color)]);
    tmux.wait_for("nothing", Duration::from_secs(15));
    // The check's row once it has failed: the crit style is on screen.
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let plain = tmux.screen();
        if plain.contains("UNHEALTHY") {
            break;
        }
        assert!(
            Instant::now() < end,
            "the check never showed UNHEALTHY:\n{plain}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let screen = styled_screen(&tmux);
    (tmux, screen)
}

#[test]
fn no_color_draws_the_mono_theme_and_without_it_the_configured_colours() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());

    // Without NO_COLOR (empty counts as unset): the dark theme's colours.
    let (coloured, screen) = drawn(&config, "colour", "");
    let sequences = sgr_params(&screen);
    assert!(
        sequences.iter().any(|s| is_colour(s)),
        "the dark theme draws in colour: {sequences:?}"
    );
    drop(coloured);

    // With NO_COLOR: no colour anywhere, and the mono theme's weight and reverse video (the
    // LIVE badge, the crit row) are there: the capture does carry styles.
    let (mono, screen) = drawn(&config, "mono", "1");
    let sequences = sgr_params(&screen);
    let colours: Vec<&Vec<u16>> = sequences.iter().filter(|s| is_colour(s)).collect();
    assert!(
        colours.is_empty(),
        "NO_COLOR must draw no colour, found {colours:?} in:\n{screen:?}"
    );
    assert!(
        sequences.iter().any(|s| s.contains(&7)) && sequences.iter().any(|s| s.contains(&1)),
        "mono's reverse video and bold are drawn: {sequences:?}"
    );
    drop(mono);
}
