//! End-to-end and fault tests of hookgate live in this package's test targets.
