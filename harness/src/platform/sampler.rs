//! The machine's temperature and CPU frequency over a run, read by a
//! thread every [`EVERY`] from just before the model loads to the end of
//! the run, so a board that throttles shows as a falling frequency and a
//! rising temperature beside its slowing inferences. Reading two sysfs
//! files a few times a second costs microseconds, off the timed thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::system::Root;

/// How often the sampler reads.
pub const EVERY: Duration = Duration::from_millis(250);

/// Most points kept: past it, every other point goes and the interval
/// doubles, so a long run keeps its whole span.
const MAX_POINTS: usize = 2000;

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MachineSample {
    /// Time since the load began, ms.
    pub at_ms: u64,
    /// The warmest thermal zone, °C.
    pub temperature_celsius: Option<f64>,
    /// CPU 0's frequency, MHz.
    pub frequency_mhz: Option<f64>,
}

/// A running sampler.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    points: Arc<Mutex<Vec<MachineSample>>>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    /// Starts reading `root`; when it exposes neither value, nothing runs.
    pub fn start(root: Root) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        // The first reading is taken here, so the run's first point is the
        // machine before the load, however late the thread starts.
        let first = reading(&root, start);
        let exposed = first.temperature_celsius.is_some() || first.frequency_mhz.is_some();
        let points = Arc::new(Mutex::new(if exposed { vec![first] } else { Vec::new() }));
        let thread = exposed.then(|| {
            let (stop, points) = (stop.clone(), points.clone());
            std::thread::spawn(move || sample(&root, start, &stop, &points))
        });
        Self {
            stop,
            points,
            thread,
        }
    }

    /// Stops and returns the readings, with one last one.
    pub fn finish(mut self) -> Vec<MachineSample> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        std::mem::take(&mut *self.points.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn reading(root: &Root, start: Instant) -> MachineSample {
    MachineSample {
        at_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        temperature_celsius: root.temperature_celsius(),
        frequency_mhz: root.frequency_mhz(),
    }
}

/// Reads every `every` after the first reading at `start`, and once more
/// when stopped.
fn sample(root: &Root, start: Instant, stop: &AtomicBool, points: &Mutex<Vec<MachineSample>>) {
    let mut every = EVERY;
    let mut next = start;
    loop {
        next += every;
        while Instant::now() < next {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10).min(every));
        }
        let reading = reading(root, start);
        let mut points = points.lock().unwrap_or_else(|e| e.into_inner());
        points.push(reading);
        if points.len() > MAX_POINTS {
            let kept: Vec<MachineSample> = points.iter().copied().step_by(2).collect();
            *points = kept;
            every *= 2;
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_with_a_thermal_zone_is_sampled_until_finished() {
        let dir = tempfile::tempdir().unwrap();
        let zone = dir.path().join("sys/class/thermal/thermal_zone0");
        std::fs::create_dir_all(&zone).unwrap();
        std::fs::write(zone.join("temp"), "55000\n").unwrap();
        let sampler = Sampler::start(Root::at(dir.path()));
        std::thread::sleep(EVERY * 2);
        let points = sampler.finish();
        assert!(points.len() >= 2, "{points:?}");
        assert!(points.iter().all(|p| p.temperature_celsius == Some(55.0)));
        assert!(points.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    }

    /// A throttling board: warmer and slower between the first reading and
    /// the last.
    #[test]
    fn a_throttling_machine_shows_as_rising_temperature_and_falling_frequency() {
        let dir = tempfile::tempdir().unwrap();
        let zone = dir.path().join("sys/class/thermal/thermal_zone0");
        let cpufreq = dir.path().join("sys/devices/system/cpu/cpu0/cpufreq");
        std::fs::create_dir_all(&zone).unwrap();
        std::fs::create_dir_all(&cpufreq).unwrap();
        std::fs::write(zone.join("temp"), "52000\n").unwrap();
        std::fs::write(cpufreq.join("scaling_cur_freq"), "2400000\n").unwrap();
        let sampler = Sampler::start(Root::at(dir.path()));
        std::fs::write(zone.join("temp"), "85000\n").unwrap();
        std::fs::write(cpufreq.join("scaling_cur_freq"), "1500000\n").unwrap();
        let points = sampler.finish();
        let (first, last) = (points[0], points[points.len() - 1]);
        assert_eq!(
            (first.temperature_celsius, first.frequency_mhz),
            (Some(52.0), Some(2400.0))
        );
        assert_eq!(
            (last.temperature_celsius, last.frequency_mhz),
            (Some(85.0), Some(1500.0))
        );
    }

    #[test]
    fn a_machine_exposing_nothing_runs_no_thread() {
        let dir = tempfile::tempdir().unwrap();
        let sampler = Sampler::start(Root::at(dir.path()));
        assert!(sampler.thread.is_none());
        assert!(sampler.finish().is_empty());
    }
}
