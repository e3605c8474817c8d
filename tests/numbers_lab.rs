//! The shipped failover runbook run by keys on the real lab as an unplanned failover (site A's
//! api failing), site A's database fenced after the promote; then the export's summary and
//! `report --json` give RTO and RPO figures that agree with the journal's own timestamps.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::time::Duration;

use common::keys::*;
use common::*;
use crossterm::event::KeyCode;
use failover_core::app::model::{Overlay, Purpose};
use failover_core::runbook::numbers;
use failover_core::runbook::{Event, Milestone, PromoteLag, RunClass, RunState, StepStatus};
use failover_core::timeline::Entry;
use serde_json::Value;
use time::OffsetDateTime;

const FAILOVER: usize = 0;

fn secs(a: OffsetDateTime, b: OffsetDateTime) -> f64 {
    (b - a).as_seconds_f64()
}

/// The journal's own figures: incident start, arming, each milestone, the lag at promotion.
struct Journaled {
    id: String,
    start: OffsetDateTime,
    armed: OffsetDateTime,
    milestones: Vec<(Milestone, OffsetDateTime)>,
    lag: PromoteLag,
}

fn journaled(entries: &[Entry]) -> Journaled {
    let mut id = None;
    let mut start = None;
    let mut armed = None;
    let mut milestones = Vec::new();
    let mut lag = None;
    for e in entries {
        let Some(r) = &e.run else { continue };
        match &r.event {
            Event::Armed {
                class,
                incident_start,
                ..
            } => {
                assert_eq!(*class, Some(RunClass::Unplanned), "{e:?}");
                id = Some(r.id.clone());
                start = *incident_start;
                armed = Some(e.at);
            }
            Event::Milestone { milestone, at } => milestones.push((*milestone, *at)),
            Event::LagAtPromote { lag: l, .. } => lag = Some(l.clone()),
            _ => {}
        }
    }
    Journaled {
        id: id.expect("an armed run"),
        start: start.expect("the incident start is journaled"),
        armed: armed.expect("armed"),
        milestones,
        lag: lag.expect("the lag at promotion is journaled"),
    }
}

