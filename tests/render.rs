//! What the screen shows, as text snapshots: every scenario at 80x24 (the smallest normal
//! terminal) and 160x48 (the wide layout). Models are built by feeding observations through
//! `update`, with the recorded entries fed back as journaled, exactly as the engine does.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use fixture::{SIZES, apply, snapshot_both};
use screen::render;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_core::app::driver::DriverToken;
use failover_core::app::model::Driver;
use failover_core::app::{Mode, Model, Msg};
use failover_core::kinds::{
    Observation,
    dns::DnsAnswer,
    health::ProbeOutcome,
    postgres::{Lsn, PgSnapshot, PrimaryReading, ReplicaReading, StandbyRow},
};
use failover_core::runbook::{Event, Phase, StepResult};
use failover_core::theme::{Theme, View};
use time::OffsetDateTime;
use time::macros::datetime;

const CONFIG: &str = r#"
[console]
title = "orders: site A / site B"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "api-a"
site = "primary"
http = "http://127.0.0.1:18081/healthz"
interval = "1s"
timeout = "500ms"

[[health]]
name = "api-b"
site = "secondary"
http = "http://127.0.0.1:18082/healthz"
interval = "1s"
timeout = "500ms"

[[health]]
name = "db-b-port"
site = "secondary"
tcp = "127.0.0.1:54322"

[[database]]
name = "orders"
kind = "postgres"
max-lag-bytes = 1048576
max-lag = "30s"
interval = "1s"
[[database.member]]
site = "primary"
dsn = "host=127.0.0.1 port=54321 user=postgres dbname=postgres"
[[database.member]]
site = "secondary"
dsn = "host=127.0.0.1 port=54322 user=postgres dbname=postgres"

[[dns]]
name = "api.failover.test."
type = "A"
resolvers = ["127.0.0.1:5353", "127.0.0.1:5354"]
interval = "2s"
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 14:30:00 UTC);

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

fn model_with(mode: Mode, ascii: bool) -> Model {
    fixture::model(CONFIG, mode, "alice@ops", fixture::dark(ascii), T0)
}

fn model() -> Model {
    model_with(Mode::Live, false)
}

fn probe(m: &mut Model, check: usize, secs: f64, ok: bool, detail: &str, ms: u64) {
    let outcome = ProbeOutcome {
        ok,
        latency: Duration::from_millis(ms),
        detail: detail.into(),
    };
    apply(
        m,
        Msg::Observed(Observation::Probe {
            check,
            at: at(secs),
            outcome,
        }),
    );
}

fn pg(m: &mut Model, member: usize, secs: f64, result: Result<PgSnapshot, String>) {
    apply(
        m,
        Msg::Observed(Observation::Postgres {
            db: 0,
            member,
            at: at(secs),
            result,
        }),
    );
}

fn dns(m: &mut Model, resolver: usize, secs: f64, ip: &str) {
    apply(
        m,
        Msg::Observed(Observation::Dns {
            record: 0,
            resolver,
            at: at(secs),
            answer: DnsAnswer::Records {
                values: vec![ip.into()],
                ttl: 60,
            },
        }),
    );
}

fn key(m: &mut Model, code: KeyCode) {
    apply(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(m: &mut Model, text: &str) {
    for c in text.chars() {
        key(m, KeyCode::Char(c));
    }
}

fn primary(timeline: u32, lag: u64, replay_lag: Duration) -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(timeline),
        server_version: "17.2".into(),
        cluster_name: "site_a".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x16_B374_D848),
            standbys: vec![StandbyRow {
                application_name: "site_b".into(),
                state: "streaming".into(),
                lag_bytes: Some(lag),
                replay_lag: Some(replay_lag),
            }],
        }),
        replica: None,
    }
}

fn replica(paused: bool, since_last_replay: Duration) -> PgSnapshot {
    PgSnapshot {
        in_recovery: true,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_b".into(),
        primary: None,
        replica: Some(ReplicaReading {
            receive_lsn: Some(Lsn(0x16_B374_D848)),
            replay_lsn: Some(Lsn(0x16_B374_D848)),
            replay_paused: paused,
            receiver_status: Some("streaming".into()),
            since_last_replay: Some(since_last_replay),
        }),
    }
}

/// Every check, member and resolver has answered, all agreeing on site A. A watch console
/// records no edges: its timeline shows those of the console that records them.
fn healthy(mode: Mode, ascii: bool) -> Model {
    let mut m = healthy_in(model_with(mode, ascii));
    if mode == Mode::Watch {
        let recorder = healthy(Mode::Live, ascii);
        let mut shown: Vec<_> = recorder.timeline.newest_first().collect();
        shown.reverse();
        for s in shown {
            let mut entry = s.entry.clone();
            entry.console = Some("bastion-1:4242".into());
            apply(&mut m, Msg::Foreign(entry));
        }
        m.now = at(3.0);
    }
    m
}

