//! The settings an engine runs with: every option it declares, with the
//! value given or its default, in declaration order. Engines read them
//! through typed getters, and the report writes them under
//! `engine.options` as a plain JSON object (`{"threads": 1, "xnnpack": true}`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::value::OptionValue;
use crate::platform::error::{Error, Result};

/// The settings an engine runs with, defaults included, by option name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct EngineSettings(
    #[serde(with = "in_order")]
    #[schemars(with = "BTreeMap<String, OptionValue>")]
    Vec<(String, OptionValue)>,
);

impl FromIterator<(String, OptionValue)> for EngineSettings {
    fn from_iter<I: IntoIterator<Item = (String, OptionValue)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl EngineSettings {
    /// The value of option `name`, if the engine has it.
    pub fn get(&self, name: &str) -> Option<&OptionValue> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value)
    }

    /// The count option `name`.
    pub fn count(&self, name: &str) -> Result<usize> {
        match self.get(name) {
            Some(OptionValue::Number(n)) => {
                usize::try_from(*n).map_err(|_| Error::input(format!("{name} {n} is too large")))
            }
            _ => Err(undeclared(name, "count")),
        }
    }

    /// The switch option `name`.
    pub fn switch(&self, name: &str) -> Result<bool> {
        match self.get(name) {
            Some(OptionValue::Switch(on)) => Ok(*on),
            _ => Err(undeclared(name, "switch")),
        }
    }

    /// The choice option `name`, in its declared spelling.
    pub fn choice(&self, name: &str) -> Result<&str> {
        match self.get(name) {
            Some(OptionValue::Text(choice)) => Ok(choice),
            _ => Err(undeclared(name, "choice")),
        }
    }

    /// Records that option `name` runs with `value`, for a default the
    /// engine settles only once it sees its library.
    pub fn set(&mut self, name: &str, value: OptionValue) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, old)) => *old = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    /// The settings as `name=value` words, for logs and summaries.
    pub fn describe(&self) -> String {
        let words: Vec<String> = self
            .0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        words.join(" ")
    }
}

/// An engine reading an option it does not declare, or as another kind.
fn undeclared(name: &str, kind: &str) -> Error {
    Error::runtime(format!(
        "the engine reads option {name} as a {kind}, which it does not declare"
    ))
}

/// The settings as a JSON object whose keys keep declaration order.
mod in_order {
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserializer, Serializer};

    use super::OptionValue;

    /// Writes the pairs as an object, in order.
    pub fn serialize<S: Serializer>(
        pairs: &[(String, OptionValue)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(pairs.iter().map(|(name, value)| (name, value)))
    }

    /// Reads an object into pairs, in the order of its keys.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<(String, OptionValue)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, OptionValue)>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of engine settings")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(pairs)
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EngineSettings {
        [
            ("threads".to_owned(), OptionValue::Number(2)),
            ("xnnpack".to_owned(), OptionValue::Switch(true)),
            (
                "optimization".to_owned(),
                OptionValue::Text("all".to_owned()),
            ),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn getters_read_by_kind() {
        let s = settings();
        assert_eq!(s.count("threads").unwrap(), 2);
        assert!(s.switch("xnnpack").unwrap());
        assert_eq!(s.choice("optimization").unwrap(), "all");
        assert!(s.count("xnnpack").is_err());
        assert!(s.switch("bogus").is_err());
    }

    #[test]
    fn json_is_a_plain_object_in_declaration_order() {
        let mut s = settings();
        s.set("xnnpack", OptionValue::Switch(false));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"threads":2,"xnnpack":false,"optimization":"all"}"#
        );
        assert_eq!(serde_json::from_str::<EngineSettings>(&json).unwrap(), s);
        assert_eq!(s.describe(), "threads=2 xnnpack=off optimization=all");
        assert_eq!(
            serde_json::to_string(&EngineSettings::default()).unwrap(),
            "{}"
        );
    }
}
