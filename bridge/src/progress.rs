//! Progress bar for a run, drawn on stderr only when it is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use vlab_harness::{Observer, Phase};

/// An [`Observer`] that draws an indicatif progress bar.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress display, hidden when `enabled` is false or stderr is not a terminal.
    pub fn new(enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Self { bar }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn phase(&mut self, phase: Phase, steps: usize) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(match phase {
                Phase::Load => "loading",
                Phase::Warmup => "warmup",
                Phase::Measure => "timing",
                Phase::Profile => "layers",
            });
            bar.set_length(steps as u64);
            bar.set_position(0);
        }
    }

    fn step(&mut self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}
