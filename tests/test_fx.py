"""FX: the ECB's reference rates landed, quarantined and filled onto every day; exact conversion."""

import json
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from dagster_project.lib.demo_data import generate_demo_data, reference_rate
from dagster_project.lib.formats import write_ecb_reference_rates
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import FileRejected, ensure_raw_schema, ingest_file
from dagster_project.lib.warehouse import connect
from python_udfs import register_udfs
from python_udfs.fx import fx_convert
from python_udfs.registry import _builtin_functions
from tests.conftest import dbt

# eurofxref-hist.csv as the ECB writes it: newest first, no weekend (7-8 November), a trailing
# comma on every line, N/A and blank cells for days without a rate. Line 7 has a malformed rate,
# a zero and a negative one; line 8 a day the calendar does not have; line 9 a cell too few.
ECB_RATES = """Date,USD,JPY,GBP,CHF,
2026-11-11,1.0830,163.10,0.86738,0.9410,
2026-11-10,N/A,162.95,0.8520,0.9405,
2026-11-09,1.0820,162.90,0.8510,N/A,
2026-11-06,1.0810,162.55,0.8500,0.9390,
2026-11-05,1.0800,,0.8490,0.9385,
2026-11-04,1.0x8,162.00,0,-1,
2026-02-30,1.0790,161.90,0.8480,0.9380,
2026-11-03,1.0790,161.90,0.8480,
"""
CELLS_WITH_A_VALUE = 4 + 3 + 3 + 4 + 3 + 4 + 4  # lines 2 to 8
MALFORMED_LINES = 1
# the rates lines 2 to 7 publish, line by line
LOADED = [
    (2, date(2026, 11, 11), "USD", "1.0830"), (2, date(2026, 11, 11), "JPY", "163.10"),
    (2, date(2026, 11, 11), "GBP", "0.86738"), (2, date(2026, 11, 11), "CHF", "0.9410"),
    (3, date(2026, 11, 10), "JPY", "162.95"), (3, date(2026, 11, 10), "GBP", "0.8520"),
    (3, date(2026, 11, 10), "CHF", "0.9405"),
    (4, date(2026, 11, 9), "USD", "1.0820"), (4, date(2026, 11, 9), "JPY", "162.90"),
    (4, date(2026, 11, 9), "GBP", "0.8510"),
    (5, date(2026, 11, 6), "USD", "1.0810"), (5, date(2026, 11, 6), "JPY", "162.55"),
    (5, date(2026, 11, 6), "GBP", "0.8500"), (5, date(2026, 11, 6), "CHF", "0.9390"),
    (6, date(2026, 11, 5), "USD", "1.0800"), (6, date(2026, 11, 5), "GBP", "0.8490"),
    (6, date(2026, 11, 5), "CHF", "0.9385"),
    (7, date(2026, 11, 4), "JPY", "162.00"),
]  # fmt: skip
IMPOSSIBLE_DATE = "field 'Date': '2026-02-30' is not a date (YYYY-MM-DD or DD Month YYYY)"
QUARANTINED = [
    (7, "CHF", "field 'CHF': '-1' must be greater than zero", "2026-11-04,CHF,-1"),
    (7, "GBP", "field 'GBP': '0' must be greater than zero", "2026-11-04,GBP,0"),
    (7, "USD", "field 'USD': '1.0x8' is not a decimal number (units of USD per euro, e.g. 1.0824)",
     "2026-11-04,USD,1.0x8"),
    (8, "Date", IMPOSSIBLE_DATE, "2026-02-30,CHF,0.9380"),
    (8, "Date", IMPOSSIBLE_DATE, "2026-02-30,GBP,0.8480"),
    (8, "Date", IMPOSSIBLE_DATE, "2026-02-30,JPY,161.90"),
    (8, "Date", IMPOSSIBLE_DATE, "2026-02-30,USD,1.0790"),
    (9, None, "malformed row: expected 6 fields, found 5", "2026-11-03,1.0790,161.90,0.8480,"),
]  # fmt: skip


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- ingest --------------------------------------------------------------------------------------


