//! [`declare_firmware!`]: the declarations every board's `main.rs` would
//! otherwise repeat.

/// Declares, in a board crate, what every vlab firmware has:
///
/// - `CORE_CLOCK_HZ`: board.toml's core clock, Hz;
/// - `VLAB_BUILD_HASH`: the build hash as a symbol of the image, which the
///   host reads from the ELF and, through a probe, from the board's flash
///   to tell whether the board runs this build;
/// - `INFO`: the agent's [`vlab_firmware::BoardInfo`];
/// - `memory()`: the agent's [`vlab_firmware::Memory`], static buffers of
///   the given sizes plus board.toml's flash model slot. Call it once: a
///   second call panics.
///
/// ```ignore
/// vlab_board_support::declare_firmware! {
///     model_slot: 96 << 10,
///     arena: 96 << 10,
///     samples: 4 << 10,
/// }
/// ```
///
/// board.toml's `[memory.flash_slot]` must be memory that is always mapped,
/// outside the firmware's image, and that nothing writes while the firmware
/// runs (the probe writes it with the core halted; QEMU at launch).
#[macro_export]
macro_rules! declare_firmware {
    (
        model_slot: $model_slot:expr,
        arena: $arena:expr,
        samples: $samples:expr $(,)?
    ) => {
        /// Core clock of the board, Hz (board.toml).
        const CORE_CLOCK_HZ: u32 = $crate::build::decimal(env!("VLAB_CORE_CLOCK_HZ")) as u32;

        /// The firmware's build hash, also a symbol of the image.
        // `no_mangle` is an unsafe attribute: the `VLAB_` name is unique in
        // the image.
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        #[used]
        static VLAB_BUILD_HASH: [u8; 8] = $crate::build::build_hash(env!("VLAB_BUILD_HASH"));

        /// What this firmware says about the board.
        const INFO: $crate::__private::BoardInfo = $crate::__private::BoardInfo {
            name: env!("VLAB_BOARD_NAME"),
            core_clock_hz: CORE_CLOCK_HZ,
            firmware_version: $crate::build::version(env!("CARGO_PKG_VERSION")),
            build_hash: $crate::build::build_hash(env!("VLAB_BUILD_HASH")),
            stack_used: $crate::stack::used,
        };

        /// The agent's memory: the model slot filled over the link, the
        /// tensor arena (which also holds the inputs), per-inference samples, and the
        /// flash model slot. Panics when called a second time.
        fn memory() -> $crate::__private::Memory<'static> {
            use $crate::__private::ConstStaticCell;
            static MODEL_SLOT: ConstStaticCell<[u8; $model_slot]> =
                ConstStaticCell::new([0; $model_slot]);
            static ARENA: ConstStaticCell<[u8; $arena]> = ConstStaticCell::new([0; $arena]);
            static SAMPLES: ConstStaticCell<[u32; $samples]> = ConstStaticCell::new([0; $samples]);
            // SAFETY: board.toml's flash slot is always mapped, outside the
            // image and not written while the firmware runs (the contract
            // of this macro's documentation).
            #[allow(unsafe_code)]
            let flash_slot = unsafe {
                $crate::flash_slot::contents(
                    $crate::build::decimal(env!("VLAB_FLASH_SLOT_ADDRESS")),
                    $crate::build::decimal(env!("VLAB_FLASH_SLOT_BYTES")),
                )
            };
            $crate::__private::Memory {
                model_slot: MODEL_SLOT.take(),
                flash_slot,
                arena: ARENA.take(),
                samples: SAMPLES.take(),
            }
        }
    };
}
