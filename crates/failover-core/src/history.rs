//! The last 15 minutes of each health check (latency, result), each PostgreSQL replica (lag in
//! bytes and seconds), each Patroni member (lag in bytes) and each RDS instance (lag in
//! seconds), in rings of fixed capacity: what the sparklines and the detail view draw. A value
//! that is not known is `None` (a gap), never 0.

use std::collections::VecDeque;
use std::time::Duration;

use time::OffsetDateTime;

use crate::kinds::{Scope, Section, Specs, States, health::ProbeOutcome};

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
/// Patroni members are whoever `/cluster` lists: at most this many series per cluster; a new
/// name beyond it takes the place of one no longer listed.
pub const PATRONI_MEMBERS: usize = 16;

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

/// A ring of samples, oldest first, never growing past its capacity. It grows as samples come
/// (a source polled for `WINDOW` fills it), and keeps each sample in 8 bytes: its time as a
/// millisecond offset from the ring's base, the result, and one value with a tag saying
/// which of the two values it is (or both, when they are equal); the other value, when both
/// are known and differ (a PostgreSQL replica's lag in bytes and in seconds), goes in a second
/// list of 4 bytes a sample, made only once such a sample comes.
#[derive(Debug, Clone)]
pub struct Ring {
    buf: Vec<Packed>,
    /// `b` of the samples tagged `BOTH`, at the same index as in `buf`; empty until one comes.
    second: Vec<f32>,
    capacity: usize,
    /// Where the oldest sample is, once the ring is full.
    head: usize,
    /// Unix time in ms the samples' offsets count from.
    base_ms: i64,
    /// Samples held with an `a` value: `Series::plotted` without a look at each.
    with_a: usize,
    /// Samples ever pushed, and times the offsets were rebased: a sparkline's memo
    /// (`SparkMemo`) is good only for the ring it was made from.
    pushes: u64,
    rebases: u32,
}

/// One sample: `word` is the offset in ms from the ring's base (bits 3..), the result (bit 2)
/// and which values `v` gives (bits 0..2, `SAME`..`BOTH`).
#[derive(Debug, Clone, Copy)]
struct Packed {
    word: u32,
    v: f32,
}

/// `a` and `b` are both `v`.
const SAME: u32 = 0;
/// `a` is unknown, `b` is `v`.
const ONLY_B: u32 = 1;
/// `a` is `v`, `b` is unknown.
const ONLY_A: u32 = 2;
/// `a` is `v`, `b` is in `Ring::second`.
const BOTH: u32 = 3;
const OK_BIT: u32 = 1 << 2;
const OFFSET_SHIFT: u32 = 3;
/// The longest offset a sample can have: about 6 days.
const MAX_OFFSET: i64 = (u32::MAX >> OFFSET_SHIFT) as i64;

impl Ring {
    pub fn new(capacity: usize) -> Ring {
        Ring {
            buf: Vec::new(),
            second: Vec::new(),
            capacity: capacity.max(1),
            head: 0,
            base_ms: 0,
            with_a: 0,
            pushes: 0,
            rebases: 0,
        }
    }

    /// Adds a sample; returns the one it took the place of when the ring was full.
    pub fn push(&mut self, sample: Sample) -> Option<Sample> {
        if self.buf.is_empty() || !(0..=MAX_OFFSET).contains(&(sample.at_ms - self.base_ms)) {
            self.rebase(sample.at_ms);
        }
        self.pushes += 1;
        self.with_a += usize::from(!sample.a.is_nan());
        let (tag, v, second) = match (sample.a.is_nan(), sample.b.is_nan()) {
            (false, false) if sample.a.to_bits() == sample.b.to_bits() => (SAME, sample.a, None),
            (false, false) => (BOTH, sample.a, Some(sample.b)),
            (false, true) => (ONLY_A, sample.a, None),
            (true, _) => (ONLY_B, sample.b, None),
        };
        let offset = (sample.at_ms - self.base_ms) as u32;
        let packed = Packed {
            word: (offset << OFFSET_SHIFT) | if sample.ok { OK_BIT } else { 0 } | tag,
            v,
        };
        if second.is_some() && self.second.is_empty() {
            self.second = vec![f32::NAN; self.buf.len()];
            self.second
                .reserve_exact(self.buf.capacity() - self.buf.len());
        }
        let b = second.unwrap_or(f32::NAN);
        if self.buf.len() < self.capacity {
            if self.buf.len() == self.buf.capacity() {
                // Grown in steps up to the capacity exactly, never past it.
                let more = self.buf.len().max(16).min(self.capacity - self.buf.len());
                self.buf.reserve_exact(more);
                if !self.second.is_empty() {
                    self.second.reserve_exact(more);
                }
            }
            self.buf.push(packed);
            if !self.second.is_empty() {
                self.second.push(b);
            }
            None
        } else {
            let evicted = self.get(self.head);
            self.with_a -= usize::from(!evicted.a.is_nan());
            self.buf[self.head] = packed;
            if let Some(slot) = self.second.get_mut(self.head) {
                *slot = b;
            }
            self.head = (self.head + 1) % self.capacity;
            Some(evicted)
        }
    }

