"""The landing zone: where files wait to be ingested, one folder per source and profile."""

import hashlib
from pathlib import Path

from dagster_project.ingest.archives import ZIP_SIGNATURES, with_members_mapped
from dagster_project.lib.ingest import file_fingerprint
from dagster_project.lib.pan import mask_card_numbers
from dagster_project.lib.sources import get_source, known_profiles


def land_file(landing: Path, path: Path, source_name: str, profile_id: str) -> Path:
    """Copy a file into landing/<source>/<profile>/; a different file of the same name is kept
    beside it under a suffixed name, never overwritten."""
    get_source(source_name)
    if profile_id not in known_profiles():
        raise ValueError(
            f"Unknown profile {profile_id!r}; known profiles: {', '.join(known_profiles())} "
            "(declared in dbt_project/seeds/profiles.csv)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    folder = landing / source_name / profile_id
    folder.mkdir(parents=True, exist_ok=True)
    content = _masked(path.read_bytes())
    fingerprint = hashlib.sha256(content).hexdigest()
    target = folder / path.name
    if target.exists():
        if file_fingerprint(target) == fingerprint:
            return target
        target = folder / f"{path.stem}.{fingerprint[:8]}{path.suffix}"
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(content)
    partial.replace(target)
    return target


def _masked(content: bytes) -> bytes:
    """The file's bytes with card numbers masked (same length); a file that is not text is kept
    as it is (its reader rejects it)."""
    if content[:4] in ZIP_SIGNATURES:
        # masking an archive's bytes would corrupt it: the files inside it are masked instead
        return with_members_mapped(content, _masked)
    # a UTF-16 file (a source config may declare one) is known by its byte order mark
    utf16 = ("utf-16",) if content[:2] in (b"\xff\xfe", b"\xfe\xff") else ()
    for encoding in (*utf16, "utf-8", "latin-1"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        masked = mask_card_numbers(text)
        return content if masked == text else masked.encode(encoding)
    return content


def landing_fingerprint(landing: Path) -> str:
    """Changes whenever a file is added to or changed in the landing zone."""
    if not landing.exists():
        return ""
    entries = sorted(
        f"{path.relative_to(landing)}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
        for path in landing.glob("*/*/*")
        if path.is_file() and not path.name.startswith(".")
    )
    if not entries:
        return ""
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]
