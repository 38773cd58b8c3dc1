//! The `operators!` macro behind the registry (`registry.rs`).

/// Makes, from the list of (operator => implementing type):
/// - `Kernel<'a>`, one variant per operator holding its prepared parameters;
/// - `prepare`, which dispatches on the operator code (and custom code);
/// - `eval`, which dispatches on the variant;
/// - `IMPLEMENTED`, the builtin operators and custom codes, for checks and docs.
macro_rules! operators {
    (
        builtin { $($name:ident => $op:ty,)* }
        custom { $($custom:ident => $cop:ty,)* }
    ) => {
        /// A prepared operator: its parameters, by operator. Variants are
        /// named as the schema names the operators. The parameters are kept
        /// in the arena's prepared data, each operator's as large as its own
        /// kind needs: a step in the tables holds only this reference, not
        /// room for the largest operator's parameters.
        #[allow(non_camel_case_types, missing_docs, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy)]
        pub enum Kernel<'a> {
            $($name(&'a <$op as Op>::Params<'a>),)*
            $($custom(&'a <$cop as Op>::Params<'a>),)*
        }

        /// Checks an operator and computes what evaluation needs; `None`
        /// while only checking or when the arena is short (which
        /// `PrepareCtx` counts).
        pub fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<Option<Kernel<'a>>, Error> {
            let op = ctx.op.opcode;
            $(
                if op == Opcode::$name {
                    return Ok(prepare_kept::<$op>(ctx)?.map(Kernel::$name));
                }
            )*
            if op == Opcode::CUSTOM {
                #[allow(unused_variables)]
                let code = ctx.op.custom_code.unwrap_or("");
                $(
                    if code == stringify!($custom) {
                        return Ok(prepare_kept::<$cop>(ctx)?.map(Kernel::$custom));
                    }
                )*
                return Err(ctx.unsupported("custom operator not implemented"));
            }
            Err(ctx.unsupported("operator not implemented"))
        }

        /// Evaluates a prepared operator.
        pub fn eval(kernel: &Kernel<'_>, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
            match kernel {
                $(Kernel::$name(p) => <$op as Op>::eval(p, ctx),)*
                $(Kernel::$custom(p) => <$cop as Op>::eval(p, ctx),)*
            }
        }

        /// What vlab-micro implements.
        pub const IMPLEMENTED: Implemented = Implemented {
            builtin: &[$(Opcode::$name),*],
            custom: &[$(stringify!($custom)),*],
        };
    };
}
