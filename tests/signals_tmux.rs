//! The real binary in tmux, stopped during a step: by its terminal closing (an SSH session
//! dropped), SIGTERM, or `q` + `quit`. The step is waited for, never killed for the stop: its
//! outcome is journaled, then `stopped: <why>`, and the exit code says why. And panics: one in
//! a poller is an edge and the console goes on; one in the event loop or a step's task is
//! journaled and the console exits 101 with the terminal given back. (The panics come from
//! `src/test_hooks.rs`, which the `lab` feature compiles in: nothing real panics on purpose.)
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::tmux::{Tmux, console_pid, process_exists, slow_runbook, step_pid};
use common::*;
use failover_core::runbook::{Event, Phase, StepResult};
use failover_core::timeline::{Entry, Kind, Severity};

/// How long the step's command runs.
const STEP_SECS: u64 = 6;

/// The lab's config with the slow runbook (the third), and where its command writes its pid.
fn with_slow_runbook(lab: &Lab) -> PathBuf {
    let pid_file = lab.dir.path().join("child.pid");
    let mut text = std::fs::read_to_string(&lab.config_path).expect("config");
    text.push_str(&slow_runbook(&pid_file, STEP_SECS));
    std::fs::write(&lab.config_path, text).expect("write config");
    pid_file
}

