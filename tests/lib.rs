//! Integration tests of hookgate against the real local PostgreSQL, Redis and
//! RabbitMQ, in two binaries: `integration/` (a module per area, run in
//! parallel, each test owning its resources, see `hookgate-testkit`) and
//! `isolated/` (fault and telemetry tests that need the process or the
//! machine to themselves, one at a time).
