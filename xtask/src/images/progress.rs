//! Progress of the builds on standard error: on a terminal, a live line per
//! build redrawn in place; elsewhere (CI, a pipe), a plain line per step.

use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Progress {
    live: bool,
    started: Instant,
    /// Per build: its name, its step, and the latest thing Packer said.
    lines: Vec<(String, String, String)>,
    drawn: usize,
}

impl Progress {
    pub fn new(names: &[String]) -> Progress {
        let live = std::io::stderr().is_terminal() && std::env::var_os("TERM").is_some_and(|term| term != "dumb");
        Progress {
            live,
            started: Instant::now(),
            lines: names.iter().map(|name| (name.clone(), "queued".to_owned(), String::new())).collect(),
            drawn: 0,
        }
    }

    /// A new step of a build: always shown.
    pub fn step(&mut self, name: &str, step: &str) {
        if let Some(line) = self.lines.iter_mut().find(|(n, _, _)| n == name) {
            line.1 = step.to_owned();
            line.2.clear();
        }
        if self.live {
            self.redraw();
        } else {
            eprintln!("[{:>5.1}s] {name}: {step}", self.started.elapsed().as_secs_f64());
        }
    }

    /// What Packer is doing now: shown live on a terminal only (the log
    /// file has every line).
    pub fn detail(&mut self, name: &str, detail: &str) {
        if !self.live {
            return;
        }
        if let Some(line) = self.lines.iter_mut().find(|(n, _, _)| n == name) {
            line.2 = detail.trim().lines().next().unwrap_or_default().to_owned();
        }
        self.redraw();
    }

    fn redraw(&mut self) {
        let mut err = std::io::stderr().lock();
        if self.drawn > 0 {
            let _ = write!(err, "\x1b[{}A", self.drawn);
        }
        let width = terminal_width();
        for (name, step, detail) in &self.lines {
            let mut text = format!("{name}: {step}");
            if !detail.is_empty() {
                text.push_str(" - ");
                text.push_str(detail);
            }
            let shown: String = text.chars().take(width.saturating_sub(1)).collect();
            let _ = writeln!(err, "\x1b[2K{shown}");
        }
        self.drawn = self.lines.len();
        let _ = err.flush();
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|columns| columns.parse().ok()).unwrap_or(100)
}
