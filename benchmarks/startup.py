"""How long the command line takes to answer, against the floors it cannot beat.

Run: ``.venv/bin/python benchmarks/startup.py [--repeat N]``.

Each row is a fresh process, timed from start to exit by wall clock, ``--repeat`` times; the
table shows the median and the fastest run, and the median as a ratio of two floors measured
the same way in the same run: ``python -c pass`` (the interpreter alone) and ``python -c
"import torch"`` (what any command that touches a model pays). A help screen, the method list
and the model list need no torch, so they should sit near the first floor; the last column
names the heavy packages each command loaded (read from ``sys.modules`` at exit), which should
be none for them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "sklearn", "scipy", "matplotlib", "zarr", "dask", "plotly", "pandas")

# what each row runs, as Python code in a fresh interpreter
_CLI = (
    "import sys; sys.argv = ['tsexplain', {args}]\n"
    "from tsexplain.cli import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
)
_REPORT = (
    "\nimport sys as _s\n"
    "_s.stderr.write('LOADED ' + ' '.join(m for m in {heavy!r} if m in _s.modules) + '\\n')\n"
)


def _cli(*args: str) -> str:
    return _CLI.format(args=", ".join(repr(a) for a in args))


ROWS: list[tuple[str, str]] = [
    ("python -c pass", "pass"),
    ('python -c "import numpy"', "import numpy"),
    ('python -c "import torch"', "import torch"),
    ('python -c "import tsexplain"', "import tsexplain"),
    ("tsexplain --help", _cli("--help")),
    ("tsexplain explain --help", _cli("explain", "--help")),
    ("tsexplain train --help", _cli("train", "--help")),
    ("tsexplain methods", _cli("methods")),
    ("tsexplain models", _cli("models")),
    ("tsexplain explain --bogus", _cli("explain", "--bogus")),
]


def run_once(code: str) -> tuple[float, str]:
    """Wall seconds of one fresh interpreter running ``code``, and the heavy packages it
    loaded."""
    program = code + _REPORT.format(heavy=HEAVY)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )
    seconds = time.perf_counter() - t0
    loaded = ""
    for line in done.stderr.splitlines():
        if line.startswith("LOADED"):
            loaded = line[len("LOADED") :].strip()
    return seconds, loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per row (default 7)")
    args = parser.parse_args()
    for _, code in ROWS:  # warm the file cache once, untimed
        run_once(code)
    results: dict[str, tuple[float, float, str]] = {}
    for label, code in ROWS:
        runs = [run_once(code) for _ in range(args.repeat)]
        times = [s for s, _ in runs]
        results[label] = (statistics.median(times), min(times), runs[-1][1])
    floor, torch_floor = results["python -c pass"][0], results['python -c "import torch"'][0]
    print(
        f"wall time of a fresh process, median of {args.repeat} runs "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} cores)\n"
    )
    print("| command | median s | fastest s | x python | x import torch | heavy modules loaded |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for label, (median, fastest, loaded) in results.items():
        print(
            f"| `{label}` | {median:.3f} | {fastest:.3f} | {median / floor:.1f} | "
            f"{median / torch_floor:.2f} | {loaded or '-'} |"
        )


if __name__ == "__main__":
    main()