impl Journaled {
    fn at(&self, m: Milestone) -> OffsetDateTime {
        self.milestones
            .iter()
            .find(|(k, _)| *k == m)
            .map(|(_, at)| *at)
            .unwrap_or_else(|| panic!("{m:?} journaled"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_failover_by_keys_gives_rto_and_rpo_that_agree_with_the_journal() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait(&mut engine, "the driver lock and a normal lab", |m| {
        m.driver.token().is_some() && normal(m)
    })
    .await;
    lab.run(&["http", "api-a", "down"]).await;
    wait(&mut engine, "site A failing since a CRIT edge", |m| {
        m.runs
            .failing_since
            .get(&None)
            .and_then(|s| s.first().copied().flatten())
            .is_some()
    })
    .await;

    // Arm by keys: the reason prompt offers an unplanned failover.
    key(&mut engine, KeyCode::Char('r')).await;
    key(&mut engine, KeyCode::Enter).await;
    key(&mut engine, KeyCode::Enter).await;
    type_line(&mut engine, "secondary").await;
    assert!(
        matches!(&engine.model.ui.overlay, Overlay::Prompt(p) if p.purpose == Purpose::ArmReason { runbook: FAILOVER, class: RunClass::Unplanned }),
        "{}",
        run_dump(&engine.model)
    );
    type_line(&mut engine, "site A api down").await;
    wait(&mut engine, "the run armed", |m| {
        m.runs.current.as_ref().is_some_and(|r| r.is_active())
    })
    .await;
    do_step(&mut engine, 0).await; // lag gate
    do_step(&mut engine, 1).await; // healthy gate
    key(&mut engine, KeyCode::Enter).await; // promote: site A still writable
    type_line(&mut engine, "promote").await;
    let ok = engine
        .run_until(Duration::from_secs(30), |m| {
            step_status(m, 2) == Some(StepStatus::Ok) && m.runs.in_flight.is_none()
        })
        .await;
    assert!(ok, "promote did not finish{}", run_dump(&engine.model));
    // Fence the old primary: until then two primaries mean the target does not serve alone.
    lab.run(&["pg-stop", "a"]).await;
    do_step(&mut engine, 3).await;
    do_step(&mut engine, 4).await;
    key(&mut engine, KeyCode::Enter).await; // the DNS wait
    wait(&mut engine, "the resolvers answer site B", |m| {
        step_status(m, 5) == Some(StepStatus::Ok)
    })
    .await;
    do_step(&mut engine, 6).await; // manual
    wait(&mut engine, "the run finished and site B serving", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.state == RunState::Finished && r.milestones.target_serving.is_some())
    })
    .await;
    let shown = numbers::figures(
        engine.model.runs.current.as_ref().unwrap(),
        &engine.model.config.objectives,
    );
    engine.shutdown("test done").await;

    let entries = lab.journal();
    let j = journaled(&entries);
    let serving = j.at(Milestone::TargetServing);
    let promoted = j.at(Milestone::Promoted);
    let dns = j.at(Milestone::DnsAccepted);
    let resolvers = j.at(Milestone::AllResolvers);
    let order = [j.start, j.armed, promoted, dns, resolvers, serving];
    assert!(order.is_sorted(), "{order:?}");
    // The promote step's end, as journaled, is the promoted milestone.
    let promote_end = entries
        .iter()
        .filter(|e| {
            matches!(
                e.run.as_ref().map(|r| &r.event),
                Some(Event::StepFinished { step: 2, .. })
            )
        })
        .map(|e| e.at)
        .next_back()
        .expect("the promote's outcome");
    assert_eq!(promoted, promote_end);
    assert!(
        j.lag.bytes.is_some(),
        "site A answered: the lag is known {:?}",
        j.lag
    );
    assert!(!j.lag.lower_bound);

    // The export's summary: the RTO from the journal's timestamps, the breakdown and the RPO.
    let rto = numbers::dur(Duration::from_secs_f64(secs(j.start, serving)));
    let (code, markdown, stderr) = lab
        .console(&["journal", "export", "--format", "markdown"])
        .await;
    assert_eq!(code, 0, "{stderr}");
    let summary = markdown
        .split("## Summary of runs")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_else(|| panic!("no summary:\n{markdown}"));
    assert!(
        markdown.find("## Summary of runs") < markdown.find("## Timeline"),
        "the summary opens the export"
    );
    for want in [
        "unplanned failover".to_string(),
        "Reason: site A api down".to_string(),
        format!("RTO {rto} from the first failing edge"),
        format!(
            "detect→arm {} · arm→promote {} · promote→DNS {} · DNS→resolvers {}",
            numbers::dur(Duration::from_secs_f64(secs(j.start, j.armed))),
            numbers::dur(Duration::from_secs_f64(secs(j.armed, promoted))),
            numbers::dur(Duration::from_secs_f64(secs(promoted, dns))),
            numbers::dur(Duration::from_secs_f64(secs(dns, resolvers))),
        ),
        format!("RPO {}", failover_core::text::bytes(j.lag.bytes.unwrap())),
        "Objectives: RTO met".to_string(),
    ] {
        assert!(summary.contains(&want), "{want:?} not in:\n{summary}");
    }
    assert_eq!(
        shown.rto,
        Some(Duration::try_from(serving - j.start).unwrap())
    );
    // The run's own section names sites by label, as people read them.
    assert!(markdown.contains(" toward site B\n"), "{markdown}");
    assert!(
        markdown.contains("- Primary at arming: orders: site A\n"),
        "{markdown}"
    );
    assert!(!markdown.contains("toward `secondary`"), "{markdown}");

    // report --json: the run, with the same figures.
    let (code, out, stderr) = lab.console(&["report", "--json"]).await;
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let runs = report["runs"].as_array().expect("runs");
    let run = runs
        .iter()
        .find(|r| r["id"] == j.id.as_str())
        .unwrap_or_else(|| panic!("the run in {report:#}"));
    assert_eq!(run["class"], "unplanned");
    assert_eq!(run["state"], "finished");
    let rto_json = run["rto_seconds"].as_f64().expect("rto_seconds");
    assert!((rto_json - secs(j.start, serving)).abs() < 0.001, "{run:#}");
    assert_eq!(run["rpo"]["bytes"], j.lag.bytes.unwrap());
    assert_eq!(run["rpo"]["lower_bound"], false);
    assert_eq!(run["objectives"]["rto"]["verdict"], "met");
    // A bad --since is a usage error.
    let (code, _, stderr) = lab.console(&["report", "--since", "soon"]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid --since \"soon\""), "{stderr}");
}
