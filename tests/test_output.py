import json
from datetime import date
from decimal import Decimal

import pytest

from dagster_project.lib.output import render

ROWS = [
    {"id": "txn_1", "amount": Decimal("10.50"), "day": date(2026, 11, 1), "checks": ["a", "b"]},
    {"id": "txn_2", "amount": None, "day": date(2026, 11, 2), "checks": []},
]


def test_json_is_a_list_of_objects_with_plain_values() -> None:
    assert json.loads(render(ROWS, "json")) == [
        {"id": "txn_1", "amount": "10.50", "day": "2026-11-01", "checks": ["a", "b"]},
        {"id": "txn_2", "amount": None, "day": "2026-11-02", "checks": []},
    ]


def test_csv_has_header_and_one_line_per_row() -> None:
    assert render(ROWS, "csv").splitlines() == [
        "id,amount,day,checks",
        'txn_1,10.50,2026-11-01,"[""a"",""b""]"',
        "txn_2,,2026-11-02,[]",
    ]


def test_table_aligns_columns() -> None:
    lines = render(ROWS, "table").splitlines()
    assert lines[0].split() == ["id", "amount", "day", "checks"]
    assert lines[2].startswith("txn_1  10.50")
    assert render([], "table") == "(no rows)"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render(ROWS, "xml")
