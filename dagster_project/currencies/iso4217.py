"""ISO 4217 from the pinned package, and the seed generated from it.

The package ships the maintenance agency's two tables: list one, the current codes with their
minor units, and list three, the codes withdrawn, each with the month it was withdrawn in. A
current code is accepted at any date. A withdrawn code is accepted only for a record dated up to
the last day of its withdrawal month: ISO gives the month, not the day, and the changeovers fall
at a month's turn or within it (LTL until 2014-12-31, withdrawn 2014-12; HRK replaced on
2023-01-01 but in circulation until 14 January, withdrawn 2023-01).

List three gives no minor units; those of a withdrawn code are CLDR's (its currency data, as
babel ships it), and the seed says which list each value comes from. Codes whose minor units
list one gives as N.A. (gold, SDR, the test and no-currency codes) have none: no amount is booked
in them.
"""

import calendar
import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from dagster_project.lib.home import DBT_PROJECT_DIR

SEED_PATH = DBT_PROJECT_DIR / "seeds" / "currencies.csv"
SEED_COLUMNS = ("currency_code", "minor_units", "currency_name", "withdrawn_in", "valid_until", "minor_units_from")
ISO_LIST_ONE = "ISO 4217"
CLDR = "CLDR"


@dataclass(frozen=True)
class Currency:
    code: str
    name: str
    minor_units: int | None  # None: N.A. in ISO's list (no amount is booked in it)
    minor_units_from: str  # ISO_LIST_ONE or CLDR, empty when there are none
    withdrawn_in: str | None = None  # ISO's withdrawal month (YYYY-MM, or a year alone); None: current
    valid_until: date | None = None  # the last day a record in it may be dated

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_in is not None


def _last_day(year: int, month: int | None) -> date:
    """The last day of a withdrawal month; of the year when ISO gives only a year, or a span of
    years (VNC's "1989-1990", which the package reads as year 1989, month 1990)."""
    if month is not None and month > 12:
        year, month = month, None
    month = month or 12
    return date(year, month, calendar.monthrange(year, month)[1])


def from_package() -> list[Currency]:
    """Every code of the pinned package's lists, by code."""
    # imported here: only generating the seed and its test need the package (and it sets the
    # process's locale while it loads)
    from babel.numbers import get_currency_precision
    from iso_4217 import Currency as IsoCurrency

    found = []
    for iso in IsoCurrency:
        if iso.entities:  # in list one: current, whatever it was withdrawn from before
            units = iso.subunit_exp
            found.append(Currency(iso.name, iso.value, units, ISO_LIST_ONE if units is not None else ""))
            continue
        # withdrawn by every entity that used it: the last withdrawal ends its validity
        last = max(iso.withdrew_entities, key=lambda withdrawal: withdrawal.time.end)
        end = last.time.end
        found.append(
            Currency(
                code=iso.name,
                name=last.name.replace("\xa0", " "),
                minor_units=get_currency_precision(iso.name),
                minor_units_from=CLDR,
                withdrawn_in=str(end),
                valid_until=_last_day(end.year, end.month),
            )
        )
    return sorted(found, key=lambda currency: currency.code)


def seed_text(currencies: list[Currency]) -> str:
    """The seed's CSV: one line per code, empty cells where a value does not apply."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SEED_COLUMNS)
    for c in currencies:
        writer.writerow(
            [
                c.code,
                "" if c.minor_units is None else c.minor_units,
                c.name,
                c.withdrawn_in or "",
                c.valid_until.isoformat() if c.valid_until else "",
                c.minor_units_from,
            ]
        )
    return out.getvalue()


def write_seed(path: Path = SEED_PATH) -> Path:
    path.write_text(seed_text(from_package()), encoding="utf-8")
    return path


@cache
def currencies(path: Path = SEED_PATH) -> dict[str, Currency]:
    """The seed's currencies by code: what ingest checks a currency field against."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {
            row["currency_code"]: Currency(
                code=row["currency_code"],
                name=row["currency_name"],
                minor_units=int(row["minor_units"]) if row["minor_units"] else None,
                minor_units_from=row["minor_units_from"],
                withdrawn_in=row["withdrawn_in"] or None,
                valid_until=date.fromisoformat(row["valid_until"]) if row["valid_until"] else None,
            )
            for row in csv.DictReader(handle)
        }
