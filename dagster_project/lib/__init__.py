"""Pure helpers, kept apart from Dagster decorators so they can be tested on their own."""
