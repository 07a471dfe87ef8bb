//! Pages and API of the conventions and their reciprocal commitments: the register (with its
//! table by département), one convention (parties, commitments and their follow-up, the
//! financial annex, versions, amendments, history, attachments), the cross-view of one
//! organisation's commitments, the late commitments, and the convention as a PDF.

pub mod api;
pub mod pages;
#[cfg(feature = "pdf")]
pub mod pdf;
