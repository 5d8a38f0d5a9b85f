"""The log must never be the reason a user sees a traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from deltadesk.log_setup import QuietFileHandler


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_log_that_cannot_be_written_says_so_once_and_stops(
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler = QuietFileHandler("/dev/full", encoding="utf-8")  # every write: disk full
    logger = logging.getLogger("deltadesk.test-log-setup")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for n in range(3):
            logger.warning("record %d", n)
    finally:
        logger.removeHandler(handler)
        handler.close()
    err = capsys.readouterr().err
    assert err.count("the log file cannot be written") == 1, err
    assert "No space left on device" in err
    assert "Traceback" not in err and "Logging error" not in err
