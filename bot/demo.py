"""Placeholder for the browser demo (`python -m bot demo`), filled in by the demo feature."""

from __future__ import annotations

import sys


def run_demo(*, port: int, data_dir: str, fresh: bool) -> int:
    """Start the demo; not available yet."""
    print("tongxin: the demo is not built yet", file=sys.stderr)
    return 1
