//! The real binary in tmux, driven by keys and read off the screen, as a person at a terminal.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub session: String,
}

impl Tmux {
    /// `failover-console --config CONFIG ARGS...` in a new session of `width`x`height`.
    pub fn start(config: &Path, tag: &str, args: &str, width: u16, height: u16) -> Tmux {
        let session = format!("fc-test-{tag}-{}", std::process::id());
        let command = format!(
            "{} --config {} {args}",
            env!("CARGO_BIN_EXE_failover-console"),
            config.display()
        );
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(&command)
            .env_remove("TMUX")
            .status()
            .expect("tmux is installed by scripts/lab up");
        assert!(status.success(), "tmux new-session failed");
        Tmux { session }
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let status = Command::new("tmux")
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .expect("tmux send-keys");
            assert!(status.success());
            // A key at a time, as a person types: each is its own terminal event.
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Types `text`, then Enter.
    pub fn text(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.session, "-l", text])
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
        std::thread::sleep(Duration::from_millis(30));
        self.keys(&["Enter"]);
    }

    /// Waits for `needle` on screen, with a deadline.
    pub fn wait_for(&self, needle: &str, within: Duration) -> String {
        let end = Instant::now() + within;
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < end,
                "{needle:?} never appeared on screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.session])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}
