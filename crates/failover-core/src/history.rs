//! The last 15 minutes of each health check (latency, result) and each PostgreSQL replica
//! (lag in bytes and seconds), in rings of fixed capacity: what the sparklines and the detail
//! view draw. A value that is not known is `None` (a gap), never 0.

use std::collections::VecDeque;
use std::time::Duration;

use time::OffsetDateTime;

use crate::kinds::{Section, Specs, States, health::ProbeOutcome};

/// How far back a source's history goes.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How far back a sparkline goes.
pub const SPARK_WINDOW: Duration = Duration::from_secs(5 * 60);
/// A sparkline's cells; each covers `SPARK_WINDOW / SPARK_CELLS`, aligned to the clock.
pub const SPARK_CELLS: usize = 10;
/// At most one sample a second is kept for 15 minutes: a faster source's ring holds the last
/// 900 samples.
pub const MAX_SAMPLES: usize = 900;
/// The last results listed in the detail view, with their errors.
pub const RESULTS: usize = 20;
/// An error kept in the results list is cut to this many bytes.
pub const ERROR_MAX: usize = 200;

/// One reading, compact: no text (errors are kept in the results list only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Unix time in milliseconds.
    pub at_ms: i64,
    /// Health: latency in ms of a probe that passed. Replica: lag in bytes. NaN: unknown.
    pub a: f32,
    /// Replica: lag in seconds. NaN: unknown.
    pub b: f32,
    pub ok: bool,
}

impl Sample {
    pub fn a(&self) -> Option<f64> {
        (!self.a.is_nan()).then_some(self.a as f64)
    }
    pub fn b(&self) -> Option<f64> {
        (!self.b.is_nan()).then_some(self.b as f64)
    }
}

/// A result in the detail view's list: when, and its error if it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub sample: Sample,
    pub error: Option<Box<str>>,
}

const LATENCY_FLOOR_MS: f64 = crate::text::LATENCY_FLOOR.as_millis() as f64;

/// A ring of samples, oldest first, never growing past its capacity.
#[derive(Debug, Clone)]
pub struct Ring {
    buf: Vec<Sample>,
    capacity: usize,
    /// Where the oldest sample is, once the ring is full.
    head: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Ring {
        Ring {
            buf: Vec::with_capacity(capacity),
            capacity,
            head: 0,
        }
    }

    pub fn push(&mut self, sample: Sample) {
        if self.buf.len() < self.capacity {
            self.buf.push(sample);
        } else {
            self.buf[self.head] = sample;
            self.head = (self.head + 1) % self.capacity;
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Sample> + '_ {
        let (newer, older) = self.buf.split_at(self.head);
        older.iter().chain(newer)
    }

    pub fn last(&self) -> Option<&Sample> {
        self.iter().next_back()
    }
}

/// One source's history.
#[derive(Debug, Clone)]
pub struct Series {
    pub samples: Ring,
    /// Values under this are drawn as this in the sparkline (health: the latency floor under
    /// which the row shows "<5ms", the console's own scheduling noise).
    pub floor: f64,
    /// Newest last.
    pub results: VecDeque<Outcome>,
}

/// Samples a source polled every `interval` makes in `WINDOW`, at most `MAX_SAMPLES`.
pub fn capacity(interval: Duration) -> usize {
    let per = interval.as_millis().max(1);
    ((WINDOW.as_millis() / per) as usize).clamp(1, MAX_SAMPLES)
}

/// The most memory one source's history takes, in bytes: its ring, and its results list with
/// every error at its longest.
pub fn bytes_per_source(interval: Duration) -> usize {
    std::mem::size_of::<Series>()
        + capacity(interval) * std::mem::size_of::<Sample>()
        + RESULTS * (std::mem::size_of::<Outcome>() + ERROR_MAX)
}

impl Series {
    pub fn new(interval: Duration, floor: f64) -> Series {
        Series {
            samples: Ring::new(capacity(interval)),
            floor,
            results: VecDeque::with_capacity(RESULTS),
        }
    }

