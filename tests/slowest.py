"""The slowest tests of a `make test` run, across its passes (the parallel one and the serial one), from the JUnit
XML reports pytest wrote: each test's time is its setup, call and teardown together.

    python -m tests.slowest REPORT.xml [REPORT.xml ...] [--top 15]
"""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from pathlib import Path


def durations(reports: list[Path]) -> list[tuple[float, str]]:
    """(seconds, test id) of every test case in the reports."""
    found = []
    for report in reports:
        if not report.exists():
            continue
        for case in ET.parse(report).iter("testcase"):
            module = case.get("classname", "").replace(".", "/")
            found.append((float(case.get("time", "0")), f"{module}.py::{case.get('name', '')}"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    found = durations(args.reports)
    print(f"\n{args.top} slowest of {len(found)} tests ({sum(t for t, _ in found):.0f} s in all):")
    for seconds, test in sorted(found, reverse=True)[: args.top]:
        print(f"{seconds:8.2f}s  {test}")


if __name__ == "__main__":
    main()
