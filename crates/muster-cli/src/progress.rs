//! A progress bar with live pass/fail/inconclusive counts, on stderr when it is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use muster_drill::{Progress, Verdict};
use tokio::sync::mpsc;

use crate::runs::RunSpill;

/// Drive a progress bar from the engine's progress channel until it closes, handing every
/// finished run to `spill` (returned at the end) when there is one.
pub fn spawn(
    visible: bool,
    label: String,
    mut spill: Option<RunSpill>,
) -> (
    mpsc::UnboundedSender<Progress>,
    tokio::task::JoinHandle<Option<RunSpill>>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Progress>();
    let handle = tokio::spawn(async move {
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if visible {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        let style = ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style.progress_chars("=> "));
        bar.set_prefix(label);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        let (mut pass, mut fail, mut unsure) = (0, 0, 0);
        while let Some(p) = rx.recv().await {
            match p {
                Progress::Started { conversations, .. } => bar.set_length(conversations as u64),
                Progress::ScenarioStarted { .. } => {}
                Progress::ScenarioFinished(result) => {
                    if let Some(spill) = spill.as_mut() {
                        spill.add(&result);
                    }
                    match result.verdict {
                        Verdict::Pass => pass += 1,
                        Verdict::Fail => fail += 1,
                        Verdict::Inconclusive => unsure += 1,
                    }
                    bar.inc(1);
                }
            }
            bar.set_message(format!(
                "✓ {pass} pass  ✗ {fail} fail  ? {unsure} inconclusive"
            ));
        }
        bar.finish_and_clear();
        spill
    });
    (tx, handle)
}
