//! Durations as users write and read them: `250ms`, `2s`, `1m30s` in, and
//! `850us`, `12.3ms`, `1.50s` out.

use std::time::Duration;

/// Parses `250ms`, `2s`, `1m`, `1m30s`.
pub fn parse(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| {
        format!("`{s}` is not a duration ({e}): write a number with a unit, e.g. 250ms, 2s, 1m")
    })
}

/// Formats a duration compactly: `850us`, `12.3ms`, `1.50s`.
pub fn format(d: Duration) -> String {
    let micros = d.as_micros();
    if micros < 1_000 {
        format!("{micros}us")
    } else if micros < 1_000_000 {
        format!("{:.1}ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_compact_and_parse() {
        assert_eq!(format(Duration::from_micros(850)), "850us");
        assert_eq!(format(Duration::from_micros(12_340)), "12.3ms");
        assert_eq!(format(Duration::from_millis(1500)), "1.50s");
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse("soon").unwrap_err().contains("e.g. 250ms"));
    }
}
