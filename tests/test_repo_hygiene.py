"""Repository-wide rules that no single module's tests would notice being broken."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parent.parent

# Shapes of real provider keys: OpenAI (sk-..., sk-proj-...), OpenRouter (sk-or-v1-...),
# Anthropic (sk-ant-...), Groq (gsk_...). A test that needs a fake key builds it at run time
# ("sk-" + "x" * 24) so the source never holds one.
KEY_PATTERN = re.compile(r"\b(?:sk-(?:[a-z0-9]+-){0,2}|gsk_)[A-Za-z0-9_]{20,}")
# Absolute paths of a particular machine: a user's home, root's home, this workspace.
MACHINE_PATH_PATTERN = re.compile(r"(?<![\w.~/-])/(?:home/[\w.-]+|Users/[\w.-]+|root|work)/")
LOWER_BOUND_OPERATORS = {">=", ">", "==", "~=", "==="}


def repository_files() -> list[Path]:
    """Tracked files plus new ones not ignored yet, so a file is checked before its commit."""
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    names = {name for name in listing.decode().split("\0") if name}
    return [REPO_ROOT / name for name in sorted(names) if (REPO_ROOT / name).is_file()]


def read_text_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None  # binary (icons, screenshots) or vanished while listing


def offending_lines(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [
        f"{number}: {line.strip()[:120]}"
        for number, line in enumerate(text.splitlines(), start=1)
        if pattern.search(line)
    ]


def scan_repository(pattern: re.Pattern[str]) -> dict[str, list[str]]:
    findings: dict[str, list[str]] = {}
    for path in repository_files():
        text = read_text_or_none(path)
        lines = offending_lines(text, pattern) if text is not None else []
        if lines:
            findings[str(path.relative_to(REPO_ROOT))] = lines
    return findings


@pytest.mark.parametrize(
    ("text", "is_key"),
    [
        ("key = 'sk-" + "A1b2C3d4E5f6G7h8I9j0K1'", True),
        ("OPENAI_API_KEY=sk-proj-" + "abcdefghijklmnopqrstuvwx", True),
        ("sk-or-v1-" + "0123456789abcdef0123456789abcdef", True),
        ("GROQ=gsk_" + "abcdefghijklmnopqrstuvwxyz", True),
        ("key = 'sk-short'", False),
        ("a risk-assessment-of-the-whole-system", False),
    ],
)
def test_key_pattern_recognises_provider_keys(text: str, is_key: bool) -> None:
    assert bool(KEY_PATTERN.search(text)) is is_key


@pytest.mark.parametrize(
    ("text", "is_machine_path"),
    [
        ("cd /" + "home/alice/deltadesk", True),
        ("open('/" + "root/.config/x')", True),
        ("see /" + "work/main/pyproject.toml", True),
        ("data in ~/.local/share/deltadesk", False),
        ("https://example.org/" + "work/items", False),
        ("PySide6/Qt/plugins/platforms", False),
    ],
)
def test_machine_path_pattern(text: str, is_machine_path: bool) -> None:
    assert bool(MACHINE_PATH_PATTERN.search(text)) is is_machine_path


def test_no_file_holds_something_that_looks_like_an_api_key() -> None:
    assert scan_repository(KEY_PATTERN) == {}, "build fake keys at run time, never commit one"


def test_no_file_holds_an_absolute_path_of_this_machine() -> None:
    assert scan_repository(MACHINE_PATH_PATTERN) == {}, "use paths relative to the repository"


def test_every_dependency_has_a_lower_bound() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = list(pyproject["build-system"]["requires"])
    requirements += pyproject["project"]["dependencies"]
    for extra in pyproject["project"].get("optional-dependencies", {}).values():
        requirements += extra
    unbounded = [
        text
        for text in requirements
        if not {spec.operator for spec in Requirement(text).specifier} & LOWER_BOUND_OPERATORS
    ]
    assert requirements
    assert unbounded == []


def test_import_layer_contracts_hold() -> None:
    """core imports no Qt; ui does no I/O (the contracts live in pyproject.toml)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    env = dict(os.environ)
    # Works whether or not the package is pip-installed into the environment.
    search_path = [str(REPO_ROOT / "desktop"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, search_path))
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
