//! Engine options. Each engine declares the options it takes
//! ([`OptionDecl`], one line each, returned by `Engine::options`); the user
//! gives some of them from flags or a parameters file ([`EngineOptions`]);
//! checking those against the declarations turns them into the
//! [`EngineSettings`] the engine runs with and the report records.

mod decl;
mod given;
mod settings;
mod value;

pub use decl::{OptionDecl, OptionKind};
pub use given::{EngineOptions, OptionSource};
pub use settings::EngineSettings;
pub use value::OptionValue;
