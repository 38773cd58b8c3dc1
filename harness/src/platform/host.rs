//! A description of the machine the benchmark runs on.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::system::Root;

/// The host's CPU, cores, memory and OS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HostInfo {
    /// CPU model name from `/proc/cpuinfo`, if known.
    pub cpu_model: Option<String>,
    /// Logical cores available to this process.
    pub cores: usize,
    /// Total RAM in bytes, if known.
    pub ram_bytes: Option<u64>,
    /// Operating system (`linux`, ...).
    pub os: String,
    /// CPU architecture (`x86_64`, `aarch64`, ...).
    pub arch: String,
}

impl HostInfo {
    /// Describes the current machine.
    pub fn current() -> Self {
        Self {
            cpu_model: cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ram_bytes: crate::platform::memory::total_ram(),
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
        }
    }
}

fn cpu_model() -> Option<String> {
    Root::default().cpu_model()
}

/// Temperature of the warmest thermal zone in degrees Celsius, if the
/// machine exposes any (`/sys/class/thermal`).
pub fn temperature_celsius() -> Option<f64> {
    Root::default().temperature_celsius()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_this_machine() {
        let h = HostInfo::current();
        assert!(h.cores >= 1);
        assert_eq!(h.os, std::env::consts::OS);
    }
}
