"""HTTP conventions, settings, database, auth, observability shared by every service."""
