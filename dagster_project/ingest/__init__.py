"""How landed deliveries reach the readers: what wraps a file (a zip archive) is taken off here,
once, for every format; `dagster_project.lib.ingest` reads, casts and writes what is inside."""
