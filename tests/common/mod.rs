pub mod harness;
pub mod schema;
