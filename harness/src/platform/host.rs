//! A description of the machine the benchmark runs on.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpuinfo
        .lines()
        .find(|l| {
            l.starts_with("model name") || l.starts_with("Model") || l.starts_with("Hardware")
        })
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Temperature of the warmest thermal zone in degrees Celsius, if the
/// machine exposes any (`/sys/class/thermal`).
pub fn temperature_celsius() -> Option<f64> {
    let zones = std::fs::read_dir("/sys/class/thermal").ok()?;
    zones
        .filter_map(|z| z.ok())
        .filter(|z| z.file_name().to_string_lossy().starts_with("thermal_zone"))
        .filter_map(|z| std::fs::read_to_string(z.path().join("temp")).ok())
        .filter_map(|t| t.trim().parse::<f64>().ok())
        .map(|millideg| millideg / 1000.0)
        .reduce(f64::max)
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
