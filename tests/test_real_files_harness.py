"""The pure parts of the real-files harness (benchmarks/real_files.py): reading the packages'
expected parses, comparing them with loaded rows, the reasons it groups and the tables it prints.
No network, no warehouse: tiny fixtures written here."""

import importlib.util
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "benchmarks" / "real_files.py"


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("real_files_harness", HARNESS)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


# mt-940 dumps its parse with PyYAML's Python tags: objects, Decimal, dates pickled as 4 bytes
# (2011-05-24 is 07 DB 05 18), and each transaction refers back to its statements object
MT940_YAML = """\
&id001 !!python/object:mt940.models.Transactions
data:
  final_opening_balance: !!python/object:mt940.models.Balance
    amount: !!python/object:mt940.models.Amount
      amount: !!python/object/apply:decimal.Decimal ['3236.28']
      currency: EUR
    date: !!python/object/apply:mt940.models.Date
    - !!binary |
      B9sFFg==
    status: C
  final_closing_balance: !!python/object:mt940.models.Balance
    amount: !!python/object:mt940.models.Amount
      amount: !!python/object/apply:decimal.Decimal ['-10.00']
      currency: EUR
    date: !!python/object/apply:mt940.models.Date
    - !!binary |
      B9sFGA==
    status: D
processors:
  post_statement: [!!python/name:mt940.processors.date_cleanup_post_processor '']
tags:
  13: !!python/object:mt940.tags.DateTimeIndication
    re: !!python/object/apply:re._compile ["^(?P<year>\\\\d{2})", 66]
transactions:
- !!python/object:mt940.models.Transaction
  data:
    amount: !!python/object:mt940.models.Amount
      amount: !!python/object/apply:decimal.Decimal ['-9']
      currency: EUR
    date: !!python/object/apply:mt940.models.Date
    - !!binary |
      B9sFGA==
    guessed_entry_date: !!python/object/apply:mt940.models.Date
    - !!binary |
      B9sFGA==
  transactions: *id001
- !!python/object:mt940.models.Transaction
  data:
    amount: !!python/object:mt940.models.Amount
      amount: !!python/object/apply:decimal.Decimal ['11.59']
      currency: EUR
    date: !!python/object/apply:mt940.models.Date
    - !!binary |
      B9sFFQ==
  transactions: *id001
"""


def test_mt940_yaml_is_read_as_plain_data(harness: ModuleType) -> None:
    expected = harness.mt940_expectation(MT940_YAML)
    assert expected.transactions == [
        harness.ExpectedTransaction(Decimal("-9"), "EUR", date(2011, 5, 24), date(2011, 5, 24)),
        harness.ExpectedTransaction(Decimal("11.59"), "EUR", date(2011, 5, 21), None),
    ]
    assert expected.balances == [
        harness.ExpectedBalance("opening", Decimal("3236.28"), date(2011, 5, 22)),
        harness.ExpectedBalance("closing", Decimal("-10.00"), date(2011, 5, 24)),
    ]


def test_an_unknown_python_tag_constructs_nothing(harness: ModuleType) -> None:
    # the loader must never import or call what a tag names
    expected = harness.mt940_expectation("transactions:\n- !!python/object/apply:os.system ['exit 1']\n")
    assert expected.transactions == [harness.ExpectedTransaction(None, None, None, None)]


def test_camt_golden_is_read_per_statement(harness: ModuleType) -> None:
    golden = repr(
        (
            "EUR",
            "NL00TEST0123456789",
            [
                {
                    "balance_start": 100.5,
                    "balance_end_real": 90.25,
                    "transactions": [{"amount": -10.25, "date": "2014-01-05"}],
                }
            ],
        )
    )
    expected = harness.camt_golden_expectation(golden)
    assert expected.transactions == [harness.ExpectedTransaction(Decimal("-10.25"), "EUR", None, date(2014, 1, 5))]
    assert expected.balances == [
        harness.ExpectedBalance("opening", Decimal("100.5"), position=1),
        harness.ExpectedBalance("closing", Decimal("90.25"), position=1),
    ]
    assert harness.camt_golden_expectation("(None, None, [])").transactions == []