/// `m` after the healthy scenario's observations.
fn healthy_in(mut m: Model) -> Model {
    feed_healthy(&mut m);
    m
}

fn feed_healthy(m: &mut Model) {
    // In the order they happened, as the engine would deliver them.
    for s in [1.0, 2.0] {
        probe(m, 0, s, true, "200", 3);
        probe(m, 1, s + 0.1, true, "200", 4);
        probe(m, 2, s + 0.2, true, "connected", 1);
        pg(m, 0, s + 0.3, Ok(primary(1, 0, Duration::ZERO)));
        pg(m, 1, s + 0.4, Ok(replica(false, Duration::from_secs(2))));
    }
    dns(m, 0, 2.5, "10.0.1.100");
    dns(m, 1, 2.6, "10.0.1.100");
    m.now = at(3.0);
}

/// api-a failing, the replica paused and lagging, and the resolvers disagreeing.
fn trouble(ascii: bool) -> Model {
    let mut m = healthy(Mode::Live, ascii);
    for s in [3.0, 4.0, 5.0] {
        probe(&mut m, 0, s, false, "connection refused", 1);
    }
    probe(&mut m, 1, 5.1, true, "200", 5);
    pg(&mut m, 1, 5.2, Ok(replica(true, Duration::from_secs(95))));
    pg(
        &mut m,
        0,
        5.3,
        Ok(primary(
            1,
            5 * 1024 * 1024 + 300 * 1024,
            Duration::from_secs(41),
        )),
    );
    dns(&mut m, 0, 5.4, "10.0.2.100");
    dns(&mut m, 1, 5.5, "10.0.1.100");
    m.now = at(6.0);
    m
}

fn split_brain() -> Model {
    let mut m = healthy(Mode::Live, false);
    let promoted = PgSnapshot {
        in_recovery: false,
        timeline: Some(2),
        server_version: "17.2".into(),
        cluster_name: "site_b".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x16_B375_0000),
            standbys: vec![],
        }),
        replica: None,
    };
    pg(&mut m, 1, 10.0, Ok(promoted));
    let mut orphaned = primary(1, 0, Duration::ZERO);
    orphaned.primary.as_mut().unwrap().standbys.clear();
    pg(&mut m, 0, 10.2, Ok(orphaned));
    dns(&mut m, 0, 11.0, "10.0.2.100");
    dns(&mut m, 1, 11.5, "10.0.2.100");
    m.now = at(12.0);
    m
}

#[test]
fn all_healthy() {
    let m = healthy(Mode::Live, false);
    snapshot_both!("all_healthy", &m);
    let screen = render(&m, 80, 24);
    assert!(screen.contains("serving site A"), "{screen}");
    assert!(screen.contains(" LIVE "));
}

#[test]
fn failing_lagging_mixed() {
    let m = trouble(false);
    snapshot_both!("failing_lagging_mixed", &m);
    let screen = render(&m, 160, 48);
    for want in ["UNHEALTHY", "REPLAY PAUSED", "MIXED", "connection refused"] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
}

#[test]
fn split_brain_screen() {
    let m = split_brain();
    snapshot_both!("split_brain", &m);
    let screen = render(&m, 80, 24);
    assert!(screen.contains("SPLIT BRAIN"), "{screen}");
    assert!(screen.contains("CRITICAL"), "{screen}");
}

#[test]
fn watch_mode() {
    let m = healthy(Mode::Watch, false);
    snapshot_both!("watch_mode", &m);
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        assert!(
            screen.lines().next().unwrap().contains(" WATCH "),
            "{screen}"
        );
        assert!(!screen.contains(" LIVE "));
    }
}

#[test]
fn help_overlay() {
    let mut m = healthy(Mode::Live, false);
    key(&mut m, KeyCode::Char('?'));
    snapshot_both!("help_overlay", &m);
    let screen = render(&m, 80, 24);
    assert!(screen.contains("any key: close help"), "{screen}");
}

