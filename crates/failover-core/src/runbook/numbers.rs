//! A run in numbers: RTO with its breakdown, RPO, and the objectives met or missed. One pure
//! function of the journaled run, so the run pane, the Markdown export and `report` (text and
//! JSON) cannot disagree.

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{PromoteLag, RunClass, RunState, RunView, StepStatus};
use crate::timeline::{Entry, Event};

/// `[objectives]`: what a run should achieve. Each is optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Objectives {
    pub rto: Option<Duration>,
    pub rpo: Option<Duration>,
    pub rpo_bytes: Option<u64>,
}

/// The RTO's parts, each known once both of its ends are.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Breakdown {
    pub detect_to_arm: Option<Duration>,
    pub arm_to_promote: Option<Duration>,
    pub promote_to_dns: Option<Duration>,
    pub dns_to_resolvers: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rpo {
    /// No promote step recorded a lag (no promote yet, or a journal from before this figure).
    NotRecorded,
    /// Recorded, but neither bytes nor seconds were known.
    Unknown {
        source: String,
    },
    Known(PromoteLag),
}

/// One objective against its figure.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    NoObjective,
    /// The run is open: not decided yet.
    Open,
    Met {
        margin: String,
    },
    Missed {
        by: String,
    },
    /// The figure is unknown or only a lower bound within the objective.
    NotProven(String),
}

impl Verdict {
    pub fn text(&self) -> String {
        match self {
            Verdict::NoObjective => "no objective".into(),
            Verdict::Open => "open".into(),
            Verdict::Met { margin } => format!("met, {margin} to spare"),
            Verdict::Missed { by } => format!("MISSED by {by}"),
            Verdict::NotProven(why) => format!("not proven ({why})"),
        }
    }

    /// For the run pane: "met +3m02s", "MISSED by 1m28s", "not proven"; empty when there is
    /// nothing to say.
    pub fn short(&self) -> String {
        match self {
            Verdict::NoObjective | Verdict::Open => String::new(),
            Verdict::Met { margin } => format!("met +{margin}"),
            Verdict::Missed { by } => format!("MISSED by {by}"),
            Verdict::NotProven(_) => "not proven".into(),
        }
    }

