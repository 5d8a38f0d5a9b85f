"""Deltadesk: a desktop client for streaming answers from OpenAI-compatible APIs."""

import builtins

# PySide6 swaps builtins.__import__ for a hook that serves its opt-in `__feature__` syntax,
# which we do not use; every import statement then costs several microseconds, and the
# openai SDK runs a few dozen of them per streamed chunk. Saved here, before Qt is loaded,
# so app.py can put the plain one back (see restore_plain_import).
PLAIN_IMPORT = builtins.__import__