#[test]
fn help_overlay_watch() {
    let mut m = healthy(Mode::Watch, false);
    key(&mut m, KeyCode::Char('?'));
    snapshot_both!("help_overlay_watch", &m);
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        assert!(
            screen
                .contains("WATCH mode: read-only. This console changes nothing but its own notes."),
            "the watch line must fit at {w}x{h}:\n{screen}"
        );
        // Its help lists its own keys: none that acts.
        for acting in [
            "arm",
            "dry run",
            "override",
            "skip",
            "abort",
            "roll back",
            "read the state",
            "break",
        ] {
            assert!(
                !screen.contains(acting),
                "{acting:?} in a watch console's help:\n{screen}"
            );
        }
        assert!(screen.contains("show the current run"), "{screen}");
    }
}

#[test]
fn note_input() {
    let mut m = healthy(Mode::Live, false);
    key(&mut m, KeyCode::Char('n'));
    type_text(&mut m, "paged the DBA on-call, waiting for ack");
    snapshot_both!("note_input", &m);
    let screen = render(&m, 80, 24);
    assert!(
        screen
            .lines()
            .last()
            .unwrap()
            .starts_with("note: paged the DBA on-call, waiting for ack"),
        "{screen}"
    );
}

#[test]
fn timeline_filter() {
    let mut m = trouble(false);
    key(&mut m, KeyCode::Char('/'));
    type_text(&mut m, "site b");
    key(&mut m, KeyCode::Enter);
    snapshot_both!("timeline_filter", &m);
    let screen = render(&m, 160, 48);
    assert!(screen.contains("filter \"site b\""), "{screen}");
}

#[test]
fn timeline_filter_typing() {
    let mut m = trouble(false);
    key(&mut m, KeyCode::Char('/'));
    type_text(&mut m, "dns");
    snapshot_both!("timeline_filter_typing", &m);
}

#[test]
fn stale_sources() {
    let mut m = healthy(Mode::Live, false);
    apply(&mut m, Msg::Tick(at(20.0)));
    assert!(m.kinds.health.iter().all(|h| h.stale));
    snapshot_both!("stale_sources", &m);
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        // Stale members say since when, with the detail after a space, not run into it.
        assert!(
            screen.contains("site A primary stale 14:30:02 tl 1"),
            "{screen}"
        );
        assert!(
            screen.contains("site B replica stale 14:30:02 lag 0 B"),
            "{screen}"
        );
    }
}

#[test]
fn primary_unreachable() {
    let mut m = healthy(Mode::Live, false);
    pg(
        &mut m,
        0,
        4.0,
        Err("connection refused (is the server running on 127.0.0.1:54321?)".into()),
    );
    m.now = at(4.5);
    snapshot_both!("primary_unreachable", &m);
    let screen = render(&m, 80, 24);
    assert!(screen.contains("UNREACHABLE"), "{screen}");
    assert!(screen.contains("NO PRIMARY"), "{screen}");
}

#[test]
fn just_started() {
    let m = model();
    snapshot_both!("just_started", &m);
    let screen = render(&m, 80, 24);
    assert!(screen.contains("waiting"), "{screen}");
    assert!(
        !screen.contains("CRITICAL"),
        "nothing is known to be wrong yet:\n{screen}"
    );
}

#[test]
fn journal_write_failed() {
    let mut m = healthy(Mode::Live, false);
    let entry = failover_core::timeline::Entry::new(
        at(2.4),
        failover_core::timeline::Severity::Info,
        failover_core::timeline::Kind::Note,
        "operator",
        "starting the drill",
    )
    .by("alice@ops");
    apply(
        &mut m,
        Msg::Journaled {
            entry,
            error: Some("No space left on device (os error 28)".into()),
        },
    );
    snapshot_both!("journal_write_failed", &m);
    let screen = render(&m, 80, 24);
    assert!(screen.contains("JOURNAL WRITE FAILED"), "{screen}");
}

#[test]
fn ascii_view() {
    let m = trouble(true);
    snapshot_both!("ascii", &m);
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        let odd: Vec<char> = screen.chars().filter(|c| !c.is_ascii()).collect();
        assert!(odd.is_empty(), "non-ASCII at {w}x{h}: {odd:?}\n{screen}");
    }
    // Overlays too.
    let mut m = split_brain();
    m.view.ascii = true;
    key(&mut m, KeyCode::Char('?'));
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        assert!(screen.is_ascii(), "non-ASCII in help at {w}x{h}:\n{screen}");
    }
}

#[test]
fn terminal_too_small() {
    let m = healthy(Mode::Live, false);
    let screen = render(&m, 30, 8);
    insta::assert_snapshot!("too_small_30x8", screen);
    assert!(screen.contains("too small"), "{screen}");
    assert!(
        screen.contains("40x10"),
        "says what size is needed:\n{screen}"
    );
}

