//! Test-only panics, for the tests of what a panic does: nothing real makes the console panic
//! on purpose. Compiled in only with the `test-hooks` cargo feature (the `lab` feature turns it
//! on for the lab tests); without it every hook is an empty function and the environment is
//! never read. With it, `FAILOVER_CONSOLE_TEST_PANIC` says where:
//!
//! - `main N`: the event loop panics at the clock's Nth tick;
//! - `poller N SOURCE`: the poller reading SOURCE (as the timeline names it, `health/api-b`)
//!   panics N seconds after it starts;
//! - `step`: a step's task panics just after its start is journaled.
//!
//! And `FAILOVER_CONSOLE_TEST_STALL="N MS"` blocks the event loop's thread for MS milliseconds
//! after the clock's Nth tick, as a slow start-up on a busy host does.

#[cfg(feature = "test-hooks")]
mod on {
    use std::future::Future;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    enum Hook {
        Main(u64),
        Poller(Duration, String),
        Step,
    }

    fn hook() -> Option<&'static Hook> {
        static HOOK: OnceLock<Option<Hook>> = OnceLock::new();
        HOOK.get_or_init(|| {
            let value = std::env::var("FAILOVER_CONSOLE_TEST_PANIC").ok()?;
            let mut words = value.splitn(3, ' ');
            match (words.next()?, words.next(), words.next()) {
                ("main", Some(n), None) => Some(Hook::Main(n.parse().ok()?)),
                ("poller", Some(n), Some(source)) => Some(Hook::Poller(
                    Duration::from_secs(n.parse().ok()?),
                    source.to_string(),
                )),
                ("step", None, None) => Some(Hook::Step),
                _ => None,
            }
        })
        .as_ref()
    }

    fn stall() -> Option<(u64, Duration)> {
        static STALL: OnceLock<Option<(u64, Duration)>> = OnceLock::new();
        *STALL.get_or_init(|| {
            let value = std::env::var("FAILOVER_CONSOLE_TEST_STALL").ok()?;
            let (n, ms) = value.split_once(' ')?;
            Some((n.parse().ok()?, Duration::from_millis(ms.parse().ok()?)))
        })
    }

    pub fn main_loop_tick() {
        static TICKS: AtomicU64 = AtomicU64::new(0);
        let tick = TICKS.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(Hook::Main(n)) = hook()
            && tick == *n
        {
            panic!("test hook: the event loop panics (FAILOVER_CONSOLE_TEST_PANIC)");
        }
        if let Some((n, how_long)) = stall()
            && tick == n
        {
            std::thread::sleep(how_long);
        }
    }

    pub fn poller<F>(sources: &[String], task: F) -> impl Future<Output = ()> + Send + 'static
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let after = match hook() {
            Some(Hook::Poller(after, source)) if sources.contains(source) => Some(*after),
            _ => None,
        };
        async move {
            let Some(after) = after else {
                return task.await;
            };
            tokio::select! {
                _ = task => {}
                _ = tokio::time::sleep(after) => {
                    panic!("test hook: a poller panics (FAILOVER_CONSOLE_TEST_PANIC)")
                }
            }
        }
    }

    pub fn step() {
        if let Some(Hook::Step) = hook() {
            panic!("test hook: a step's task panics (FAILOVER_CONSOLE_TEST_PANIC)");
        }
    }
}

#[cfg(feature = "test-hooks")]
pub use on::{main_loop_tick, poller, step};

#[cfg(not(feature = "test-hooks"))]
pub fn main_loop_tick() {}

#[cfg(not(feature = "test-hooks"))]
pub fn poller<F>(_sources: &[String], task: F) -> F {
    task
}

#[cfg(not(feature = "test-hooks"))]
pub fn step() {}
