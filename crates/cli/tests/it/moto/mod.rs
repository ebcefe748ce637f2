//! Tests against moto's server (being written).
