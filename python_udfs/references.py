"""Normalization of payment references (order ids, charge ids, payout ids)."""

import pyarrow as pa
import pyarrow.compute as pc

_NOISE = r"[\s#\-_./:]+"


def normalize_reference(values: pa.Array) -> pa.Array:
    """Upper-case a reference and drop the characters people add around it.

    ``"#1001"``, ``" 1001 "`` and ``"1001"`` all become ``"1001"``; ``"po_1AbC"`` becomes
    ``"PO1ABC"``. An empty result is NULL, so a blank reference never matches another blank one.
    """
    trimmed = pc.utf8_trim_whitespace(values)
    cleaned = pc.replace_substring_regex(pc.utf8_upper(trimmed), pattern=_NOISE, replacement="")
    return pc.if_else(pc.equal(cleaned, ""), pa.scalar(None, pa.string()), cleaned)
