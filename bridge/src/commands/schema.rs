//! `vlab schema`: the JSON Schema of vlab-report.json.

use crate::stdout::say_raw;
use vlab_harness::{Result, VlabReport};

/// Prints the schema to stdout.
pub fn run() -> Result<()> {
    say_raw!("{}", VlabReport::json_schema());
    Ok(())
}
