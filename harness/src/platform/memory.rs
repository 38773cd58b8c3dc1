//! Process and machine memory, read from Linux's `/proc`.

/// Memory counters of this process, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessMemory {
    /// Resident set size now (`VmRSS`).
    pub rss: Option<u64>,
    /// Peak resident set size since the process started (`VmHWM`).
    pub peak_rss: Option<u64>,
}

impl ProcessMemory {
    /// Reads `/proc/self/status`; fields are `None` where it is unavailable.
    pub fn current() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        Self {
            rss: kib_field(&status, "VmRSS:"),
            peak_rss: kib_field(&status, "VmHWM:"),
        }
    }
}

/// Total memory of the machine (`MemTotal`), in bytes.
pub fn total_ram() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    kib_field(&meminfo, "MemTotal:")
}

/// Parses a `Name:   1234 kB` line of a `/proc` file into bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status_fields() {
        let status = "Name:\tvlab\nVmHWM:\t  2048 kB\nVmRSS:\t    1024 kB\n";
        assert_eq!(kib_field(status, "VmHWM:"), Some(2048 * 1024));
        assert_eq!(kib_field(status, "VmRSS:"), Some(1024 * 1024));
        assert_eq!(kib_field(status, "VmSwap:"), None);
    }

    #[test]
    fn reads_this_process() {
        let m = ProcessMemory::current();
        assert!(m.rss.unwrap() > 0);
        assert!(m.peak_rss.unwrap() >= m.rss.unwrap());
        assert!(total_ram().unwrap() > 0);
    }
}
