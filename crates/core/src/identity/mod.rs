//! Identity, perimeters and access: accounts (local and ProConnect), sessions, API tokens,
//! roles held on a perimeter for a period, delegation, and the policy every service asks.

pub mod model;
pub mod password;
pub mod policy;
pub mod repo;
pub mod service;

pub use model::{Perimeter, Role};
pub use policy::{Capability, Principal};
