//! Pages and API of the governance bodies, their meetings and decisions.

pub mod api;
pub mod pages;
#[cfg(feature = "pdf")]
pub mod pdf;
