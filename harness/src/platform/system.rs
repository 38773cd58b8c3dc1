//! The facts of a Linux machine that explain its speed: CPU model and
//! cores, the frequency governor and the current frequency, the kernel,
//! and its temperature. On a board they are the board's: vlab's engine
//! worker reads them where it runs. A value the machine does not expose
//! stays `None` (`null` in the reports).

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A machine's CPU and kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SystemInfo {
    /// CPU model (`/proc/cpuinfo`).
    pub cpu_model: Option<String>,
    /// Logical cores available to the process.
    pub cores: usize,
    /// cpufreq governor of CPU 0 (`performance`, `ondemand`, `schedutil`).
    pub governor: Option<String>,
    /// CPU 0's current frequency at the end of the run, MHz.
    pub frequency_mhz: Option<f64>,
    /// Kernel release (`6.6.51+rpt-rpi-2712`).
    pub kernel: Option<String>,
}

/// Where a machine's `/proc` and `/sys` are: `/`, or a copy in tests.
#[derive(Debug, Clone)]
pub struct Root(PathBuf);

impl Default for Root {
    fn default() -> Self {
        Self(PathBuf::from("/"))
    }
}

impl Root {
    /// The tree under `path` instead of `/`.
    pub fn at(path: &Path) -> Self {
        Self(path.to_path_buf())
    }

    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(path))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    /// The machine's facts now.
    pub fn system(&self) -> SystemInfo {
        SystemInfo {
            cpu_model: self.cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            governor: self.read("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            frequency_mhz: self.frequency_mhz(),
            kernel: self.read("proc/sys/kernel/osrelease"),
        }
    }

    /// CPU model name: x86's `model name`, a Raspberry Pi's `Model`, an
    /// older Arm kernel's `Hardware`.
    pub fn cpu_model(&self) -> Option<String> {
        let cpuinfo = self.read("proc/cpuinfo")?;
        ["model name", "Model", "Hardware"].iter().find_map(|key| {
            cpuinfo.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_owned())
            })
        })
    }

    /// CPU 0's current frequency, MHz: cpufreq's `scaling_cur_freq`, else
    /// x86's `cpu MHz` in `/proc/cpuinfo`.
    pub fn frequency_mhz(&self) -> Option<f64> {
        if let Some(khz) = self
            .read("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
            .and_then(|v| v.parse::<f64>().ok())
        {
            return Some(khz / 1000.0);
        }
        self.read("proc/cpuinfo")?.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "cpu MHz")
                .then(|| v.trim().parse().ok())
                .flatten()
        })
    }

    /// The warmest thermal zone, °C (`/sys/class/thermal`).
    pub fn temperature_celsius(&self) -> Option<f64> {
        let zones = std::fs::read_dir(self.0.join("sys/class/thermal")).ok()?;
        zones
            .flatten()
            .filter(|z| z.file_name().to_string_lossy().starts_with("thermal_zone"))
            .filter_map(|z| std::fs::read_to_string(z.path().join("temp")).ok())
            .filter_map(|t| t.trim().parse::<f64>().ok())
            .map(|millideg| millideg / 1000.0)
            .reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_raspberry_pi_tree_reads_as_a_pi() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "proc/cpuinfo",
            "processor\t: 0\nBogoMIPS\t: 108.00\n\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n",
        );
        write(
            d,
            "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
            "ondemand\n",
        );
        write(
            d,
            "sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq",
            "2400000\n",
        );
        write(d, "proc/sys/kernel/osrelease", "6.6.51+rpt-rpi-2712\n");
        write(d, "sys/class/thermal/thermal_zone0/temp", "61850\n");
        write(d, "sys/class/thermal/thermal_zone1/temp", "48000\n");
        write(d, "sys/class/thermal/cooling_device0/cur_state", "1\n");
        let root = Root::at(d);
        let system = root.system();
        assert_eq!(
            system.cpu_model.as_deref(),
            Some("Raspberry Pi 5 Model B Rev 1.0")
        );
        assert_eq!(system.governor.as_deref(), Some("ondemand"));
        assert_eq!(system.frequency_mhz, Some(2400.0));
        assert_eq!(system.kernel.as_deref(), Some("6.6.51+rpt-rpi-2712"));
        assert_eq!(root.temperature_celsius(), Some(61.85));
    }

    #[test]
    fn an_x86_vm_without_cpufreq_or_thermal_zones_reads_what_it_has() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "proc/cpuinfo",
            "processor\t: 0\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2596.120\n",
        );
        let root = Root::at(d);
        let system = root.system();
        assert_eq!(system.cpu_model.as_deref(), Some("AMD EPYC"));
        assert_eq!(system.frequency_mhz, Some(2596.12));
        assert_eq!(system.governor, None);
        assert_eq!(system.kernel, None);
        assert_eq!(root.temperature_celsius(), None);
    }
}