#[test]
fn named_members() {
    // Members with their own names (two on one site): the name is what the row shows.
    let text = CONFIG.replace(
        "[[database.member]]\nsite = \"primary\"\n",
        "[[database.member]]\nsite = \"primary\"\nname = \"pg17-orders-a\"\n",
    );
    let config = failover_console::config::from_str(&text, Path::new("test.toml")).unwrap();
    assert_eq!(config.kinds.postgres[0].members[0].name, "pg17-orders-a");
    let view = View {
        theme: Theme::load("dark").unwrap(),
        ascii: false,
    };
    let mut m = Model::new(Arc::new(config), Mode::Live, "alice@ops".into(), view, T0);
    m.recorder = true;
    pg(&mut m, 0, 1.0, Ok(primary(1, 0, Duration::ZERO)));
    pg(&mut m, 1, 1.1, Ok(replica(false, Duration::from_secs(2))));
    m.now = at(2.0);
    let screen = render(&m, 80, 24);
    insta::assert_snapshot!("named_members_80x24", screen);
    assert!(screen.contains("pg17-orders-a primary"), "{screen}");
}

fn with_route53() -> Model {
    let text =
        format!("{CONFIG}\n[[route53]]\nname = \"api.failover.test.\"\nzone-id = \"Z0LAB\"\n");
    let config = failover_console::config::from_str(&text, Path::new("test.toml")).unwrap();
    let view = View {
        theme: Theme::load("dark").unwrap(),
        ascii: false,
    };
    let mut m = Model::new(Arc::new(config), Mode::Live, "alice@ops".into(), view, T0);
    m.recorder = true;
    // The healthy scenario's observations, into a model that also has a [[route53]] record.
    for s in [1.0, 2.0] {
        probe(&mut m, 0, s, true, "200", 3);
        probe(&mut m, 1, s + 0.1, true, "200", 4);
        probe(&mut m, 2, s + 0.2, true, "connected", 1);
        pg(&mut m, 0, s + 0.3, Ok(primary(1, 0, Duration::ZERO)));
        pg(
            &mut m,
            1,
            s + 0.4,
            Ok(replica(false, Duration::from_secs(2))),
        );
    }
    dns(&mut m, 0, 2.5, "10.0.1.100");
    dns(&mut m, 1, 2.5, "10.0.1.100");
    m
}

fn route53_reading(m: &mut Model, secs: f64, primary_healthy: u32) {
    use failover_core::kinds::route53::{CheckerShare, HealthCheckReading, R53Reading, R53Set};
    let set = |id: &str, role: &str, ip: &str, healthy: u32| R53Set {
        set_identifier: Some(id.into()),
        failover: Some(role.into()),
        values: vec![ip.into()],
        alias: None,
        ttl: Some(60),
        health_check: Some(HealthCheckReading {
            id: format!("hc-{id}"),
            status: Ok(CheckerShare { healthy, total: 16 }),
            calculated: None,
        }),
    };
    apply(
        m,
        Msg::Observed(Observation::Route53 {
            record: 0,
            at: at(secs),
            result: Ok(R53Reading {
                sets: vec![
                    set("site-a", "PRIMARY", "10.0.1.100", primary_healthy),
                    set("site-b", "SECONDARY", "10.0.2.100", 16),
                ],
            }),
        }),
    );
}

#[test]
fn route53_agrees_with_resolvers() {
    let mut m = with_route53();
    route53_reading(&mut m, 2.8, 16);
    m.now = at(3.0);
    snapshot_both!("route53_agrees", &m);
    let screen = render(&m, 160, 48);
    assert!(
        screen.contains("Route 53 says site A (PRIMARY healthy 100% of checkers)")
            && screen.contains("    resolvers agree (ttl 60)"),
        "{screen}"
    );
}

#[test]
fn route53_says_b_resolvers_still_a() {
    let mut m = with_route53();
    route53_reading(&mut m, 2.8, 16);
    route53_reading(&mut m, 12.0, 0);
    // The resolvers answered 13 s ago with TTL 60: clients may keep site A for 47 s more.
    m.now = at(15.5);
    snapshot_both!("route53_disagrees", &m);
    let screen = render(&m, 160, 48);
    assert!(
        screen.contains("▲ Route 53 says site B (PRIMARY unhealthy 0% of checkers)")
            && screen.contains("    resolvers still say site A (TTL 47 s left)"),
        "{screen}"
    );
    let findings = failover_core::app::verdict::assess(&m);
    assert!(
        findings.iter().any(|f| f.text
            == "route53 api.failover.test. A: Route 53 says site B, resolvers still say site A (TTL 47 s left)"),
        "{findings:?}"
    );
    // Past the TTL the line says so instead of counting below zero.
    m.now = at(70.0);
    let screen = render(&m, 160, 48);
    assert!(
        screen.contains("resolvers still say site A (past their TTL)"),
        "{screen}"
    );
}

