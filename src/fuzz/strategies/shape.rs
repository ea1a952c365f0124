//! How a valid payload is written out: key order shuffled, non-ASCII escaped.

use serde_json::Value;

/// Shuffles the key order of every object in `value`, from `state`.
pub(super) fn shuffle(value: &mut Value, state: &mut u64) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for i in (1..entries.len()).rev() {
                *state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                entries.swap(i, (*state >> 33) as usize % (i + 1));
            }
            for (_, v) in entries.iter_mut() {
                shuffle(v, state);
            }
            map.extend(entries);
        }
        Value::Array(items) => items.iter_mut().for_each(|v| shuffle(v, state)),
        _ => {}
    }
}

/// Writes JSON with every non-ASCII character as `\uXXXX` (surrogate pairs beyond the BMP).
pub fn escape_non_ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}
