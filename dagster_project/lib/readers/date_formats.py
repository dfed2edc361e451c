"""Which of a field's declared date formats a file is written in, decided from every date in it.

Some exports write dates in the account's locale: PayPal's activity download is month first for
a US account (12/02/2016), day first for a British one (02/12/2016), dotted for a German one
(02.12.2016). Reading each value with whichever format happens to fit it would read 12/02/2016
as 2 December in one file and 12 February in the next, silently. So a field declares its
candidate formats, and one file is one decision: a format is possible only if every date in the
file fits it. One possible format is used; several that read the dates alike (every day equals
its month) are as good as one; several that read them differently leave the file unreadable
unless the profile's format is declared; none (the file mixes orders) rejects the file. A date
that fits no candidate at all (30 February) does not take part: it is quarantined with its row.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dagster_project.lib.readers.common import FileRejected


@dataclass(frozen=True)
class FormatDecision:
    """The format a file's field is read with, and how it was chosen (recorded with the file)."""

    format: str | None  # None: the file has no date that fits any candidate
    how: str

    def as_record(self) -> dict[str, str | None]:
        return {"format": self.format, "how": self.how}


def parsed_column(index: int) -> str:
    """The column of `decide_format`'s frame holding the values read with the index-th format."""
    return f"_parsed_{index}"


def _line(frame: pl.DataFrame, position: int) -> str:
    row = frame.row(position, named=True)
    return f"line {row['_source_row']} ('{row['text']}')"


def decide_format(
    path: Path,
    label: str,
    candidates: Sequence[str],
    dates: pl.DataFrame,
    *,
    pinned: str | None,
    pin_hint: str,
) -> FormatDecision:
    """The one format of ``candidates`` the file's dates are written in.

    ``dates`` holds one row per non-blank date of the file: `_source_row`, `text` (as read) and,
    per candidate, `parsed_column(i)` with the value the i-th format reads (null: it does not
    fit). ``pinned`` is the format the profile's files are declared to use, if any; ``pin_hint``
    says how to declare one. Raises FileRejected, naming the file, the field and the lines, when
    the dates do not settle it.
    """
    columns = [parsed_column(index) for index in range(len(candidates))]
    fits = dates.select(pl.col(c).is_not_null() for c in columns)
    # a date no candidate reads (30 February, an unknown zone) is quarantined whatever the
    # decision, so it does not take part in it
    readable = dates.filter(pl.any_horizontal(fits))
    if readable.is_empty():
        # nothing is read with the decision: every date (if any) is quarantined
        return FormatDecision(pinned, "no date in the file fits any of the formats")
    possible = [fmt for fmt, c in zip(candidates, columns, strict=True) if readable[c].is_not_null().all()]
    if pinned is not None and pinned not in possible:
        misfit = readable[columns[list(candidates).index(pinned)]].is_null().arg_true()[0]
        others = f"; every date fits '{possible[0]}'" if len(possible) == 1 else ""
        raise FileRejected(
            f"{path}: {label}: the profile's files are declared to be written '{pinned}', but "
            f"{_line(readable, misfit)} is not a date in that format{others}; nothing from the file was "
            "loaded: correct the file or the declared format (profile_formats)"
        )
    if not possible:
        misfits = []
        for fmt, c in zip(candidates, columns, strict=True):
            if readable[c].is_not_null().any():
                misfits.append(f"'{fmt}' does not fit {_line(readable, readable[c].is_null().arg_true()[0])}")
        raise FileRejected(
            f"{path}: {label}: no one format fits every date of the file ({'; '.join(misfits)}): it mixes "
            "date orders; nothing from the file was loaded"
        )
    if len(possible) == 1:
        # the file proves it (and agrees with the profile's declared format, if any)
        return FormatDecision(possible[0], "detected")
    readings = readable.select(columns[list(candidates).index(fmt)] for fmt in possible)
    first, *others = readings.columns
    differing = readings.select(pl.any_horizontal(pl.col(c) != pl.col(first) for c in others)).to_series().arg_true()
    if differing.is_empty():
        # every date reads the same in each (a day that equals its month): any of them will do
        how = "detected (the possible formats read every date alike)"
        return FormatDecision(pinned or possible[0], how)
    if pinned is not None:
        return FormatDecision(pinned, "pinned for the profile")
    example = readable.row(differing[0], named=True)
    readings_shown = ", ".join(f"{example[columns[list(candidates).index(fmt)]]} as '{fmt}'" for fmt in possible)
    raise FileRejected(
        f"{path}: {label}: every date of the file fits more than one format, and they read it "
        f"differently: {_line(readable, differing[0])} is {readings_shown} (no date in the file tells them "
        f"apart, e.g. a day above 12); nothing from the file was loaded: {pin_hint}"
    )
