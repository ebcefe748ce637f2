//! One file per SQL table, shaped like the AWS ones: the spec, the row, the fetch.

pub mod commit;

pub mod repository_map;
