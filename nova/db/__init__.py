"""The database layer: models, schema migrations and queries."""
