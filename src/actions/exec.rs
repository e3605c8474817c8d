//! Run a command: argv as given (no shell), stdin from /dev/null, stdout and stderr streamed line
//! by line to the run pane, in its own process group so that a timeout kills everything it
//! started, not just the first process. Its environment is cleared, then given PATH, HOME,
//! LANG, TERM and the variables its step names: never the console's secrets by accident.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio::task::JoinHandle;

use failover_core::actions::exec::{BASE_ENV, DRAIN, TERM_GRACE};
use failover_core::actions::{ActionSpec, Outcome};

use super::OutputSink;

/// Longer lines are passed on in pieces of this size.
const MAX_LINE: u64 = 16 * 1024;

struct Fields<'a> {
    argv: &'a [String],
    cwd: Option<&'a Path>,
    env: &'a [String],
    timeout: Duration,
}

fn fields(spec: &ActionSpec) -> Option<Fields<'_>> {
    match spec {
        ActionSpec::Exec {
            argv,
            cwd,
            env,
            timeout,
        } => Some(Fields {
            argv,
            cwd: cwd.as_deref(),
            env,
            timeout: *timeout,
        }),
        _ => None,
    }
}

/// The child's whole environment: PATH, HOME, LANG and TERM, and the variables the step names,
/// each when the console has it (a listed variable that is not set is left out, as it would be
/// in a shell).
fn environment(named: &[String]) -> Vec<(String, OsString)> {
    BASE_ENV
        .iter()
        .copied()
        .chain(
            named
                .iter()
                .map(String::as_str)
                .filter(|n| !BASE_ENV.contains(n)),
        )
        .filter_map(|n| std::env::var_os(n).map(|v| (n.to_string(), v)))
        .collect()
}

/// The program exists and is executable, and so is the working directory.
pub fn preflight(spec: &ActionSpec) -> Vec<String> {
    let Some(Fields { argv, cwd, .. }) = fields(spec) else {
        return vec!["internal error: not a command action".into()];
    };
    let mut problems = Vec::new();
    if let Some(dir) = cwd
        && !dir.is_dir()
    {
        problems.push(format!(
            "working directory {} does not exist",
            dir.display()
        ));
    }
    match argv.first() {
        None => problems.push("no command to run".into()),
        Some(program) => {
            if let Err(e) = find_program(program, cwd) {
                problems.push(e);
            }
        }
    }
    problems
}

/// Where `program` would be found: a path (relative to `cwd` when given, as the child resolves
/// it after changing directory) or a name searched on PATH.
fn find_program(program: &str, cwd: Option<&Path>) -> Result<PathBuf, String> {
    if program.is_empty() {
        return Err("empty program name".into());
    }
    if program.contains('/') {
        let path = match cwd {
            Some(dir) if Path::new(program).is_relative() => dir.join(program),
            _ => PathBuf::from(program),
        };
        return match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() && executable(&meta) => Ok(path),
            Ok(meta) if meta.is_file() => Err(format!("{program} is not executable")),
            Ok(_) => Err(format!("{program} is not a file")),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(format!("{program} not found")),
            Err(e) => Err(format!("{program}: {e}")),
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(program);
        if let Ok(meta) = std::fs::metadata(&candidate)
            && meta.is_file()
            && executable(&meta)
        {
            return Ok(candidate);
        }
    }
    Err(format!("{program} not found on PATH"))
}

#[cfg(unix)]
fn executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn executable(_meta: &std::fs::Metadata) -> bool {
    true
}

fn spawn_error(program: &str, cwd: Option<&Path>, e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => match cwd {
            Some(dir) if !dir.is_dir() => format!(
                "cannot run {program}: directory {} not found",
                dir.display()
            ),
            _ => format!("cannot run {program}: not found"),
        },
        ErrorKind::PermissionDenied => format!("cannot run {program}: permission denied"),
        _ => format!("cannot run {program}: {e}"),
    }
}

/// The process group of a spawned command: signalled as a whole, and killed if the action is
/// dropped while the command still runs (so no orphan keeps running unseen).
struct Group {
    pgid: Option<i32>,
}

impl Group {
    fn signal(&self, sig: i32) {
        if let Some(pgid) = self.pgid.filter(|p| *p > 1) {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
            unsafe {
                libc::kill(-pgid, sig);
            }
        }
    }