def test_ecb_rates_become_one_row_per_day_and_currency(home: ReconHome, tmp_path: Path) -> None:
    path = _write(tmp_path / "eurofxref-hist.csv", ECB_RATES)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "ecb_reference_rates", "acme_eu")
        loaded = connection.sql(
            "select _source_row, rate_date, currency, units_per_eur from raw.ecb_reference_rates"
        ).fetchall()
        records = connection.sql("select _raw_hash, _source_file from raw.ecb_reference_rates").fetchall()
        quarantined = connection.sql(
            """
            select source_row, field, reason, raw_record, source_file, source_name
            from raw.quarantine order by source_row, field, raw_record
            """
        ).fetchall()
    # every cell with a value is a raw row or a quarantined one; N/A and blank cells are neither
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (
        CELLS_WITH_A_VALUE + MALFORMED_LINES, len(LOADED), len(QUARANTINED)
    )  # fmt: skip
    assert result.rows_read == len(loaded) + len(quarantined)
    assert sorted(loaded, key=lambda row: (row[0], "USD JPY GBP CHF".index(row[2]))) == LOADED
    assert {source_file for _, source_file in records} == {str(path)} and len({h for h, _ in records}) == len(LOADED)
    assert [row[:4] for row in quarantined] == QUARANTINED
    assert {row[4:] for row in quarantined} == {(str(path), "ecb_reference_rates")}


def test_the_ecb_one_day_file_reads_too(home: ReconHome, tmp_path: Path) -> None:
    # eurofxref.csv: a space after each comma and the day written out
    path = _write(tmp_path / "eurofxref.csv", "Date, USD, JPY, \n04 November 2026, 1.0824, 162.55, \n")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, path, "ecb_reference_rates", "globex_us")
        rows = connection.sql("select rate_date, currency, units_per_eur from raw.ecb_reference_rates").fetchall()
    assert sorted(rows) == [(date(2026, 11, 4), "JPY", "162.55"), (date(2026, 11, 4), "USD", "1.0824")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Day,USD,\n2026-11-04,1.0824,\n", "must be Date followed by one currency code per column"),
        ("Date,\n2026-11-04,\n", "must be Date followed by one currency code per column"),
        ("Date,USD,GBP,USD,\n2026-11-04,1.0824,0.85,1.0825,\n", r"names currency column\(s\) USD more than once"),
    ],
)
def test_a_file_that_is_not_ecb_rates_is_rejected_whole(
    home: ReconHome, tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path / "rates.csv", text)
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=message):
            ingest_file(connection, path, "ecb_reference_rates", "acme_eu")


# --- staging and the daily rates -------------------------------------------------------------------


def test_every_day_has_the_last_published_rate(home: ReconHome, tmp_path: Path) -> None:
    first = _write(tmp_path / "eurofxref-hist.csv", ECB_RATES)
    # the next day's file, landed for the other profile, revises 11 November's USD rate
    second = _write(tmp_path / "eurofxref-hist-revised.csv", "Date,USD,\n2026-11-11,1.0831,\n")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, first, "ecb_reference_rates", "acme_eu")
        ingest_file(connection, second, "ecb_reference_rates", "globex_us")
    seeded = dbt(home, "seed", "--select", "currencies")
    assert seeded.returncode == 0, seeded.stdout
    built = dbt(
        home, "build", "--select", "stg_ecb__reference_rates", "int_fx_rates_daily",
        "--vars", json.dumps({"max_date": "2026-11-13"}),
    )  # fmt: skip
    assert built.returncode == 0, built.stdout
    with connect(home.warehouse) as connection:
        staged = connection.sql(
            "select currency, count(*) from staging.stg_ecb__reference_rates group by all order by all"
        ).fetchall()
        revised = connection.sql(
            """
            select units_per_eur, source_file from staging.stg_ecb__reference_rates
            where currency = 'USD' and rate_date = '2026-11-11'
            """
        ).fetchall()
        daily = {
            (day.isoformat(), currency): (rate, published_on)
            for day, currency, rate, published_on in connection.sql(
                "select rate_day, currency, units_per_eur, published_on from intermediate.int_fx_rates_daily"
            ).fetchall()
        }
        # 1000.00 EUR in USD on Sunday, and 1234.56 USD in GBP on Saturday, through the day's rates
        converted = connection.sql(
            """
            select
                fx_convert(100000, 2, 2, '1', cast(usd.units_per_eur as varchar)),
                fx_convert(
                    123456, 2, 2, cast(usd_saturday.units_per_eur as varchar),
                    cast(gbp_saturday.units_per_eur as varchar)
                )
            from intermediate.int_fx_rates_daily as usd
            join intermediate.int_fx_rates_daily as usd_saturday
                on usd_saturday.rate_day = '2026-11-07' and usd_saturday.currency = 'USD'
            join intermediate.int_fx_rates_daily as gbp_saturday
                on gbp_saturday.rate_day = '2026-11-07' and gbp_saturday.currency = 'GBP'
            where usd.rate_day = '2026-11-08' and usd.currency = 'USD'
            """
        ).fetchall()
    # one rate per day and currency that has one, EUR on each of the 6 days with rates
    assert staged == [("CHF", 4), ("EUR", 6), ("GBP", 5), ("JPY", 5), ("USD", 4)]
    assert revised == [(Decimal("1.0831"), str(second))]
    friday = (Decimal("1.0810"), date(2026, 11, 6))
    assert daily["2026-11-06", "USD"] == friday
    assert daily["2026-11-07", "USD"] == daily["2026-11-08", "USD"] == friday
    # no USD rate on Tuesday 10 November: Monday's serves
    assert daily["2026-11-10", "USD"] == (Decimal("1.0820"), date(2026, 11, 9))
    assert daily["2026-11-09", "CHF"] == (Decimal("0.9390"), date(2026, 11, 6))
    assert daily["2026-11-11", "GBP"] == (Decimal("0.86738"), date(2026, 11, 11))
    assert daily["2026-11-08", "EUR"] == (Decimal(1), date(2026, 11, 6))
    # from the first rate to the window's last day (max_date is exclusive), JPY from its own first
    assert min(day for day, _ in daily) == "2026-11-04" and max(day for day, _ in daily) == "2026-11-12"
    assert daily["2026-11-12", "USD"] == (Decimal("1.0831"), date(2026, 11, 11))
    assert ("2026-11-04", "USD") not in daily and ("2026-11-04", "JPY") in daily
    assert converted == [(108100, round_half_even(Decimal(123456) / Decimal("1.0810") * Decimal("0.8500")))]


