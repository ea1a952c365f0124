//! The webhook identifier is a secret: it is shown masked unless asked for.

/// Masks a secret: its first two characters, then one asterisk per remaining
/// character (at least four, so short ids do not reveal their length).
pub fn mask(secret: &str) -> String {
    let shown: String = secret.chars().take(2).collect();
    let hidden = secret.chars().count().saturating_sub(2).max(4);
    format!("{shown}{}", "*".repeat(hidden))
}

/// Masks `secret` unless `show` is set.
pub fn display(secret: &str, show: bool) -> String {
    if show {
        secret.to_owned()
    } else {
        mask(secret)
    }
}

/// Replaces every occurrence of `secret` in `text` with its mask.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        return text.to_owned();
    }
    text.replace(secret, &mask(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_two() {
        assert_eq!(mask("AhALzdz8S"), "Ah*******");
        assert_eq!(mask("ab"), "ab****");
        assert_eq!(mask(""), "****");
        assert_eq!(mask("éé€x"), "éé****");
    }

    #[test]
    fn redacts_in_text() {
        assert_eq!(redact("id=AhALzdz8S;", "AhALzdz8S"), "id=Ah*******;");
        assert_eq!(display("AhALzdz8S", true), "AhALzdz8S");
    }
}
