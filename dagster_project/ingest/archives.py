"""Zipped deliveries: the ECB's eurofxref-hist.zip, a bank's zipped camt.053 statements.

A landed file whose content is a zip archive (whatever its name) is unpacked into a scratch
directory and each member is ingested as a file of its source's format, named in lineage as
`archive.zip!member.xml` (`outer.zip!inner.zip!member.xml` for an archive inside one). Before a
byte is written, the archive as a whole is refused when a member is encrypted or compressed in a
way the standard library cannot read, when its members would expand beyond MAX_TOTAL_BYTES or by
more than MAX_RATIO times their compressed size (a zip bomb), or when archives are nested deeper
than MAX_DEPTH. The sizes a header declares are checked first and the bytes actually inflated
again while unpacking, since a crafted header can understate them.
"""

import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dagster_project.lib.readers.common import FileRejected

# the local file header's signature, and the end of central directory's (an empty archive)
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
# the largest delivery the ECB or a bank sends unpacks to a few megabytes; a gigabyte is no
# delivery
MAX_TOTAL_BYTES = 1 << 30
# text compresses some 5 to 20 times (eurofxref-hist.csv about 5, camt.053 XML about 15); a zip
# bomb by thousands. Members of up to RATIO_FREE_BYTES may compress better (a tiny repetitive
# file does), which no bomb can exploit
MAX_RATIO = 100
RATIO_FREE_BYTES = 1 << 20
MAX_MEMBERS = 10_000
# an archive may hold archives (a month of daily zips), but not archives in those
MAX_DEPTH = 2
READABLE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
_CHUNK = 1 << 20


# the part every Office Open XML document (.xlsx, .docx) holds at its root
OFFICE_DOCUMENT_PART = "[Content_Types].xml"


@dataclass(frozen=True)
class Member:
    """One file of an archive: its name as lineage shows it, and where it was unpacked."""

    name: str
    path: Path


def is_zip_archive(path: Path) -> bool:
    """Whether the file's content is a zip archive, by its first bytes (not its name)."""
    with open(path, "rb") as handle:
        return handle.read(4) in ZIP_SIGNATURES


def _is_archiver_metadata(name: str) -> bool:
    """Files an archiver adds beside the delivery (macOS's __MACOSX/ forks, .DS_Store), which
    are no part of it."""
    parts = PurePosixPath(name).parts
    return bool(parts) and (parts[0] == "__MACOSX" or parts[-1].startswith("."))


class _Budget:
    """The bytes every archive of one delivery may still inflate to, nested ones included."""

    def __init__(self, limit: int) -> None:
        self.left = limit


def unpack(path: Path, into: Path) -> list[Member]:
    """Every file of the archive at ``path``, unpacked below ``into`` (an empty directory), in
    the archive's order; FileRejected, naming the archive and the member, for what is refused."""
    return _unpack(path, str(path), into, depth=1, budget=_Budget(MAX_TOTAL_BYTES))


def _refused(shown: str, reason: str) -> FileRejected:
    return FileRejected(f"{shown}: {reason}; nothing from the archive was loaded")


def _unpack(path: Path, shown: str, into: Path, *, depth: int, budget: _Budget) -> list[Member]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as error:
        raise _refused(shown, f"not a readable zip archive ({error})") from None
    with archive:
        if OFFICE_DOCUMENT_PART in archive.namelist():
            # an Excel workbook (.xlsx) or another Office document is a zip of XML parts, not a
            # delivery of files: none of its parts is a report
            raise _refused(
                shown,
                "an Office document (an Excel workbook, .xlsx), not an archive of files; "
                "export the report as CSV and land that",
            )
        infos = [info for info in archive.infolist() if not info.is_dir() and not _is_archiver_metadata(info.filename)]
        _check_headers(shown, infos, budget)
        members: list[Member] = []
        for position, info in enumerate(infos, start=1):
            # each member in a directory of its own, under its base name: names from the archive
            # never reach outside `into`, and two members of one base name do not collide
            target = into / str(position) / (PurePosixPath(info.filename).name or "member")
            target.parent.mkdir(parents=True)
            member_shown = f"{shown}!{info.filename}"
            _inflate(archive, info, target, member_shown, budget)
            if not is_zip_archive(target):
                members.append(Member(member_shown, target))
            elif depth >= MAX_DEPTH:
                raise _refused(member_shown, f"an archive nested more than {MAX_DEPTH} deep is refused")
            else:
                inner = target.parent / "unpacked"
                members.extend(_unpack(target, member_shown, inner, depth=depth + 1, budget=budget))
        return members


