"""Readers of bank statement formats that need more than a generic parser: each turns a landed
file into text columns keyed by its source's field keys, plus the rows it quarantined, and fails
the file whole when the statement contradicts itself (its balances or control totals)."""
