//! Gouvernail's core: the domain and the storage, with no HTTP in sight.
//!
//! Only this crate knows SQL. Each domain lives in its own module (`model` for its types,
//! `repo` for its SQL, `service` for its use-cases); the web and CLI crates call the
//! services, never the repos. See ARCHITECTURE.md at the repository root.

#[macro_use]
mod macros;

pub mod audit;
pub mod calendar;
pub mod convention;
pub mod db;
pub mod demo;
pub mod equipment;
pub mod error;
pub mod governance;
pub mod identity;
pub mod jobs;
pub mod money;
pub mod paris;
pub mod roadmap;
pub mod strategy;
pub mod territory;
pub mod text;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::{CoreError, CoreResult, FieldError};