    fn key(&self) -> &'static str {
        match self {
            Verdict::NoObjective => "none",
            Verdict::Open => "open",
            Verdict::Met { .. } => "met",
            Verdict::Missed { .. } => "missed",
            Verdict::NotProven(_) => "not-proven",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub class: Option<RunClass>,
    /// Where the RTO counts from: the incident start, else the arming.
    pub from: OffsetDateTime,
    /// An unplanned failover whose incident start was not found: the RTO counts from arming.
    pub start_unknown: bool,
    pub armed: OffsetDateTime,
    pub promoted: Option<OffsetDateTime>,
    pub dns_accepted: Option<OffsetDateTime>,
    pub all_resolvers: Option<OffsetDateTime>,
    pub serving: Option<OffsetDateTime>,
    pub ended: Option<OffsetDateTime>,
    pub open: bool,
    /// Incident start → target serving.
    pub rto: Option<Duration>,
    pub breakdown: Breakdown,
    pub rpo: Rpo,
    pub rto_verdict: Verdict,
    pub rpo_verdict: Verdict,
    pub rpo_bytes_verdict: Verdict,
    /// "step 2 Site B healthy: reason", one per overridden gate.
    pub overrides: Vec<String>,
    pub skips: Vec<String>,
}

fn between(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<Duration> {
    Duration::try_from(b? - a?).ok()
}

/// The run's figures against `objectives`.
pub fn figures(run: &RunView, objectives: &Objectives) -> Figures {
    let armed = run.armed_at;
    let from = match run.class {
        Some(RunClass::Unplanned) => run.incident_start.unwrap_or(armed),
        _ => armed,
    };
    let m = &run.milestones;
    let open = run.state == RunState::Active;
    let rto = between(Some(from), m.target_serving);
    let breakdown = Breakdown {
        detect_to_arm: (run.class == Some(RunClass::Unplanned))
            .then(|| between(Some(from), Some(armed)))
            .flatten(),
        arm_to_promote: between(Some(armed), m.promoted),
        promote_to_dns: between(m.promoted, m.dns_accepted),
        dns_to_resolvers: between(m.dns_accepted, m.all_resolvers),
    };
    let rpo = match &run.lag_at_promote {
        None => Rpo::NotRecorded,
        Some(lag) if lag.bytes.is_none() && lag.seconds.is_none() => Rpo::Unknown {
            source: lag.source.clone(),
        },
        Some(lag) => Rpo::Known(lag.clone()),
    };
    let rto_verdict = match (objectives.rto, rto) {
        (None, _) => Verdict::NoObjective,
        (Some(goal), Some(rto)) => against(rto.as_secs_f64(), goal.as_secs_f64(), false, dur_f),
        (Some(_), None) if open => Verdict::Open,
        (Some(_), None) => Verdict::NotProven("target serving not reached".into()),
    };
    let rpo_verdict = rpo_against(
        &rpo,
        open,
        objectives.rpo.map(|d| d.as_secs_f64()),
        |l| l.seconds,
        dur_f,
        "lag in seconds unknown",
    );
    let rpo_bytes_verdict = rpo_against(
        &rpo,
        open,
        objectives.rpo_bytes.map(|b| b as f64),
        |l| l.bytes.map(|b| b as f64),
        |b| crate::text::bytes(b.round() as u64),
        "lag in bytes unknown",
    );
    let mut overrides = Vec::new();
    let mut skips = Vec::new();
    for (i, s) in run.steps.iter().enumerate() {
        if s.overridden {
            overrides.push(format!("step {} {}: {}", i + 1, s.title, s.detail));
        }
        if s.status == StepStatus::Skipped {
            skips.push(format!("step {} {}: {}", i + 1, s.title, s.detail));
        }
    }
    Figures {
        class: run.class,
        from,
        start_unknown: run.class == Some(RunClass::Unplanned) && run.incident_start.is_none(),
        armed,
        promoted: m.promoted,
        dns_accepted: m.dns_accepted,
        all_resolvers: m.all_resolvers,
        serving: m.target_serving,
        ended: run.ended_at,
        open,
        rto,
        breakdown,
        rpo,
        rto_verdict,
        rpo_verdict,
        rpo_bytes_verdict,
        overrides,
        skips,
    }
}

fn against(figure: f64, goal: f64, lower_bound: bool, show: fn(f64) -> String) -> Verdict {
    if figure > goal {
        Verdict::Missed {
            by: show(figure - goal),
        }
    } else if lower_bound {
        Verdict::NotProven("only a lower bound is known".into())
    } else {
        Verdict::Met {
            margin: show(goal - figure),
        }
    }
}

fn rpo_against(
    rpo: &Rpo,
    open: bool,
    goal: Option<f64>,
    figure: fn(&PromoteLag) -> Option<f64>,
    show: fn(f64) -> String,
    unknown_unit: &str,
) -> Verdict {
    let Some(goal) = goal else {
        return Verdict::NoObjective;
    };
    match rpo {
        Rpo::NotRecorded if open => Verdict::Open,
        Rpo::NotRecorded => Verdict::NotProven("lag not recorded".into()),
        Rpo::Unknown { .. } => Verdict::NotProven("lag unknown".into()),
        Rpo::Known(lag) => match figure(lag) {
            Some(f) => against(f, goal, lag.lower_bound, show),
            None => Verdict::NotProven(unknown_unit.into()),
        },
    }
}

fn dur_f(secs: f64) -> String {
    dur(Duration::from_secs_f64(secs.max(0.0)))
}

/// "0.4s", "14.2s", "2m14s", "1h05m".
pub fn dur(d: Duration) -> String {
    if d < Duration::from_secs(60) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        crate::text::age(d)
    }
}

fn opt(d: Option<Duration>) -> String {
    d.map(dur).unwrap_or_else(|| "-".into())
}

/// "unplanned failover", "unclassified".
pub fn class_label(class: Option<RunClass>) -> &'static str {
    class.map(RunClass::label).unwrap_or("unclassified")
}

