"""Progress lines for long runs, on stderr so that listings on stdout stay machine-readable."""

import sys


def progress(stage: str, message: str) -> None:
    print(f"  {stage:<7} {message}", file=sys.stderr, flush=True)
