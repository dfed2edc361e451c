"""Card numbers never get past the door: any run of 13 to 19 digits (spaces or dashes allowed
between them) that is a Luhn-valid primary account number of a card network is masked to its
first 6 and last 4 digits, everything between replaced by ``*``, keeping the text's length (so a
fixed-width record keeps its positions). Landing masks the file, ingest masks every value
again, so neither the landing zone nor the raw tables nor the quarantine ever hold one.

A card number's first digit is its network's industry (2 to 6: Mastercard's 2-series, Amex,
JCB and Diners, Visa, Mastercard, Discover and UnionPay); ids and timestamps that happen to pass
the Luhn check but start with another digit (a Unix time in milliseconds starts with 1) are left
alone.
"""

import re

import polars as pl

# digits with at most one space or dash between them, not part of a longer run of digits
CANDIDATE = re.compile(r"(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])")
CANDIDATE_PATTERN = r"(^|[^0-9])[2-6]([ -]?[0-9]){12,18}"


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a string of digits."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = ord(character) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_match(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if not 13 <= len(digits) <= 19 or not luhn_valid("".join(text[i] for i in digits)):
        return text
    hidden = set(digits[6:-4])
    return "".join("*" if i in hidden else c for i, c in enumerate(text))


def mask_card_numbers(text: str) -> str:
    """``text`` with every card number in it masked (first 6, last 4)."""
    return CANDIDATE.sub(_mask_match, text)


def mask_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of ``frame`` with card numbers masked. A vectorized search finds the
    columns that hold anything like one; only those go through the Luhn check."""
    suspects = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String and frame[name].str.contains(CANDIDATE_PATTERN).any()
    ]
    return frame.with_columns(
        pl.col(name).map_elements(mask_card_numbers, return_dtype=pl.String, skip_nulls=True) for name in suspects
    )