/// "RTO 4m12s (from the first CRIT edge)", "RTO not reached".
pub fn rto_text(f: &Figures) -> String {
    match f.rto {
        Some(rto) => format!("RTO {}{}", dur(rto), from_text(f)),
        None if f.open => "RTO running".into(),
        None => "RTO not reached (target never served)".into(),
    }
}

fn from_text(f: &Figures) -> &'static str {
    match (f.class, f.start_unknown) {
        (Some(RunClass::Unplanned), false) => " from the first failing edge",
        (Some(RunClass::Unplanned), true) => " from arming (incident start not found)",
        (None, _) => " from arming (unclassified run)",
        _ => " from arming",
    }
}

/// "detect→arm 1m02s · arm→promote 8.1s · promote→DNS 2.0s · DNS→resolvers 31.0s".
pub fn breakdown_text(f: &Figures) -> String {
    let b = &f.breakdown;
    let mut text = format!(
        "detect→arm {} · arm→promote {} · promote→DNS {} · DNS→resolvers {}",
        opt(b.detect_to_arm),
        opt(b.arm_to_promote),
        opt(b.promote_to_dns),
        opt(b.dns_to_resolvers)
    );
    // What kept the target from serving after the resolvers turned (a split brain, a failing
    // check, a write check): the parts then add up to the RTO.
    if let (Some(resolvers), Some(serving)) = (f.all_resolvers, f.serving)
        && let Ok(rest) = Duration::try_from(serving - resolvers)
        && rest >= Duration::from_millis(100)
    {
        text.push_str(&format!(" · resolvers→serving {}", dur(rest)));
    }
    text
}

/// "1.2 MiB, 2.0s", "≥ 1.2 MiB", "unknown", "not recorded".
pub fn rpo_figure(f: &Figures) -> String {
    match &f.rpo {
        Rpo::NotRecorded => "not recorded".into(),
        Rpo::Unknown { .. } => "unknown".into(),
        Rpo::Known(lag) => {
            let mut parts = Vec::new();
            if let Some(b) = lag.bytes {
                parts.push(crate::text::bytes(b));
            }
            if let Some(s) = lag.seconds {
                parts.push(dur(Duration::from_secs_f64(s.max(0.0))));
            }
            let floor = if lag.lower_bound { "≥ " } else { "" };
            format!("{floor}{}", parts.join(", "))
        }
    }
}

/// Where the RPO figure came from: "pg_stat_replication, read 1.0s before promotion",
/// "pg_stat_replication, last read 14.0s before promotion" (a lower bound); empty when none.
pub fn rpo_source(f: &Figures) -> String {
    match &f.rpo {
        Rpo::NotRecorded => String::new(),
        Rpo::Unknown { source } => source.clone(),
        Rpo::Known(lag) => {
            let read = if lag.lower_bound { "last read" } else { "read" };
            match lag.age_ms {
                Some(ms) => format!(
                    "{}, {read} {} before promotion",
                    lag.source,
                    dur(Duration::from_millis(ms))
                ),
                None => lag.source.clone(),
            }
        }
    }
}

/// "RPO 1.2 MiB, 2.0s (pg_stat_replication, read 1.0s before promotion)", "RPO ≥ 1.2 MiB
/// (pg_stat_replication, last read 14.0s before promotion)", "RPO unknown (Patroni)".
pub fn rpo_text(f: &Figures) -> String {
    let source = rpo_source(f);
    if source.is_empty() {
        format!("RPO {}", rpo_figure(f))
    } else {
        format!("RPO {} ({source})", rpo_figure(f))
    }
}