def _check_headers(shown: str, infos: list[zipfile.ZipInfo], budget: _Budget) -> None:
    """Refuse an archive by what its central directory declares, before inflating anything."""
    if not infos:
        raise _refused(shown, "the archive holds no file")
    if len(infos) > MAX_MEMBERS:
        raise _refused(shown, f"the archive holds {len(infos)} files, more than {MAX_MEMBERS}")
    for info in infos:
        member = f"{shown}!{info.filename}"
        if info.flag_bits & 0x1:
            raise _refused(member, "is encrypted, and an encrypted archive cannot be read: ask for it unencrypted")
        if info.compress_type not in READABLE_COMPRESSION:
            raise _refused(
                member, f"uses compression method {info.compress_type}, which cannot be read (deflate, bzip2, lzma can)"
            )
        if info.file_size > RATIO_FREE_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _refused(
                member,
                f"expands {info.compress_size} bytes to {info.file_size}, more than {MAX_RATIO} times (a zip bomb?)",
            )
    declared = sum(info.file_size for info in infos)
    if declared > budget.left:
        raise _refused(shown, f"expands to {declared} bytes, more than the {MAX_TOTAL_BYTES} a delivery may")
    # many small members, each under the ratio's floor, can make a bomb together
    compressed = sum(info.compress_size for info in infos)
    if declared > RATIO_FREE_BYTES and declared > MAX_RATIO * max(compressed, 1):
        raise _refused(shown, f"expands {compressed} bytes to {declared}, more than {MAX_RATIO} times (a zip bomb?)")


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, shown: str, budget: _Budget) -> None:
    """Write one member, counting what it really inflates to against its header and the budget."""
    written = 0
    try:
        with archive.open(info) as source, open(target, "wb") as sink:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > info.file_size or written > budget.left:
                    raise _refused(shown, f"inflates beyond the {info.file_size} bytes its header declares")
                if written > RATIO_FREE_BYTES and written > MAX_RATIO * max(info.compress_size, 1):
                    raise _refused(shown, f"expands more than {MAX_RATIO} times its compressed size (a zip bomb?)")
                sink.write(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as error:
        raise _refused(shown, f"cannot be unpacked ({error})") from None
    budget.left -= written


def with_members_mapped(content: bytes, transform: Callable[[bytes], bytes]) -> bytes:
    """The archive ``content`` with each member's bytes replaced by ``transform`` of them,
    repacked under the same names, dates and compression: how landing masks card numbers inside
    an archive, whose own bytes cannot be edited without corrupting it. The same bytes when
    nothing changes, or when the archive is one ingest refuses (it is refused there, with the
    reason)."""
    with tempfile.TemporaryDirectory(prefix="recon-archive-") as scratch:
        archive = Path(scratch) / "archive.zip"
        archive.write_bytes(content)
        try:
            # the same checks as ingest: nothing below inflates more than they allow
            unpack(archive, Path(scratch) / "unpacked")
        except FileRejected:
            return content
    changed = False
    repacked = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(repacked, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            mapped = data if info.is_dir() else transform(data)
            changed = changed or mapped != data
            target.writestr(info, mapped)
    return repacked.getvalue() if changed else content