/// Waits (bounded) until the journal holds what `done` looks for.
fn wait_journal(lab: &Lab, what: &str, within: Duration, done: impl Fn(&[Entry]) -> bool) {
    let end = Instant::now() + within;
    loop {
        let entries = lab.journal();
        if done(&entries) {
            return;
        }
        assert!(
            Instant::now() < end,
            "journal never showed {what}:\n{}",
            journal_text(&entries)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn started(e: &Entry) -> bool {
    matches!(
        e.run.as_ref().map(|r| &r.event),
        Some(Event::StepStarted {
            step: 0,
            phase: Phase::Do
        })
    )
}

fn finished_ok(e: &Entry) -> bool {
    matches!(
        e.run.as_ref().map(|r| &r.event),
        Some(Event::StepFinished {
            step: 0,
            phase: Phase::Do,
            result: StepResult::Ok,
            ..
        })
    )
}

/// r, the third runbook, its plan, arm (the site, then a reason), Enter: the step runs. Returns
/// the command's pid, once it has written it.
fn start_slow_step(tmux: &Tmux, lab: &Lab, pid_file: &Path) -> u32 {
    tmux.start_slow_run("signal test");
    wait_journal(
        lab,
        "the slow step started",
        Duration::from_secs(10),
        |es| es.iter().any(started),
    );
    step_pid(pid_file)
}

/// Waits (bounded) until no process has this pid.
fn wait_gone(pid: u32, what: &str, within: Duration) -> Duration {
    let began = Instant::now();
    while process_exists(pid) {
        assert!(
            began.elapsed() < within,
            "{what} (pid {pid}) still exists after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    began.elapsed()
}

/// The step's outcome (ok: the command ran its full time, nobody killed it), then
/// `stopped: <reason>`, the console's last entry.
fn assert_outcome_then_stopped(lab: &Lab, reason: &str) {
    let entries = lab.journal();
    let text = journal_text(&entries);
    let outcome = entries
        .iter()
        .position(finished_ok)
        .unwrap_or_else(|| panic!("no ok outcome for the step:\n{text}"));
    let stopped = entries
        .iter()
        .position(|e| e.kind == Kind::Console && e.message == format!("stopped: {reason}"))
        .unwrap_or_else(|| panic!("no 'stopped: {reason}':\n{text}"));
    assert!(outcome < stopped, "the outcome comes first:\n{text}");
    assert_eq!(
        stopped,
        entries.len() - 1,
        "the stop is the last entry:\n{text}"
    );
    let elapsed = match &entries[outcome].run.as_ref().unwrap().event {
        Event::StepFinished { elapsed_ms, .. } => *elapsed_ms,
        _ => unreachable!(),
    };
    assert!(
        elapsed >= STEP_SECS * 1000,
        "the step ran its full {STEP_SECS} s ({elapsed} ms):\n{text}"
    );
}

/// User and system CPU time a process has used, in clock ticks (/proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the console runs");
    // After "pid (comm) ": state is field 3, utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..]
        .split(' ')
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn log_text(lab: &Lab) -> String {
    std::fs::read_to_string(lab.dir.path().join("console.log")).unwrap_or_default()
}

/// The pane's terminal closes mid-step, the console its session's leader: the kernel's SIGHUP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_closed_mid_step_waits_for_it_then_stops_on_sighup() {
    let lab = Lab::begin().await;
    let pid_file = with_slow_runbook(&lab);
    let tmux = Tmux::start(&lab.config_path, "hup");
    let child = start_slow_step(&tmux, &lab, &pid_file);
    let console = console_pid(&lab);

    let closed = Instant::now();
    tmux.kill();
    // While it waits for the step it is idle: crossterm's reader spins on a hung-up terminal
    // unless its input is parked.
    std::thread::sleep(Duration::from_millis(300));
    let window = Duration::from_secs(2);
    let before = cpu_ticks(console);
    std::thread::sleep(window);
    let used = cpu_ticks(console) - before;
    // SAFETY: sysconf(3) reads a constant of the system.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    assert!(
        used * 4 < ticks_per_second * window.as_secs(),
        "{used} ticks of CPU in {window:?} while waiting for the step (at {ticks_per_second}/s)"
    );
    let took = wait_gone(console, "the console", Duration::from_secs(STEP_SECS + 15));
    eprintln!("kill-session -> console gone: {took:?} (a {STEP_SECS} s step)");
    assert!(!process_exists(child), "the step's command is gone");
    assert_outcome_then_stopped(&lab, "SIGHUP");
    assert!(
        closed.elapsed() < Duration::from_secs(STEP_SECS + 5),
        "the console stops once the step ends"
    );
    let log = log_text(&lab);
    assert!(log.contains("exit code 129"), "{log}");
    assert!(!log.contains("panic"), "{log}");
}

/// The same through a login shell, as over SSH: the shell gets the hangup and passes it on to
/// the console, which it runs as a job; the shell records the console's exit status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_closed_under_a_shell_exits_129() {
    let lab = Lab::begin().await;
    let pid_file = with_slow_runbook(&lab);
    let exit_file = lab.dir.path().join("exit");
    let script = lab.dir.path().join("login.sh");
    std::fs::write(
        &script,
        format!(
            r#"exec 3<&0
{bin} --config {config} --operator tmux-test <&3 3<&- &
pid=$!
trap 'kill -HUP $pid' HUP
while kill -0 $pid 2>/dev/null; do wait $pid; status=$?; done
echo $status > {exit}
"#,
            bin = env!("CARGO_BIN_EXE_failover-console"),
            config = lab.config_path.display(),
            exit = exit_file.display(),
        ),
    )
    .expect("write the shell script");
    let tmux = Tmux::run(&format!("sh {}", script.display()), "hup-sh", &[]);
    let child = start_slow_step(&tmux, &lab, &pid_file);
    let console = console_pid(&lab);

    tmux.kill();
    let took = wait_gone(console, "the console", Duration::from_secs(STEP_SECS + 15));
    eprintln!("kill-session -> console gone (under a shell): {took:?}");
    assert!(!process_exists(child), "the step's command is gone");
    assert_outcome_then_stopped(&lab, "SIGHUP");
    let end = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&exit_file)
            && !text.trim().is_empty()
        {
            break text.trim().to_string();
        }
        assert!(
            Instant::now() < end,
            "the shell never wrote the exit status"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status, "129", "128 + SIGHUP");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_step_waits_for_it_then_exits_143() {
    let lab = Lab::begin().await;
    let pid_file = with_slow_runbook(&lab);
    let tmux = Tmux::start_exiting(&lab.config_path, "term", &[]);
    let child = start_slow_step(&tmux, &lab, &pid_file);
    let console = console_pid(&lab);

    let sent = Instant::now();
    // SAFETY: kill(2) on the console's pid, read from its own journal a moment ago.
    assert_eq!(unsafe { libc::kill(console as i32, libc::SIGTERM) }, 0);
    tmux.wait_for("stopping: waiting for step 1", Duration::from_secs(3));
    let status = tmux.wait_exit(Duration::from_secs(STEP_SECS + 15));
    eprintln!("SIGTERM -> exit: {:?}", sent.elapsed());
    assert_eq!(status, 143, "128 + SIGTERM");
    assert!(!tmux.alternate_on(), "the terminal is given back");
    assert!(!process_exists(child), "the step's command is gone");
    assert_outcome_then_stopped(&lab, "SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quit_mid_step_waits_for_it_then_exits_0() {
    let lab = Lab::begin().await;
    let pid_file = with_slow_runbook(&lab);
    let tmux = Tmux::start_exiting(&lab.config_path, "quit", &[]);
    let child = start_slow_step(&tmux, &lab, &pid_file);

    tmux.keys(&["q"]);
    tmux.wait_for("type quit", Duration::from_secs(5));
    tmux.text("quit");
    tmux.wait_for("stopping: waiting for step 1", Duration::from_secs(3));
    assert!(
        process_exists(child),
        "the step still runs while the console stops"
    );
    let status = tmux.wait_exit(Duration::from_secs(STEP_SECS + 15));
    assert_eq!(status, 0);
    assert!(!tmux.alternate_on(), "the terminal is given back");
    assert!(!process_exists(child), "the step's command is gone");
    assert_outcome_then_stopped(&lab, "operator quit");
}

/// A poller panics: a CRIT edge names its sources, their rows go stale, the console goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poller_that_panics_is_an_edge_and_its_sources_go_stale() {
    let lab = Lab::begin().await;
    let tmux = Tmux::start_exiting(
        &lab.config_path,
        "poller",
        &[("FAILOVER_CONSOLE_TEST_PANIC", "poller 3 health/api-b")],
    );
    tmux.wait_for("serving site A", Duration::from_secs(15));
    wait_journal(&lab, "the poller's panic", Duration::from_secs(10), |es| {
        es.iter().any(|e| {
            e.kind == Kind::Edge
                && e.severity == Severity::Crit
                && e.message.starts_with("poller for ")
                && e.message.contains("health/api-b")
                && e.message.contains("panicked: test hook")
        })
    });
    // The check's row says stale (its last answer's time beside it).
    let end = Instant::now() + Duration::from_secs(10);
    let row = loop {
        let screen = tmux.screen();
        if let Some(row) = screen
            .lines()
            // The health pane's row, not a timeline line about api-b ("health/api-b ...").
            .find(|l| l.contains("api-b") && l.contains("stale") && !l.contains("health/api-b"))
        {
            break row.to_string();
        }
        assert!(Instant::now() < end, "api-b never showed stale:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(row.contains("site B"), "{row}");
    wait_journal(&lab, "api-b's stale edge", Duration::from_secs(5), |es| {
        !edges(es, "health/api-b", "stale").is_empty()
    });
    // And the console goes on: the other sources still answer, the keys still work.
    assert!(!tmux.exited(), "the console still runs");
    let before = lab.journal().len();
    tmux.keys(&["n"]);
    tmux.text("still here after the poller's panic");
    wait_journal(&lab, "the note", Duration::from_secs(5), |es| {
        es.len() > before
            && es
                .iter()
                .any(|e| e.message == "still here after the poller's panic")
    });
    tmux.keys(&["q"]);
    assert_eq!(tmux.wait_exit(Duration::from_secs(5)), 0);
    let last = lab.journal().last().cloned().expect("entries");
    assert_eq!(last.message, "stopped: operator quit");
}

/// The event loop panics: journaled, `stopped: panic`, the terminal given back, exit 101.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_the_event_loop_is_journaled_and_exits_101() {
    let lab = Lab::begin().await;
    let tmux = Tmux::start_exiting(
        &lab.config_path,
        "panic",
        &[("FAILOVER_CONSOLE_TEST_PANIC", "main 3")],
    );
    let status = tmux.wait_exit(Duration::from_secs(15));
    assert_eq!(status, 101);
    assert!(!tmux.alternate_on(), "the terminal is given back");
    let screen = tmux.history();
    assert!(
        screen.contains("stopped by a panic in the event loop"),
        "{screen}"
    );
    let entries = lab.journal();
    let text = journal_text(&entries);
    let n = entries.len();
    assert!(n >= 2, "{text}");
    let crit = &entries[n - 2];
    assert_eq!(
        (crit.severity, crit.kind),
        (Severity::Crit, Kind::Console),
        "{text}"
    );
    assert!(
        crit.message
            .starts_with("panic in the event loop: test hook: the event loop panics"),
        "{text}"
    );
    assert!(crit.message.contains("(at src/test_hooks.rs:"), "{text}");
    assert_eq!(entries[n - 1].message, "stopped: panic", "{text}");
    // The lock is free for the next console.
    assert!(matches!(
        failover_console::lock::acquire(
            &lab.config.journal,
            &failover_console::lock::Claimant {
                operator: "next".into(),
                console: "next:1".into(),
            }
        )
        .expect("lock"),
        failover_console::lock::Acquired::Driving(..)
    ));
    let log = log_text(&lab);
    assert!(
        log.contains("panic in thread main at src/test_hooks.rs"),
        "{log}"
    );
}

/// A step's task panics just after its start is journaled: the console stops as for a panic in
/// its loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_steps_task_is_journaled_and_exits_101() {
    let lab = Lab::begin().await;
    with_slow_runbook(&lab);
    let tmux = Tmux::start_exiting(
        &lab.config_path,
        "step-panic",
        &[("FAILOVER_CONSOLE_TEST_PANIC", "step")],
    );
    tmux.start_slow_run("panic test");
    assert_eq!(tmux.wait_exit(Duration::from_secs(10)), 101);
    assert!(!tmux.alternate_on(), "the terminal is given back");
    let entries = lab.journal();
    let text = journal_text(&entries);
    let n = entries.len();
    assert!(entries.iter().any(started), "{text}");
    assert!(
        entries[n - 2]
            .message
            .starts_with("panic in step 1's task: test hook: a step's task panics"),
        "{text}"
    );
    assert_eq!(entries[n - 1].message, "stopped: panic", "{text}");
}

/// The event loop's thread blocked for 1.3 s (a slow start-up on a busy host): the tick after
/// it comes late, with the pollers' answers held up behind it. It waits for them: no check with
/// a 500 ms interval is judged stale on answers that were only queued (issue 16: `stale: no
/// answer for 923ms (limit 900ms)` then `answering again` just after start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_event_loop_writes_no_stale_edge_for_answers_held_up_behind_it() {
    let lab = Lab::begin().await;
    let text = std::fs::read_to_string(&lab.config_path)
        .expect("config")
        .replace(
            "interval = \"1s\"\ntimeout = \"500ms\"",
            "interval = \"500ms\"\ntimeout = \"400ms\"",
        );
    assert!(text.matches("interval = \"500ms\"").count() >= 2, "{text}");
    std::fs::write(&lab.config_path, text).expect("write config");
    let tmux = Tmux::start_with(
        &lab.config_path,
        "stall",
        &[("FAILOVER_CONSOLE_TEST_STALL", "3 1300")],
    );
    // Three ticks, the 1.3 s stall, then several seconds of 500 ms probes after it.
    tmux.wait_for("healthy", Duration::from_secs(10));
    let until = Instant::now() + Duration::from_secs(7);
    while Instant::now() < until {
        assert!(tmux.alive(), "the console runs");
        std::thread::sleep(Duration::from_millis(200));
    }
    let entries = lab.journal();
    let stale: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.message.contains("stale") || e.message.contains("answering again"))
        .collect();
    assert!(stale.is_empty(), "{}", journal_text(&entries));
    tmux.kill();
}
