//! After the run: ask the effects probe about the duplicated keys and a sample.

use super::Shared;
use crate::runner::{Probe, ProbeError, Reading};

/// What the probe said about the keys asked.
#[derive(Debug, Default)]
pub(super) struct Checked {
    /// Keys asked.
    pub probed: usize,
    /// Keys whose count was not 1, with the count.
    pub violations: Vec<(String, u64)>,
    /// Keys whose answers disagreed (state per process), with the answers.
    pub per_process: Vec<(String, Vec<u64>)>,
    /// What went wrong with the probe itself, if anything.
    pub error: Option<String>,
}

pub(super) async fn check_effects(shared: &Shared, probe: &Probe) -> Checked {
    let mut keys: Vec<String> = shared
        .duplicated
        .lock()
        .map(|k| k.iter().cloned().collect())
        .unwrap_or_default();
    keys.extend(shared.sampled.lock().map(|k| k.clone()).unwrap_or_default());
    let mut checked = Checked {
        probed: keys.len(),
        ..Checked::default()
    };
    for (key, result) in ask_all(keys, probe).await {
        match result {
            Ok(Reading::Count(1)) => {}
            Ok(Reading::Count(count)) => checked.violations.push((key, count)),
            Ok(Reading::Disagree(answers)) => checked.per_process.push((key, answers)),
            Err(ProbeError::Failed(e, _)) => {
                checked.error.get_or_insert(e);
            }
            Err(ProbeError::Stopped(_)) => {}
        }
    }
    checked.violations.sort();
    checked.per_process.sort();
    checked
}

/// Reads every key by the probe's rule, 16 keys at a time.
async fn ask_all(keys: Vec<String>, probe: &Probe) -> Vec<(String, Result<Reading, ProbeError>)> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(16) {
        let mut set = tokio::task::JoinSet::new();
        for key in chunk {
            let (probe, key) = (probe.clone(), key.clone());
            set.spawn(async move {
                let result = probe.read(&key).await.map(|(reading, _)| reading);
                (key, result)
            });
        }
        while let Some(Ok(r)) = set.join_next().await {
            out.push(r);
        }
    }
    out
}
