//! Governance bodies (instances), their members, meetings, minutes and decisions.
