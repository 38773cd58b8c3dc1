//! Chooses vlab-micro's kernels for the target at build time:
//! - `arm_dsp` on Cortex-M4/M7 (`thumbv7em`), whose DSP extension gives the
//!   int8 dot products SMLAD (src/kernels/dsp.rs);
//! - `arm_v7` on every ARMv7 core, the Cortex-M3 (`thumbv7m`) included,
//!   whose 64-bit SMLAL carries two products at once (src/kernels/v7m.rs);
//!   the M3 takes these kernels, an M4/M7 the DSP ones;
//! - `arm_vfma` on Cortex-M4F/M7 with the FPU (`thumbv7em-*-eabihf`),
//!   whose fused multiply-add VFMA.F32 the float kernels use (dsp.rs);
//! - `arm_v6m` on the Cortex-M0+ (`thumbv6m`), which multiplies only 32 x
//!   32 -> 32 bits (MULS, no SMULL) and reaches most instructions from r0-r7
//!   alone: its requantisation in 32-bit multiplies, its int8 dot products
//!   with the sums in high registers (src/kernels/v6m.rs);
//! - ARMv7-A Linux (`armv7`, `thumbv7neon`) has the DSP and ARMv7
//!   instructions and runs those modules' tests under qemu-arm; `armv7`
//!   runs v6m.rs's too, whose test build compiles on every target.
//!
//! Every other target, the host included, takes the portable kernels.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(arm_v7)");
    println!("cargo::rustc-check-cfg=cfg(arm_v6m)");
    println!("cargo::rustc-check-cfg=cfg(arm_vfma)");
    println!("cargo::rerun-if-env-changed=TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    let linux_v7 = target.starts_with("armv7-unknown-linux")
        || target.starts_with("thumbv7neon-unknown-linux");
    if target.starts_with("thumbv7em") || linux_v7 {
        println!("cargo::rustc-cfg=arm_dsp");
    }
    if target.starts_with("thumbv7em") && target.ends_with("eabihf") {
        println!("cargo::rustc-cfg=arm_vfma");
    }
    if target.starts_with("thumbv7m") || target.starts_with("thumbv7em") || linux_v7 {
        println!("cargo::rustc-cfg=arm_v7");
    }
    if target.starts_with("thumbv6m") {
        println!("cargo::rustc-cfg=arm_v6m");
    }
}