    pub fn push(&mut self, sample: Sample, error: Option<&str>) {
        self.samples.push(sample);
        if self.results.len() == RESULTS {
            self.results.pop_front();
        }
        let error = error.map(|e| {
            let mut end = e.len().min(ERROR_MAX);
            while !e.is_char_boundary(end) {
                end -= 1;
            }
            Box::from(&e[..end])
        });
        self.results.push_back(Outcome { sample, error });
    }

    /// The samples of the last `WINDOW` before `now`, oldest first.
    pub fn recent(&self, now: OffsetDateTime) -> impl Iterator<Item = &Sample> + '_ {
        let from = ms(now) - WINDOW.as_millis() as i64;
        self.samples.iter().filter(move |s| s.at_ms > from)
    }

    /// The value a sparkline or chart draws: health latency, replica lag in bytes, or in
    /// seconds when no sample of the window knows the bytes.
    pub fn plotted(&self) -> Plotted {
        if self.samples.iter().any(|s| s.a().is_some()) {
            Plotted::A
        } else {
            Plotted::B
        }
    }

    /// The sparkline's cells, oldest first: the `SPARK_CELLS` whole slots before the one
    /// `newest_ms` is in (slots are aligned to the clock), each the highest value in its slot
    /// as a level 0..=7 of the highest shown, or `None` where no sample had a value (a gap).
    /// `newest_ms` is the newest sample of any source: the line moves when a sample starts a
    /// new slot, once for every row, never with the clock; a source that stopped answering
    /// shows gaps.
    pub fn spark(&self, newest_ms: i64) -> [Option<u8>; SPARK_CELLS] {
        let mut cells = [None; SPARK_CELLS];
        let first = spark_slot(newest_ms) - SPARK_CELLS as i64;
        let plotted = self.plotted();
        let mut highs: [Option<f64>; SPARK_CELLS] = [None; SPARK_CELLS];
        for s in self.samples.iter().rev() {
            let slot = spark_slot(s.at_ms);
            if slot < first {
                break;
            }
            let Some(v) = plotted.of(s) else { continue };
            let v = v.max(self.floor);
            if let Some(high) = usize::try_from(slot - first)
                .ok()
                .and_then(|i| highs.get_mut(i))
            {
                *high = Some(high.map_or(v, |h| h.max(v)));
            }
        }
        let top = highs.iter().flatten().fold(0.0_f64, |a, b| a.max(*b));
        for (cell, high) in cells.iter_mut().zip(highs) {
            *cell = high.map(|v| {
                if top <= 0.0 {
                    0
                } else {
                    ((v / top) * 7.0).round().clamp(0.0, 7.0) as u8
                }
            });
        }
        cells
    }
}

/// The sparkline slot a time in ms is in.
pub fn spark_slot(at_ms: i64) -> i64 {
    at_ms.div_euclid((SPARK_WINDOW.as_millis() / SPARK_CELLS as u128) as i64)
}

/// Which of a sample's two values is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plotted {
    A,
    B,
}

impl Plotted {
    pub fn of(self, s: &Sample) -> Option<f64> {
        match self {
            Plotted::A => s.a(),
            Plotted::B => s.b(),
        }
    }
}

/// A source with a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Health(usize),
    Postgres { db: usize, member: usize },
}

/// Every source's history: one series per health check and per PostgreSQL member.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub health: Vec<Series>,
    pub postgres: Vec<Vec<Series>>,
    /// The newest sample's time, of any source (ms): where sparklines end.
    pub newest_ms: i64,
}

/// The source drawn on a pane's `line`: health checks are the Health pane's first rows, and
/// PostgreSQL databases the Replication pane's first (a heading, then a row per member).
pub fn key_at(specs: &Specs, section: Section, line: usize) -> Option<Key> {
    match section {
        Section::Health => (line < specs.health.len()).then_some(Key::Health(line)),
        Section::Replication => {
            let mut first = 0;
            for (db, spec) in specs.postgres.iter().enumerate() {
                let members = spec.members.len();
                if line > first && line <= first + members {
                    return Some(Key::Postgres {
                        db,
                        member: line - first - 1,
                    });
                }
                first += 1 + members;
            }
            None
        }
        Section::Dns => None,
    }
}

