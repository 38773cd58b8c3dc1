//! Chooses vlab-micro's kernels for the target at build time:
//! - `arm_dsp` on Cortex-M4/M7 (`thumbv7em`), whose DSP extension gives the
//!   int8 dot products SMLAD (src/kernels/dsp.rs);
//! - `arm_v7` on every ARMv7 core, the Cortex-M3 (`thumbv7m`) included,
//!   whose 64-bit SMLAL carries two products at once (src/kernels/v7m.rs);
//!   the M3 takes these kernels, an M4/M7 the DSP ones;
//! - `arm_vfma` on Cortex-M4F/M7 with the FPU (`thumbv7em-*-eabihf`),
//!   whose fused multiply-add VFMA.F32 the float kernels use (dsp.rs);
//! - ARMv7-A Linux (`armv7`, `thumbv7neon`) has both instruction sets and
//!   runs both modules' tests under qemu-arm.
//!
//! Every other target, the host and the Cortex-M0+ included, takes the
//! portable kernels.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(arm_v7)");
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
}