/// "RTO met, 48.0s to spare · RPO not proven (lag unknown)"; empty without objectives.
pub fn objectives_text(f: &Figures) -> String {
    let mut parts = Vec::new();
    if f.rto_verdict != Verdict::NoObjective {
        parts.push(format!("RTO {}", f.rto_verdict.text()));
    }
    if f.rpo_verdict != Verdict::NoObjective {
        parts.push(format!("RPO {}", f.rpo_verdict.text()));
    }
    if f.rpo_bytes_verdict != Verdict::NoObjective {
        parts.push(format!("RPO bytes {}", f.rpo_bytes_verdict.text()));
    }
    parts.join(" · ")
}

/// The open run's clock: "RTO 2m14s of 5m", "RTO 2m14s" (no objective).
pub fn running_text(f: &Figures, objectives: &Objectives, now: OffsetDateTime) -> String {
    let elapsed = Duration::try_from(now - f.from).unwrap_or_default();
    let shown = crate::text::age(Duration::from_secs(elapsed.as_secs()));
    match objectives.rto {
        Some(goal) => format!("RTO {shown} of {}", crate::text::setting(goal)),
        None => format!("RTO {shown}"),
    }
}

fn secs_json(d: Option<Duration>) -> Value {
    d.map(|d| json!((d.as_secs_f64() * 1000.0).round() / 1000.0))
        .unwrap_or(Value::Null)
}