#[test]
fn route53_health_gate_reads_the_sites_set() {
    use failover_core::runbook::Gate;
    use failover_core::runbook::evidence;
    let mut m = with_route53();
    let gate_a = Gate::Route53Health { record: 0, site: 0 };
    let gate_b = Gate::Route53Health { record: 0, site: 1 };
    let before = evidence::gate(&m.world(), &gate_b);
    assert!(!before.pass);
    assert_eq!(
        before.summary(),
        "Route 53 api.failover.test. A (site B): no reading yet"
    );
    route53_reading(&mut m, 2.8, 2);
    let a = evidence::gate(&m.world(), &gate_a);
    assert!(!a.pass, "2 of 16 is 12.5 %: unhealthy");
    assert_eq!(
        a.summary(),
        "Route 53 api.failover.test. A (site A): PRIMARY set site-a health check hc-site-a UNHEALTHY 12% of checkers (healthy needs over 18% of checkers)"
    );
    let b = evidence::gate(&m.world(), &gate_b);
    assert!(b.pass, "{b:?}");
    assert_eq!(
        b.summary(),
        "Route 53 api.failover.test. A (site B): SECONDARY set site-b health check hc-site-b healthy 100% of checkers"
    );
}

/// What the terminal shows after `Screen`'s frames (replayed through a terminal emulator) is
/// exactly what a whole frame of the same model draws: after the clock drawn alone, and after
/// the full frame that follows it, whose header ratatui diffs against its own last frame, not
/// against the clock drawn since ("12:00:09" drawn, "12:00:11" shown, "12:00:19" next: the last
/// digit equals what ratatui drew, not what the terminal shows).
#[test]
fn the_screen_shows_what_a_whole_frame_draws_through_clock_only_frames() {
    use failover_console::screen::Screen;
    use failover_core::ui::{clock_alone, render, render_header};
    use ratatui::layout::{Rect, Size};
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Wire(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Wire {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The emulator's screen must read as the whole frame, cell by cell, colours included.
    fn same(parser: &vt100::Parser, m: &Model, w: u16, h: u16, when: &str) {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
        term.draw(|f| render(f, m)).unwrap();
        let want = term.backend().buffer();
        let screen = parser.screen();
        for y in 0..h {
            for x in 0..w {
                let cell = &want[(x, y)];
                let got = screen.cell(y, x).unwrap();
                let text = if got.contents().is_empty() {
                    " "
                } else {
                    got.contents()
                };
                assert_eq!(text, cell.symbol(), "{w}x{h} {when}: cell ({x}, {y})");
                let colour = |c: ratatui::style::Color| match c {
                    ratatui::style::Color::Reset => vt100::Color::Default,
                    ratatui::style::Color::Indexed(i) => vt100::Color::Idx(i),
                    ratatui::style::Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
                    other => vt100::Color::Idx(match other {
                        ratatui::style::Color::Black => 0,
                        ratatui::style::Color::Red => 1,
                        ratatui::style::Color::Green => 2,
                        ratatui::style::Color::Yellow => 3,
                        ratatui::style::Color::Blue => 4,
                        ratatui::style::Color::Magenta => 5,
                        ratatui::style::Color::Cyan => 6,
                        ratatui::style::Color::Gray => 7,
                        ratatui::style::Color::DarkGray => 8,
                        ratatui::style::Color::LightRed => 9,
                        ratatui::style::Color::LightGreen => 10,
                        ratatui::style::Color::LightYellow => 11,
                        ratatui::style::Color::LightBlue => 12,
                        ratatui::style::Color::LightMagenta => 13,
                        ratatui::style::Color::LightCyan => 14,
                        _ => 15,
                    }),
                };
                assert_eq!(
                    got.fgcolor(),
                    colour(cell.fg),
                    "{w}x{h} {when}: fg of ({x}, {y})"
                );
                assert_eq!(
                    got.bgcolor(),
                    colour(cell.bg),
                    "{w}x{h} {when}: bg of ({x}, {y})"
                );
            }
        }
    }

    for (w, h) in SIZES {
        let mut m = healthy(Mode::Live, false);
        m.now = m.now.replace_second(9).unwrap();
        let wire = Wire::default();
        let mut screen = Screen::new(wire.clone(), Size::new(w, h)).unwrap();
        let nz = |n: u16| std::num::NonZeroU16::new(n).unwrap();
        let mut parser = vt100::Parser::new(nz(h), nz(w), 0);
        let feed = |parser: &mut vt100::Parser| {
            let bytes = std::mem::take(&mut *wire.0.lock().unwrap());
            parser.process(&bytes);
            bytes.len()
        };
        screen.draw(|f| render(f, &m)).unwrap();
        assert!(feed(&mut parser) > 0);
        same(&parser, &m, w, h, "first frame");
        let mut clock_bytes = Vec::new();
        for _ in 0..2 {
            m.now += time::Duration::seconds(1);
            assert!(clock_alone(&m, Rect::new(0, 0, w, h)));
            screen.draw_header(|f| render_header(f, &m)).unwrap();
            clock_bytes.push(feed(&mut parser));
            same(&parser, &m, w, h, "clock alone");
        }
        assert!(
            clock_bytes.iter().all(|b| (1..80).contains(b)),
            "a clock-only second writes a few cells: {clock_bytes:?}"
        );
        // The same second again: nothing to write at all.
        screen.draw_header(|f| render_header(f, &m)).unwrap();
        assert_eq!(feed(&mut parser), 0, "nothing moved, nothing written");
        m.now += time::Duration::seconds(8);
        screen.draw(|f| render(f, &m)).unwrap();
        feed(&mut parser);
        same(&parser, &m, w, h, "full frame after the clock alone");
        // A resize clears and writes the whole frame at the new size.
        let (w2, h2) = (w - 10, h - 4);
        screen.resize(Size::new(w2, h2)).unwrap();
        parser.set_size(nz(h2), nz(w2));
        screen.draw(|f| render(f, &m)).unwrap();
        feed(&mut parser);
        same(&parser, &m, w2, h2, "after a resize");
    }
}

// ---- runs: the footer lists what works now -------------------------------------------------------

/// The healthy scenario in a console whose config has fixture::RUNBOOK.
fn healthy_with_runbook(mode: Mode) -> Model {
    let text = format!("{CONFIG}{}", fixture::RUNBOOK);
    let model = |mode| fixture::model(&text, mode, "alice@ops", fixture::dark(false), T0);
    let mut m = healthy_in(model(mode));
    if mode == Mode::Watch {
        // The edges come from the console that records them.
        let recorder = healthy_in(model(Mode::Live));
        let mut shown: Vec<_> = recorder.timeline.newest_first().collect();
        shown.reverse();
        for s in shown {
            let mut entry = s.entry.clone();
            entry.console = Some(fixture::BOB_CONSOLE.into());
            apply(&mut m, Msg::Foreign(entry));
        }
        m.now = at(3.0);
    }
    m
}

fn driving() -> Model {
    let mut m = healthy_with_runbook(Mode::Live);
    apply(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(1))));
    m
}

