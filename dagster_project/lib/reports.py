"""The daily reconciliation report of a profile and business date, as CSV, JSON, XLSX and PDF.

The data is gathered once from the marts (`gather`), then written in each format asked for.
Counts and amounts are those of the source side of each rule (the side that expects a
counterpart: an order expects a charge), as in `recon status`. Money is an exact decimal string
in the currency's units, never a float.
"""

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.lib.evaluation import day_accuracy
from dagster_project.lib.ledger import format_minor
from dagster_project.lib.queries import exceptions, rows

REPORT_FORMATS = ("csv", "json", "xlsx", "pdf")
# the accounts whose balances a reconciler watches: money held by processors, on its way, at the bank
BALANCE_PURPOSES = ("processor_clearing", "in_transit", "bank")
PDF_EXCEPTION_ROWS = 40


@dataclass
class Report:
    profile: str
    business_date: date
    generated_at: str
    summary: dict[str, Any]
    amounts: list[dict[str, Any]]
    exceptions_by_category: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    balances: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return f"recon_{self.profile}_{self.business_date.isoformat()}"

    def summary_rows(self) -> list[dict[str, Any]]:
        """The summary as (metric, value) rows, amounts per currency included."""
        lines = [{"metric": name, "value": "" if value is None else value} for name, value in self.summary.items()]
        for amount in self.amounts:
            for name in ("matched_amount", "open_amount", "exception_amount"):
                lines.append({"metric": f"{name}_{amount['currency']}", "value": amount[name]})
        return lines


def report_profiles(connection: duckdb.DuckDBPyConnection, business_date: date) -> list[str]:
    """The profiles with entries reconciled on ``business_date`` on the source side, which is what
    a report counts (a day that saw only counterparts, a bank credit, has no report)."""
    found = connection.execute(
        """
        select distinct profile_id from marts.mart_daily_reconciliation
        where business_date = ? and side = 'source' and entries > 0
        order by 1
        """,
        [business_date],
    ).fetchall()
    return [profile for (profile,) in found]


def gather(
    connection: duckdb.DuckDBPyConnection, profile: str, business_date: date, ground_truth: Path | None = None
) -> Report:
    """Read one profile's report for one business date from the marts."""
    params = {"profile": profile, "date": business_date}
    totals = connection.execute(
        """
        select
            coalesce(sum(entries), 0),
            coalesce(sum(matched_entries), 0),
            coalesce(sum(matched_within_tolerance_entries), 0),
            coalesce(sum(open_entries), 0),
            coalesce(sum(exception_entries), 0)
        from marts.mart_daily_reconciliation
        where profile_id = $profile and business_date = $date and side = 'source'
        """,
        params,
    ).fetchone()
    entries, matched, within_tolerance, open_entries, exception_entries = (int(value) for value in totals)
    if entries == 0:
        raise ValueError(
            f"profile {profile!r} has nothing reconciled on {business_date}; "
            "see `recon status` for the profiles and dates there are"
        )
    amounts = [
        {
            "currency": currency,
            "matched_amount": format_minor(int(matched_minor), units),
            "open_amount": format_minor(int(open_minor), units),
            "exception_amount": format_minor(int(exception_minor), units),
        }
        for currency, units, matched_minor, open_minor, exception_minor in connection.execute(
            """
            select
                mart.currency,
                coalesce(any_value(currencies.minor_units), 2),
                sum(mart.matched_amount_minor),
                sum(mart.open_amount_minor),
                sum(mart.exception_amount_minor)
            from marts.mart_daily_reconciliation as mart
            left join config.currencies on currencies.currency_code = mart.currency
            where mart.profile_id = $profile and mart.business_date = $date and mart.side = 'source'
            group by mart.currency
            order by mart.currency
            """,
            params,
        ).fetchall()
    ]
    by_category = rows(
        connection,
        """
        select
            category,
            count(*) as exceptions,
            sum(amount_at_stake_minor) as amount_at_stake_minor,
            fct_exceptions.currency,
            coalesce(any_value(currencies.minor_units), 2) as minor_units
        from marts.fct_exceptions
        left join config.currencies on currencies.currency_code = fct_exceptions.currency
        where profile_id = $profile and business_date = $date
        group by category, fct_exceptions.currency
        order by category, fct_exceptions.currency
        """,
        params,
    )
    for line in by_category:
        units = line.pop("minor_units")
        stake = line.pop("amount_at_stake_minor")
        line["amount_at_stake"] = format_minor(int(stake), units) if stake is not None else ""
    listed = [
        {name: _plain(value) for name, value in exception.items()}
        for exception in exceptions(
            connection, status=None, business_date=business_date, profile=profile, category=None
        )
    ]
    balances = rows(
        connection,
        f"""
        select
            balances.account_id,
            balances.purpose,
            balances.currency,
            balances.status,
            balances.normal_side,
            balances.opening_minor,
            balances.debits_minor,
            balances.credits_minor,
            balances.closing_normal_minor,
            coalesce(currencies.minor_units, 2) as minor_units
        from marts.mart_daily_balances as balances
        left join config.currencies on currencies.currency_code = balances.currency
        where balances.profile_id = $profile
            and balances.business_date = $date
            and balances.purpose in {BALANCE_PURPOSES}
        order by balances.account_id, balances.status
        """,
        params,
    )
    for line in balances:
        units = line.pop("minor_units")
        for name in ("opening", "debits", "credits", "closing_normal"):
            line[name] = format_minor(int(line.pop(f"{name}_minor")), units)
        line["closing"] = line.pop("closing_normal")
    accuracy = None
    notes = []
    if ground_truth is not None and ground_truth.exists():
        correct, records = day_accuracy(connection, ground_truth, profile, business_date)
        if records:
            accuracy = round(correct / records, 4)
            notes.append(f"accuracy: {correct} of {records} records agree with {ground_truth.name}")
    summary = {
        "profile": profile,
        "business_date": business_date.isoformat(),
        "entries": entries,
        "matched": matched,
        "matched_within_tolerance": within_tolerance,
        "open": open_entries,
        "exception_entries": exception_entries,
        "exceptions": len(listed),
        "match_rate": round(matched / entries, 4),
        "accuracy": accuracy,
    }
    return Report(
        profile=profile,
        business_date=business_date,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        summary=summary,
        amounts=amounts,
        exceptions_by_category=by_category,
        exceptions=listed,
        balances=balances,
        notes=notes,
    )


