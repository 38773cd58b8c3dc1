//! An engine option as its engine declares it: name, kind of value, default
//! and help, in one line of the engine's file. The command-line flags, the
//! parameters file's `[engine]` table, validation, the report's
//! `engine.options` and `vlab engines` all come from these declarations.

use super::value::OptionValue;

/// The values an option takes, with the one the engine uses when none is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// A whole number of at least 1, such as a thread count.
    Count {
        /// The value when none is given.
        default: usize,
    },
    /// On or off.
    Switch {
        /// The value when none is given.
        default: bool,
    },
    /// One of a few names.
    Choice {
        /// The names, as flags and files spell them.
        names: &'static [&'static str],
        /// The name used when none is given; one of `names`.
        default: &'static str,
    },
}

/// One option an engine takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionDecl {
    /// The option's name in the parameters file and the report
    /// (`inter_threads`); its flag has dashes (`--inter-threads`).
    pub name: &'static str,
    /// The values it takes and its default.
    pub kind: OptionKind,
    /// What it sets, in a few words, for `--help` and `vlab engines`.
    pub help: &'static str,
}

impl OptionDecl {
    /// A whole number of at least 1.
    pub const fn count(name: &'static str, default: usize, help: &'static str) -> Self {
        Self {
            name,
            kind: OptionKind::Count { default },
            help,
        }
    }

    /// On or off.
    pub const fn switch(name: &'static str, default: bool, help: &'static str) -> Self {
        Self {
            name,
            kind: OptionKind::Switch { default },
            help,
        }
    }

    /// One of `names`.
    pub const fn choice(
        name: &'static str,
        names: &'static [&'static str],
        default: &'static str,
        help: &'static str,
    ) -> Self {
        Self {
            name,
            kind: OptionKind::Choice { names, default },
            help,
        }
    }

    /// The option's command-line flag, without its dashes (`inter-threads`).
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }

    /// The value the engine uses when the option is not given.
    pub fn default_value(&self) -> OptionValue {
        match self.kind {
            OptionKind::Count { default } => {
                OptionValue::Number(i64::try_from(default).unwrap_or(i64::MAX))
            }
            OptionKind::Switch { default } => OptionValue::Switch(default),
            OptionKind::Choice { default, .. } => OptionValue::Text(default.to_owned()),
        }
    }

    /// The values it takes, as a flag's value name: `N`, `on|off`,
    /// `disable|basic|all`.
    pub fn values(&self) -> String {
        match self.kind {
            OptionKind::Count { .. } => "N".to_owned(),
            OptionKind::Switch { .. } => "on|off".to_owned(),
            OptionKind::Choice { names, .. } => names.join("|"),
        }
    }

    /// `value` as this option holds it (a choice in its declared spelling),
    /// or what the option takes instead. A flag's value is text
    /// (`from_text`); a parameters file's has its TOML type.
    pub fn accept(&self, value: &OptionValue, from_text: bool) -> Result<OptionValue, String> {
        let count = |n: i64| (n >= 1).then_some(OptionValue::Number(n));
        let accepted = match (self.kind, value) {
            (OptionKind::Count { .. }, OptionValue::Number(n)) => count(*n),
            (OptionKind::Count { .. }, OptionValue::Text(t)) if from_text => {
                t.trim().parse().ok().and_then(count)
            }
            (OptionKind::Switch { .. }, OptionValue::Switch(on)) => Some(OptionValue::Switch(*on)),
            (OptionKind::Switch { .. }, OptionValue::Text(t)) if from_text => match t.trim() {
                "on" | "true" | "1" => Some(OptionValue::Switch(true)),
                "off" | "false" | "0" => Some(OptionValue::Switch(false)),
                _ => None,
            },
            (OptionKind::Choice { names, .. }, OptionValue::Text(t)) => names
                .iter()
                .find(|name| name.eq_ignore_ascii_case(t.trim()))
                .map(|&name| OptionValue::Text(name.to_owned())),
            _ => None,
        };
        accepted.ok_or_else(|| match self.kind {
            OptionKind::Count { .. } => "a whole number of at least 1".to_owned(),
            OptionKind::Switch { .. } if from_text => "on or off".to_owned(),
            OptionKind::Switch { .. } => "true or false".to_owned(),
            OptionKind::Choice { names, .. } => format!("one of {}", names.join(", ")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREADS: OptionDecl = OptionDecl::count("inter_threads", 1, "threads");
    const XNNPACK: OptionDecl = OptionDecl::switch("xnnpack", true, "delegate");
    const LEVEL: OptionDecl = OptionDecl::choice("level", &["basic", "all"], "all", "level");

    fn text(t: &str) -> OptionValue {
        OptionValue::Text(t.to_owned())
    }

    #[test]
    fn flags_and_defaults_come_from_the_declaration() {
        assert_eq!(THREADS.flag(), "inter-threads");
        assert_eq!(THREADS.default_value(), OptionValue::Number(1));
        assert_eq!(XNNPACK.default_value(), OptionValue::Switch(true));
        assert_eq!(LEVEL.default_value(), text("all"));
        assert_eq!(LEVEL.values(), "basic|all");
    }

    #[test]
    fn flag_text_is_read_by_kind() {
        assert_eq!(THREADS.accept(&text("4"), true), Ok(OptionValue::Number(4)));
        assert_eq!(
            XNNPACK.accept(&text("off"), true),
            Ok(OptionValue::Switch(false))
        );
        assert_eq!(
            XNNPACK.accept(&text("1"), true),
            Ok(OptionValue::Switch(true))
        );
        assert_eq!(LEVEL.accept(&text("ALL"), true), Ok(text("all")));
        assert!(THREADS.accept(&text("0"), true).is_err());
        assert!(THREADS.accept(&text("two"), true).is_err());
        assert_eq!(
            XNNPACK.accept(&text("maybe"), true),
            Err("on or off".to_owned())
        );
        assert_eq!(
            LEVEL.accept(&text("max"), true),
            Err("one of basic, all".to_owned())
        );
    }

    #[test]
    fn file_values_must_have_the_right_type() {
        assert_eq!(
            THREADS.accept(&OptionValue::Number(2), false),
            Ok(OptionValue::Number(2))
        );
        assert!(THREADS.accept(&OptionValue::Number(-1), false).is_err());
        assert!(THREADS.accept(&text("2"), false).is_err());
        assert_eq!(
            XNNPACK.accept(&text("on"), false),
            Err("true or false".to_owned())
        );
        assert!(LEVEL.accept(&OptionValue::Switch(true), false).is_err());
    }
}
