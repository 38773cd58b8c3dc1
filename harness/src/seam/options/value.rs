//! The value of an engine option: a number, on or off, or a name. It is
//! written to `vlab-report.json` as the plain JSON value (`2`, `false`,
//! `"all"`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The value of an engine option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OptionValue {
    /// On or off.
    Switch(bool),
    /// A whole number.
    Number(i64),
    /// A name, or a flag's value before it is read by the option's kind.
    Text(String),
}

impl std::fmt::Display for OptionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionValue::Switch(on) => f.write_str(if *on { "on" } else { "off" }),
            OptionValue::Number(n) => write!(f, "{n}"),
            OptionValue::Text(t) => f.write_str(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_plain_json_and_words_in_summaries() {
        let values = [
            OptionValue::Number(2),
            OptionValue::Switch(false),
            OptionValue::Text("all".to_owned()),
        ];
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(json, r#"[2,false,"all"]"#);
        assert_eq!(
            serde_json::from_str::<Vec<OptionValue>>(&json).unwrap(),
            values
        );
        let words: Vec<String> = values.iter().map(ToString::to_string).collect();
        assert_eq!(words, ["2", "off", "all"]);
    }
}
