"""Files that a running server may read while they are rewritten."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from kgrec.graph.errors import ArtifactError


def write_text_atomically(path: Path, text: str) -> Path:
    """Written beside the target, then renamed over it: a reader sees the old file or the new."""
    tmp = path.with_name(f".{path.name}-{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_folder_atomically(final: Path, fill: Callable[[Path], None], what: str) -> Path:
    """`fill` writes into a hidden folder beside `final`, which is synced and renamed into place:
    a reader, or a crash, sees no folder or the whole one."""
    if final.exists():
        raise ArtifactError(f"{what} {final.name} already exists")
    tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        fill(tmp)
        for path in tmp.iterdir():
            if path.is_file():
                with path.open("rb") as handle:
                    os.fsync(handle.fileno())
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
