//! The engine option flags of `vlab bench`, made from the options the
//! engines declare (`Engine::options`): one flag per option name
//! (`--inter-threads` for `inter_threads`), its help from every engine that
//! takes it. Values stay text here; the engine's declaration reads and
//! checks them (vlab_harness's `EngineOptions::settings`).

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use vlab_harness::{EngineOptions, OptionDecl, OptionSource, OptionValue};

/// The help heading the engine option flags appear under.
const HEADING: &str = "Engine options";

/// The engine options given as flags.
#[derive(Debug, Clone, Default)]
pub struct EngineFlags(pub EngineOptions);

/// Every option some engine declares, once per name, in the order of
/// `vlab_runtimes::ENGINES`, with each engine that takes it.
fn catalogue() -> Vec<(
    &'static OptionDecl,
    Vec<(&'static str, &'static OptionDecl)>,
)> {
    let mut options: Vec<(&OptionDecl, Vec<(&str, &OptionDecl)>)> = Vec::new();
    for engine in vlab_runtimes::ENGINES {
        for decl in engine.options() {
            match options
                .iter_mut()
                .find(|(first, _)| first.name == decl.name)
            {
                Some((_, takers)) => takers.push((engine.name(), decl)),
                None => options.push((decl, vec![(engine.name(), decl)])),
            }
        }
    }
    options
}

/// The flag of option `decl`, with help from every engine that takes it.
fn flag(decl: &OptionDecl, takers: &[(&str, &OptionDecl)]) -> Arg {
    let help: Vec<String> = takers
        .iter()
        .map(|(engine, d)| format!("{engine}: {} [default: {}]", d.help, d.default_value()))
        .collect();
    Arg::new(decl.name)
        .long(decl.flag())
        .value_name(decl.values())
        .help(help.join("; "))
        .help_heading(HEADING)
        .action(ArgAction::Set)
}

impl Args for EngineFlags {
    fn augment_args(cmd: Command) -> Command {
        catalogue()
            .into_iter()
            .fold(cmd, |cmd, (decl, takers)| cmd.arg(flag(decl, &takers)))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for EngineFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = Self::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for (decl, _) in catalogue() {
            if let Some(text) = matches.get_one::<String>(decl.name) {
                let value = OptionValue::Text(text.clone());
                self.0 = std::mem::take(&mut self.0).with(decl.name, value, OptionSource::Flag);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<EngineFlags, clap::Error> {
        let cmd = EngineFlags::augment_args(Command::new("bench"));
        EngineFlags::from_arg_matches(&cmd.try_get_matches_from(args)?)
    }

    #[test]
    fn every_declared_option_is_a_flag() {
        let flags = parse(&["bench", "--inter-threads", "2", "--xnnpack", "off"]).unwrap();
        assert!(flags.0.gives("inter_threads") && flags.0.gives("xnnpack"));
        assert!(!flags.0.gives("threads"));
        assert!(parse(&["bench", "--inter_threads", "2"]).is_err());
    }

    #[test]
    fn help_names_each_engine_and_its_default() {
        let help = EngineFlags::augment_args(Command::new("bench"))
            .render_help()
            .to_string();
        assert!(help.contains("Engine options:"), "{help}");
        assert!(help.contains("--xnnpack <on|off>"), "{help}");
        assert!(
            help.contains("ort: intra-op threads (run one operator) [default: 1]; tflite:"),
            "{help}"
        );
    }
}
