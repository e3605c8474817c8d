//! The real binary in a tmux session (80x24 unless asked): keys in, the screen out, and how it ended.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::Lab;

const SESSION_PREFIX: &str = "fc-test-";

pub struct Tmux {
    pub session: String,
    /// Where the shell around the console writes its exit status (`start_exiting`).
    exit_file: Option<std::path::PathBuf>,
}

impl Tmux {
    /// The console on `config`, as the session's only process.
    pub fn start(config: &Path, tag: &str) -> Tmux {
        Tmux::start_with(config, tag, &[])
    }

    /// The console on `config`, with `env` set for it.
    pub fn start_with(config: &Path, tag: &str, env: &[(&str, &str)]) -> Tmux {
        let command = format!(
            "{} --config {} --operator tmux-test",
            env!("CARGO_BIN_EXE_failover-console"),
            config.display()
        );
        Tmux::run(&command, tag, env)
    }

    /// `failover-console --config CONFIG ARGS...` in a new session of `width`x`height`.
    pub fn start_args(config: &Path, tag: &str, args: &str, width: u16, height: u16) -> Tmux {
        let command = format!(
            "{} --config {} {args}",
            env!("CARGO_BIN_EXE_failover-console"),
            config.display()
        );
        Tmux::run_sized(&command, tag, &[], (width, height))
    }

    /// `command` (through the shell) in a new 80x24 session, with `env` set.
    pub fn run(command: &str, tag: &str, env: &[(&str, &str)]) -> Tmux {
        Tmux::run_sized(command, tag, env, (80, 24))
    }

    fn run_sized(
        command: &str,
        tag: &str,
        env: &[(&str, &str)],
        (width, height): (u16, u16),
    ) -> Tmux {
        let session = format!("{SESSION_PREFIX}{tag}-{}", std::process::id());
        let mut tmux = Command::new("tmux");
        tmux.args(["new-session", "-d", "-s", &session]).args([
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
        for (key, value) in env {
            tmux.args(["-e", &format!("{key}={value}")]);
        }
        let status = tmux
            .arg(command)
            .env_remove("TMUX")
            .status()
            .expect("tmux is installed by scripts/lab up");
        assert!(status.success(), "tmux new-session failed");
        Tmux {
            session,
            exit_file: None,
        }
    }

    /// The console on `config`, with `env` set for it, under a shell that writes its exit
    /// status where `wait_exit` reads it; the pane stays once it has ended, with its last
    /// screen. (tmux 3.3a loses the status of a pane whose terminal closed before its process
    /// was reaped, and sometimes leaves it unreaped: `#{pane_dead_status}` cannot be relied on.)
    pub fn start_exiting(config: &Path, tag: &str, env: &[(&str, &str)]) -> Tmux {
        let exit_file =
            std::env::temp_dir().join(format!("{SESSION_PREFIX}{tag}-{}.exit", std::process::id()));
        let _ = std::fs::remove_file(&exit_file);
        let command = format!(
            "{} --config {} --operator tmux-test; echo $? > {}",
            env!("CARGO_BIN_EXE_failover-console"),
            config.display(),
            exit_file.display()
        );
        let mut tmux = Tmux::run(&command, tag, env);
        tmux.keep_after_exit();
        tmux.exit_file = Some(exit_file);
        tmux
    }

    /// The pane stays once its process has ended, with its exit status (`dead_status`) and
    /// its last screen.
    fn keep_after_exit(&self) {
        let status = Command::new("tmux")
            .args(["set-option", "-t", &self.session, "remain-on-exit", "on"])
            .status()
            .expect("tmux set-option");
        assert!(status.success(), "tmux set-option remain-on-exit failed");
    }

    fn format(&self, format: &str) -> String {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.session, format])
            .output()
            .expect("tmux display-message");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The console has ended (`start_exiting`).
    pub fn exited(&self) -> bool {
        self.exit_file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .is_some_and(|t| !t.trim().is_empty())
    }

    /// Waits (bounded) for the console to end (`start_exiting`); its exit status.
    pub fn wait_exit(&self, within: Duration) -> i32 {
        let file = self.exit_file.as_ref().expect("started with start_exiting");
        let end = Instant::now() + within;
        loop {
            if let Some(status) = std::fs::read_to_string(file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                return status;
            }
            assert!(
                Instant::now() < end,
                "the console did not exit within {within:?}:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The alternate screen is on (a TUI holds the terminal).
    pub fn alternate_on(&self) -> bool {
        self.format("#{alternate_on}") == "1"
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Everything the pane printed, scrollback included, wrapped lines joined.
    pub fn history(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-J", "-S", "-", "-t", &self.session])
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

    /// Once the lab is normal: r, the third runbook ("slow"), its plan, arm it (the site name,
    /// then `reason`), Enter: its first step starts.
    pub fn start_slow_run(&self, reason: &str) {
        self.wait_for("serving site A", Duration::from_secs(15));
        self.open_runbooks();
        self.keys(&["j", "j", "Enter"]);
        self.wait_for("Plan: slow", Duration::from_secs(5));
        self.keys(&["Enter"]);
        self.wait_for("type secondary to arm", Duration::from_secs(5));
        self.text("secondary");
        self.wait_for("reason for this run", Duration::from_secs(5));
        self.text(reason);
        self.wait_for("Run slow", Duration::from_secs(5));
        self.keys(&["Enter"]);
    }

    /// r, until the runbook list is open. A console shows its first frame before it holds the
    /// driver lock; until then r only says "not driving yet", and r is pressed again.
    pub fn open_runbooks(&self) {
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            self.keys(&["r"]);
            let pressed = Instant::now();
            loop {
                let screen = self.screen();
                if screen.contains(" Runbooks ") {
                    return;
                }
                assert!(
                    Instant::now() < end,
                    "r never opened the runbook list:\n{screen}"
                );
                if screen.contains("not driving yet")
                    && pressed.elapsed() > Duration::from_millis(500)
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
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

    /// Closes the session as a dropped SSH connection closes its terminal: the pane's terminal
    /// goes away under whatever runs in it.
    pub fn kill(&self) {
        let status = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status()
            .expect("tmux kill-session");
        assert!(status.success(), "tmux kill-session failed");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        if let Some(file) = &self.exit_file {
            let _ = std::fs::remove_file(file);
        }
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// The pid of the console that wrote last, from its console id in the journal (`host:pid`).
pub fn console_pid(lab: &Lab) -> u32 {
    let entries = lab.journal();
    let id = entries
        .iter()
        .rev()
        .find_map(|e| e.console.clone())
        .expect("a console id in the journal");
    id.rsplit(':')
        .next()
        .and_then(|p| p.split('#').next())
        .and_then(|p| p.parse().ok())
        .expect("pid in the console id")
}

/// Whether a process with this pid exists (a zombie counts: nobody has reaped it).
pub fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// A runbook named "slow" whose first step is a command of `secs` seconds that writes its pid
/// to `pid_file`, then a manual step.
pub fn slow_runbook(pid_file: &Path, secs: u64) -> String {
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
command = ["sh", "-c", "echo $$ > {}; exec sleep {secs}"]
timeout = "30s"

[[runbook.step]]
title = "Confirm by hand"
manual = "Check the world"
"#,
        pid_file.display()
    )
}

/// The pid the slow runbook's command wrote, once it has (bounded).
pub fn step_pid(pid_file: &Path) -> u32 {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(pid) = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            Instant::now() < end,
            "the step's command never wrote its pid"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
