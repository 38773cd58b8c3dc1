//! `vlab probes`: the debug probes attached to this machine.

use crate::stdout::say;
use vlab_harness::Result;

/// Prints one line per probe, or what to check when there is none.
pub fn run() -> Result<()> {
    let probes = vlab_bridge::board::launch::probe::list();
    if probes.is_empty() {
        say!(
            "no debug probes found: plug the board's probe in over USB; if it is plugged in, \
             check the USB permissions (udev rules: docs/boards.md)"
        );
        return Ok(());
    }
    for probe in probes {
        let access = if probe.accessible {
            "ready"
        } else {
            "no permission: install the udev rules (docs/boards.md)"
        };
        say!("{:<28} {:<32} {access}", probe.identifier, probe.selector());
    }
    Ok(())
}