    /// The leader has been reaped: from now on the id may be reused, never signal it again.
    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
    }
}

/// Sends each line of `stream` to `sink` (prefixed), until EOF. Keeps reading when the sink is
/// gone, so the command never blocks on a full pipe.
fn pump<R: AsyncRead + Unpin + Send + 'static>(
    stream: R,
    prefix: &'static str,
    sink: OutputSink,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match (&mut reader)
                .take(MAX_LINE)
                .read_until(b'\n', &mut buf)
                .await
            {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        buf.pop();
                    }
                    let line = format!("{prefix}{}", String::from_utf8_lossy(&buf));
                    let _ = sink.send(line).await;
                }
            }
        }
    })
}

/// Waits (bounded) for the output readers to reach EOF, then stops them.
async fn drain(readers: Vec<JoinHandle<()>>, within: Duration) {
    let deadline = tokio::time::Instant::now() + failover_core::text::wait(within);
    for mut r in readers {
        if tokio::time::timeout_at(deadline, &mut r).await.is_err() {
            r.abort();
        }
    }
}

pub async fn execute(spec: &ActionSpec, output: &OutputSink) -> Outcome {
    let Some(Fields {
        argv,
        cwd,
        env,
        timeout,
    }) = fields(spec)
    else {
        return Outcome::Failed("internal error: not a command action".into());
    };
    let Some((program, args)) = argv.split_first() else {
        return Outcome::Failed("no command to run".into());
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .envs(environment(env))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    crate::cpu::usual_for(&mut command);
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let started = Instant::now();
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(spawn_error(program, cwd, &e)),
    };
    // process_group(0): the child's pid is its group id.
    let mut group = Group {
        pgid: child.id().and_then(|p| i32::try_from(p).ok()),
    };
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(pump(out, "", output.clone()));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(pump(err, "! ", output.clone()));
    }

    let waited = tokio::time::timeout(timeout, child.wait()).await;
    let status = match waited {
        Ok(status) => {
            group.disarm();
            status
        }
        Err(_) => {
            // Timeout: TERM the whole group, give it a moment, then KILL what is left.
            group.signal(libc::SIGTERM);
            let _ = tokio::time::timeout(TERM_GRACE, child.wait()).await;
            group.signal(libc::SIGKILL);
            let _ = child.start_kill();
            let _ = tokio::time::timeout(TERM_GRACE, child.wait()).await;
            group.disarm();
            drain(readers, DRAIN).await;
            return Outcome::Unknown(format!(
                "killed after timeout ({}): effect unknown",
                humantime::format_duration(timeout)
            ));
        }
    };
    let took = started.elapsed();
    drain(readers, DRAIN).await;
    match status {
        Ok(s) if s.success() => Outcome::Ok(format!("exit 0 in {} ms", took.as_millis())),
        Ok(s) => match s.code() {
            Some(code) => Outcome::Failed(format!("exit {code}")),
            None => {
                #[cfg(unix)]
                {
                    use std::os::unix::process::ExitStatusExt;
                    if let Some(sig) = s.signal() {
                        return Outcome::Failed(format!("killed by signal {sig}"));
                    }
                }
                Outcome::Failed(format!("ended without an exit code ({s})"))
            }
        },
        Err(e) => Outcome::Unknown(format!("lost track of {program}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use failover_core::actions::{ActionSpec, Outcome};

    #[test]
    fn a_command_of_a_batch_console_runs_with_the_usual_scheduling() {
        std::thread::spawn(|| {
            crate::cpu::batch().expect("sched_setscheduler");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let spec = ActionSpec::Exec {
                argv: ["sh", "-c", "sed -n 's/^policy *: *//p' /proc/$$/sched"]
                    .map(String::from)
                    .to_vec(),
                cwd: None,
                env: Vec::new(),
                timeout: Duration::from_secs(10),
            };
            let (tx, mut rx) = tokio::sync::mpsc::channel(16);
            let outcome = runtime.block_on(super::execute(&spec, &tx));
            assert!(matches!(outcome, Outcome::Ok(_)), "{outcome:?}");
            drop(tx);
            let lines: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
            // 0 is SCHED_OTHER (3 would be the console's SCHED_BATCH).
            assert_eq!(lines, ["0"]);
        })
        .join()
        .expect("thread");
    }
}
