"""`python -m dagster_project.currencies` (`make currencies`): regenerate the currency seed from
the pinned ISO 4217 package, after the package's pin changes."""

from dagster_project.currencies.iso4217 import write_seed

if __name__ == "__main__":
    print(f"wrote {write_seed()}")
