"""One exception hierarchy, so every boundary (CLI, HTTP) maps errors in one place."""

from __future__ import annotations

from pathlib import Path


class KgrecError(Exception):
    """Root of every error kgrec raises on purpose."""


class InputFileError(KgrecError):
    """A file the user gave us is wrong; names the file and line so it can be fixed."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class InvalidArgumentError(KgrecError):
    """A caller passed a value we cannot use; the message names the field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class NotFoundError(KgrecError):
    """A named thing (product, model, artifact) does not exist."""


class GraphUnavailableError(KgrecError):
    """Neo4j cannot be reached; callers may retry later."""


class MissingToolError(KgrecError):
    """A required program (Java, Maven) or package is not installed."""


class ArtifactError(KgrecError):
    """Trained artifacts are missing, corrupt or do not match the graph."""
