//! Progress of the builds on standard error: on a terminal, a live line per
//! build redrawn in place with the time its step has taken; elsewhere (CI, a
//! pipe), a plain line per step, and for each running build a heartbeat
//! every 30 s (`XTASK_HEARTBEAT_SECS`) with the time and Packer's last line,
//! so that a long build never looks like a hang.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// One build's line.
struct Line {
    name: String,
    step: String,
    /// The latest thing Packer said.
    detail: String,
    since: Instant,
}

pub struct Progress {
    live: bool,
    started: Instant,
    lines: Vec<Line>,
    drawn: usize,
    last_drawn: Instant,
    heartbeat: Duration,
    last_heartbeat: Instant,
}

/// Steps after which a build is no longer running.
const FINAL_STEPS: [&str; 5] = ["queued", "built", "failed", "interrupted", "skipped"];

impl Progress {
    pub fn new(names: &[String]) -> Progress {
        let live = std::io::stderr().is_terminal() && std::env::var_os("TERM").is_some_and(|term| term != "dumb");
        let heartbeat = std::env::var("XTASK_HEARTBEAT_SECS").ok().and_then(|secs| secs.parse().ok()).unwrap_or(30.0);
        let now = Instant::now();
        Progress {
            live,
            started: now,
            lines: names
                .iter()
                .map(|name| Line { name: name.clone(), step: "queued".to_owned(), detail: String::new(), since: now })
                .collect(),
            drawn: 0,
            last_drawn: now,
            heartbeat: Duration::from_secs_f64(heartbeat),
            last_heartbeat: now,
        }
    }

    /// Called often while builds run: redraws the live lines once a second,
    /// or prints the heartbeat of each running build.
    pub fn tick(&mut self) {
        if self.live {
            if self.last_drawn.elapsed() >= Duration::from_secs(1) {
                self.redraw();
            }
            return;
        }
        if self.last_heartbeat.elapsed() < self.heartbeat {
            return;
        }
        self.last_heartbeat = Instant::now();
        for line in &self.lines {
            if FINAL_STEPS.iter().any(|step| line.step.starts_with(step)) {
                continue;
            }
            let said = if line.detail.is_empty() { String::new() } else { format!("; packer: {}", line.detail) };
            say!(
                "[{:>5.1}s] {}: still {} after {}s{said}",
                self.started.elapsed().as_secs_f64(),
                line.name,
                line.step,
                line.since.elapsed().as_secs()
            );
        }
    }

    /// A new step of a build: always shown.
    pub fn step(&mut self, name: &str, step: &str) {
        if let Some(line) = self.lines.iter_mut().find(|line| line.name == name) {
            line.step = step.to_owned();
            line.detail.clear();
            line.since = Instant::now();
        }
        if self.live {
            self.redraw();
        } else {
            say!("[{:>5.1}s] {name}: {step}", self.started.elapsed().as_secs_f64());
        }
    }

    /// What Packer is doing now: shown live on a terminal, and in the
    /// heartbeat elsewhere (the log file has every line).
    pub fn detail(&mut self, name: &str, detail: &str) {
        if let Some(line) = self.lines.iter_mut().find(|line| line.name == name) {
            line.detail = detail.trim().lines().next().unwrap_or_default().to_owned();
        }
        if self.live {
            self.redraw();
        }
    }

    fn redraw(&mut self) {
        let mut err = std::io::stderr().lock();
        if self.drawn > 0 {
            let _ = write!(err, "\x1b[{}A", self.drawn);
        }
        let width = terminal_width();
        for line in &self.lines {
            let mut text = format!("{}: {}", line.name, line.step);
            if !FINAL_STEPS.iter().any(|step| line.step.starts_with(step)) {
                text.push_str(&format!(" ({}s)", line.since.elapsed().as_secs()));
            }
            if !line.detail.is_empty() {
                text.push_str(" - ");
                text.push_str(&line.detail);
            }
            let shown: String = text.chars().take(width.saturating_sub(1)).collect();
            let _ = writeln!(err, "\x1b[2K{shown}");
        }
        self.drawn = self.lines.len();
        self.last_drawn = Instant::now();
        let _ = err.flush();
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|columns| columns.parse().ok()).unwrap_or(100)
}
