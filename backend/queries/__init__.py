"""Queries: every read and write of tasks, always filtered by owner — the store, the list's
plans and pages, the compiled statements' cache, keyed creates. Builds SQL on the storage
room's tables and runs it on its Database; knows no HTTP."""
