//! The real binary in tmux at 80x24, driven by keys: arm a runbook, start a slow step, SIGKILL
//! the console mid-step, start it again. The interrupted step must come back as unknown, be read
//! back, and never run again without the operator typing so.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::tmux::{Tmux, console_pid, step_pid};
use common::*;
use failover_core::runbook::{Event, Phase};

fn run_events(lab: &Lab) -> Vec<Event> {
    lab.journal()
        .iter()
        .filter_map(|e| e.run.as_ref().map(|r| r.event.clone()))
        .collect()
}

fn wait_journal(lab: &Lab, what: &str, done: impl Fn(&[Event]) -> bool) {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let events = run_events(lab);
        if done(&events) {
            return;
        }
        assert!(
            Instant::now() < end,
            "journal never showed {what}: {events:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The slow runbook; its command writes its pid to `pid_file`, so the test ends that process and
/// no other.
fn slow(pid_file: &std::path::Path) -> String {
    format!(
        r#"
[[runbook]]
name = "slow"
description = "A step that takes a while"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Slow command"
action = "exec"
command = ["sh", "-c", "echo $$ > {}; exec sleep 37"]
timeout = "60s"

[[runbook.step]]
title = "Confirm by hand"
manual = "Check the world"
"#,
        pid_file.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_step_then_resume_at_80x24() {
    let lab = Lab::begin().await;
    let mut text = std::fs::read_to_string(&lab.config_path).expect("config");
    let pid_file = lab.dir.path().join("step.pid");
    text.push_str(&slow(&pid_file));
    std::fs::write(&lab.config_path, text).expect("write config");

    let tmux = Tmux::start(&lab.config_path, "kill");
    tmux.start_slow_run("kill test");
    wait_journal(&lab, "the slow step started", |ev| {
        ev.iter().any(|e| {
            matches!(
                e,
                Event::StepStarted {
                    step: 0,
                    phase: Phase::Do
                }
            )
        })
    });
    tmux.wait_for("running", Duration::from_secs(5));

    let pid = console_pid(&lab);
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // The step's command outlives the console (its own process group): end it, by its pid.
    let _ = Command::new("kill")
        .args(["-KILL", &step_pid(&pid_file).to_string()])
        .status();
    let end = Instant::now() + Duration::from_secs(5);
    while tmux.alive() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(tmux);
    let events = run_events(&lab);
    assert!(
        matches!(events.last(), Some(Event::StepStarted { step: 0, .. })),
        "killed mid-step: {events:#?}"
    );

    // Start again: the console takes the lock, says the step was in flight, reads it back.
    let tmux = Tmux::start(&lab.config_path, "resume");
    wait_journal(&lab, "the resume", |ev| {
        ev.iter()
            .any(|e| matches!(e, Event::Resumed { interrupted } if interrupted == &vec![0]))
    });
    wait_journal(&lab, "the read-back", |ev| {
        ev.iter().any(|e| {
            matches!(
                e,
                Event::StepFinished {
                    step: 0,
                    phase: Phase::ReadBack,
                    ..
                }
            )
        })
    });
    let screen = tmux.wait_for("UNKNOWN", Duration::from_secs(10));
    assert!(screen.contains("Slow command"), "{screen}");

    // Enter does not run it again: the killed console's command may still be running (it has
    // its own process group), so no retry before its timeout has passed.
    tmux.keys(&["Enter"]);
    tmux.wait_for("no retry before", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(500));
    let starts = run_events(&lab)
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::StepStarted {
                    step: 0,
                    phase: Phase::Do
                }
            )
        })
        .count();
    assert_eq!(
        starts, 1,
        "no step runs twice without the operator saying so"
    );

    // Skip it with a reason, confirm the manual step: the run finishes.
    tmux.keys(&["s"]);
    tmux.wait_for("reason to skip step 1", Duration::from_secs(5));
    tmux.text("checked by hand after the crash");
    tmux.wait_for("Enter do step 2", Duration::from_secs(5));
    tmux.keys(&["Enter"]);
    wait_journal(&lab, "the end of the run", |ev| {
        matches!(common::last_run_step(ev), Some(Event::Finished))
    });
    tmux.wait_for("finished", Duration::from_secs(5));
    tmux.keys(&["q"]);
    let end = Instant::now() + Duration::from_secs(5);
    while tmux.alive() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!tmux.alive(), "q quits once the run has ended");
    let last = lab.journal().last().cloned().expect("entries");
    assert!(
        last.message.starts_with("stopped: operator quit"),
        "{last:?}"
    );
}
