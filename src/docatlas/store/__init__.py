"""The store: the SQLite index (schema, writer, queries) and the per-file facts cache."""
