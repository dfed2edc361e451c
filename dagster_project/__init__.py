"""Orchestration, ingestion and the `recon` command line of the reconciliation warehouse."""