    /// Counts offsets from half the longest offset before `at_ms`. A sample more than that
    /// before it (days older than `WINDOW`, drawn nowhere) is kept at the base.
    fn rebase(&mut self, at_ms: i64) {
        let base = at_ms - MAX_OFFSET / 2;
        for p in &mut self.buf {
            let at = self.base_ms + (p.word >> OFFSET_SHIFT) as i64;
            let offset = (at - base).clamp(0, MAX_OFFSET) as u32;
            p.word = (offset << OFFSET_SHIFT) | (p.word & ((1 << OFFSET_SHIFT) - 1));
        }
        self.base_ms = base;
        self.rebases = self.rebases.wrapping_add(1);
    }

    fn get(&self, i: usize) -> Sample {
        let p = self.buf[i];
        let (a, b) = match p.word & 0b11 {
            SAME => (p.v, p.v),
            ONLY_B => (f32::NAN, p.v),
            ONLY_A => (p.v, f32::NAN),
            _ => (p.v, self.second.get(i).copied().unwrap_or(f32::NAN)),
        };
        Sample {
            at_ms: self.base_ms + (p.word >> OFFSET_SHIFT) as i64,
            a,
            b,
            ok: p.word & OK_BIT != 0,
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

    /// The most a sample takes: its packed form and a second value.
    pub const MAX_SAMPLE_BYTES: usize = std::mem::size_of::<Packed>() + std::mem::size_of::<f32>();

    /// The bytes the ring holds on the heap now.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity() * std::mem::size_of::<Packed>()
            + self.second.capacity() * std::mem::size_of::<f32>()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Sample> + '_ {
        (self.head..self.buf.len())
            .chain(0..self.head)
            .map(|i| self.get(i))
    }

    pub fn last(&self) -> Option<Sample> {
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
    /// What the sparkline was last drawn from, kept up by `push_sample`: comparing a source's
    /// sparkline before and after each reading scanned up to 900 samples twice a reading.
    memo: std::cell::Cell<Option<SparkMemo>>,
}

/// Each cell's highest plotted value (NaN: none) and how many samples have it, as of `newest`
/// (the slot the clock is in), for the ring as it was after its `pushes`th push and
/// `rebases`th rebase. Values are f32 as the ring keeps them (and the floors, 0 and 5 ms, are
/// f32 exactly).
#[derive(Debug, Clone, Copy)]
struct SparkMemo {
    newest: i64,
    plotted: Plotted,
    highs: [f32; SPARK_CELLS],
    counts: [u16; SPARK_CELLS],
    pushes: u64,
    rebases: u32,
}

impl SparkMemo {
    /// The cell `at_ms` falls in, if the sparkline shows it.
    fn cell(&self, at_ms: i64) -> Option<usize> {
        usize::try_from(spark_slot(at_ms) - (self.newest - SPARK_CELLS as i64))
            .ok()
            .filter(|i| *i < SPARK_CELLS)
    }

    fn add(&mut self, i: usize, v: f64) {
        let v = v as f32;
        if v == self.highs[i] {
            self.counts[i] = self.counts[i].saturating_add(1);
        } else if self.highs[i].is_nan() || v > self.highs[i] {
            (self.highs[i], self.counts[i]) = (v, 1);
        }
    }

    /// Takes a sample out of cell `i`; false when it held the cell's high alone (the cell's
    /// new high needs a look at the ring).
    fn remove(&mut self, i: usize, v: f64) -> bool {
        if v as f32 == self.highs[i] {
            self.counts[i] = self.counts[i].saturating_sub(1);
            self.counts[i] > 0
        } else {
            true
        }
    }
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
        + capacity(interval) * Ring::MAX_SAMPLE_BYTES
        + RESULTS * (std::mem::size_of::<Outcome>() + ERROR_MAX)
}

impl Series {
    pub fn new(interval: Duration, floor: f64) -> Series {
        Series {
            samples: Ring::new(capacity(interval)),
            floor,
            results: VecDeque::with_capacity(RESULTS),
            memo: Default::default(),
        }
    }

    pub fn push(&mut self, sample: Sample, error: Option<&str>) {
        self.push_sample(sample);
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
    pub fn recent(&self, now: OffsetDateTime) -> impl Iterator<Item = Sample> + '_ {
        let from = ms(now) - WINDOW.as_millis() as i64;
        self.samples.iter().filter(move |s| s.at_ms > from)
    }

    /// The value a sparkline or chart draws: health latency, replica lag in bytes, or in
    /// seconds when no sample of the window knows the bytes.
    pub fn plotted(&self) -> Plotted {
        if self.samples.with_a > 0 {
            Plotted::A
        } else {
            Plotted::B
        }
    }

    /// Adds a sample without a result (a replica's lag, moved by another member's reading),
    /// and keeps the sparkline's memo up with it: the new sample raises its cell; a sample it
    /// pushed out that held its cell's high, or a change of what is plotted, means a new look
    /// at the ring next time.
    pub fn push_sample(&mut self, sample: Sample) {
        let evicted = self.samples.push(sample);
        let Some(mut memo) = self.memo.take() else {
            return;
        };
        let ring = &self.samples;
        if memo.pushes + 1 != ring.pushes
            || memo.rebases != ring.rebases
            || memo.plotted != self.plotted()
        {
            return;
        }
        let (plotted, floor) = (memo.plotted, self.floor);
        let value = |s: &Sample| plotted.of(s).map(|v| v.max(floor));
        if let Some(old) = evicted
            && let (Some(i), Some(v)) = (memo.cell(old.at_ms), value(&old))
            && !memo.remove(i, v)
        {
            return;
        }
        if let (Some(i), Some(v)) = (memo.cell(sample.at_ms), value(&sample)) {
            memo.add(i, v);
        }
        memo.pushes = ring.pushes;
        self.memo.set(Some(memo));
    }

    /// The sparkline's cells, oldest first: the `SPARK_CELLS` whole slots before the one
    /// `newest_ms` is in (slots are aligned to the clock), each the highest value in its slot
    /// as a level 0..=7 of the highest shown, or `None` where no sample had a value (a gap).
    /// `newest_ms` is the newest sample of any source: the line moves when a sample starts a
    /// new slot, once for every row, never with the clock; a source that stopped answering
    /// shows gaps.
    pub fn spark(&self, newest_ms: i64) -> [Option<u8>; SPARK_CELLS] {
        let newest = spark_slot(newest_ms);
        let memo = match self.memo.get() {
            Some(memo)
                if memo.newest == newest
                    && memo.pushes == self.samples.pushes
                    && memo.rebases == self.samples.rebases =>
            {
                memo
            }
            _ => {
                let memo = self.gather(newest);
                self.memo.set(Some(memo));
                memo
            }
        };
        let top = memo.highs.iter().fold(0.0_f64, |a, b| a.max(f64::from(*b)));
        memo.highs.map(|high| {
            (!high.is_nan()).then_some(f64::from(high)).map(|v| {
                if top <= 0.0 {
                    0
                } else {
                    ((v / top) * 7.0).round().clamp(0.0, 7.0) as u8
                }
            })
        })
    }

    /// Each cell's highest plotted value, from the ring.
    fn gather(&self, newest: i64) -> SparkMemo {
        let mut memo = SparkMemo {
            newest,
            plotted: self.plotted(),
            highs: [f32::NAN; SPARK_CELLS],
            counts: [0; SPARK_CELLS],
            pushes: self.samples.pushes,
            rebases: self.samples.rebases,
        };
        // Every sample, not only back to the first one before the window: a late one may
        // sit behind an older one, and `push_sample` counts it too.
        for s in self.samples.iter() {
            if let (Some(i), Some(v)) = (memo.cell(s.at_ms), memo.plotted.of(&s)) {
                memo.add(i, v.max(self.floor));
            }
        }
        memo
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
    Postgres {
        db: usize,
        member: usize,
    },
    /// `member` indexes the cluster's named series (`History::patroni`), not `/cluster`'s
    /// list, so that it stays the same member while the list changes.
    Patroni {
        cluster: usize,
        member: usize,
    },
    Rds {
        source: usize,
        instance: usize,
    },
}

/// Every source's history: one series per health check, per PostgreSQL member, per Patroni
/// member (by name, as `/cluster` lists them) and per RDS instance.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub health: Vec<Series>,
    pub postgres: Vec<Vec<Series>>,
    pub patroni: Vec<Vec<(String, Series)>>,
    pub rds: Vec<Vec<Series>>,
    /// The newest sample's time, of any source (ms): where sparklines end.
    pub newest_ms: i64,
}

/// The source drawn on a pane's `line`, the pane showing the sources `scope` holds (None:
/// every source): health checks are the Health pane's first rows; the Replication pane has, in
/// the registry's order, PostgreSQL databases (a heading, then a row per member), Patroni
/// clusters (a heading, a row per member `/cluster` lists, then those missing from it, which
/// have no key) and RDS sources (a heading, then a row per instance).
pub fn key_at(
    specs: &Specs,
    states: &States,
    history: &History,
    scope: Option<&Scope>,
    section: Section,
    line: usize,
) -> Option<Key> {
    match section {
        Section::Health => held(scope.map(|s| &s.health), specs.health.len())
            .nth(line)
            .map(Key::Health),
        Section::Replication => {
            let mut first = 0;
            for db in held(scope.map(|s| &s.postgres), specs.postgres.len()) {
                let members = specs.postgres[db].members.len();
                if line > first && line <= first + members {
                    return Some(Key::Postgres {
                        db,
                        member: line - first - 1,
                    });
                }
                first += 1 + members;
            }
            for cluster in held(scope.map(|s| &s.patroni), specs.patroni.len()) {
                let (spec, state) = (&specs.patroni[cluster], states.patroni.get(cluster)?);
                let listed = state.view().map_or(&[][..], |v| &v.members);
                if line > first && line <= first + listed.len() {
                    let name = &listed[line - first - 1].name;
                    let member = history
                        .patroni
                        .get(cluster)?
                        .iter()
                        .position(|(n, _)| n == name)?;
                    return Some(Key::Patroni { cluster, member });
                }
                first += patroni_rows(spec, state);
            }
            for source in held(scope.map(|s| &s.rds), specs.rds.len()) {
                let instances = specs.rds[source].instances.len();
                if line > first && line <= first + instances {
                    return Some(Key::Rds {
                        source,
                        instance: line - first - 1,
                    });
                }
                first += 1 + instances;
            }
            None
        }
        Section::Dns => None,
    }
}

/// The indices below `count` that `held` lists (all of them without a list).
fn held(held: Option<&Vec<usize>>, count: usize) -> impl Iterator<Item = usize> + '_ {
    (0..count).filter(move |i| held.is_none_or(|h| h.contains(i)))
}

/// The rows a Patroni cluster takes, as its kind draws them.
fn patroni_rows(
    spec: &crate::kinds::patroni::PatroniCluster,
    state: &crate::kinds::patroni::PatroniState,
) -> usize {
    1 + state.view().map_or(0, |v| v.members.len()) + state.missing(spec).len()
}

/// How many of a pane's first rows are drawn by kinds with a history (all of the Replication
/// pane's), the pane showing the sources `scope` holds; `key_at` knows the sources among them.
pub fn rows_with_history(
    specs: &Specs,
    states: &States,
    scope: Option<&Scope>,
    section: Section,
) -> usize {
    match section {
        Section::Health => held(scope.map(|s| &s.health), specs.health.len()).count(),
        Section::Replication => {
            held(scope.map(|s| &s.postgres), specs.postgres.len())
                .map(|db| 1 + specs.postgres[db].members.len())
                .sum::<usize>()
                + held(scope.map(|s| &s.patroni), specs.patroni.len())
                    .filter_map(|c| Some(patroni_rows(&specs.patroni[c], states.patroni.get(c)?)))
                    .sum::<usize>()
                + held(scope.map(|s| &s.rds), specs.rds.len())
                    .map(|r| 1 + specs.rds[r].instances.len())
                    .sum::<usize>()
        }
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
            patroni: specs.patroni.iter().map(|_| Vec::new()).collect(),
            rds: specs
                .rds
                .iter()
                .map(|r| {
                    r.instances
                        .iter()
                        .map(|_| Series::new(r.interval, 0.0))
                        .collect()
                })
                .collect(),
            newest_ms: i64::MIN,
        }
    }

