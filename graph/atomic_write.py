"""Files that a running server may read while they are rewritten."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> Path:
    """Written beside the target, then renamed over it: a reader sees the old file or the new."""
    tmp = path.with_name(f".{path.name}-{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
