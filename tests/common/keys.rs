//! Driving a console by keys, as an operator does: arm a runbook, run a step, read the run.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_console::engine::{Engine, Seat};
use failover_core::app::{Model, Msg};
use failover_core::runbook::StepStatus;

use super::dump;

pub async fn key<R: Seat>(engine: &mut Engine<R>, code: KeyCode) {
    engine
        .handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        .await;
}

pub async fn type_line<R: Seat>(engine: &mut Engine<R>, text: &str) {
    for c in text.chars() {
        key(engine, KeyCode::Char(c)).await;
    }
    key(engine, KeyCode::Enter).await;
}

/// r, pick the runbook, Enter on the plan, type the site, type the reason.
pub async fn arm(engine: &mut Engine, runbook: usize, site: &str, reason: &str) {
    key(engine, KeyCode::Char('r')).await;
    for _ in 0..runbook {
        key(engine, KeyCode::Char('j')).await;
    }
    key(engine, KeyCode::Enter).await;
    assert_eq!(engine.model.runs.plan, Some(runbook), "the plan is open");
    key(engine, KeyCode::Enter).await;
    type_line(engine, site).await;
    type_line(engine, reason).await;
}

pub fn step_status(m: &Model, step: usize) -> Option<StepStatus> {
    m.runs.current.as_ref().map(|r| r.steps[step].status)
}

pub fn run_dump(m: &Model) -> String {
    let mut s = dump(m);
    if let Some(run) = &m.runs.current {
        s.push_str(&format!("--- run {} {:?}\n", run.id, run.state));
        for (i, st) in run.steps.iter().enumerate() {
            s.push_str(&format!(
                "  {} {:?} {:?} {}\n",
                i + 1,
                st.status,
                st.phase,
                st.detail
            ));
        }
    }
    if let Some((flash, _)) = &m.ui.flash {
        s.push_str(&format!("--- flash: {flash}\n"));
    }
    s.push_str(&format!(
        "--- driver: {:?}\n--- holder: {:?}\n--- recorder: {} shared: {:?}\n",
        m.driver, m.holder, m.recorder, m.shared
    ));
    s
}

/// Enter on the current step, then wait until it settles (ok/failed/unknown).
pub async fn do_step(engine: &mut Engine, step: usize) {
    key(engine, KeyCode::Enter).await;
    let ok = engine
        .run_until(Duration::from_secs(30), |m| {
            matches!(
                step_status(m, step),
                Some(StepStatus::Ok | StepStatus::Failed | StepStatus::Unknown)
            ) && m.runs.in_flight.is_none()
        })
        .await;
    assert!(
        ok,
        "step {} did not settle{}",
        step + 1,
        run_dump(&engine.model)
    );
    assert_eq!(
        step_status(&engine.model, step),
        Some(StepStatus::Ok),
        "step {} is not ok{}",
        step + 1,
        run_dump(&engine.model)
    );
}
