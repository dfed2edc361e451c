"""The daily reconciliation report: every format, its numbers equal to the marts'."""

import csv
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from tests.conftest import recon

PROFILE = "acme_eu"
DAY = "2026-11-02"


def _marts(demo_home: Path) -> dict:
    connection = duckdb.connect(str(demo_home / "warehouse" / "recon.duckdb"), read_only=True)
    try:
        entries, matched, open_entries = connection.execute(
            """
            select sum(entries), sum(matched_entries), sum(open_entries)
            from marts.mart_daily_reconciliation
            where profile_id = ? and business_date = ? and side = 'source'
            """,
            [PROFILE, DAY],
        ).fetchall()[0]
        categories = dict(
            connection.execute(
                "select category, count(*) from marts.fct_exceptions where profile_id = ? and business_date = ? "
                "group by category",
                [PROFILE, DAY],
            ).fetchall()
        )
    finally:
        connection.close()
    return {
        "entries": int(entries),
        "matched": int(matched),
        "open": int(open_entries),
        "match_rate": round(matched / entries, 4),
        "categories": categories,
    }


@pytest.fixture(scope="module")
def reports(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    completed = recon(demo_home, "report", "--date", DAY, "--profile", PROFILE, "--format", "all", "--out", str(out))
    assert str(out / f"recon_{PROFILE}_{DAY}.pdf") in completed.stdout
    return out


def test_every_format_is_written(reports: Path) -> None:
    names = {path.name for path in reports.iterdir()}
    stem = f"recon_{PROFILE}_{DAY}"
    assert names == {
        f"{stem}.json",
        f"{stem}.xlsx",
        f"{stem}.pdf",
        *(f"{stem}_{section}.csv" for section in ("summary", "exceptions_by_category", "exceptions", "balances")),
    }


def test_csv_and_json_numbers_equal_the_marts(reports: Path, demo_home: Path) -> None:
    marts = _marts(demo_home)
    assert sum(marts["categories"].values()) > 0
    stem = reports / f"recon_{PROFILE}_{DAY}"
    with open(f"{stem}_summary.csv") as stream:
        summary = {row["metric"]: row["value"] for row in csv.DictReader(stream)}
    assert int(summary["matched"]) == marts["matched"]
    assert int(summary["open"]) == marts["open"]
    assert float(summary["match_rate"]) == marts["match_rate"]
    assert float(summary["accuracy"]) == 1.0  # the demo's ground truth is in the home
    with open(f"{stem}_exceptions_by_category.csv") as stream:
        by_category = Counter()
        for row in csv.DictReader(stream):
            by_category[row["category"]] += int(row["exceptions"])
    assert dict(by_category) == marts["categories"]
    with open(f"{stem}_exceptions.csv") as stream:
        assert Counter(row["category"] for row in csv.DictReader(stream)) == marts["categories"]
    with open(f"{stem}_balances.csv") as stream:
        purposes = {row["purpose"] for row in csv.DictReader(stream)}
    assert {"processor_clearing", "bank"} <= purposes

    document = json.loads(Path(f"{stem}.json").read_text())
    assert document["profile"] == PROFILE and document["business_date"] == DAY
    assert document["summary"]["matched"] == marts["matched"]
    assert document["summary"]["open"] == marts["open"]
    assert document["summary"]["match_rate"] == marts["match_rate"]
    json_categories = Counter()
    for row in document["exceptions_by_category"]:
        json_categories[row["category"]] += row["exceptions"]
    assert dict(json_categories) == marts["categories"]
    assert len(document["exceptions"]) == sum(marts["categories"].values())


def test_xlsx_has_every_section_and_a_chart(reports: Path, demo_home: Path) -> None:
    from openpyxl import load_workbook

    marts = _marts(demo_home)
    workbook = load_workbook(reports / f"recon_{PROFILE}_{DAY}.xlsx")
    assert workbook.sheetnames == ["summary", "exceptions_by_category", "exceptions", "balances"]
    summary = workbook["summary"]
    values = {row[0]: row[1] for row in summary.iter_rows(min_row=4, max_col=2, values_only=True) if row[0]}
    assert values["matched"] == marts["matched"]
    assert values["match_rate"] == marts["match_rate"]
    chart_table = {
        row[0]: row[1] for row in summary.iter_rows(min_row=4, min_col=4, max_col=5, values_only=True) if row[0]
    }
    assert chart_table == marts["categories"]
    assert len(summary._charts) == 1
    assert workbook["exceptions"].max_row == 1 + sum(marts["categories"].values())


def test_pdf_renders_and_reads_back(reports: Path, demo_home: Path) -> None:
    import pypdfium2 as pdfium

    marts = _marts(demo_home)
    document = pdfium.PdfDocument(reports / f"recon_{PROFILE}_{DAY}.pdf")
    try:
        image = document[0].render(scale=1).to_pil().convert("L")
        darkest, _ = image.getextrema()
        assert darkest < 128, "the first page is blank"
        text = "\n".join(document[index].get_textpage().get_text_range() for index in range(len(document)))
    finally:
        document.close()
    assert PROFILE in text and DAY in text
    assert f"{marts['match_rate']:.2%}" in text
    category, count = sorted(marts["categories"].items())[0]
    assert any(line.split() == [category, str(count)] for line in text.splitlines()), text


def test_the_nightly_run_wrote_the_reports(demo_home: Path) -> None:
    written = demo_home / "reports" / DAY
    assert (written / f"recon_{PROFILE}_{DAY}.pdf").exists()
    assert (written / f"recon_{PROFILE}_{DAY}_summary.csv").exists()


def test_a_date_without_reconciliation_is_an_error(demo_home: Path, tmp_path: Path) -> None:
    completed = recon(
        demo_home, "report", "--date", "2020-01-01", "--format", "csv", "--out", str(tmp_path), check=False
    )
    assert completed.returncode == 1
    assert "nothing was reconciled on 2020-01-01" in completed.stderr
    assert not any(tmp_path.iterdir())
