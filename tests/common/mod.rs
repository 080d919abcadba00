pub mod harness;
pub mod mirror;
pub mod schema;
