//! The engine options a user gives, from flags or a parameters file, each
//! with where it came from. [`EngineOptions::settings`] checks them against
//! the options the engine declares, in this one place for every engine, and
//! fills in the defaults: the result is what the engine runs with.

use serde::{Deserialize, Serialize};

use super::decl::OptionDecl;
use super::settings::EngineSettings;
use super::value::OptionValue;
use crate::platform::error::{Error, Result};

/// Where a given option came from, so that a message can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptionSource {
    /// A program set it through the library.
    Code,
    /// A command-line flag; its value is text, read by the option's kind.
    Flag,
    /// A parameters file, at this line.
    File {
        /// The file, as messages name it.
        path: String,
        /// The line of the option's value, from 1.
        line: usize,
    },
}

impl OptionSource {
    /// An input error about option `name`, pointing at where it came from.
    fn error(&self, name: &str, problem: String) -> Error {
        Error::input(match self {
            OptionSource::Code => problem,
            OptionSource::Flag => format!("--{}: {problem}", name.replace('_', "-")),
            OptionSource::File { path, line } => format!("{path}: {problem} (line {line})"),
        })
    }
}

/// One option as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Given {
    name: String,
    value: OptionValue,
    source: OptionSource,
}

/// The engine options given, by name, in the order given. Each engine
/// refuses options it does not declare.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineOptions(Vec<Given>);

impl EngineOptions {
    /// These options with `name` set to `value`, replacing an earlier value.
    pub fn with(
        mut self,
        name: impl Into<String>,
        value: OptionValue,
        source: OptionSource,
    ) -> Self {
        let name = name.into();
        self.0.retain(|given| given.name != name);
        self.0.push(Given {
            name,
            value,
            source,
        });
        self
    }

    /// Whether option `name` is given.
    pub fn gives(&self, name: &str) -> bool {
        self.0.iter().any(|given| given.name == name)
    }

    /// Whether no option is given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These options with every option `over` gives replacing ours.
    pub fn overlaid(self, over: Self) -> Self {
        over.0.into_iter().fold(self, |options, given| {
            options.with(given.name, given.value, given.source)
        })
    }

    /// The settings engine `engine` runs with: the options given, checked
    /// against the options it `declares`, and the defaults of the others, in
    /// declaration order. An option it does not declare, or a value its
    /// declaration does not take, is an input error naming the option and
    /// where it came from.
    pub fn settings(&self, engine: &str, declares: &[OptionDecl]) -> Result<EngineSettings> {
        let mut accepted = Vec::new();
        for given in &self.0 {
            let Some(decl) = declares.iter().find(|d| d.name == given.name) else {
                let takes = if declares.is_empty() {
                    "it takes no engine options".to_owned()
                } else {
                    let names: Vec<&str> = declares.iter().map(|d| d.name).collect();
                    format!("it takes {}", names.join(", "))
                };
                let problem = format!("engine {engine} has no option {}; {takes}", given.name);
                return Err(given.source.error(&given.name, problem));
            };
            let value = decl
                .accept(&given.value, given.source == OptionSource::Flag)
                .map_err(|takes| {
                    let problem =
                        format!("{} '{}': {engine} takes {takes}", decl.name, given.value);
                    given.source.error(decl.name, problem)
                })?;
            accepted.push((decl.name, value));
        }
        Ok(declares
            .iter()
            .map(|decl| {
                let value = accepted
                    .iter()
                    .find(|(name, _)| *name == decl.name)
                    .map_or_else(|| decl.default_value(), |(_, value)| value.clone());
                (decl.name.to_owned(), value)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORT: &[OptionDecl] = &[
        OptionDecl::count("threads", 1, "intra-op threads"),
        OptionDecl::count("inter_threads", 1, "inter-op threads"),
        OptionDecl::choice("optimization", &["basic", "all"], "all", "level"),
    ];

    fn flag(options: EngineOptions, name: &str, text: &str) -> EngineOptions {
        options.with(name, OptionValue::Text(text.to_owned()), OptionSource::Flag)
    }

    fn message(result: Result<EngineSettings>) -> String {
        result.map_or_else(|e| e.message().to_owned(), |s| format!("accepted {s:?}"))
    }

    #[test]
    fn settings_are_the_given_values_and_the_defaults_in_declaration_order() {
        let given = flag(EngineOptions::default(), "optimization", "BASIC");
        let given = flag(given, "threads", "2");
        let settings = given.settings("ort", ORT).unwrap();
        assert_eq!(
            settings.describe(),
            "threads=2 inter_threads=1 optimization=basic"
        );
        assert_eq!(
            EngineOptions::default()
                .settings("ort", ORT)
                .unwrap()
                .describe(),
            "threads=1 inter_threads=1 optimization=all"
        );
    }

    #[test]
    fn options_an_engine_lacks_are_refused_by_name() {
        let given = flag(EngineOptions::default(), "xnnpack", "off");
        assert_eq!(
            message(given.settings("ort", ORT)),
            "--xnnpack: engine ort has no option xnnpack; it takes threads, inter_threads, optimization"
        );
        assert_eq!(
            message(given.settings("tract", &[])),
            "--xnnpack: engine tract has no option xnnpack; it takes no engine options"
        );
        assert!(EngineOptions::default().settings("tract", &[]).is_ok());
    }

    #[test]
    fn bad_values_name_the_option_and_where_it_came_from() {
        let given = flag(EngineOptions::default(), "inter_threads", "0");
        assert_eq!(
            message(given.settings("ort", ORT)),
            "--inter-threads: inter_threads '0': ort takes a whole number of at least 1"
        );
        let file = OptionSource::File {
            path: "m.vlab.toml".to_owned(),
            line: 3,
        };
        let given = EngineOptions::default().with("optimization", OptionValue::Switch(true), file);
        assert_eq!(
            message(given.settings("ort", ORT)),
            "m.vlab.toml: optimization 'on': ort takes one of basic, all (line 3)"
        );
        let given =
            EngineOptions::default().with("threads", OptionValue::Number(0), OptionSource::Code);
        assert_eq!(
            message(given.settings("ort", ORT)),
            "threads '0': ort takes a whole number of at least 1"
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = OptionSource::File {
            path: "p.toml".to_owned(),
            line: 2,
        };
        let from_file = EngineOptions::default()
            .with("threads", OptionValue::Number(4), file.clone())
            .with("inter_threads", OptionValue::Number(3), file);
        let merged = from_file.overlaid(flag(EngineOptions::default(), "threads", "2"));
        assert!(merged.gives("threads") && !merged.gives("optimization"));
        assert_eq!(
            merged.settings("ort", ORT).unwrap().describe(),
            "threads=2 inter_threads=3 optimization=all"
        );
    }
}
