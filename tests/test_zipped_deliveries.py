"""Zipped deliveries: each member of a landed zip archive is ingested as a file of its source's
format, named `archive.zip!member`; encrypted archives, zip bombs and archives nested too deep are
refused whole."""

import struct
import zipfile
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest import archives
from dagster_project.lib.home import ReconHome
from dagster_project.lib.ingest import FileRejected, ensure_raw_schema, ingest_file
from dagster_project.lib.landing import land_file
from dagster_project.lib.warehouse import connect

# HRK after its withdrawal: quarantined, zipped or not
ECB_RATES = """Date,USD,JPY,RUB,HRK,
2026-11-04,1.0800,162.00,93.1000,N/A,
2026-11-03,1.0790,161.90,N/A,7.5300,
2022-12-30,1.0666,140.66,77.9000,7.5365,
"""
LINEAGE = ("_profile_id", "_file_id", "_source_file", "_ingested_at")


def _statement(statement_id: str, references: list[str], account_currency: str = "EUR") -> str:
    """A camt.053.001.08 statement with one 10.00 EUR credit per reference."""
    entries = "".join(
        f'<Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>2026-11-03</Dt></BookgDt><AcctSvcrRef>{reference}</AcctSvcrRef></Ntry>"
        for reference in references
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-04T06:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{statement_id}</Id>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>{account_currency}</Ccy></Acct>
      {entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def _zip(path: Path, members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def _rows(connection: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """The table's rows without the lineage that names the file they came in."""
    relation = connection.sql(f"select * exclude ({', '.join(LINEAGE)}) from raw.{table} order by all")
    return relation.fetchall()


def _ingest(home: ReconHome, name: str, path: Path, source: str) -> tuple[list[tuple], list[tuple]]:
    """(raw rows, ingested files as (path, rows read, loaded, quarantined)) of one file in a
    warehouse of its own."""
    with connect(home.root / name / "recon.duckdb") as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, path, source, "acme_eu")
        files = connection.sql(
            "select path, rows_read, rows_loaded, rows_quarantined from raw.ingested_files order by path"
        ).fetchall()
        return _rows(connection, source), files


def test_a_zipped_ecb_file_loads_like_its_unzipped_self(home: ReconHome, tmp_path: Path) -> None:
    plain = tmp_path / "eurofxref-hist.csv"
    plain.write_text(ECB_RATES, encoding="utf-8")
    # named as the ECB names its download; the content, not the name, makes it an archive
    zipped = _zip(tmp_path / "eurofxref-hist.zip", {"eurofxref-hist.csv": ECB_RATES})
    renamed = tmp_path / "rates.bin"
    renamed.write_bytes(zipped.read_bytes())
    unzipped_rows, unzipped_files = _ingest(home, "plain", plain, "ecb_reference_rates")
    zipped_rows, zipped_files = _ingest(home, "zipped", zipped, "ecb_reference_rates")
    assert zipped_rows == unzipped_rows and len(zipped_rows) == 9
    assert unzipped_files == [(str(plain), 10, 9, 1)]
    assert zipped_files == [(f"{zipped}!eurofxref-hist.csv", 10, 9, 1)]
    assert _ingest(home, "renamed", renamed, "ecb_reference_rates")[0] == unzipped_rows


def test_a_zipped_camt053_loads_like_its_unzipped_statements(home: ReconHome, tmp_path: Path) -> None:
    first, second = _statement("S-1", ["A1", "A2"]), _statement("S-2", ["B1"])
    for name, text in (("s1.xml", first), ("s2.xml", second)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    # a macOS archiver's resource forks and .DS_Store are no part of the delivery
    zipped = _zip(
        tmp_path / "statements.zip",
        {"2026-11/s1.xml": first, "2026-11/s2.xml": second, "__MACOSX/2026-11/._s1.xml": b"\x00\x05", ".DS_Store": b""},
    )
    with connect(home.root / "plain.duckdb") as connection:
        ensure_raw_schema(connection)
        for name in ("s1.xml", "s2.xml"):
            ingest_file(connection, tmp_path / name, "camt053", "acme_eu")
        unzipped = _rows(connection, "camt053")
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        result = ingest_file(connection, zipped, "camt053", "acme_eu")
        again = ingest_file(connection, zipped, "camt053", "acme_eu")
        zipped_rows = _rows(connection, "camt053")
        lineage = connection.sql("select distinct _source_file from raw.camt053 order by 1").fetchall()
        files = connection.sql("select path, rows_loaded from raw.ingested_files order by path").fetchall()
        # the same statement delivered unzipped afterwards is the same content: not loaded twice
        plain_again = ingest_file(connection, tmp_path / "s1.xml", "camt053", "acme_eu")
    assert zipped_rows == unzipped and len(zipped_rows) == 3
    assert (result.rows_read, result.rows_loaded, result.skipped) == (3, 3, False)
    assert again.skipped and plain_again.skipped
    assert lineage == [(f"{zipped}!2026-11/s1.xml",), (f"{zipped}!2026-11/s2.xml",)]
    assert files == [(f"{zipped}!2026-11/s1.xml", 2), (f"{zipped}!2026-11/s2.xml", 1)]


def test_an_archive_in_an_archive_is_unpacked_but_not_one_nested_deeper(home: ReconHome, tmp_path: Path) -> None:
    inner = _zip(tmp_path / "day.zip", {"s1.xml": _statement("S-1", ["A1"])})
    month = _zip(tmp_path / "month.zip", {"day.zip": inner.read_bytes()})
    year = _zip(tmp_path / "year.zip", {"month.zip": month.read_bytes()})
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        ingest_file(connection, month, "camt053", "acme_eu")
        lineage = connection.sql("select _source_file from raw.camt053").fetchall()
        with pytest.raises(FileRejected, match=r"year\.zip!month\.zip!day\.zip: an archive nested more than 2 deep"):
            ingest_file(connection, year, "camt053", "acme_eu")
    assert lineage == [(f"{month}!day.zip!s1.xml",)]


def test_a_member_not_of_the_sources_format_is_refused_by_name_and_the_others_load(
    home: ReconHome, tmp_path: Path
) -> None:
    zipped = _zip(tmp_path / "statements.zip", {"s1.xml": _statement("S-1", ["A1"]), "notes.txt": "call the bank"})
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected) as refused:
            ingest_file(connection, zipped, "camt053", "acme_eu")
        loaded = connection.sql("select _source_file from raw.camt053").fetchall()
        rejected = connection.sql("select path, reason from raw.rejected_files").fetchall()
    assert str(refused.value).startswith(f"{zipped}: 1 of its 2 files refused, 1 loaded: {zipped}!notes.txt: ")
    assert loaded == [(f"{zipped}!s1.xml",)]
    member = f"{zipped}!notes.txt"
    assert rejected == [(member, f"{member}: not well-formed XML: syntax error: line 1, column 0")]


# --- refused whole ---------------------------------------------------------------------------------


def _refused(home: ReconHome, path: Path, source: str, reason: str) -> None:
    """The archive is refused with ``reason``, nothing is loaded, and it is not tried again."""
    with connect(home.warehouse) as connection:
        ensure_raw_schema(connection)
        with pytest.raises(FileRejected, match=reason):
            ingest_file(connection, path, source, "acme_eu")
        counts = connection.sql(
            f"""
            select
                (select count(*) from raw.{source}),
                (select count(*) from raw.ingested_files),
                (select count(*) from raw.quarantine)
            """
        ).fetchall()
        rejected = connection.sql("select path from raw.rejected_files").fetchall()
        again = ingest_file(connection, path, source, "acme_eu")
    assert counts == [(0, 0, 0)]
    assert rejected == [(str(path),)]
    assert again.skipped


def test_a_zip_bomb_is_refused(home: ReconHome, tmp_path: Path) -> None:
    # 8 MiB of zeros deflate to some 8 KiB: a thousand times
    bomb = _zip(tmp_path / "eurofxref-hist.zip", {"eurofxref-hist.csv": b"0" * (8 << 20)})
    reason = r"eurofxref-hist\.csv: expands \d+ bytes to 8388608, more than 100 times"
    _refused(home, bomb, "ecb_reference_rates", reason)


def test_many_small_members_that_together_make_a_zip_bomb_are_refused(home: ReconHome, tmp_path: Path) -> None:
    # each under the 1 MiB a member may expand freely, together 4 MiB out of some 4 KiB
    members = {f"eurofxref-hist-{n}.csv": b"0" * (512 << 10) for n in range(8)}
    bomb = _zip(tmp_path / "eurofxref-hist.zip", members)
    reason = r"eurofxref-hist\.zip: expands \d+ bytes to 4194304, more than 100 times"
    _refused(home, bomb, "ecb_reference_rates", reason)


def test_a_header_understating_its_members_size_is_refused(home: ReconHome, tmp_path: Path) -> None:
    path = _zip(tmp_path / "eurofxref-hist.zip", {"eurofxref-hist.csv": ECB_RATES * 50})
    # the uncompressed size in the local header (at 22) and the central directory (at 24)
    data = bytearray(path.read_bytes())
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        struct.pack_into("<I", data, data.index(signature) + size_at, 100)
    path.write_bytes(bytes(data))
    _refused(home, path, "ecb_reference_rates", r"eurofxref-hist\.csv: cannot be unpacked \(Bad CRC-32")


def test_an_archive_expanding_beyond_the_bound_is_refused(
    home: ReconHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", 1000)
    big = _zip(tmp_path / "statements.zip", {"s1.xml": _statement("S-1", ["A1"] * 10)}, zipfile.ZIP_STORED)
    _refused(home, big, "camt053", r"statements\.zip: expands to \d+ bytes, more than the 1000 a delivery may")


def test_an_encrypted_archive_is_refused(home: ReconHome, tmp_path: Path) -> None:
    path = _zip(tmp_path / "statements.zip", {"s1.xml": _statement("S-1", ["A1"])}, zipfile.ZIP_STORED)
    # the encryption flag (bit 0 of the general purpose flags) in the local and central headers,
    # as a password-protected archive sets it
    data = bytearray(path.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + flags_at] |= 0x01
    path.write_bytes(bytes(data))
    _refused(home, path, "camt053", r"statements\.zip!s1\.xml: is encrypted, and an encrypted archive cannot be read")


# --- landing --------------------------------------------------------------------------------------


def test_landing_masks_card_numbers_inside_an_archive(home: ReconHome, tmp_path: Path) -> None:
    statement = _statement("S-1", ["4111111111111111"])
    zipped = _zip(tmp_path / "statements.zip", {"s1.xml": statement}, zipfile.ZIP_STORED)
    landed = land_file(home.landing, zipped, "camt053", "acme_eu")
    with zipfile.ZipFile(landed) as archive:
        assert archive.namelist() == ["s1.xml"]
        assert archive.read("s1.xml").decode() == statement.replace("4111111111111111", "411111******1111")


def test_an_excel_workbook_is_refused_as_a_workbook_not_unpacked(home: ReconHome, tmp_path: Path) -> None:
    # the parts every .xlsx holds, as a spreadsheet program writes them
    workbook = _zip(
        tmp_path / "settlement_detail_report.xlsx",
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types/>',
            "_rels/.rels": '<?xml version="1.0"?><Relationships/>',
            "xl/workbook.xml": '<?xml version="1.0"?><workbook/>',
            "xl/worksheets/sheet1.xml": '<?xml version="1.0"?><worksheet/>',
        },
    )
    _refused(home, workbook, "adyen_settlement_details", r"an Excel workbook, \.xlsx.*export the report as CSV")
