"""The ledger on the demo warehouse: the chart of accounts, balances checked against the entries
summed by hand, the trial balance, FX differences, and a transaction's history."""

import json
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb

from tests.conftest import DEMO_DAYS, recon

FIRST_DAY = date(2026, 11, 1)


def _warehouse(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse" / "recon.duckdb"), read_only=True)


def _json(home: Path, *args: str) -> list[dict]:
    return json.loads(recon(home, *args, "--format", "json").stdout)


def balance_by_hand(
    connection: duckdb.DuckDBPyConnection, account_id: str, status: str, as_of: datetime, known_at: datetime
) -> int:
    """The balance summed from the versions themselves: the latest version of each transaction
    recorded by ``known_at``, its entries effective by ``as_of``, on the account's normal side."""
    (debit_positive,) = connection.execute(
        """
        with known as (
            select * from marts.fct_ledger_entry_versions where recorded_at <= $known_at
            qualify version = max(version) over (partition by transaction_id)
        )
        select coalesce(sum(case when direction = 'DEBIT' then amount_minor else -amount_minor end), 0)
        from known
        where account_id = $account and status = $status and effective_at <= $as_of
        """,
        {"known_at": known_at, "account": account_id, "status": status, "as_of": as_of},
    ).fetchone()
    (normal_side,) = connection.execute(
        "select normal_side from marts.dim_accounts where account_id = ?", [account_id]
    ).fetchone()
    return int(debit_positive) if normal_side == "DEBIT" else -int(debit_positive)


def test_the_chart_covers_every_rule_and_posting(demo_home: Path) -> None:
    chart = _json(demo_home, "accounts")
    ids = {account["account_id"] for account in chart}
    assert {"acme_eu:bank:CHF", "globex_us:fx_gain_loss:USD", "acme_eu:reconciliation_variance:GBP"} <= ids
    assert all(account["normal_side"] in ("DEBIT", "CREDIT") for account in chart)
    assert {a["organization_id"] for a in chart} == {"acme_group"}
    with _warehouse(demo_home) as connection:
        unknown = connection.sql(
            """
            select distinct account_id from marts.fct_ledger_entry_versions
            where account_id not in (select account_id from marts.dim_accounts)
            """
        ).fetchall()
    assert unknown == []
    only_acme = _json(demo_home, "accounts", "--profile", "acme_eu")
    assert only_acme and {a["profile_id"] for a in only_acme} == {"acme_eu"}


def test_balances_agree_with_the_entries_summed_by_hand(demo_home: Path) -> None:
    accounts = [
        "acme_eu:stripe_clearing:EUR",
        "acme_eu:shopify_receivable:EUR",
        "globex_us:processing_fees:USD",
        "globex_us:stripe_payouts:USD",
        "globex_us:fx_gain_loss:USD",
    ]
    moments = [datetime(2026, 11, 2, 12), datetime(2026, 11, 3, 23, 59, 59), datetime(2026, 11, 6)]
    now = datetime(9999, 1, 1)
    with _warehouse(demo_home) as connection:
        expected = {
            (account, status, moment): balance_by_hand(connection, account, status, moment, now)
            for account in accounts
            for status in ("POSTED", "EXPECTED")
            for moment in moments
        }
    assert any(value != 0 for value in expected.values())
    for account in accounts:
        for moment in moments:
            answer = _json(demo_home, "balance", account, "--as-of", moment.isoformat())
            got = {row["status"]: row["balance_minor"] for row in answer}
            for status in ("POSTED", "EXPECTED"):
                assert got[status] == expected[(account, status, moment)], (account, status, moment)


def test_a_date_is_the_end_of_the_business_day_and_matches_the_daily_balances(demo_home: Path) -> None:
    with _warehouse(demo_home) as connection:
        daily = connection.execute(
            """
            select account_id, business_date, closing_normal_minor from marts.mart_daily_balances
            where status = 'POSTED' and account_id in ('acme_eu:stripe_clearing:EUR', 'globex_us:bank:USD')
            """
        ).fetchall()
    assert daily
    for account_id, business_date, closing in daily:
        answer = _json(demo_home, "balance", account_id, "--as-of", business_date.isoformat(), "--status", "posted")
        assert [row["balance_minor"] for row in answer] == [closing], (account_id, business_date)


def test_the_trial_balance_is_zero_per_currency_every_day(demo_home: Path) -> None:
    with _warehouse(demo_home) as connection:
        unbalanced = connection.sql("select * from marts.mart_trial_balance where difference_minor <> 0").fetchall()
        days = connection.sql("select count(distinct business_date) from marts.mart_trial_balance").fetchall()[0][0]
    assert unbalanced == []
    assert days >= DEMO_DAYS
    for offset in range(DEMO_DAYS):
        lines = _json(demo_home, "trial-balance", "--date", (FIRST_DAY + timedelta(days=offset)).isoformat())
        totals = [line for line in lines if line["account_id"] == "TOTAL"]
        assert totals, offset
        for total in totals:
            assert total["debit_minor"] == total["credit_minor"] > 0, total
            accounts = [
                line
                for line in lines
                if line["account_id"] != "TOTAL"
                and (line["profile_id"], line["currency"]) == (total["profile_id"], total["currency"])
            ]
            assert sum(line["debit_minor"] for line in accounts) == total["debit_minor"]


def test_orders_settled_in_another_currency_post_their_fx_difference(demo_home: Path) -> None:
    with _warehouse(demo_home) as connection:
        converted = connection.sql(
            """
            select
                matches.expectation_id, matches.source_currency, matches.settlement_currency,
                matches.source_original_amount_minor, matches.target_amount_minor, matches.fx_rate_source,
                cast(from_rate.units_per_eur as varchar), cast(to_rate.units_per_eur as varchar)
            from intermediate.int_matches_assigned as matches
            inner join intermediate.int_expectations_created as expectations using (expectation_id)
            inner join intermediate.int_fx_rates_daily as from_rate
                on from_rate.rate_day = expectations.business_date and from_rate.currency = matches.source_currency
            inner join intermediate.int_fx_rates_daily as to_rate
                on to_rate.rate_day = expectations.business_date and to_rate.currency = matches.settlement_currency
            where matches.fx_rate is not null
            """
        ).fetchall()
        entries = connection.sql(
            """
            select transaction_id, account_id, direction, amount_minor, currency
            from marts.fct_ledger_entries where status = 'POSTED'
            """
        ).fetchall()
    by_transaction: dict[str, list[tuple]] = {}
    for transaction_id, *entry in entries:
        by_transaction.setdefault(transaction_id, []).append(tuple(entry))
    # both profiles: EUR orders settled in USD (globex_us), USD orders settled in EUR (acme_eu)
    assert {(row[1], row[2]) for row in converted} == {("EUR", "USD"), ("USD", "EUR")}
    for expectation_id, source_currency, settlement, original, settled, rate_source, from_rate, to_rate in converted:
        assert rate_source == "reference"
        reference = int((Decimal(original) / Decimal(from_rate) * Decimal(to_rate)).to_integral_value(ROUND_HALF_EVEN))
        profile = expectation_id.split("|")[1].split(":")[0]
        posted = by_transaction[f"txn|{expectation_id}"]
        assert (f"{profile}:fx_conversion:{source_currency}", "DEBIT", original, source_currency) in posted
        assert (f"{profile}:fx_conversion:{settlement}", "CREDIT", reference, settlement) in posted
        difference = settled - reference
        assert difference != 0
        side = "CREDIT" if difference > 0 else "DEBIT"
        assert (f"{profile}:fx_gain_loss:{settlement}", side, abs(difference), settlement) in posted
        for currency in (source_currency, settlement):
            signed = [a if d == "DEBIT" else -a for _, d, a, c in posted if c == currency]
            assert sum(signed) == 0


def test_a_transaction_history_and_clear_errors(demo_home: Path) -> None:
    with _warehouse(demo_home) as connection:
        (transaction_id,) = connection.execute(
            "select transaction_id from marts.fct_ledger_entry_versions where version = 2 order by 1 limit 1"
        ).fetchone()
    history = _json(demo_home, "ledger", "history", transaction_id)
    assert [row["transaction_status"] for row in history if row["entry_index"] == 1] == ["EXPECTED", "POSTED"]
    assert [row["version"] for row in history] == sorted(row["version"] for row in history)

    missing = recon(demo_home, "ledger", "history", "txn|nope", check=False)
    assert missing.returncode != 0 and "unknown transaction 'txn|nope'" in missing.stderr
    typo = recon(demo_home, "balance", "acme_eu:stripe_clearng:EUR", "--as-of", "2026-11-03", check=False)
    assert typo.returncode != 0
    assert "unknown account 'acme_eu:stripe_clearng:EUR'" in typo.stderr
    assert "acme_eu:stripe_clearing:EUR" in typo.stderr
    bad_time = recon(demo_home, "balance", "acme_eu:bank:EUR", "--as-of", "yesterday", check=False)
    assert bad_time.returncode != 0 and "not a date or timestamp: 'yesterday'" in bad_time.stderr


def test_disputes_inside_payouts_are_booked_to_chargebacks_and_fees(demo_home: Path) -> None:
    """A dispute Stripe takes out of its balance is booked on its own: the amount to chargebacks,
    the dispute fee to processing_fees, out of the clearing account, so that the payout it is
    netted in leaves the clearing account even."""
    with _warehouse(demo_home) as connection:
        disputes = connection.execute(
            """
            select _profile_id, id, -amount, fee, upper(currency)
            from raw.stripe_balance_transactions
            where type = 'adjustment'
            order by 1, 2
            """
        ).fetchall()
        assert disputes, "the demo generates disputes"
        for profile, record_id, amount, fee, currency in disputes:
            entry = f"{profile}:stripe_balance_transactions:{record_id}"
            legs = connection.execute(
                """
                select account_id, direction, amount_minor, status
                from marts.fct_ledger_entries
                where transaction_id = ?
                order by entry_index
                """,
                [f"txn|booking|{entry}"],
            ).fetchall()
            assert legs == [
                (f"{profile}:stripe_clearing:{currency}", "CREDIT", amount + fee, "POSTED"),
                (f"{profile}:chargebacks:{currency}", "DEBIT", amount, "POSTED"),
                (f"{profile}:processing_fees:{currency}", "DEBIT", fee, "POSTED"),
            ], entry
    # the chargebacks account holds exactly the disputed amounts, through the command line too
    totals: Counter[tuple[str, str]] = Counter()
    for profile, _, amount, _, currency in disputes:
        totals[(profile, currency)] += amount
    for (profile, currency), expected in totals.items():
        answer = _json(demo_home, "balance", f"{profile}:chargebacks:{currency}", "--as-of", "2026-12-31")
        assert {row["status"]: row["balance_minor"] for row in answer}["POSTED"] == expected, (profile, currency)
