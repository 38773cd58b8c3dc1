//! `vlab engines`: every engine, whether it is available here, its version,
//! and why it is not.

use crate::stdout::say;
use vlab_harness::Result;

/// Prints one line per engine.
pub fn run() -> Result<()> {
    for engine in vlab_runtimes::ENGINES {
        let formats: Vec<String> = engine.formats().iter().map(|f| f.to_string()).collect();
        let state = match engine.version() {
            Ok(version) => format!("available, version {version}"),
            Err(why) => format!("unavailable: {}", why.message()),
        };
        say!("{:<6} {:<12} {state}", engine.name(), formats.join(", "));
    }
    Ok(())
}
