"""Running a child process for which file modes hold, root included.

Root passes every permission check through the capabilities CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH, so a file of mode 0444 is writable to root and a read-only test run as
root would prove nothing. Without those two (dropped from the bounding set, so the child
cannot get them back) root's own files of mode 0444 or folders of mode 0555 are read-only to
it, as they are to anyone. The same interpreter and environment run; only those powers go.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DESKTOP_DIR = Path(__file__).resolve().parents[2] / "desktop"


def obeying_modes() -> list[str]:
    """The command prefix that makes permission bits hold for a child process."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): modes cannot be made to hold")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def run_python_obeying_modes(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter for which 0444 files and 0555 folders are read-only."""
    return subprocess.run(
        [*obeying_modes(), sys.executable, "-c", code, *args],
        env={**os.environ, "PYTHONPATH": str(DESKTOP_DIR)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