# --- fx_convert ------------------------------------------------------------------------------------


def round_half_even(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _convert(*rows: tuple) -> list[int | None]:
    amounts, from_units, to_units, from_rates, to_rates = zip(*rows, strict=True)
    return fx_convert(
        pa.array(amounts, pa.int64()),
        pa.array(from_units, pa.int32()),
        pa.array(to_units, pa.int32()),
        pa.array(from_rates, pa.string()),
        pa.array(to_rates, pa.string()),
    ).to_pylist()


def test_fx_convert_rounds_once_half_to_even() -> None:
    assert _convert(
        (1000, 2, 2, "1", "1.0824"),  # 10.00 EUR are 10.824 USD: 1082 cents
        (100000, 2, 2, "1", "1.0824"),
        (108240, 2, 2, "1.0824", "1"),  # and back
        (5, 2, 2, "1", "1.5"),  # 7.5 -> 8
        (15, 2, 2, "1", "1.5"),  # 22.5 -> 22
        (-5, 2, 2, "1", "1.5"),  # -7.5 -> -8
        (-15, 2, 2, "1", "1.5"),  # -22.5 -> -22
        (1, 2, 2, "2", "1"),  # 0.5 -> 0
        (3, 2, 2, "2", "1"),  # 1.5 -> 2
        (0, 2, 2, "1.0824", "0.86738"),
    ) == [1082, 108240, 100000, 8, 22, -8, -22, 0, 2, 0]


def test_fx_convert_follows_the_minor_units() -> None:
    # JPY has no minor units: 10.00 EUR at 162.55 is 1625.5 yen (-> 1626), at 162.45 1624.5 (-> 1624)
    assert _convert(
        (1000, 2, 0, "1", "162.55"),
        (1000, 2, 0, "1", "162.45"),
        (1500, 0, 2, "162.55", "1"),  # 1500 yen = 9.2279... EUR
        (1500, 0, 0, "162.55", "162.55"),
        (1000, 2, 3, "1", "0.3770"),  # a three-decimal currency (KWD)
    ) == [1626, 1624, 923, 1500, 3770]


def test_a_cross_rate_goes_through_the_euro_exactly() -> None:
    cases = [(123456, "1.0824", "0.86738"), (9_007_199_254_740_993, "1.0824", "0.86738"), (1, "3", "1")]
    expected = []
    with localcontext() as context:
        context.prec = 60
        for amount, usd, gbp in cases:
            expected.append(round_half_even(Decimal(amount) / Decimal(usd) * Decimal(gbp)))
    assert _convert(*[(amount, 2, 2, usd, gbp) for amount, usd, gbp in cases]) == expected
    # a rate cast from DECIMAL(18, 8) converts like the published text
    assert _convert((123456, 2, 2, "1.08240000", "0.86738000")) == expected[:1]


@pytest.mark.parametrize("position", range(5))
def test_a_null_argument_gives_null(position: int) -> None:
    row = [1000, 2, 2, "1", "1.0824"]
    row[position] = None
    assert _convert(tuple(row), (1000, 2, 2, "1", "1.0824")) == [None, 1082]


@pytest.mark.parametrize("rate", ["1,08x", "0", "-1.0824", "", "NaN", "Infinity"])
def test_a_rate_that_is_not_a_positive_decimal_is_refused(rate: str) -> None:
    with pytest.raises(ValueError, match=f"rate {rate!r} is not a positive decimal"):
        _convert((1000, 2, 2, "1", rate))


def test_fx_convert_runs_in_sql_under_its_own_name() -> None:
    assert "fx_convert" not in _builtin_functions()
    connection = register_udfs(duckdb.connect())
    rows = connection.sql(
        """
        select fx_convert(amount, 2, 0, '1', rate)
        from (values (1000, '162.55'), (null, '162.55'), (1000, null)) as t(amount, rate)
        """
    ).fetchall()
    assert rows == [(1626,), (None,), (None,)]
    with pytest.raises(duckdb.Error, match="rate '1,08x' is not a positive decimal"):
        connection.sql("select fx_convert(1000, 2, 2, '1', '1,08x')").fetchall()


# --- the generator ---------------------------------------------------------------------------------


def test_the_writer_writes_the_ecb_layout(tmp_path: Path) -> None:
    rates = {
        date(2026, 11, 6): {"GBP": Decimal("0.8500"), "USD": Decimal("1.0810"), "JPY": Decimal("162.55")},
        date(2026, 11, 9): {"GBP": Decimal("0.86738"), "JPY": Decimal("162.90")},
    }
    path = write_ecb_reference_rates(tmp_path / "eurofxref-hist.csv", rates)
    # newest first, N/A for USD on the 9th, a comma after the last column
    assert path.read_text() == "\n".join(
        ["Date,USD,JPY,GBP,", "2026-11-09,N/A,162.90,0.86738,", "2026-11-06,1.0810,162.55,0.8500,", ""]
    )


def test_the_demo_writes_and_lands_reference_rates(home: ReconHome, tmp_path: Path) -> None:
    dataset = generate_demo_data(tmp_path / "demo", days=5, orders_per_day=2, seed=7)
    again = generate_demo_data(tmp_path / "again", days=5, orders_per_day=2, seed=7)
    other = generate_demo_data(tmp_path / "other", days=5, orders_per_day=2, seed=8)
    landed = [(source, profile, path) for source, profile, path in dataset.files if source == "ecb_reference_rates"]
    assert len(landed) == 1
    _, profile, path = landed[0]
    assert path == tmp_path / "demo" / "ecb_reference_rates" / profile / "eurofxref-hist.csv"
    rates = dataset.reference_rates
    assert rates == again.reference_rates and rates != other.reference_rates
    first_day, last_day = dataset.first_day, dataset.last_day
    # business days from ten days before the first day to the last, no weekend
    assert min(rates) == first_day - timedelta(days=10) and max(rates) == last_day
    assert all(day.weekday() < 5 for day in rates)
    assert len(rates) == sum((first_day + timedelta(days=n)).weekday() < 5 for n in range(-10, 5))
    gaps = [day for day in rates if "USD" not in rates[day]]
    assert len(gaps) == 1 and first_day <= gaps[0] <= last_day
    for day, published in rates.items():
        assert {"USD", "GBP", "JPY"} <= set(published) | ({"USD"} if day in gaps else set())
        assert published["GBP"].as_tuple().exponent == -4 and published["JPY"].as_tuple().exponent == -2
        assert Decimal("1.00") < published.get("USD", Decimal("1.08")) < Decimal("1.16")
        assert Decimal("0.80") < published["GBP"] < Decimal("0.90")
    # the last rate published on or before the day: a weekend has Friday's, the gap the day before's
    saturday = min(day for day in (first_day + timedelta(days=n) for n in range(-10, 0)) if day.weekday() == 5)
    friday = saturday - timedelta(days=1)
    assert reference_rate(rates, saturday, "GBP") == reference_rate(rates, saturday + timedelta(1), "GBP")
    assert reference_rate(rates, saturday, "GBP") == rates[friday]["GBP"]
    before_gap = max(day for day in rates if day < gaps[0])
    assert reference_rate(rates, gaps[0], "usd") == rates[before_gap]["USD"]
    assert reference_rate(rates, gaps[0], "EUR") == Decimal(1)
    with pytest.raises(LookupError, match="No USD reference rate"):
        reference_rate(rates, min(rates) - timedelta(days=1), "USD")
    # the file reads back whole, gap included
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, path, "ecb_reference_rates", profile)
        stored = connection.sql("select rate_date, currency, units_per_eur from raw.ecb_reference_rates").fetchall()
    assert result.rows_quarantined == 0
    assert {(day, currency, str(rate)) for day, currency, rate in stored} == {
        (day, currency, str(rate)) for day, published in rates.items() for currency, rate in published.items()
    }


@pytest.mark.filterwarnings("ignore::dagster.BetaWarning")
def test_the_ingest_asset_exists_for_the_rates() -> None:
    from dagster_project.assets.ingest import ingest_assets

    keys = {key.to_user_string() for asset in ingest_assets for key in asset.keys}
    assert "raw/ecb_reference_rates" in keys
