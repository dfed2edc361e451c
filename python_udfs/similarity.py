"""String similarity for fuzzy match rules, vectorized with rapidfuzz."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import distance, fuzz, process, utils


def _pairwise(left: pa.Array, right: pa.Array, scorer) -> pa.Array:
    lefts = left.to_pylist()
    rights = right.to_pylist()
    present = np.array([a is not None and b is not None for a, b in zip(lefts, rights, strict=True)])
    scores = process.cpdist(
        [a or "" for a in lefts],
        [b or "" for b in rights],
        scorer=scorer,
        processor=utils.default_process,
        dtype=np.float64,
        workers=1,
    )
    return pa.array(scores, type=pa.float64(), mask=~present)


def token_set_similarity(left: pa.Array, right: pa.Array) -> pa.Array:
    """Token-set ratio in [0, 1]: word order and repeated words do not matter."""
    return pc.divide(_pairwise(left, right, fuzz.token_set_ratio), 100.0)


def jaro_winkler_similarity(left: pa.Array, right: pa.Array) -> pa.Array:
    """Jaro-Winkler similarity in [0, 1]: rewards a shared prefix, suits short references."""
    return _pairwise(left, right, distance.JaroWinkler.normalized_similarity)