/// r, the first runbook's plan, arm it for site B with the reason "drill": its first step is
/// next.
fn arm_drill(m: &mut Model) {
    key(m, KeyCode::Char('r'));
    key(m, KeyCode::Enter);
    key(m, KeyCode::Enter);
    type_text(m, "secondary");
    key(m, KeyCode::Enter);
    type_text(m, "drill");
    key(m, KeyCode::Enter);
}

/// The last line on screen.
fn footer(screen: &str) -> &str {
    screen.lines().last().unwrap_or_default()
}

#[test]
fn watch_console_following_a_run() {
    let mut m = healthy_with_runbook(Mode::Watch);
    m.holder = Some(fixture::bob_drives());
    let id = "20260301T142900Z-failover";
    let events = [
        Event::Armed {
            target: "secondary".into(),
            reason: "bob's drill".into(),
            steps: fixture::RUNBOOK_STEPS.map(String::from).to_vec(),
            expected_primaries: vec![],
            class: None,
            incident_start: None,
            plan: None,
        },
        Event::GatePassed {
            step: 0,
            evidence: "lag 0 B".into(),
        },
        Event::GatePassed {
            step: 1,
            evidence: "every check healthy".into(),
        },
        Event::StepStarted {
            step: 2,
            phase: Phase::Do,
        },
        Event::StepFinished {
            step: 2,
            phase: Phase::Do,
            result: StepResult::Ok,
            detail: "exit 0".into(),
            elapsed_ms: 12,
        },
    ];
    for (i, event) in events.into_iter().enumerate() {
        let entry = fixture::run_entry(at(2.7 + 0.05 * i as f64), id, "bob@ops", event);
        apply(&mut m, Msg::Foreign(entry));
    }
    snapshot_both!("watch_following_a_run", &m);
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        assert!(
            footer(&screen).starts_with("r show run  ? help  q quit"),
            "{screen}"
        );
        assert!(screen.contains("read-only (--watch)"), "{screen}");
    }
    // Focused on the run: nothing to act with, Esc leaves it.
    key(&mut m, KeyCode::Char('r'));
    let screen = render(&m, 80, 24);
    assert!(footer(&screen).starts_with("Esc panes  ? help"), "{screen}");
}

