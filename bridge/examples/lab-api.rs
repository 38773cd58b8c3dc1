//! A stand-in for the lab's API on loopback, to try `vlab job`'s delivery
//! by hand (docs/nomad.md): it stores every artifact PUT to
//! `/jobs/{job}/artifacts/{name}` under a folder and prints what came.
//!
//! ```sh
//! cargo run -p vlab-bridge --example lab-api -- 127.0.0.1:8080 received [FAILURES]
//! ```
//!
//! FAILURES: answer 500 this many times first, to watch vlab retry.

// The tests read what the server records; this example only prints it.
#[allow(dead_code)]
#[path = "../../tests/cli/api.rs"]
mod api;

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: lab-api ADDR DIR [FAILURES]");
        std::process::exit(2);
    };
    let failures = match args.next().map(|n| n.parse::<u32>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("lab-api: FAILURES: {e}");
            std::process::exit(2);
        }
    };
    let api = match api::Api::start_on(&addr, failures, Some(PathBuf::from(&dir))) {
        Ok(api) => api,
        Err(e) => {
            eprintln!("lab-api: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("lab API on {} saving to {dir}/JOB/NAME", api.url());
    loop {
        std::thread::park();
    }
}
