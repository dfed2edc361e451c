"""Exact currency conversion through euro reference rates.

Rates arrive as text ("1.0824", or a DECIMAL cast to VARCHAR such as "1.08240000") so that no
float ever touches them. The conversion is done on exact rationals: the amount, both rates and
the minor-unit scaling become one integer fraction, and the only rounding is the last one, half
to even, to whole minor units of the target currency.
"""

from decimal import Decimal, InvalidOperation, localcontext
from functools import cache

import pyarrow as pa

# ample for any rate the ECB publishes and any amount a BIGINT holds, so parsing never rounds
RATE_PRECISION = 50
_BIGINT = (-(2**63), 2**63 - 1)


@cache
def _rate_ratio(text: str) -> tuple[int, int]:
    """A rate's exact value as (numerator, denominator); anything but a positive decimal is refused."""
    with localcontext() as context:
        context.prec = RATE_PRECISION
        try:
            rate = Decimal(text.strip())
        except InvalidOperation:
            rate = None
    if rate is None or not rate.is_finite() or rate <= 0:
        raise ValueError(
            f"fx_convert: rate {text!r} is not a positive decimal (units of a currency per euro, e.g. '1.0824')"
        )
    return rate.as_integer_ratio()


@cache
def _factor(from_minor_units: int, to_minor_units: int, from_rate: str, to_rate: str) -> tuple[int, int]:
    """(numerator, denominator) that turn minor units of one currency into minor units of the
    other: to_rate / from_rate, scaled by the difference in minor-unit digits."""
    for digits in (from_minor_units, to_minor_units):
        if digits < 0:
            raise ValueError(f"fx_convert: minor units must be 0 or more digits, not {digits}")
    from_numerator, from_denominator = _rate_ratio(from_rate)
    to_numerator, to_denominator = _rate_ratio(to_rate)
    numerator = to_numerator * from_denominator * 10**to_minor_units
    denominator = to_denominator * from_numerator * 10**from_minor_units
    return numerator, denominator


def _round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded to an integer, ties to the even one."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def convert_minor(amount_minor: int, from_minor_units: int, to_minor_units: int, from_rate: str, to_rate: str) -> int:
    """One amount in minor units of currency A as minor units of currency B, where both rates
    are units per euro: amount / from_rate * to_rate, rounded once, half to even. For a direct
    rate A -> B pass from_rate '1' and to_rate the units of B per unit of A."""
    numerator, denominator = _factor(from_minor_units, to_minor_units, from_rate, to_rate)
    converted = _round_half_even(amount_minor * numerator, denominator)
    if not _BIGINT[0] <= converted <= _BIGINT[1]:
        raise ValueError(f"fx_convert: {amount_minor} converts to {converted}, beyond a BIGINT")
    return converted


def fx_convert(
    amount_minor: pa.Array,
    from_minor_units: pa.Array,
    to_minor_units: pa.Array,
    from_units_per_eur: pa.Array,
    to_units_per_eur: pa.Array,
) -> pa.Array:
    """Vectorized :func:`convert_minor` over Arrow arrays; a null in any argument gives null."""
    columns = [
        column.to_pylist()
        for column in (amount_minor, from_minor_units, to_minor_units, from_units_per_eur, to_units_per_eur)
    ]
    converted = [None if None in arguments else convert_minor(*arguments) for arguments in zip(*columns, strict=True)]
    return pa.array(converted, type=pa.int64())
