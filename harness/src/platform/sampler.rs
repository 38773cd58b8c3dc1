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
        let points = Arc::new(Mutex::new(Vec::new()));
        let exposed = root.temperature_celsius().is_some() || root.frequency_mhz().is_some();
        let thread = exposed.then(|| {
            let (stop, points) = (stop.clone(), points.clone());
            std::thread::spawn(move || sample(&root, &stop, &points))
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

fn sample(root: &Root, stop: &AtomicBool, points: &Mutex<Vec<MachineSample>>) {
    let start = Instant::now();
    let mut every = EVERY;
    let mut next = Instant::now();
    loop {
        let reading = MachineSample {
            at_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            temperature_celsius: root.temperature_celsius(),
            frequency_mhz: root.frequency_mhz(),
        };
        {
            let mut points = points.lock().unwrap_or_else(|e| e.into_inner());
            points.push(reading);
            if points.len() > MAX_POINTS {
                let kept: Vec<MachineSample> = points.iter().copied().step_by(2).collect();
                *points = kept;
                every *= 2;
            }
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
        next += every;
        while Instant::now() < next {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10).min(every));
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

    #[test]
    fn a_machine_exposing_nothing_runs_no_thread() {
        let dir = tempfile::tempdir().unwrap();
        let sampler = Sampler::start(Root::at(dir.path()));
        assert!(sampler.thread.is_none());
        assert!(sampler.finish().is_empty());
    }
}
