//! Property tests of the journal's readers on arbitrary files: valid entries interleaved with
//! garbage, blank and over-long lines, torn last lines, no newlines at all. None panics; the
//! entries come back in file order; a valid entry is never lost (every file here is within the
//! readers' bounds).

use std::io::Write;
use std::path::Path;

use failover_console::journal::read::MAX_LINE;
use failover_console::journal::tail::Tail as Follower;
use failover_console::journal::{read_before, read_before_entry, read_runs, read_tail};
use failover_core::runbook::{Event, Phase, RunEvent};
use failover_core::timeline::{DriverMark, Entry, Kind, LockInfo, Severity};
use proptest::prelude::*;
use time::macros::datetime;

/// One piece of a journal file.
#[derive(Debug, Clone)]
enum Piece {
    /// A valid entry: a note, an arm, a step start or a driver mark (by `n % 4`).
    Valid,
    /// Bytes that are no entry, on a line of their own.
    Garbage(Vec<u8>),
    Blank,
    /// A line over the readers' limit.
    Overlong,
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        6 => Just(Piece::Valid),
        3 => proptest::collection::vec(any::<u8>(), 0..120).prop_map(Piece::Garbage),
        1 => Just(Piece::Blank),
        1 => Just(Piece::Overlong),
    ]
}

/// How the file ends after its pieces.
#[derive(Debug, Clone)]
enum Ending {
    Clean,
    /// The first bytes of one more valid line (a console killed while writing).
    Torn(usize),
    /// Garbage without a newline.
    Garbage(Vec<u8>),
}

fn ending() -> impl Strategy<Value = Ending> {
    prop_oneof![
        Just(Ending::Clean),
        (1usize..200).prop_map(Ending::Torn),
        proptest::collection::vec(any::<u8>(), 1..80).prop_map(Ending::Garbage),
    ]
}

fn entry(n: usize) -> Entry {
    let mut e = Entry::new(
        datetime!(2026-12-06 12:00 UTC),
        Severity::Info,
        Kind::Note,
        "test",
        format!("entry {n}"),
    );
    let run = |event| RunEvent {
        id: "run-1".into(),
        runbook: "failover".into(),
        event,
    };
    match n % 4 {
        1 => {
            e.kind = Kind::Run;
            e.run = Some(run(Event::Armed {
                target: "secondary".into(),
                reason: format!("arm {n}"),
                steps: vec!["one".into()],
                expected_primaries: Vec::new(),
                class: None,
                incident_start: None,
                plan: None,
            }));
        }
        2 => {
            e.kind = Kind::Run;
            e.run = Some(run(Event::StepStarted {
                step: 0,
                phase: Phase::Do,
            }));
        }
        3 => {
            e.driver = Some(DriverMark::Took(LockInfo {
                operator: "alice".into(),
                host: "bastion".into(),
                pid: n as u32,
                since: datetime!(2026-12-06 12:00 UTC),
                console: "bastion:1".into(),
                token: n as u64,
                ssh: None,
            }))
        }
        _ => {}
    }
    e
}

fn line(n: usize) -> Vec<u8> {
    let mut l = serde_json::to_vec(&entry(n)).unwrap();
    l.push(b'\n');
    l
}

/// The file's bytes and its valid entries, in order.
fn build(pieces: &[Piece], end: &Ending) -> (Vec<u8>, Vec<Entry>) {
    let mut bytes = Vec::new();
    let mut valid = Vec::new();
    for (n, p) in pieces.iter().enumerate() {
        match p {
            Piece::Valid => {
                bytes.extend(line(n));
                valid.push(entry(n));
            }
            Piece::Garbage(g) => {
                bytes.extend(g.iter().map(|b| if *b == b'\n' { b'x' } else { *b }));
                bytes.push(b'\n');
            }
            Piece::Blank => bytes.extend(b"  \n"),
            Piece::Overlong => {
                // Valid JSON, too long: skipped all the same.
                bytes.extend(b"{\"message\":\"");
                bytes.resize(bytes.len() + MAX_LINE as usize + 10, b'a');
                bytes.extend(b"\"}\n");
            }
        }
    }
    match end {
        Ending::Clean => {}
        Ending::Torn(k) => {
            let l = line(pieces.len());
            bytes.extend(&l[..(*k).min(l.len() - 1)]);
        }
        Ending::Garbage(g) => bytes.extend(g.iter().map(|b| if *b == b'\n' { b'x' } else { *b })),
    }
    (bytes, valid)
}

fn messages(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.message.as_str()).collect()
}

