//! Pages and API of the governance bodies, their meetings and decisions.
