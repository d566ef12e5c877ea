//! Progress on stderr: a spinner that follows an iterative method's residual.

use choicelab_mdp::Observer;
use indicatif::{ProgressBar, ProgressStyle};

/// Builds a spinner, hidden when `quiet`.
pub fn spinner(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

/// Shows the iteration count and residual of a running planner.
pub struct ResidualSpinner {
    /// The spinner drawn on stderr.
    pub bar: ProgressBar,
}

impl Observer for ResidualSpinner {
    fn iteration(&mut self, method: &str, iteration: usize, residual: f64) {
        if iteration.is_power_of_two() || iteration.is_multiple_of(64) {
            self.bar.set_message(format!(
                "{method}: iteration {iteration}, residual {residual:.3e}"
            ));
            self.bar.tick();
        }
    }
}

/// A bar counting files, hidden when `quiet`.
pub fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} files {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
