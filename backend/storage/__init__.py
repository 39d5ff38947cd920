"""Storage: the database interface, one module per dialect (PostgreSQL, SQLite), the factory
that picks one from DATABASE_URL, the tables (the storage contract) and their migrations.
Knows nothing of HTTP, tokens or the task rules."""
