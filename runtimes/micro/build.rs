//! Chooses vlab-micro's kernels for the target at build time: `arm_dsp` on
//! Cortex-M4/M7 (`thumbv7em`), whose DSP extension gives the int8 dot
//! products SMLAD (src/kernels/dsp.rs), and on ARMv7-A Linux, which has the
//! same instructions and runs those kernels' tests under qemu-arm; every
//! other target, the host included, takes the portable kernels.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(arm_dsp)");
    println!("cargo::rerun-if-env-changed=TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em") || target.starts_with("armv7-unknown-linux") {
        println!("cargo::rustc-cfg=arm_dsp");
    }
}
