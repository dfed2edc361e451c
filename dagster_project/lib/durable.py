"""Small files that survive a crash: lines appended and fsynced, files replaced atomically, and
reading back only the lines a crash did not tear. Used where the warehouse cannot be (it has
one writer, and these are written while a run holds it): the webhook receiver's journal and the
alerts' delivery state."""

import os
from pathlib import Path


def fsync_directory(path: Path) -> None:
    """Make a file's creation or rename in ``path`` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def append_line(path: Path, line: str) -> None:
    """Append one line and fsync it (and the folder, when the file is new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        fsync_directory(path.parent)


def write_atomically(path: Path, content: str | bytes) -> None:
    """Replace ``path`` with ``content``: written beside it, fsynced, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "wb") as handle:
        handle.write(content.encode() if isinstance(content, str) else content)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    fsync_directory(path.parent)


def read_lines(path: Path) -> list[str]:
    """The complete lines of ``path``; a last line torn by a crash (no newline) is cut off, so
    the next append starts a line of its own."""
    if not path.exists():
        return []
    content = path.read_text(encoding="utf-8")
    if content and not content.endswith("\n"):
        content = content[: content.rfind("\n") + 1]
        write_atomically(path, content)
    return [line for line in content.splitlines() if line]