    pub fn get(&self, key: Key) -> Option<&Series> {
        match key {
            Key::Health(i) => self.health.get(i),
            Key::Postgres { db, member } => self.postgres.get(db)?.get(member),
            Key::Patroni { cluster, member } => {
                self.patroni.get(cluster)?.get(member).map(|(_, s)| s)
            }
            Key::Rds { source, instance } => self.rds.get(source)?.get(instance),
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
                series.push_sample(sample);
            }
        }
    }
}

impl History {
    /// The series a reading feeds: a probe's check, a PostgreSQL member's, every series of a
    /// Patroni cluster or of an RDS source.
    pub fn keys_of(&self, observation: &crate::kinds::Observation) -> Vec<Key> {
        use crate::kinds::Observation;
        match observation {
            Observation::Probe { check, .. } => vec![Key::Health(*check)],
            Observation::Postgres { db, member, .. } => vec![Key::Postgres {
                db: *db,
                member: *member,
            }],
            Observation::Patroni { cluster, .. } => {
                (0..self.patroni.get(*cluster).map_or(0, Vec::len))
                    .map(|member| Key::Patroni {
                        cluster: *cluster,
                        member,
                    })
                    .collect()
            }
            Observation::Rds { source, .. } => (0..self.rds.get(*source).map_or(0, Vec::len))
                .map(|instance| Key::Rds {
                    source: *source,
                    instance,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Records a Patroni cluster's reading once its state took it: each member `/cluster`
    /// lists gets a sample of its lag in bytes (the worst of lag, receive_lag, replay_lag, as
    /// its row shows it; Patroni gives no seconds) and a result. A leader, a lag Patroni calls
    /// unknown, or a failed read (the members as last read, with its error) is a gap.
    pub fn patroni(&mut self, specs: &Specs, states: &States, cluster: usize, at: OffsetDateTime) {
        use crate::kinds::patroni::Lag;
        self.newest_ms = self.newest_ms.max(ms(at));
        let (Some(named), Some(spec), Some(state)) = (
            self.patroni.get_mut(cluster),
            specs.patroni.get(cluster),
            states.patroni.get(cluster),
        ) else {
            return;
        };
        let Some(view) = state.view() else { return };
        for m in &view.members {
            let failed = state.error.is_some();
            let lag = match m.worst_lag() {
                Some(Lag::Bytes(b)) if !failed => b as f64,
                _ => f64::NAN,
            };
            let error = match (&state.error, state.unreachable(spec, m)) {
                (Some(e), _) => Some(format!("/cluster unreadable: {e}")),
                (None, Some(e)) => Some(format!("REST API unreachable: {e}")),
                (None, None) => None,
            };
            let sample = Sample {
                at_ms: ms(at),
                a: lag as f32,
                b: f32::NAN,
                ok: error.is_none(),
            };
            let Some(series) = named_series(named, &view.members, &m.name, spec.interval) else {
                continue;
            };
            series.push(sample, error.as_deref());
        }
    }

    /// Records an `[[rds]]` source's reading once its state took it: each configured instance
    /// gets a sample of its replica lag in seconds (ReplicaLag, or AuroraReplicaLag converted
    /// from ms) and a result. A primary or writer, no datapoint, an unreadable metric, an
    /// instance not found or a failed read is a gap.
    pub fn rds(&mut self, specs: &Specs, states: &States, source: usize, at: OffsetDateTime) {
        use crate::kinds::rds::{Lag, lag};
        self.newest_ms = self.newest_ms.max(ms(at));
        let (Some(series), Some(spec), Some(state)) = (
            self.rds.get_mut(source),
            specs.rds.get(source),
            states.rds.get(source),
        ) else {
            return;
        };
        for (i, series) in series.iter_mut().enumerate() {
            let (secs, error) = match (&state.error, state.instance(i)) {
                (Some(e), _) => (None, Some(e.describe(spec.aws.profile.as_deref()))),
                (None, None) => (None, None),
                (None, Some(Err(e))) => (None, Some(e.clone())),
                (None, Some(Ok(inst))) => match lag(inst) {
                    Lag::Known { lag, .. } => (Some(lag.as_secs_f64()), None),
                    Lag::Unreadable(e) => (None, Some(e)),
                    Lag::NotApplicable | Lag::NoData(_) => (None, None),
                },
            };
            let sample = Sample {
                at_ms: ms(at),
                a: f32::NAN,
                b: f(secs),
                ok: error.is_none(),
            };
            series.push(sample, error.as_deref());
        }
    }
}

/// The series of the member `name`, made if it has none: in a free place, else in the place
/// of the member not listed now whose last sample is the oldest; None when every place holds
/// a listed member.
fn named_series<'a>(
    named: &'a mut Vec<(String, Series)>,
    listed: &[crate::kinds::patroni::Member],
    name: &str,
    interval: Duration,
) -> Option<&'a mut Series> {
    let place = match named.iter().position(|(n, _)| n == name) {
        Some(i) => i,
        None if named.len() < PATRONI_MEMBERS => {
            named.push((name.to_string(), Series::new(interval, 0.0)));
            named.len() - 1
        }
        None => {
            let i = named
                .iter()
                .enumerate()
                .filter(|(_, (n, _))| !listed.iter().any(|m| &m.name == n))
                .min_by_key(|(_, (_, s))| s.samples.last().map_or(i64::MIN, |s| s.at_ms))
                .map(|(i, _)| i)?;
            named[i] = (name.to_string(), Series::new(interval, 0.0));
            i
        }
    };
    named.get_mut(place).map(|(_, s)| s)
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

    proptest::proptest! {
        /// The sparkline kept up push by push is the one a new look at the ring draws, whatever
        /// comes: samples late or out of order, pushed out of a small ring, ties at the floor,
        /// values missing, and what is plotted changing.
        #[test]
        fn the_kept_sparkline_is_the_one_the_ring_draws(
            capacity in 1usize..40,
            steps in proptest::collection::vec(
                (0i64..40_000, proptest::bool::weighted(0.1), proptest::option::of(0u8..12),
                 proptest::option::of(0u8..12), proptest::bool::weighted(0.3)),
                1..300,
            ),
        ) {
            let mut series = Series::new(Duration::from_secs(1), 5.0);
            series.samples = Ring::new(capacity);
            let mut newest = ms(at(0));
            for (step, back, a, b, look) in steps {
                // Mostly forward in steps of up to 40 s (slots are 30 s), now and then back.
                let at_ms = if back { newest - step } else { newest + step };
                newest = newest.max(at_ms);
                series.push_sample(Sample {
                    at_ms,
                    a: a.map_or(f32::NAN, f32::from),
                    b: b.map_or(f32::NAN, f32::from),
                    ok: a.is_some(),
                });
                if look {
                    let fresh = series.clone();
                    fresh.memo.set(None);
                    proptest::prop_assert_eq!(series.spark(newest), fresh.spark(newest));
                    proptest::prop_assert_eq!(series.plotted(), fresh.plotted());
                }
            }
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
            // Both values known and different: the ring's largest form.
            let two = Sample {
                b: s as f32 + 0.5,
                ..sample(s, Some(s as f32))
            };
            series.push(two, Some(&long));
        }
        assert_eq!(series.samples.len(), MAX_SAMPLES);
        assert_eq!(series.samples.buf.capacity(), MAX_SAMPLES);
        assert_eq!(series.samples.second.capacity(), MAX_SAMPLES);
        assert_eq!(series.results.len(), RESULTS);
        let held = std::mem::size_of::<Series>()
            + series.samples.heap_bytes()
            + series
                .results
                .iter()
                .map(|o| std::mem::size_of::<Outcome>() + o.error.as_ref().map_or(0, |e| e.len()))
                .sum::<usize>();
        assert!(held <= bytes_per_source(Duration::from_millis(500)));
        // The figures stated in docs/performance.md.
        assert_eq!(Ring::MAX_SAMPLE_BYTES, 12);
        assert_eq!(bytes_per_source(Duration::from_secs(1)), 15_824);
    }

    /// A health check's samples (latency as both values, or only the second when the probe
    /// failed) take 8 bytes each, and the ring grows as they come, to its capacity exactly.
    #[test]
    fn a_health_ring_takes_eight_bytes_a_sample_and_grows_as_they_come() {
        let mut history = History {
            health: vec![Series::new(Duration::from_secs(1), LATENCY_FLOOR_MS)],
            ..History::default()
        };
        assert_eq!(history.health[0].samples.heap_bytes(), 0);
        for s in 0..2_000 {
            let outcome = ProbeOutcome {
                ok: s % 7 != 0,
                latency: Duration::from_micros(300 + s as u64),
                detail: String::new(),
            };
            history.probe(0, at(s), &outcome);
            let ring = &history.health[0].samples;
            assert!(ring.buf.capacity() <= 900, "{}", ring.buf.capacity());
            if s == 59 {
                assert!(ring.heap_bytes() <= 2 * 60 * 8, "{}", ring.heap_bytes());
            }
        }
        let ring = &history.health[0].samples;
        assert_eq!(ring.heap_bytes(), 900 * 8);
        assert_eq!(ring.second.capacity(), 0);
        let newest = ring.last().unwrap();
        assert_eq!(newest.at_ms, ms(at(1_999)));
        assert_eq!(newest.b, 1.999 + 0.3);
        assert!(newest.ok && newest.a == newest.b);
    }

    /// Every form of sample comes back as it went in (its time to the ms, each value or its
    /// absence, the result), oldest first, across the ring's wrap.
    #[test]
    fn the_compact_ring_gives_back_every_sample_as_it_was() {
        let values = [
            (1.5, 1.5),
            (f32::NAN, 2.5),
            (3.5, f32::NAN),
            (4.5, 40.25),
            (f32::NAN, f32::NAN),
            (0.0, -0.0),
            (1e12, 7.0),
        ];
        let made: Vec<Sample> = (0..40)
            .map(|k| {
                let (a, b) = values[k % values.len()];
                Sample {
                    at_ms: ms(at(0)) + k as i64 * 997 + (k as i64 % 3),
                    a,
                    b,
                    ok: k % 3 == 0,
                }
            })
            .collect();
        let mut ring = Ring::new(25);
        for s in &made {
            ring.push(*s);
        }
        let kept: Vec<Sample> = ring.iter().collect();
        assert_eq!(kept.len(), 25);
        for (got, want) in kept.iter().zip(&made[15..]) {
            assert_eq!(got.at_ms, want.at_ms);
            assert_eq!(got.ok, want.ok);
            assert_eq!(got.a().map(f64::to_bits), want.a().map(f64::to_bits));
            assert_eq!(got.b().map(f64::to_bits), want.b().map(f64::to_bits));
        }
        assert_eq!(
            ring.iter().next_back().map(|s| s.at_ms),
            made.last().map(|s| s.at_ms)
        );
    }

    /// Offsets are 29 bits of ms (about 6 days): a ring that runs for weeks, or whose clock
    /// steps back, keeps every sample within days of the newest at its exact time, in order.
    #[test]
    fn times_stay_exact_over_weeks_and_a_clock_that_steps_back() {
        let mut ring = Ring::new(50);
        let day = 86_400_000i64;
        let mut times = Vec::new();
        let mut t = ms(at(0));
        for k in 0..50 {
            t += if k == 30 { -3_600_000 } else { day / 2 + 1 };
            times.push(t);
            ring.push(Sample {
                at_ms: t,
                ..sample(0, Some(k as f32))
            });
        }
        let newest = *times.last().unwrap();
        assert!(
            times
                .iter()
                .filter(|t| newest - **t < MAX_OFFSET / 2)
                .count()
                >= 5
        );
        let kept: Vec<(i64, Option<f64>)> = ring.iter().map(|s| (s.at_ms, s.a())).collect();
        assert_eq!(kept.len(), 50);
        for (k, (got, want)) in kept.iter().zip(&times).enumerate() {
            assert_eq!(got.1, Some(k as f64));
            if got.0 != *want {
                // Older than the ring can count: kept at its base, far outside any window.
                assert!(newest - want >= MAX_OFFSET / 2, "sample {k}");
                assert!(
                    newest - got.0 > 100 * WINDOW.as_millis() as i64,
                    "sample {k}"
                );
            }
        }
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
            newest_ms: i64::MIN,
            ..History::default()
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

    const CONFIG: &str = "[sites.primary]\n[sites.secondary]\n\
        [[database]]\nname = \"lab\"\nkind = \"patroni\"\n\
        members = [\"http://127.0.0.1:18008\", \"http://127.0.0.1:18009\"]\n\
        [[rds]]\nname = \"orders\"\n\
        instances = { primary = \"orders-a\", secondary = \"orders-b\" }\nmax-lag = \"30s\"\n";

    fn patroni_reading(lag: serde_json::Value) -> crate::kinds::Observation {
        use crate::kinds::patroni::{Reading, cluster_view};
        let view = cluster_view(&serde_json::json!({"members": [
            {"name": "p1", "role": "leader", "state": "running"},
            {"name": "p2", "role": "replica", "state": "streaming", "lag": lag},
        ]}))
        .unwrap();
        crate::kinds::Observation::Patroni {
            cluster: 0,
            at: at(0),
            reading: Reading {
                nodes: Vec::new(),
                cluster: Ok((0, view)),
                history: None,
                max_lag_on_failover: None,
            },
        }
    }

    /// Applies `observation` to the states, then feeds the history from them, as `observe`
    /// does; `s` seconds into the test.
    fn feed(
        config: &crate::config::Config,
        states: &mut States,
        history: &mut History,
        s: i64,
        mut observation: crate::kinds::Observation,
    ) {
        use crate::kinds::Observation;
        match &mut observation {
            Observation::Patroni { at: t, .. } | Observation::Rds { at: t, .. } => *t = at(s),
            _ => {}
        }
        let fed = match &observation {
            Observation::Patroni { cluster, .. } => Ok(*cluster),
            Observation::Rds { source, .. } => Err(*source),
            _ => unreachable!(),
        };
        let mut edges = crate::timeline::Edges::default();
        crate::kinds::apply(
            &config.kinds,
            states,
            &config.sites,
            observation,
            &mut edges,
        );
        match fed {
            Ok(c) => history.patroni(&config.kinds, states, c, at(s)),
            Err(r) => history.rds(&config.kinds, states, r, at(s)),
        }
    }

    #[test]
    fn patroni_members_keep_their_lag_in_bytes_and_unknown_stays_a_gap() {
        let config = crate::config::tests::parse(CONFIG);
        let mut states = States::new(&config.kinds);
        let mut history = History::new(&config.kinds);
        feed(
            &config,
            &mut states,
            &mut history,
            0,
            patroni_reading(2048.into()),
        );
        feed(
            &config,
            &mut states,
            &mut history,
            30,
            patroni_reading("unknown".into()),
        );
        let mut failed = patroni_reading(0.into());
        if let crate::kinds::Observation::Patroni { reading, .. } = &mut failed {
            reading.cluster = Err("connection refused".into());
        }
        feed(&config, &mut states, &mut history, 60, failed);
        feed(
            &config,
            &mut states,
            &mut history,
            90,
            patroni_reading(0.into()),
        );
        let names: Vec<&str> = history.patroni[0].iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["p1", "p2"]);
        // Rows: the cluster's heading, then p1 and p2 as /cluster lists them.
        let key = key_at(
            &config.kinds,
            &states,
            &history,
            None,
            Section::Replication,
            2,
        );
        assert_eq!(
            key,
            Some(Key::Patroni {
                cluster: 0,
                member: 1
            })
        );
        assert_eq!(
            key_at(
                &config.kinds,
                &states,
                &history,
                None,
                Section::Replication,
                0
            ),
            None
        );
        let p2 = history
            .get(Key::Patroni {
                cluster: 0,
                member: 1,
            })
            .unwrap();
        let lags: Vec<Option<f64>> = p2.samples.iter().map(|s| s.a()).collect();
        assert_eq!(lags, [Some(2048.0), None, None, Some(0.0)]);
        assert!(
            p2.samples.iter().all(|s| s.b().is_none()),
            "Patroni gives no seconds"
        );
        assert_eq!(
            p2.results[2].error.as_deref(),
            Some("/cluster unreadable: connection refused")
        );
        let cells = p2.spark(ms(at(120)));
        assert_eq!(&cells[6..], &[Some(7), None, None, Some(0)]);
        // The leader has no lag: a gap, never 0.
        let p1 = history
            .get(Key::Patroni {
                cluster: 0,
                member: 0,
            })
            .unwrap();
        assert!(p1.samples.iter().all(|s| s.a().is_none()));
        // The RDS source's rows follow the cluster's.
        assert_eq!(
            key_at(
                &config.kinds,
                &states,
                &history,
                None,
                Section::Replication,
                4
            ),
            Some(Key::Rds {
                source: 0,
                instance: 0
            })
        );
        assert_eq!(
            rows_with_history(&config.kinds, &states, None, Section::Replication),
            6
        );
    }

    #[test]
    fn a_patroni_cluster_keeps_a_bounded_number_of_members() {
        let mut named = Vec::new();
        let member = |name: String| {
            crate::kinds::patroni::cluster_view(&serde_json::json!({"members": [
                {"name": name, "role": "replica", "state": "streaming", "lag": 0},
            ]}))
            .unwrap()
            .members
        };
        for i in 0..(PATRONI_MEMBERS * 3) {
            let listed = member(format!("m{i}"));
            let series = named_series(&mut named, &listed, &listed[0].name, Duration::from_secs(1));
            series.unwrap().push(sample(i as i64, Some(1.0)), None);
        }
        assert_eq!(named.len(), PATRONI_MEMBERS);
        assert!(
            named
                .iter()
                .any(|(n, _)| n == &format!("m{}", PATRONI_MEMBERS * 3 - 1))
        );
    }

    #[test]
    fn rds_instances_keep_their_lag_in_seconds_and_unknown_stays_a_gap() {
        use crate::kinds::cloudwatch::Datapoint;
        use crate::kinds::rds::{LagMetric, LagReading, RdsInstance, RdsReading, RdsRole};
        let config = crate::config::tests::parse(CONFIG);
        let mut states = States::new(&config.kinds);
        let mut history = History::new(&config.kinds);
        let reading = |s: i64, latest: Result<Option<f64>, String>| {
            let instance = |id: &str, role, lag| RdsInstance {
                id: id.into(),
                status: "available".into(),
                engine: "postgres".into(),
                availability_zone: None,
                multi_az: false,
                role,
                lag,
            };
            crate::kinds::Observation::Rds {
                source: 0,
                at: at(s),
                result: Ok(RdsReading {
                    instances: vec![
                        Ok(instance(
                            "orders-a",
                            RdsRole::Primary {
                                replicas: vec!["orders-b".into()],
                            },
                            None,
                        )),
                        Ok(instance(
                            "orders-b",
                            RdsRole::ReadReplica {
                                source: "orders-a".into(),
                            },
                            Some(LagReading {
                                metric: LagMetric::ReplicaLag,
                                latest: latest.map(|v| {
                                    v.map(|value| Datapoint {
                                        value,
                                        at: at(s - 10),
                                    })
                                }),
                            }),
                        )),
                    ],
                    clusters: Vec::new(),
                }),
            }
        };
        feed(
            &config,
            &mut states,
            &mut history,
            0,
            reading(0, Ok(Some(12.0))),
        );
        feed(
            &config,
            &mut states,
            &mut history,
            30,
            reading(30, Ok(None)),
        );
        feed(
            &config,
            &mut states,
            &mut history,
            60,
            reading(60, Err("throttled".into())),
        );
        feed(
            &config,
            &mut states,
            &mut history,
            90,
            reading(90, Ok(Some(0.0))),
        );
        let b = history
            .get(Key::Rds {
                source: 0,
                instance: 1,
            })
            .unwrap();
        let lags: Vec<Option<f64>> = b.samples.iter().map(|s| s.b()).collect();
        assert_eq!(lags, [Some(12.0), None, None, Some(0.0)]);
        assert!(
            b.samples.iter().all(|s| s.a().is_none()),
            "no bytes for RDS"
        );
        assert_eq!(b.plotted(), Plotted::B);
        assert_eq!(
            b.results[1].error, None,
            "no datapoint is unknown, not an error"
        );
        assert!(b.results[2].error.is_some());
        assert_eq!(&b.spark(ms(at(120)))[6..], &[Some(7), None, None, Some(0)]);
        let a = history
            .get(Key::Rds {
                source: 0,
                instance: 0,
            })
            .unwrap();
        assert!(
            a.samples.iter().all(|s| s.b().is_none()),
            "a primary has no lag"
        );
    }
}
