"""String similarity for fuzzy match rules, vectorized with rapidfuzz."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import distance, fuzz, process, utils


def _pairwise(left: pa.Array, right: pa.Array, scorer) -> pa.Array:
    present = pc.and_(pc.is_valid(left), pc.is_valid(right))
    scores = process.cpdist(
        pc.fill_null(left, "").to_pylist(),
        pc.fill_null(right, "").to_pylist(),
        scorer=scorer,
        processor=utils.default_process,
        dtype=np.float64,
        workers=1,
    )
    return pa.array(scores, type=pa.float64(), mask=pc.invert(present).to_numpy(zero_copy_only=False))


def token_set_similarity(left: pa.Array, right: pa.Array) -> pa.Array:
    """Token-set ratio in [0, 1]: word order and repeated words do not matter."""
    return pc.divide(_pairwise(left, right, fuzz.token_set_ratio), 100.0)


def jaro_winkler_similarity(left: pa.Array, right: pa.Array) -> pa.Array:
    """Jaro-Winkler similarity in [0, 1]: rewards a shared prefix, suits short references."""
    return _pairwise(left, right, distance.JaroWinkler.normalized_similarity)
