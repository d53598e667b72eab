"""`make bench`: run every benchmark, print one report, write it to benchmarks/results/latest.md."""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path

from benchmarks import (
    consultation_turn,
    logging_throughput,
    program_generation,
    reassessment,
    tracking_views,
)

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"


def main() -> None:
    sections = [
        ("Consultation turn (issue 4)", consultation_turn.run().lines()),
        ("Program generation and storage (issue 5)", program_generation.run().lines()),
        ("Logging throughput (issue 6)", logging_throughput.run().lines()),
        ("Tracking views (issue 6)", tracking_views.run().lines()),
        ("Reassessment worker (issue 8)", reassessment.run().lines()),
    ]
    header = [
        "# SHARPENED benchmarks",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({platform.machine()}, Python {platform.python_version()}); every figure is compared "
        "with a baseline measured in the same run.",
    ]
    body: list[str] = []
    for title, lines in sections:
        body += ["", f"## {title}", "", "```", *lines, "```"]
    report = "\n".join(header + body) + "\n"
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
