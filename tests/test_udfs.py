import duckdb
import pyarrow as pa
import pytest

from python_udfs import UDFS, register_udfs
from python_udfs.references import normalize_reference
from python_udfs.similarity import jaro_winkler_similarity, token_set_similarity


def test_normalize_reference_drops_decoration_and_case() -> None:
    values = pa.array(["#1001", " 1001 ", "po_1AbC", "ACME-42/7", "", None, "  "])
    assert normalize_reference(values).to_pylist() == [
        "1001", "1001", "PO1ABC", "ACME427", None, None, None,
    ]  # fmt: skip


def test_similarities_are_in_unit_range_and_null_aware() -> None:
    left = pa.array(["Acme Shop GmbH", "payout po_123", None])
    right = pa.array(["acme shop gmbh", "po_123 payout", "x"])
    assert token_set_similarity(left, right).to_pylist() == [1.0, 1.0, None]
    scores = jaro_winkler_similarity(pa.array(["1001"]), pa.array(["1010"])).to_pylist()
    assert 0.0 < scores[0] < 1.0


def test_registry_registers_every_udf_once_per_connection() -> None:
    connection = duckdb.connect()
    register_udfs(connection)
    register_udfs(connection)  # idempotent
    names = {row[0] for row in connection.sql("select function_name from duckdb_functions()").fetchall()}
    assert {udf.name for udf in UDFS} <= names
    rows = connection.sql("select normalize_reference(r) from (values ('#1001'), ('1001')) t(r)").fetchall()
    assert rows == [("1001",), ("1001",)]


def test_udfs_exist_only_where_registered() -> None:
    with pytest.raises(duckdb.CatalogException):
        duckdb.connect().sql("select normalize_reference('x')").fetchall()


def test_similarity_udfs_ignore_case_and_punctuation_in_sql() -> None:
    connection = register_udfs(duckdb.connect())
    scores = connection.sql(
        "select similarity_jaro_winkler('PO_ABC', 'po_abc'), similarity_token_set('Ada KELLER', 'keller, ada')"
    ).fetchall()
    assert scores == [(1.0, 1.0)]


def test_a_udf_named_like_a_builtin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from python_udfs import registry

    builtin = registry.Udf("jaro_winkler_similarity", registry.jaro_winkler_similarity, [], registry.DOUBLE)
    monkeypatch.setattr(registry, "UDFS", (builtin,))
    with pytest.raises(ValueError, match="'jaro_winkler_similarity' is a DuckDB built-in"):
        registry.register_udfs(duckdb.connect())