#[test]
fn driving_console_with_a_plan_open() {
    let mut m = driving();
    key(&mut m, KeyCode::Char('r'));
    key(&mut m, KeyCode::Enter);
    snapshot_both!("driving_plan_open", &m);
    let screen = render(&m, 80, 24);
    assert!(
        footer(&screen).starts_with("Enter arm (type secondary)  D dry run"),
        "{screen}"
    );
}

#[test]
fn driving_console_during_a_run() {
    let mut m = driving();
    arm_drill(&mut m);
    // Both gates pass; the executor runs the action.
    key(&mut m, KeyCode::Enter);
    key(&mut m, KeyCode::Enter);
    key(&mut m, KeyCode::Enter);
    let id = m.runs.current.as_ref().expect("armed").id.clone();
    for (i, event) in [
        Event::StepStarted {
            step: 2,
            phase: Phase::Do,
        },
        Event::StepFinished {
            step: 2,
            phase: Phase::Do,
            result: StepResult::Ok,
            detail: "exit 0".into(),
            elapsed_ms: 12,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let entry = fixture::run_entry(at(3.0 + 0.012 * i as f64), &id, "alice@ops", event);
        apply(&mut m, Msg::Journaled { entry, error: None });
    }
    snapshot_both!("driving_run_rollback_ready", &m);
    let screen = render(&m, 80, 24);
    assert!(
        footer(&screen).starts_with("Enter do step 4  s skip  R roll back step 3  a abort"),
        "{screen}"
    );
}

/// Checks and members whose names share a long prefix: the name column is as wide as the
/// longest name up to its cap, and names cut to it still read differently.
fn long_names() -> Model {
    let text = CONFIG
        .replacen("name = \"api-a\"", "name = \"ledger-west-http\"", 1)
        .replacen("name = \"api-b\"", "name = \"ledger-west-pgport\"", 1)
        .replacen(
            "name = \"db-b-port\"",
            "name = \"ledger-west-payments-api-grpc-check\"",
            1,
        )
        .replacen(
            "[[database]]",
            "[[health]]\nname = \"ledger-west-payments-api-http-check\"\nsite = \"secondary\"\n\
             tcp = \"127.0.0.1:54323\"\n\n[[database]]",
            1,
        )
        .replacen(
            "[[database.member]]\nsite = \"primary\"\n",
            "[[database.member]]\nsite = \"primary\"\nname = \"ledger-west-orders-primary-pg17\"\n",
            1,
        )
        .replacen(
            "[[database.member]]\nsite = \"secondary\"\n",
            "[[database.member]]\nsite = \"secondary\"\nname = \"ledger-west-orders-replica-pg17\"\n",
            1,
        );
    let mut m = fixture::model(&text, Mode::Live, "alice@ops", fixture::dark(false), T0);
    for s in [1.0, 2.0] {
        probe(&mut m, 0, s, true, "200", 3);
        probe(&mut m, 1, s + 0.1, true, "connected", 1);
        probe(&mut m, 2, s + 0.2, true, "connected", 1);
        probe(&mut m, 3, s + 0.25, false, "connection refused", 1);
        pg(&mut m, 0, s + 0.3, Ok(primary(1, 0, Duration::ZERO)));
        pg(
            &mut m,
            1,
            s + 0.4,
            Ok(replica(false, Duration::from_secs(2))),
        );
    }
    dns(&mut m, 0, 2.5, "10.0.1.100");
    dns(&mut m, 1, 2.6, "10.0.1.100");
    m.now = at(3.0);
    m
}

/// The name cell of each row that starts with a state glyph, in the Health and Replication
/// panes (the first word after the glyph; not the DNS pane's resolvers).
fn names_shown(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|line| {
            let line = line.trim_start_matches(['┃', '│', ' ']);
            let rest = line.strip_prefix(['✔', '✖', '▲', '◌', '…'])?;
            rest.split_whitespace()
                .next()
                .filter(|name| !name.starts_with('@'))
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn names_sharing_a_long_prefix_are_told_apart() {
    let m = long_names();
    snapshot_both!("long_names", &m);
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        let names = names_shown(&screen);
        assert_eq!(
            names.len(),
            6,
            "4 checks and 2 members at {w}x{h}:\n{screen}"
        );
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), 6, "{names:?} at {w}x{h}:\n{screen}");
        for whole in ["ledger-west-http", "ledger-west-pgport"] {
            assert!(
                names.iter().any(|n| n == whole),
                "{whole} cut at {w}x{h}: {names:?}"
            );
        }
    }
    let narrow = names_shown(&render(&m, 80, 24));
    assert!(
        narrow.iter().any(|n| n.ends_with("grpc-check"))
            && narrow.iter().any(|n| n.ends_with("http-check")),
        "the cut names keep where they differ: {narrow:?}"
    );
}

