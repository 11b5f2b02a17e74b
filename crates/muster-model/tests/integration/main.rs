//! Integration tests for the formats: the malformed-file corpus, schemas and properties of the
//! parser.

mod corpus;
mod properties;
mod schema;
