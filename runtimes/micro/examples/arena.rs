//! Prints the arena bytes vlab-micro needs for each model given.
//!
//! ```sh
//! cargo run --release -p vlab-micro --example arena -- models/*.tflite
//! ```

use vlab_micro::{Model, arena_bytes_required};

fn main() {
    for path in std::env::args().skip(1) {
        let result = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                Model::parse(&bytes)
                    .and_then(|m| arena_bytes_required(&m))
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(bytes) => println!("{path}\t{bytes}"),
            Err(e) => println!("{path}\terror: {e}"),
        }
    }
}
