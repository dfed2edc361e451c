"""The currencies the warehouse knows: ISO 4217 as its maintenance agency publishes it.

`dbt_project/seeds/currencies.csv` is generated from the pinned `iso-4217` package by
`make currencies` and never edited by hand; a test checks that the committed seed is what the
package gives, so the two cannot drift. dbt reads the seed as ref('currencies') and ingest reads
it through `iso4217.currencies()`: one list for both.
"""
