"""`make bench`: run every benchmark, print one report, write it to benchmarks/results/latest.md.

The report opens with one table (benchmark | figure | value | same-run baseline | ratio | target |
met) built from each benchmark's ``figures()``, then each benchmark's detail section. While it
runs, progress lines (which benchmark, elapsed time) go to stdout.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from benchmarks import (
    consultation_turn,
    logging_throughput,
    program_generation,
    reassessment,
    tracking_views,
)
from benchmarks.common import Figure, figures_table

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"


class Outcome(Protocol):
    def lines(self) -> list[str]: ...

    def figures(self) -> list[Figure]: ...


@dataclass(frozen=True)
class Benchmark:
    title: str
    run: Callable[[Callable[[str], None]], Outcome]


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("Consultation turn (issue 4)", lambda _progress: consultation_turn.run()),
    Benchmark(
        "Program generation and storage (issue 5)", lambda _progress: program_generation.run()
    ),
    Benchmark("Logging throughput (issue 6)", lambda _progress: logging_throughput.run()),
    Benchmark("Tracking views (issue 6)", tracking_views.run),
    Benchmark("Reassessment worker (issue 8)", reassessment.run),
)


def load() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def report(
    started: dt.datetime,
    seconds: float,
    loads: tuple[str, str],
    sections: Sequence[tuple[Benchmark, Outcome, float]],
) -> str:
    figures = [figure for _, outcome, _ in sections for figure in outcome.figures()]
    missed = sum(1 for figure in figures if figure.met is False)
    targets = sum(1 for figure in figures if figure.met is not None)
    lines = [
        "# SHARPENED benchmarks",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC on {platform.node()} ({platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}) in {seconds / 60:.1f} min; "
        f"load average {loads[0]} at the start, {loads[1]} at the end (other work shares the "
        "machine). Every figure is compared with a baseline measured in the same run; "
        "ratio = value / baseline.",
        "",
        f"{targets - missed} of {targets} targets met.",
        "",
        *figures_table(figures),
    ]
    for benchmark, outcome, elapsed in sections:
        lines += [
            "",
            f"## {benchmark.title}",
            "",
            f"({elapsed:.0f} s)",
            "",
            "```",
            *outcome.lines(),
            "```",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    start_load = load()
    sections: list[tuple[Benchmark, Outcome, float]] = []
    for index, benchmark in enumerate(BENCHMARKS, start=1):
        began = time.perf_counter()

        def progress(line: str, began: float = began) -> None:
            print(f"    [{time.perf_counter() - began:5.0f} s] {line.strip()}", flush=True)

        print(
            f"[{index}/{len(BENCHMARKS)}] {benchmark.title} "
            f"(elapsed {time.perf_counter() - started:.0f} s, load {load()})",
            flush=True,
        )
        outcome = benchmark.run(progress)
        elapsed = time.perf_counter() - began
        print(f"    done in {elapsed:.0f} s", flush=True)
        sections.append((benchmark, outcome, elapsed))
    text = report(started_at, time.perf_counter() - started, (start_load, load()), sections)
    print()
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
