//! Governance bodies (instances): their members and mandates, meetings with an agenda,
//! invitations (e-mail + ICS), attendance, versioned minutes, and decisions followed up
//! from one meeting to the next.

pub mod demo;
pub mod model;
pub mod notify;
pub mod repo;
pub mod service;

pub use model::*;
