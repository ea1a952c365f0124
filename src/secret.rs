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

/// Replaces every occurrence of `secret` in `text` with its mask: as it
/// is, and in the forms a receiver's answer or log may carry it in:
/// percent-encoded (a URL or a form), and with every character written as a
/// JSON `\uXXXX` escape (either case of hex digits).
pub fn redact(text: &str, secret: &str) -> String {
    Redactor::new(secret).apply(text)
}

/// [`redact`] for one secret and many texts: its forms are worked out once.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// The secret, then its encoded forms.
    forms: Vec<String>,
    masked: String,
}

impl Redactor {
    /// Masks `secret` (nothing when it is empty).
    pub fn new(secret: &str) -> Redactor {
        let mut forms = Vec::new();
        if !secret.is_empty() {
            forms.push(secret.to_owned());
            forms.extend(encoded_forms(secret));
        }
        Redactor {
            forms,
            masked: mask(secret),
        }
    }

    /// `text` with every form of the secret masked.
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), &self.masked);
            }
        }
        out
    }

    /// The longest form of the secret, in bytes (0 without one): how much
    /// more of a text to keep before cutting it, so that no form is cut in
    /// two before it is masked.
    pub fn longest(&self) -> usize {
        self.forms.iter().map(String::len).max().unwrap_or(0)
    }
}

/// The encoded spellings of `secret` that differ from it.
pub(crate) fn encoded_forms(secret: &str) -> Vec<String> {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // What encodeURIComponent and most URL libraries leave alone.
    const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    let mut forms = Vec::new();
    for set in [NON_ALPHANUMERIC, COMPONENT] {
        let upper = utf8_percent_encode(secret, set).to_string();
        forms.push(lower_hex_escapes(&upper, '%'));
        forms.push(upper.replace("%20", "+"));
        forms.push(upper);
    }
    let escaped: String = secret
        .encode_utf16()
        .map(|unit| format!("\\u{unit:04X}"))
        .collect();
    forms.push(escaped.to_lowercase());
    forms.push(escaped);
    forms.retain(|f| f != secret);
    forms.sort();
    forms.dedup();
    forms
}

/// `text` with the hex digits after each `escape` character in lower case.
fn lower_hex_escapes(text: &str, escape: char) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after = 0;
    for c in text.chars() {
        if c == escape {
            after = 2;
            out.push(c);
        } else if after > 0 {
            after -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
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

    /// The longest form is what a log line keeps beyond its cut, so that
    /// no form is cut in two before it is masked: the `\\u` escapes here.
    #[test]
    fn the_longest_form_is_the_escaped_one() {
        let redactor = Redactor::new("AhALzdz8S");
        assert_eq!(redactor.longest(), 9 * 6);
        assert_eq!(Redactor::new("").longest(), 0);
    }

    /// Only the two hex digits after `%` are lowered: the text after them
    /// keeps its case (`a%2fB`, not `a%2fb`).
    #[test]
    fn lowering_escapes_leaves_the_rest_alone() {
        assert_eq!(lower_hex_escapes("a%2FBc%3AD", '%'), "a%2fBc%3aD");
        assert!(encoded_forms("a/B").contains(&"a%2fB".to_owned()));
    }

    #[test]
    fn redacts_the_encoded_forms_a_receiver_may_echo() {
        let secret = "wh_a+b/c d=";
        let masked = mask(secret);
        for echoed in [
            "wh_a+b/c d=",
            "wh_a%2Bb%2Fc%20d%3D",
            "wh_a%2bb%2fc%20d%3d",
            "wh_a%2Bb%2Fc+d%3D",
            "wh%5Fa%2Bb%2Fc%20d%3D",
            "\\u0077\\u0068\\u005F\\u0061\\u002B\\u0062\\u002F\\u0063\\u0020\\u0064\\u003D",
            "\\u0077\\u0068\\u005f\\u0061\\u002b\\u0062\\u002f\\u0063\\u0020\\u0064\\u003d",
        ] {
            assert_eq!(
                redact(&format!("[{echoed}]"), secret),
                format!("[{masked}]"),
                "{echoed}"
            );
        }
        // A plain id has one form only, and other text is left alone.
        assert_eq!(
            encoded_forms("AhALzdz8S").len(),
            2,
            "{:?}",
            encoded_forms("AhALzdz8S")
        );
        assert_eq!(redact("nothing here", "AhALzdz8S"), "nothing here");
    }
}
