//! Geometry shared by the modules above it, with no dependency on any of them.

pub mod mercator;