fn time_json(t: Option<OffsetDateTime>) -> Value {
    t.and_then(crate::text::rfc3339)
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn verdict_json(v: &Verdict) -> Value {
    let detail = match v {
        Verdict::Met { margin } => json!(margin),
        Verdict::Missed { by } => json!(by),
        Verdict::NotProven(why) => json!(why),
        _ => Value::Null,
    };
    json!({ "verdict": v.key(), "detail": detail })
}

/// The figures as `report --json` gives them (documented in docs/report.md): seconds as
/// numbers, times as RFC 3339, unknown as null.
pub fn json(f: &Figures) -> Value {
    let b = &f.breakdown;
    let rpo = match &f.rpo {
        Rpo::NotRecorded => json!({ "recorded": false }),
        Rpo::Unknown { source } => json!({ "recorded": true, "bytes": null, "seconds": null,
            "source": source, "lower_bound": false, "age_seconds": null }),
        Rpo::Known(lag) => json!({ "recorded": true, "bytes": lag.bytes, "seconds": lag.seconds,
            "source": lag.source, "lower_bound": lag.lower_bound,
            "age_seconds": lag.age_ms.map(|ms| ms as f64 / 1000.0) }),
    };
    json!({
        "class": f.class.map(|c| match c {
            RunClass::Unplanned => "unplanned",
            RunClass::Planned => "planned",
            RunClass::Drill => "drill",
        }),
        "incident_start": time_json(Some(f.from)),
        "incident_start_known": !(f.start_unknown || f.class.is_none()),
        "armed": time_json(Some(f.armed)),
        "promoted": time_json(f.promoted),
        "dns_accepted": time_json(f.dns_accepted),
        "all_resolvers": time_json(f.all_resolvers),
        "target_serving": time_json(f.serving),
        "ended": time_json(f.ended),
        "rto_seconds": secs_json(f.rto),
        "breakdown": {
            "detect_to_arm": secs_json(b.detect_to_arm),
            "arm_to_promote": secs_json(b.arm_to_promote),
            "promote_to_dns": secs_json(b.promote_to_dns),
            "dns_to_resolvers": secs_json(b.dns_to_resolvers),
        },
        "rpo": rpo,
        "objectives": {
            "rto": verdict_json(&f.rto_verdict),
            "rpo": verdict_json(&f.rpo_verdict),
            "rpo_bytes": verdict_json(&f.rpo_bytes_verdict),
        },
        "overrides": f.overrides,
        "skips": f.skips,
    })
}

/// Every real run (not dry runs) the entries tell, oldest first, each rebuilt by `apply` as
/// the console rebuilds it.
pub fn runs(entries: &[Entry]) -> Vec<RunView> {
    let mut out: Vec<RunView> = Vec::new();
    let mut current: Option<RunView> = None;
    for e in entries {
        let Some(ev) = &e.run else { continue };
        if matches!(ev.event, Event::Armed { .. } | Event::DryRun { .. })
            && let Some(done) = current.take()
        {
            out.push(done);
        }
        super::apply(&mut current, e, &[]);
    }
    out.extend(current);
    out.retain(|r| !r.dry_run);
    out
}

fn md(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The summary of `runs` in Markdown: one section each with class, who, why, RTO and its
/// breakdown, RPO, the objectives met or missed, overrides and skips.
pub fn summary_markdown(
    runs: &[RunView],
    objectives: &Objectives,
    sites: &crate::schema::Sites,
    stamp: &dyn Fn(OffsetDateTime) -> String,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for run in runs {
        let f = figures(run, objectives);
        let state = match &run.state {
            RunState::Active => "open".to_string(),
            RunState::Finished => "finished".to_string(),
            RunState::Aborted(why) => format!("aborted: {}", md(why)),
        };
        let _ = writeln!(
            out,
            "\n### {} `{}` — {}\n",
            md(&run.runbook),
            run.id,
            class_label(f.class)
        );
        let _ = writeln!(
            out,
            "- Armed {} UTC by {} toward {} ({state})",
            stamp(run.armed_at),
            md(run.operator.as_deref().unwrap_or("?")),
            md(&target_label(sites, &run.target))
        );
        let _ = writeln!(out, "- Reason: {}", md(&run.reason));
        let _ = writeln!(out, "- {}", md(&rto_text(&f)));
        let _ = writeln!(out, "- Breakdown: {}", md(&breakdown_text(&f)));
        let _ = writeln!(out, "- {}", md(&rpo_text(&f)));
        let verdict = objectives_text(&f);
        let _ = writeln!(
            out,
            "- Objectives: {}",
            if verdict.is_empty() {
                "none configured".into()
            } else {
                md(&verdict)
            }
        );
        if f.overrides.is_empty() && f.skips.is_empty() {
            let _ = writeln!(out, "- Overrides and skips: none");
        }
        for o in &f.overrides {
            let _ = writeln!(out, "- Override: {}", md(o));
        }
        for s in &f.skips {
            let _ = writeln!(out, "- Skip: {}", md(s));
        }
    }
    out
}

/// The section that opens `journal export --format markdown`: every run in numbers; empty
/// when the entries hold no run.
pub fn export_summary(
    entries: &[Entry],
    objectives: &Objectives,
    sites: &crate::schema::Sites,
) -> String {
    let runs = runs(entries);
    if runs.is_empty() {
        return String::new();
    }
    let stamp = |t: OffsetDateTime| {
        t.format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
    };
    format!(
        "\n## Summary of runs\n{}",
        summary_markdown(&runs, objectives, sites, &stamp)
    )
}

/// One run for `report --json`: who, why, when, and its figures.
/// The site's label for a journaled site key ("site B"); the key itself once the config no
/// longer has that site.
pub fn target_label(sites: &crate::schema::Sites, key: &str) -> String {
    sites
        .by_key(key)
        .map(|s| sites.label(s).to_string())
        .unwrap_or_else(|| key.to_string())
}

pub fn run_json(run: &RunView, objectives: &Objectives, sites: &crate::schema::Sites) -> Value {
    let f = figures(run, objectives);
    let state = match &run.state {
        RunState::Active => "open",
        RunState::Finished => "finished",
        RunState::Aborted(_) => "aborted",
    };
    let mut v = json(&f);
    if let Value::Object(map) = &mut v {
        map.insert("id".into(), json!(run.id));
        map.insert("runbook".into(), json!(run.runbook));
        map.insert("operator".into(), json!(run.operator));
        map.insert("reason".into(), json!(run.reason));
        map.insert("target".into(), json!(run.target));
        map.insert(
            "target_label".into(),
            json!(target_label(sites, &run.target)),
        );
        map.insert("state".into(), json!(state));
    }
    v
}
