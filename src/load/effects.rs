//! After the run: ask the effects probe about the duplicated keys and a sample.

use super::Shared;
use crate::runner::Probe;

pub(super) async fn check_effects(
    shared: &Shared,
    probe: &Probe,
) -> (usize, Vec<(String, u64)>, Option<String>) {
    let mut keys: Vec<String> = shared
        .duplicated
        .lock()
        .map(|k| k.iter().cloned().collect())
        .unwrap_or_default();
    keys.extend(shared.sampled.lock().map(|k| k.clone()).unwrap_or_default());
    let probed = keys.len();
    let results: Vec<(String, Result<u64, String>)> = ask_all(keys, probe).await;
    let mut violations = Vec::new();
    let mut error = None;
    for (key, result) in results {
        match result {
            Ok(1) => {}
            Ok(count) => violations.push((key, count)),
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    violations.sort();
    (probed, violations, error)
}

/// Asks the probe for every key, 16 at a time.
async fn ask_all(keys: Vec<String>, probe: &Probe) -> Vec<(String, Result<u64, String>)> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(16) {
        let mut set = tokio::task::JoinSet::new();
        for key in chunk {
            let (probe, key) = (probe.clone(), key.clone());
            set.spawn(async move {
                let (result, _) = probe.count(&key).await;
                (key, result)
            });
        }
        while let Some(Ok(r)) = set.join_next().await {
            out.push(r);
        }
    }
    out
}
