"""Real PostgreSQL and NATS started from PyPI wheels, and a supervisor for the whole stack."""
