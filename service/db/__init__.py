"""The database layer: tables, engine and the stores that turn rows into domain objects."""