/// How many of a pane's first rows are those `key_at` knows.
pub fn rows_with_history(specs: &Specs, section: Section) -> usize {
    match section {
        Section::Health => specs.health.len(),
        Section::Replication => specs.postgres.iter().map(|d| 1 + d.members.len()).sum(),
        Section::Dns => 0,
    }
}

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn f(v: Option<f64>) -> f32 {
    v.map_or(f32::NAN, |v| v as f32)
}

impl History {
    pub fn new(specs: &Specs) -> History {
        History {
            health: specs
                .health
                .iter()
                .map(|h| Series::new(h.interval, LATENCY_FLOOR_MS))
                .collect(),
            postgres: specs
                .postgres
                .iter()
                .map(|db| {
                    // Every member's reading adds a sample to each member.
                    let every = db.interval / db.members.len().max(1) as u32;
                    db.members.iter().map(|_| Series::new(every, 0.0)).collect()
                })
                .collect(),
            newest_ms: i64::MIN,
        }
    }

    pub fn get(&self, key: Key) -> Option<&Series> {
        match key {
            Key::Health(i) => self.health.get(i),
            Key::Postgres { db, member } => self.postgres.get(db)?.get(member),
        }
    }

    /// The sparkline of `key`, as it is drawn now.
    pub fn spark(&self, key: Key) -> Option<[Option<u8>; SPARK_CELLS]> {
        self.get(key).map(|s| s.spark(self.newest_ms))
    }

    /// Records a probe, before its state takes it.
    pub fn probe(&mut self, check: usize, at: OffsetDateTime, outcome: &ProbeOutcome) {
        self.newest_ms = self.newest_ms.max(ms(at));
        if let Some(series) = self.health.get_mut(check) {
            let latency = outcome.latency.as_secs_f64() * 1000.0;
            let sample = Sample {
                at_ms: ms(at),
                a: if outcome.ok { latency as f32 } else { f32::NAN },
                b: latency as f32,
                ok: outcome.ok,
            };
            series.push(sample, (!outcome.ok).then_some(outcome.detail.as_str()));
        }
    }

