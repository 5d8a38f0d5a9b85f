"""`deltadesk ask` on a real full disk: the data folder is a 1 MB tmpfs in a private mount
namespace (root and unshare needed; skipped elsewhere). The answer is printed whole, the
user is told it is not saved, nothing crashes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.sse_script import answer_chunks, streaming
from tests.test_ask import process_env

MOUNT_THEN_ASK = 'mount -t tmpfs -o size=1m tmpfs "$1" || exit 77; shift; exec "$@"'


def test_ask_on_a_full_disk_prints_the_answer_and_says_it_is_not_saved(
    tmp_path: Path, serve: Any
) -> None:
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0 or not sys.platform.startswith("linux"):
        pytest.skip("needs root and unshare to mount a tiny tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    words = [f"{i:04d} " + "many words here " * 640 for i in range(200)]  # about 2 MB
    url = serve(streaming(answer_chunks(words))).base_url
    ask = [sys.executable, "-m", "deltadesk", "ask", "--base-url", url, "--model", "m", "hi"]
    result = subprocess.run(
        [unshare, "--mount", "sh", "-c", MOUNT_THEN_ASK, "sh", str(disk), *ask],
        capture_output=True,
        text=True,
        timeout=120,
        env=process_env(disk),
    )
    if result.returncode == 77 or "unshare failed" in result.stderr:
        pytest.skip(f"no tmpfs can be mounted here: {result.stderr.strip()[-200:]}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "".join(words) + "\n"
    assert "Not saved: the disk is full. (Still answering.)" in result.stderr
    assert "the answer above is not in the history. Not saved: the disk is full." in result.stderr
    assert "Traceback" not in result.stderr
