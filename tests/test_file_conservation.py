"""Row conservation per landed file: `recon files` shows every row read as loaded or quarantined."""

import csv
import json
from pathlib import Path

from dagster_project.lib.demo_data import generate_demo_data
from tests.conftest import recon


def _data_rows(path: Path) -> list[dict[str, str]]:
    """The file's data rows, each with the line it is on (the header is line 1)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [{**row, "_line": str(line)} for line, row in enumerate(csv.DictReader(handle), start=2)]


def test_every_row_of_every_file_is_loaded_or_quarantined(tmp_path: Path) -> None:
    home = tmp_path / "home"
    dataset = generate_demo_data(tmp_path / "incoming", days=2, orders_per_day=20, seed=7)
    first_day = {
        (source_name, profile): path
        for source_name, profile, path in dataset.files
        if dataset.first_day.isoformat() in path.name or source_name == "ecb_reference_rates"
    }
    # the first Shopify export of each profile ends with three bad rows: one malformed (extra
    # fields), one with a total that is no number, one in an unknown currency
    chosen = [
        ("shopify_orders", "acme_eu"),
        ("shopify_orders", "globex_us"),
        ("stripe_balance_transactions", "acme_eu"),
        ("paypal_activity", "acme_eu"),
        ("ecb_reference_rates", "acme_eu"),
    ]
    for source_name, profile in chosen:
        recon(home, "ingest", str(first_day[source_name, profile]), "--source", source_name, "--profile", profile)
    recon(home, "run", "--start", dataset.first_day.isoformat(), "--end", dataset.last_day.isoformat())

    listed = json.loads(recon(home, "files", "--format", "json").stdout)
    by_file = {(row["source_name"], row["profile_id"]): row for row in listed}
    assert sorted(by_file) == sorted(chosen)
    for row in listed:
        assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"], row
        assert row["is_conserved"] is True, row
    # the PayPal download's date order was found from its dates, and its balance checked
    paypal_decisions = json.loads(by_file["paypal_activity", "acme_eu"]["read_decisions"])
    assert paypal_decisions["Date"] == {"format": "%d.%m.%Y %H:%M:%S %Z", "how": "detected"}
    assert paypal_decisions["Balance"]["running_balance"] == "checked"
    assert by_file["shopify_orders", "acme_eu"]["read_decisions"] is None
    quarantine = json.loads(recon(home, "quarantine", "--format", "json").stdout)

    # the Shopify file with bad rows: every line read, the three bad ones quarantined, and of the
    # loaded rows the line items left out by staging, each order (and refund) an entry
    shopify = by_file["shopify_orders", "acme_eu"]
    lines = _data_rows(first_day["shopify_orders", "acme_eu"])
    bad_names = {"#9901", "#9902", "#9903"}
    loaded = [line for line in lines if line["Name"] not in bad_names]
    orders = [line for line in loaded if line["Total"]]
    refunds = [line for line in orders if float(line["Refunded Amount"] or 0) > 0]
    assert shopify["rows_read"] == len(lines)
    assert shopify["rows_quarantined"] == 3
    assert shopify["rows_loaded"] == len(lines) - 3
    assert {r["source_row"] for r in quarantine if r["source_file"] == shopify["source_file"]} == {
        int(line["_line"]) for line in lines if line["Name"] in bad_names
    }
    assert shopify["skipped_by_staging"] == len(loaded) - len(orders) > 0
    assert shopify["staged_entries"] == len(orders) + len(refunds)

    # PayPal: Memo rows are left out by staging; the rows quarantined are not loaded at all
    paypal = by_file["paypal_activity", "acme_eu"]
    quarantined_lines = {r["source_row"] for r in quarantine if r["source_file"] == paypal["source_file"]}
    paypal_loaded = [
        line
        for line in _data_rows(first_day["paypal_activity", "acme_eu"])
        if int(line["_line"]) not in quarantined_lines
    ]
    assert paypal["rows_loaded"] == len(paypal_loaded)
    assert paypal["skipped_by_staging"] == sum(line["Balance Impact"] == "Memo" for line in paypal_loaded)

    # every Stripe balance transaction read is loaded (an entry, copies of re-delivered ones
    # included) or quarantined (the demo's one with an amount in words)
    stripe = by_file["stripe_balance_transactions", "acme_eu"]
    records = json.loads(first_day["stripe_balance_transactions", "acme_eu"].read_text())["data"]
    unreadable = [record for record in records if not isinstance(record["amount"], int)]
    assert stripe["rows_read"] == len(records)
    assert stripe["rows_quarantined"] == len(unreadable) == 1
    assert stripe["rows_loaded"] == stripe["staged_entries"] == len(records) - 1
    assert stripe["skipped_by_staging"] is None

    # reference rates are no entries
    rates = by_file["ecb_reference_rates", "acme_eu"]
    assert rates["rows_loaded"] > 0
    assert rates["staged_entries"] is None

    only_globex = json.loads(recon(home, "files", "--profile", "globex_us", "--format", "json").stdout)
    assert [(row["source_name"], row["rows_quarantined"]) for row in only_globex] == [("shopify_orders", 3)]
    table = recon(home, "files").stdout
    assert "is_conserved" in table.splitlines()[0]
    assert shopify["source_file"][:40] in table
