"""xAPI: learning events as statements, sent to a learning record store and exported as NDJSON."""