def _plain(value: Any) -> Any:
    """A value as CSV, JSON and a spreadsheet hold it: lists joined, dates as ISO strings."""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def category_counts(report: Report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in report.exceptions_by_category:
        counts[line["category"]] = counts.get(line["category"], 0) + int(line["exceptions"])
    return counts


def _write_atomically(path: Path, write: Callable[[io.BufferedWriter], None]) -> Path:
    """Write through a temporary file beside ``path`` and rename it: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _csv_bytes(lines: list[dict[str, Any]], columns: Iterable[str]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(lines)
    return text.getvalue().encode()


def _sections(report: Report) -> dict[str, tuple[list[dict[str, Any]], list[str]]]:
    def columns(lines: list[dict[str, Any]], default: list[str]) -> list[str]:
        return list(lines[0]) if lines else default

    return {
        "summary": (report.summary_rows(), ["metric", "value"]),
        "exceptions_by_category": (
            report.exceptions_by_category,
            columns(report.exceptions_by_category, ["category", "exceptions", "currency", "amount_at_stake"]),
        ),
        "exceptions": (report.exceptions, columns(report.exceptions, ["exception_id", "category"])),
        "balances": (report.balances, columns(report.balances, ["account_id", "status", "closing"])),
    }


def write_csv(report: Report, directory: Path) -> list[Path]:
    return [
        _write_atomically(
            directory / f"{report.stem}_{name}.csv",
            lambda stream, lines=lines, cols=cols: stream.write(_csv_bytes(lines, cols)),
        )
        for name, (lines, cols) in _sections(report).items()
    ]


def write_json(report: Report, directory: Path) -> list[Path]:
    document = {
        "profile": report.profile,
        "business_date": report.business_date.isoformat(),
        "generated_at": report.generated_at,
        "summary": report.summary,
        "amounts": report.amounts,
        "exceptions_by_category": report.exceptions_by_category,
        "exceptions": report.exceptions,
        "balances": report.balances,
        "notes": report.notes,
    }
    payload = json.dumps(document, indent=2, default=str).encode()
    return [_write_atomically(directory / f"{report.stem}.json", lambda stream: stream.write(payload))]


def write_xlsx(report: Report, directory: Path) -> list[Path]:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="305496")
    sheets = {}
    for index, (name, (lines, columns)) in enumerate(_sections(report).items()):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = name
        sheet.append(columns)
        for line in lines:
            sheet.append([line.get(column) for column in columns])
        for cell in sheet[1]:
            cell.font = header_font
            cell.fill = header_fill
        sheet.freeze_panes = "A2"
        for position, column in enumerate(columns, start=1):
            width = max([len(str(column))] + [len(str(line.get(column) or "")) for line in lines[:200]])
            sheet.column_dimensions[get_column_letter(position)].width = min(max(width + 2, 10), 60)
        sheets[name] = sheet
    summary = sheets["summary"]
    summary.insert_rows(1, 2)
    summary["A1"] = f"Reconciliation of {report.profile} on {report.business_date.isoformat()}"
    summary["A1"].font = Font(bold=True, size=14)
    summary.freeze_panes = "A4"
    # the chart reads a small table of counts per category (a category may span currencies)
    counts = category_counts(report)
    summary["D3"], summary["E3"] = "category", "exceptions"
    for offset, (category, count) in enumerate(counts.items(), start=4):
        summary.cell(row=offset, column=4, value=category)
        summary.cell(row=offset, column=5, value=count)
    chart = BarChart()
    chart.type = "bar"
    chart.title = "Exceptions by category"
    chart.y_axis.title = "exceptions"
    chart.legend = None
    last = 3 + max(len(counts), 1)
    chart.add_data(Reference(summary, min_col=5, min_row=3, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(summary, min_col=4, min_row=4, max_row=last))
    summary.add_chart(chart, "G3")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return [_write_atomically(directory / f"{report.stem}.xlsx", lambda stream: stream.write(buffer.getvalue()))]


def _latin1(value: Any) -> str:
    """The PDF's core fonts know Latin-1 only; anything else is shown as '?'."""
    return ("" if value is None else str(value)).encode("latin-1", "replace").decode("latin-1")


def write_pdf(report: Report, directory: Path) -> list[Path]:
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(f"Daily reconciliation: {report.profile}, {report.business_date.isoformat()}"))
    pdf.ln(10)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 5, _latin1(f"generated {report.generated_at}"))
    pdf.ln(8)

    def table(
        lines: list[dict[str, Any]], columns: list[str], widths: tuple[int, ...] | None = None, width: int | None = None
    ) -> None:
        pdf.set_font("Helvetica", size=7)
        pdf.set_fill_color(255, 255, 255)
        with pdf.table(col_widths=widths, width=width, align="LEFT", first_row_as_headings=True, line_height=4) as grid:
            grid.row([_latin1(column) for column in columns])
            for line in lines:
                grid.row([_latin1(line.get(column)) for column in columns])
        pdf.ln(4)

    def heading(text: str) -> None:
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _latin1(text))
        pdf.ln(8)

    heading("Summary")
    summary_rows = [
        {
            **line,
            "value": f"{line['value']:.2%}"
            if line["metric"] in ("match_rate", "accuracy") and line["value"] != ""
            else line["value"],
        }
        for line in report.summary_rows()
    ]
    top = pdf.get_y()
    table(summary_rows, ["metric", "value"], width=120)
    end_of_summary = pdf.get_y()
    _bar_chart(pdf, category_counts(report), x=150, y=top, width=130)
    pdf.set_y(max(end_of_summary, top + 12 + 8 * max(len(category_counts(report)), 1)))

    heading("Exceptions by category")
    table(report.exceptions_by_category, ["category", "exceptions", "currency", "amount_at_stake"])

    heading("Exceptions")
    shown = report.exceptions[:PDF_EXCEPTION_ROWS]
    columns = [
        "category",
        "severity",
        "status",
        "rule_name",
        "records",
        "failed_check",
        "expected",
        "actual",
        "amount_at_stake",
        "currency",
    ]
    if shown:
        table(shown, columns, (22, 12, 12, 40, 60, 28, 25, 25, 20, 13))
    pdf.set_font("Helvetica", "I", 8)
    pdf.cell(0, 5, f"{len(shown)} of {len(report.exceptions)} exceptions shown")
    pdf.ln(8)

    heading("Balances of clearing, in-transit and bank accounts")
    table(report.balances, ["account_id", "purpose", "currency", "status", "opening", "debits", "credits", "closing"])
    for note in report.notes:
        pdf.set_font("Helvetica", "I", 8)
        pdf.cell(0, 5, _latin1(note))
        pdf.ln(5)
    payload = bytes(pdf.output())
    return [_write_atomically(directory / f"{report.stem}.pdf", lambda stream: stream.write(payload))]


