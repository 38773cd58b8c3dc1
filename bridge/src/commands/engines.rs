//! `vlab engines`: every engine, whether it is available here, its version,
//! and why it is not; under each, the options it declares.

use crate::stdout::say;
use vlab_harness::Result;

/// Prints one line per engine, then one per option it takes.
pub fn run() -> Result<()> {
    for engine in vlab_runtimes::ENGINES {
        let formats: Vec<String> = engine.formats().iter().map(|f| f.to_string()).collect();
        let state = match engine.version() {
            Ok(version) => format!("available, version {version}"),
            Err(why) => format!("unavailable: {}", why.message()),
        };
        say!("{:<6} {:<12} {state}", engine.name(), formats.join(", "));
        for option in engine.options() {
            say!(
                "       {:<19} {}: {} [default: {}]",
                option.name,
                option.help,
                option.values(),
                option.default_value()
            );
        }
    }
    Ok(())
}