def test_compare_counts_every_value(harness: ModuleType) -> None:
    expected = harness.ExpectedParse(
        transactions=[
            harness.ExpectedTransaction(Decimal("-9"), "EUR", date(2011, 5, 24), date(2011, 5, 24)),
            harness.ExpectedTransaction(Decimal("11.59"), "EUR", date(2011, 5, 21), None),
            harness.ExpectedTransaction(Decimal("1.00"), "EUR", date(2011, 5, 22), None),
        ],
        balances=[
            harness.ExpectedBalance("opening", Decimal("3236.28"), date(2011, 5, 22)),
            harness.ExpectedBalance("closing", Decimal("-10.00"), date(2011, 5, 24)),
        ],
    )
    rows = [
        # agrees in amount, currency and value date; its entry date is a day off
        (8, harness.LoadedRow(8, Decimal("-9.0000"), "EUR", date(2011, 5, 24), date(2011, 5, 25))),
        # agrees in all three values it is expected to have (no entry date expected)
        (12, harness.LoadedRow(12, Decimal("11.59"), "EUR", date(2011, 5, 21), date(2011, 5, 23))),
        # quarantined: each of its three expected values disagrees
        (14, None),
        # a line the package did not see as a transaction
        (16, harness.LoadedRow(16, Decimal("5"), "EUR", date(2011, 5, 22), date(2011, 5, 22))),
    ]
    statements = [
        harness.LoadedStatement(
            1,
            Decimal("3236.2800"),
            Decimal("10.0000"),
            opening_dates=frozenset({(Decimal("3236.28"), date(2011, 5, 22))}),
        )
    ]
    agreement = harness.compare(expected, rows, statements)
    # 3 + 3 transaction values, opening amount and date agree
    assert agreement.agreeing == 8
    # entry date, 3 values of the quarantined line, the unexpected line, the closing amount
    assert agreement.disagreeing == 6
    assert agreement.fields == {"entry date": 1, "amount": 3, "currency": 1, "value date": 1}
    assert "transaction 1 (line 8): entry date 2011-05-25, expected 2011-05-24" in agreement.differences
    assert "transaction 3 (line 14), not loaded: amount nothing, expected 1.00" in agreement.differences
    assert "closing balance: amount 10.0000, expected -10.00" in agreement.differences


def test_a_balance_held_by_a_statement_without_lines_has_no_date_to_compare(harness: ModuleType) -> None:
    # two statements close at the same amount; only the first has lines, dated the day before
    expected = harness.ExpectedParse(balances=[harness.ExpectedBalance("closing", Decimal("5"), date(2012, 6, 9))])
    with_lines = harness.LoadedStatement(
        1, Decimal("1"), Decimal("5"), closing_dates=frozenset({(Decimal("5"), date(2012, 6, 8))})
    )
    without_lines = harness.LoadedStatement(2, Decimal("5"), Decimal("5"))
    agreement = harness.compare(expected, [], [with_lines, without_lines])
    assert (agreement.agreeing, agreement.disagreeing) == (1, 0)
    # with the first statement alone, the date disagrees
    agreement = harness.compare(expected, [], [with_lines])
    assert (agreement.agreeing, agreement.disagreeing) == (1, 1)


def test_transaction_details_are_compared_as_their_entry(harness: ModuleType) -> None:
    day = date(2014, 1, 5)
    details = [
        harness.ExpectedTransaction(Decimal("-754.25"), "EUR", None, day),
        harness.ExpectedTransaction(Decimal("-564.05"), "EUR", None, day),
        harness.ExpectedTransaction(Decimal("-100.0"), "EUR", None, day),
        harness.ExpectedTransaction(Decimal("1405.31"), "EUR", None, day),
    ]
    rows = [
        (1, harness.LoadedRow(1, Decimal("-754.2500"), "EUR", None, day)),
        (2, harness.LoadedRow(2, Decimal("-664.0500"), "EUR", None, day)),
        (3, harness.LoadedRow(3, Decimal("1405.3100"), "EUR", None, day)),
    ]
    entries = harness.details_as_entries(details, rows)
    assert [e.amount for e in entries] == [Decimal("-754.25"), Decimal("-664.05"), Decimal("1405.31")]
    agreement = harness.compare(harness.ExpectedParse(transactions=entries), rows, [])
    assert (agreement.agreeing, agreement.disagreeing) == (9, 0)


def test_compare_without_lines_counts_expected_transactions_as_missing(harness: ModuleType) -> None:
    expected = harness.ExpectedParse(transactions=[harness.ExpectedTransaction(Decimal("1"), None, None, None)])
    agreement = harness.compare(expected, [], [])
    assert (agreement.agreeing, agreement.disagreeing) == (0, 1)
    assert agreement.differences == ["transaction 1 (no such line): amount nothing, expected 1"]