def _bar_chart(pdf: Any, counts: dict[str, int], *, x: float, y: float, width: float) -> None:
    """Horizontal bars of exceptions per category, drawn with the PDF's own graphics."""
    pdf.set_font("Helvetica", "B", 10)
    pdf.set_xy(x, y)
    pdf.cell(width, 6, "Exceptions by category")
    pdf.set_font("Helvetica", size=8)
    if not counts:
        pdf.set_xy(x, y + 8)
        pdf.cell(width, 5, "no exceptions")
        return
    label_width, bar_height = 40, 5
    scale = (width - label_width - 12) / max(counts.values())
    pdf.set_fill_color(48, 84, 150)
    for index, (category, count) in enumerate(counts.items()):
        top = y + 8 + index * (bar_height + 3)
        pdf.set_xy(x, top)
        pdf.cell(label_width, bar_height, _latin1(category))
        pdf.rect(x + label_width, top, max(count * scale, 0.5), bar_height, style="F")
        pdf.set_xy(x + label_width + count * scale + 1, top)
        pdf.cell(10, bar_height, str(count))


WRITERS: dict[str, Callable[[Report, Path], list[Path]]] = {
    "csv": write_csv,
    "json": write_json,
    "xlsx": write_xlsx,
    "pdf": write_pdf,
}


def write_reports(
    connection: duckdb.DuckDBPyConnection,
    business_date: date,
    directory: Path,
    formats: Iterable[str] = REPORT_FORMATS,
    profiles: Iterable[str] | None = None,
    ground_truth: Path | None = None,
) -> list[Path]:
    """Gather each profile's report for ``business_date`` once and write it in every format."""
    chosen = list(profiles) if profiles is not None else report_profiles(connection, business_date)
    written: list[Path] = []
    for profile in chosen:
        report = gather(connection, profile, business_date, ground_truth)
        for fmt in formats:
            written += WRITERS[fmt](report, directory)
    return written
