"""Assets: ingest of landed files into raw tables, and the dbt project."""
