//! `{{name}}` templates in scenario strings: one parser, used by validation
//! (at load time) and by the runner (when substituting), so the two always
//! agree on what a template is. Spaces inside the braces are allowed:
//! `{{key}}`, `{{ key }}` and `{{key }}` are the same.

use std::fmt;

/// A template variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// The idempotency key of the step's event.
    Key,
    /// The webhook id (a secret).
    WebhookId,
    /// The run's id.
    RunId,
    /// The case's id.
    CaseId,
}

impl Var {
    /// Every variable, with its name.
    pub const ALL: [(Var, &'static str); 4] = [
        (Var::Key, "key"),
        (Var::WebhookId, "webhook_id"),
        (Var::RunId, "run_id"),
        (Var::CaseId, "case_id"),
    ];

    fn named(name: &str) -> Option<Var> {
        Var::ALL.iter().find(|(_, n)| *n == name).map(|(v, _)| *v)
    }
}

/// Why a string is not a valid template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `{{` without a closing `}}`.
    Unclosed(String),
    /// A name that is not a variable.
    Unknown(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unclosed(text) => {
                write!(f, "`{text}` opens `{{{{` without closing `}}}}`")
            }
            TemplateError::Unknown(name) => write!(
                f,
                "unknown template `{{{{{name}}}}}`: expected one of {}",
                Var::ALL
                    .iter()
                    .map(|(_, n)| format!("{{{{{n}}}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text, kept as it is.
    Text(&'a str),
    /// A `{{name}}` variable, to be substituted.
    Var(Var),
}

/// Splits `text` into literal text and variables.
pub fn parse(text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            pieces.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(TemplateError::Unclosed(text.to_owned()));
        };
        let name = after[..end].trim();
        let var = Var::named(name).ok_or_else(|| TemplateError::Unknown(name.to_owned()))?;
        pieces.push(Piece::Var(var));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// `text` with every variable replaced by `value(var)`. Text that does not
/// parse (validation rejects it at load time) is returned as it is.
pub fn render(text: &str, value: impl Fn(Var) -> String) -> String {
    match parse(text) {
        Ok(pieces) => pieces
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t.to_owned(),
                Piece::Var(v) => value(v),
            })
            .collect(),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: Var) -> String {
        match v {
            Var::Key => "K".into(),
            Var::WebhookId => "W".into(),
            Var::RunId => "R".into(),
            Var::CaseId => "C".into(),
        }
    }

    #[test]
    fn every_spelling_that_validates_is_substituted() {
        for spelling in ["{{key}}", "{{ key }}", "{{key }}", "{{  key}}"] {
            assert!(parse(spelling).is_ok(), "{spelling}");
            assert_eq!(render(&format!("a-{spelling}-b"), values), "a-K-b");
        }
        assert_eq!(
            render("{{webhook_id}}/{{run_id}}/{{case_id}}", values),
            "W/R/C"
        );
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            parse("{{nope}}").unwrap_err().to_string(),
            "unknown template `{{nope}}`: expected one of {{key}}, {{webhook_id}}, {{run_id}}, {{case_id}}"
        );
        assert!(matches!(
            parse("{{key").unwrap_err(),
            TemplateError::Unclosed(_)
        ));
    }
}
