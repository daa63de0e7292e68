"""Shell completion (click's): commands, options, and the registered names an option takes
(methods, metrics, models), comma-separated, answered without loading PyTorch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from tsexplain.cli import main
try:
    main()
except SystemExit:
    pass
print("torch loaded" if "torch" in sys.modules else "torch not loaded")
"""


def _complete(*words: str) -> list[str]:
    env = dict(
        os.environ,
        COMP_WORDS=" ".join(["tsexplain", *words]),
        COMP_CWORD=str(len(words)),
        _TSEXPLAIN_COMPLETE="bash_complete",
    )
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[-1] == "torch not loaded"
    return [line.split(",", 1)[1] for line in out[:-1]]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("ex",), ["explain"]),
        (("explain", "--meth"), ["--method"]),
        (("explain", "--method", "occ"), ["occlusion"]),
        (("explain", "--method", "saliency,integ"), ["saliency,integrated_gradients"]),
        (("evaluate", "--metric", "deletion"), ["deletion_auc"]),
        (("train", "--model", "inception"), ["inception", "inception_ensemble"]),
        (("report", "--methods", "lstm"), ["lstm_gradcam"]),
    ],
)
def test_completion(words, expected):
    assert _complete(*words) == expected