/// A pane draws only the rows it shows (ten thousand checks are counted each frame, not
/// drawn): scrolled far down, the rows on screen are the right ones, in order, with their own
/// states; the title still counts a failing check far above them; scrolled past the end it
/// stops at the last row.
#[test]
fn a_long_pane_scrolled_far_down_shows_the_right_rows_and_counts_every_row() {
    use failover_core::app::model::Pane;
    let mut config = String::from(
        "[sites.primary]\nlabel = \"site A\"\n[sites.secondary]\nlabel = \"site B\"\n",
    );
    for i in 1..=500 {
        config.push_str(&format!(
            "\n[[health]]\nname = \"checkout-{i}\"\nsite = \"primary\"\nhttp = \"http://127.0.0.1:18081/c{i}\"\n"
        ));
    }
    let mut m = fixture::model(&config, Mode::Live, "alice@ops", fixture::dark(false), T0);
    for round in 0..3 {
        for check in 0..500 {
            // check 9 (checkout-10) fails, every 7th answers in 7 ms
            let ms = if check % 7 == 0 { 7 } else { 3 };
            probe(&mut m, check, round as f64, check != 9, "200", ms);
        }
    }
    for (w, h) in SIZES {
        m.ui.scroll[Pane::Health.index()] = 470;
        let screen = render(&m, w, h);
        let rows: Vec<&str> = screen
            .lines()
            .filter(|l| l.contains("checkout-") && l.contains(" site A "))
            .collect();
        assert!(rows.len() >= 10, "{w}x{h}: too few rows:\n{screen}");
        for (k, row) in rows.iter().enumerate() {
            let name = format!("checkout-{} ", 471 + k);
            assert!(
                row.contains(&name),
                "{w}x{h}: row {k} is not {name}:\n{screen}"
            );
            let ms = if (470 + k) % 7 == 0 { "7.0ms" } else { "<5ms" };
            assert!(
                row.contains(ms),
                "{w}x{h}: row {k} has not its {ms}:\n{screen}"
            );
        }
        assert!(screen.contains("Health: 1 failing"), "{w}x{h}:\n{screen}");
        m.ui.scroll[Pane::Health.index()] = 10_000;
        let screen = render(&m, w, h);
        assert!(
            screen.contains("checkout-500 "),
            "{w}x{h}: the last row:\n{screen}"
        );
    }
}

/// A runbook longer than the run pane: the step Enter does next, and what it will do, stay on
/// screen as the steps before it pile up.
#[test]
fn the_next_step_stays_in_view_at_80x24_as_a_long_run_goes_on() {
    let mut text =
        format!("{CONFIG}\n[[runbook]]\nname = \"long\"\nfrom = \"primary\"\nto = \"secondary\"\n");
    for n in 1..=12 {
        text.push_str(&format!(
            "\n[[runbook.step]]\ntitle = \"Check {n}\"\ngate = \"healthy\"\nsite = \"secondary\"\n"
        ));
    }
    let mut m = healthy_in(fixture::model(
        &text,
        Mode::Live,
        "alice@ops",
        fixture::dark(false),
        T0,
    ));
    apply(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(1))));
    arm_drill(&mut m);
    for done in 1..=11 {
        key(&mut m, KeyCode::Enter);
        let next = done + 1;
        for (w, h) in [(80, 24), (160, 48)] {
            let screen = render(&m, w, h);
            assert!(
                footer(&screen).starts_with(&format!("Enter do step {next}")),
                "{screen}"
            );
            let row = format!(">{next:>2} ");
            let at = screen
                .lines()
                .position(|l| l.contains(&row))
                .unwrap_or_else(|| panic!("step {next} is not on screen at {w}x{h}:\n{screen}"));
            assert!(
                screen
                    .lines()
                    .nth(at + 1)
                    .is_some_and(|l| l.contains("       now: PASS")),
                "its evidence is under it at {w}x{h}:\n{screen}"
            );
        }
    }
    snapshot_both!("long_run_next_step_in_view", &m);
}
