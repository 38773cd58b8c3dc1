//! `vlab schema`: the JSON Schema of vlab-report.json.

use vlab_harness::{Result, VlabReport};

/// Prints the schema to stdout.
pub fn run() -> Result<()> {
    print!("{}", VlabReport::json_schema());
    Ok(())
}