def test_statement_lines_are_numbered_as_the_product_numbers_rows(harness: ModuleType) -> None:
    text = (
        "ABNANL2A\r\n940\r\n:20:X\r\n:60F:C110522EUR1,00\r\n"
        + ":61:1105240524D9,N192NONREF\r\n:86:x\r\n:61:1105240524C1,N\r\n"
    )
    assert harness.statement_lines(text) == [5, 7]


def test_dates_in_reads_iso_swift_bai2_and_slashed_dates(harness: ModuleType) -> None:
    text = ":60F:C110522EUR1,00\n02,A,B,1,150101,0000,01,2,2/\n<Dt>2014-01-05</Dt>\n31/12/2019,x\n"
    found = set(harness.dates_in(text))
    assert {date(2011, 5, 22), date(2015, 1, 1), date(2014, 1, 5), date(2019, 12, 31)} <= found
    # 31/12/2019 has one reading only (there is no month 31); 2/1 in the BAI2 line is no date
    assert not any(d.year == 2019 and d != date(2019, 12, 31) for d in found)


def test_reasons_are_normalized_without_the_files_content(harness: ModuleType) -> None:
    reason = (
        "/tmp/home/landing/mt940/acme_eu/x.sta: statement 'ABN AMRO BANK NV' (line 4): opening 3236.28 EUR + "
        "its lines -321.44 does not reach 876.84 in field ':61:'"
    )
    assert harness.normalized_reason(reason) == (
        "x.sta: statement '…' (line 4): opening N EUR + its lines N does not reach N in field ':61:'"
    )
    assert len(harness.normalized_reason("word " * 100, limit=40)) == 40
    assert harness.normalized_reason("field ':60F:/currency': 'DEM' is withdrawn") == (
        "field ':60F:/currency': '…' is withdrawn"
    )
    # what names a format, a standard or a line stays; an account number goes
    assert harness.normalized_reason("no MT940 statement (ISO 4217, line 12) of account '517852257'") == (
        "no MT940 statement (ISO 4217, line 12) of account '…'"
    )


def test_render_table_aligns_numbers_right(harness: ModuleType) -> None:
    table = harness.render_table(("file", "rows"), [["a.sta", 1234], ["longer.sta", None]])
    assert table.splitlines() == [
        "file         rows",
        "----------  -----",
        "a.sta       1,234",
        "longer.sta      -",
    ]


def test_family_table_totals_and_notes(harness: ModuleType) -> None:
    loaded = harness.FileResult("mt940", "a.sta", "mt940", "loaded", 3, 2, 1, 2, 1, 1, 0)
    loaded.agreeing, loaded.disagreeing = 5, 1
    refused = harness.FileResult("mt940", "b.sta", "mt940", "refused", refusal="not an MT940 file")
    lines = harness.family_table([loaded, refused]).splitlines()
    assert "1 out of balance; 1 quarantined; 1 values disagree" in lines[2]
    assert lines[3].split()[:2] == ["b.sta", "mt940"] and lines[3].endswith("refused")
    assert lines[4].startswith("total: 2 files") and lines[4].endswith("1 refused")
    assert harness.family_details([loaded, refused])[0] == "refused  b.sta: not an MT940 file"


def test_findings_name_a_balanced_file_that_did_not_load_fully(harness: ModuleType) -> None:
    short = harness.FileResult("bai2", "x.bai2", "bai2", "loaded", 4, 3, 1, statements=1, balanced=1)
    assert harness.findings([short]) == ["bai2/x.bai2: every statement balances, yet 1 rows were quarantined"]


def test_a_package_index_that_cannot_be_reached_stops_the_harness_clearly(
    harness: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(
            command, 1, "", "ERROR: Could not find a version that satisfies the requirement bai2==0.15.0\n"
        )

    monkeypatch.setattr(harness.subprocess, "run", unreachable)
    with pytest.raises(harness.HarnessError, match=r"could not download bai2==0.15.0 .*pip exited 1"):
        harness.fetch(harness.BAI2, tmp_path)
    # nothing half-downloaded is left to be taken for a cached copy
    assert not (tmp_path / "packages" / harness.BAI2.key).exists()


def test_a_cached_package_is_reused_without_pip(
    harness: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = tmp_path / "packages" / harness.BAI2.key / "bai2-0.15.0.tar.gz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")
    monkeypatch.setattr(harness.subprocess, "run", lambda *a, **k: pytest.fail("pip ran for a cached package"))
    assert harness.fetch(harness.BAI2, tmp_path) == cached
