"""Every parser, fed random and mutated files: it loads what it can and quarantines the rest, or
rejects the whole file with a message naming it. It never crashes and never loses a row: the
rows it read are the rows it passed plus the rows it quarantined."""

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.lib.demo_data import generate_demo_data
from dagster_project.lib.ingest import FileRejected, parse_file
from dagster_project.lib.sources import SOURCES

FIXTURES = Path(__file__).parent / "fixtures"
# fixtures named as their providers name the files, not after the source
NAMED_FIXTURES = {
    "adyen_settlement_details": FIXTURES / "processors" / "settlement_detail_report_batch_4.csv",
    "paypal_settlement": FIXTURES / "processors" / "STL-20261102.01.010.CSV",
    "shopify_payouts": FIXTURES / "processors" / "payment_transactions_export_1.csv",
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One small real file per source: the demo's, else a fixture named after the source."""
    found: dict[str, bytes] = {}
    dataset = generate_demo_data(tmp_path_factory.mktemp("demo"), days=4, orders_per_day=4, seed=3)
    for source_name, _, path in dataset.files:
        found.setdefault(source_name, path.read_bytes())
    for source_name, path in NAMED_FIXTURES.items():
        found.setdefault(source_name, path.read_bytes())
    for path in sorted(FIXTURES.rglob("*")) if FIXTURES.exists() else []:
        for name in SOURCES:
            if path.is_file() and path.name.startswith(name) and "bad" not in path.name:
                found.setdefault(name, path.read_bytes())
    return found


def test_every_source_has_a_sample(samples: dict[str, bytes]) -> None:
    assert set(samples) == set(SOURCES)


# bytes that mean something to some format: delimiters, quotes, line ends, an MT940 tag
SEPARATORS = [b",", b";", b"\n", b'"', b"\r\n", b":61:", b"-", b"9", b"/"]


def _mutations() -> st.SearchStrategy:
    position = st.floats(min_value=0, max_value=1)
    return st.one_of(
        st.tuples(st.just("truncate"), position, st.just(b"")),
        st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("overwrite"), position, st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("insert"), position, st.sampled_from(SEPARATORS)),
        st.tuples(st.just("drop_line"), position, st.just(b"")),
        st.tuples(st.just("repeat_line"), position, st.just(b"")),
        st.tuples(st.just("garbage"), position, st.binary(max_size=64)),
    )


def _mutate(content: bytes, mutation: tuple[str, float, bytes]) -> bytes:
    kind, where, data = mutation
    at = int(where * len(content))
    lines = content.splitlines(keepends=True)
    line = int(where * max(len(lines) - 1, 0))
    if kind == "truncate":
        return content[:at]
    if kind == "insert":
        return content[:at] + data + content[at:]
    if kind == "overwrite":
        return content[:at] + data + content[at + len(data) :]
    if kind == "drop_line" and lines:
        return b"".join(lines[:line] + lines[line + 1 :])
    if kind == "repeat_line" and lines:
        return b"".join(lines[: line + 1] + lines[line:])
    if kind == "garbage":
        return data
    return content


@pytest.mark.parametrize("source_name", sorted(SOURCES))
def test_a_mutated_file_loads_or_fails_clearly_and_loses_no_row(
    source_name: str, samples: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp(source_name)
    suffix = {"json_list": ".json", "camt053": ".xml", "camt054": ".xml"}.get(SOURCES[source_name].format, ".csv")

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(mutations=st.lists(_mutations(), min_size=1, max_size=3))
    def check(mutations: list) -> None:
        content = samples[source_name]
        for mutation in mutations:
            content = _mutate(content, mutation)
        path = folder / f"{source_name}{suffix}"
        path.write_bytes(content)
        try:
            passed, quarantined, rows_read = parse_file(
                path, SOURCES[source_name], profile_id="acme_eu", file_id="f", ingested_at=datetime(2026, 11, 1)
            )
        except FileRejected as rejection:
            assert path.name in str(rejection), rejection
            return
        assert rows_read == passed.height + quarantined.height
        assert quarantined["reason"].null_count() == 0
        assert quarantined["_source_row"].null_count() == 0

    try:
        check()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
