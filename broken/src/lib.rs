//! Deliberately broken programs.