    /// Records a member's reading once its database's state took it. Any member's reading
    /// moves every replica's lag (the primary reports its standbys, a replica its own replay),
    /// so every member gets a sample of its lag as now computed; the member read gets a
    /// result too, with its error when unreachable.
    pub fn postgres(&mut self, states: &States, db: usize, read: usize, at: OffsetDateTime) {
        self.newest_ms = self.newest_ms.max(ms(at));
        let (Some(series), Some(state)) = (self.postgres.get_mut(db), states.postgres.get(db))
        else {
            return;
        };
        for (member, (series, state)) in series.iter_mut().zip(&state.members).enumerate() {
            let lag = state.lag.as_ref();
            let sample = Sample {
                at_ms: ms(at),
                a: f(lag.and_then(|l| l.bytes).map(|(b, _)| b as f64)),
                b: f(lag.and_then(|l| l.time).map(|(t, _)| t.as_secs_f64())),
                ok: state.error.is_none(),
            };
            if member == read {
                series.push(sample, state.error.as_deref());
            } else {
                series.samples.push(sample);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + s).unwrap()
    }

    fn sample(s: i64, v: Option<f32>) -> Sample {
        Sample {
            at_ms: ms(at(s)),
            a: v.unwrap_or(f32::NAN),
            b: f32::NAN,
            ok: v.is_some(),
        }
    }

    #[test]
    fn the_ring_keeps_its_capacity_and_the_newest_in_order() {
        let mut ring = Ring::new(3);
        for s in 0..10 {
            ring.push(sample(s, Some(s as f32)));
        }
        assert_eq!(ring.len(), 3);
        let kept: Vec<f64> = ring.iter().filter_map(|s| s.a()).collect();
        assert_eq!(kept, vec![7.0, 8.0, 9.0]);
        assert_eq!(ring.last().and_then(|s| s.a()), Some(9.0));
    }

    #[test]
    fn capacity_covers_fifteen_minutes_at_most_one_sample_a_second() {
        assert_eq!(capacity(Duration::from_secs(1)), 900);
        assert_eq!(capacity(Duration::from_millis(200)), 900);
        assert_eq!(capacity(Duration::from_secs(10)), 90);
        assert_eq!(capacity(Duration::from_secs(3600)), 1);
    }

    #[test]
    fn a_series_never_holds_more_than_its_bound() {
        let mut series = Series::new(Duration::from_millis(500), 0.0);
        let long = "e".repeat(10_000);
        for s in 0..5_000 {
            series.push(sample(s, None), Some(&long));
        }
        assert_eq!(series.samples.len(), MAX_SAMPLES);
        assert_eq!(series.samples.buf.capacity(), MAX_SAMPLES);
        assert_eq!(series.results.len(), RESULTS);
        let held = std::mem::size_of::<Series>()
            + series.samples.buf.capacity() * std::mem::size_of::<Sample>()
            + series
                .results
                .iter()
                .map(|o| std::mem::size_of::<Outcome>() + o.error.as_ref().map_or(0, |e| e.len()))
                .sum::<usize>();
        assert!(held <= bytes_per_source(Duration::from_millis(500)));
        // The figure stated in docs/performance.md.
        assert_eq!(std::mem::size_of::<Sample>(), 24);
        assert_eq!(bytes_per_source(Duration::from_secs(1)), 26_480);
    }

    #[test]
    fn unknown_values_are_gaps_not_zeros() {
        let mut series = Series::new(Duration::from_secs(1), 0.0);
        // Slots of 30 s, the last whole one ending at 300: a value, an error, nothing, a zero.
        series.push(sample(0, Some(10.0)), None);
        series.push(sample(30, None), Some("connection refused"));
        series.push(sample(90, Some(0.0)), None);
        series.push(sample(270, Some(5.0)), None);
        let cells = series.spark(ms(at(300)));
        assert_eq!(cells[0], Some(7));
        assert_eq!(cells[1], None, "an error is a gap");
        assert_eq!(cells[2], None, "no sample is a gap");
        assert_eq!(cells[3], Some(0), "a zero is a zero");
        assert_eq!(cells[9], Some(4));
        assert_eq!(series.results.len(), 4);
        assert_eq!(
            series.results[1].error.as_deref(),
            Some("connection refused")
        );
    }

    #[test]
    fn values_under_the_floor_are_drawn_at_the_floor() {
        let mut series = Series::new(Duration::from_secs(1), 5.0);
        series.push(sample(0, Some(1.0)), None);
        series.push(sample(30, Some(4.0)), None);
        series.push(sample(60, Some(10.0)), None);
        let cells = series.spark(ms(at(90)));
        assert_eq!(&cells[7..], &[Some(4), Some(4), Some(7)]);
    }

    #[test]
    fn the_sparkline_moves_with_samples_not_with_the_clock() {
        let mut history = History {
            health: vec![Series::new(Duration::from_secs(1), 0.0); 2],
            postgres: Vec::new(),
            newest_ms: i64::MIN,
        };
        let outcome = |ms| ProbeOutcome {
            ok: true,
            latency: Duration::from_millis(ms),
            detail: "200".into(),
        };
        history.probe(0, at(0), &outcome(10));
        history.probe(1, at(1), &outcome(10));
        let before = history.spark(Key::Health(0));
        // More samples inside the same slot: the whole slots before it are what is drawn.
        history.probe(0, at(10), &outcome(50));
        assert_eq!(history.spark(Key::Health(0)), before);
        // A sample of another source starts a new slot: every line moves, and check 0, not
        // heard from since, shows a gap at its end.
        history.probe(1, at(31), &outcome(10));
        let after = history.spark(Key::Health(0)).unwrap();
        assert_ne!(Some(after), before);
        assert_eq!(after[9], Some(7));
        history.probe(1, at(61), &outcome(10));
        assert_eq!(history.spark(Key::Health(0)).unwrap()[9], None);
    }
}
