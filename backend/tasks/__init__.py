"""The task rules, as plain values: a schedule and its recurrence, the conditional headers'
tags, a list's filters and search words, its keyset cursors. They run no statement and
know no HTTP: the store applies them, the routes read them from requests."""
