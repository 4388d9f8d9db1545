"""Display names of uploaded files: what a client calls a file is text, never a path or a header.

Shared by the upload store, the file fields and the process packages' evidence lists, so that a
name with CR/LF or a path arrives nowhere as it was sent.
"""

from __future__ import annotations


def safe_filename(name: str) -> str:
    """A display name: the last path component, control characters removed, at most 255 chars."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:255] or "file"