fn write(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join("journal.jsonl");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The latest run as `read_runs` promises it, from the valid entries alone.
fn expected_runs(valid: &[Entry]) -> Vec<Entry> {
    let starts = |e: &Entry| {
        e.run
            .as_ref()
            .is_some_and(|r| matches!(r.event, Event::Armed { .. } | Event::DryRun { .. }))
    };
    let Some(start) = valid.iter().rposition(starts) else {
        return Vec::new();
    };
    let from = valid[..start]
        .iter()
        .rposition(|e| e.driver.is_some())
        .unwrap_or(start);
    valid[from..]
        .iter()
        .filter(|e| e.run.is_some() || e.driver.is_some())
        .cloned()
        .collect()
}

fn pieces() -> impl Strategy<Value = Vec<Piece>> {
    // At most one over-long line per file (each is 1 MiB).
    proptest::collection::vec(piece(), 0..40).prop_map(|mut ps| {
        let mut seen = false;
        for p in &mut ps {
            if matches!(p, Piece::Overlong) {
                if seen {
                    *p = Piece::Blank;
                }
                seen = true;
            }
        }
        ps
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tail_and_pages_return_every_valid_entry_in_order(
        ps in pieces(), end in ending(), max in 1usize..12, page in 1usize..12,
    ) {
        let (bytes, valid) = build(&ps, &end);
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &bytes);

        let tail = read_tail(&path, max).unwrap();
        let newest = &valid[valid.len().saturating_sub(max)..];
        prop_assert_eq!(messages(&tail.entries), messages(newest));
        prop_assert_eq!(tail.torn_last_line, !matches!(end, Ending::Clean));
        if tail.start == 0 {
            let overlong = ps.iter().filter(|p| matches!(p, Piece::Overlong)).count();
            prop_assert_eq!(tail.overlong_lines, overlong);
        }
        // Each offset is where its entry's line starts.
        for (at, e) in tail.offsets.iter().zip(&tail.entries) {
            let want = serde_json::to_vec(e).unwrap();
            prop_assert_eq!(&bytes[*at as usize..*at as usize + want.len()], &want[..]);
        }

        // Page after page back to the first line: every valid entry once, in order.
        let mut seen: Vec<Entry> = tail.entries.clone();
        let mut before = tail.start;
        while before > 0 {
            let older = read_before(&path, before, page).unwrap();
            prop_assert!(older.start < before, "a page moves back");
            prop_assert!(older.entries.len() <= page);
            before = older.start;
            let mut all = older.entries;
            all.append(&mut seen);
            seen = all;
        }
        prop_assert_eq!(messages(&seen), messages(&valid));
    }

    #[test]
    fn before_entry_returns_the_entries_just_before_it(
        ps in pieces(), end in ending(), pick in any::<prop::sample::Index>(), max in 1usize..12,
    ) {
        let (bytes, valid) = build(&ps, &end);
        prop_assume!(!valid.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &bytes);
        let i = pick.index(valid.len());
        let page = read_before_entry(&path, &valid[i], max).unwrap();
        prop_assert_eq!(messages(&page.entries), messages(&valid[i.saturating_sub(max)..i]));
        let gone = entry(usize::MAX - 1);
        prop_assert!(read_before_entry(&path, &gone, max).is_err());
    }

    #[test]
    fn runs_are_the_latest_run_from_the_driver_mark_before_it(ps in pieces(), end in ending()) {
        let (bytes, valid) = build(&ps, &end);
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &bytes);
        let runs = read_runs(&path).unwrap();
        prop_assert_eq!(runs, expected_runs(&valid));
    }

    #[test]
    fn the_follower_returns_each_whole_valid_line_once_however_the_writes_split(
        ps in pieces(), end in ending(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let (bytes, valid) = build(&ps, &end);
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), b"");
        let mut follower = Follower::from_end(&path);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        cuts.push(bytes.len());
        cuts.sort();
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        let (mut written, mut got) = (0, Vec::new());
        for cut in cuts {
            file.write_all(&bytes[written..cut]).unwrap();
            written = cut;
            got.extend(follower.read_new());
        }
        // One more look finds nothing new: the torn end is not an entry.
        got.extend(follower.read_new());
        prop_assert_eq!(messages(&got), messages(&valid));
    }
}

#[test]
fn no_newline_at_all_reads_nothing_and_the_next_page_moves_back() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = vec![b'z'; 3 * MAX_LINE as usize];
    let path = write(dir.path(), &bytes);
    let tail = read_tail(&path, 10).unwrap();
    assert!(tail.entries.is_empty());
    assert!(tail.torn_last_line);
    assert_eq!(tail.start, 0);
    assert!(read_runs(&path).unwrap().is_empty());
}
