"""Event envelope, transactional outbox, relay, idempotent JetStream consumers."""
