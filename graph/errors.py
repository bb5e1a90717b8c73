"""kgrec's exceptions: one tree, so every boundary (CLI, HTTP) maps errors in one place.

Each class says what its caller should do, as the CLI exit code (2 = fix your input or run a
step first, 3 = a service kgrec needs is down or cannot start) and the HTTP status and code of
the error body. The tree, in the style of httpx's exceptions module::

    KgrecError                    exit 1, 500 internal: a bug; never raised for a user's mistake
    ├── UserInputError            exit 2, 422: the input is wrong and the message says where
    │   ├── InputFileError        exit 2, 422 invalid_file: a file, with the line
    │   ├── InvalidArgumentError  exit 2, 422 invalid_argument: an argument or field, by name
    │   ├── DatabaseNotEmptyError exit 2, 409 database_not_empty: bulk import needs an empty one
    │   └── GraphTooSmallError    exit 2, 409 graph_too_small: load more data before training
    ├── NotFoundError             exit 2, 404 not_found: a named product, job or artifact
    ├── NotReadyError             exit 2, 503 not_ready: a step must run first
    │   ├── ArtifactError         exit 2, 503 not_ready: no trained artifact, or a broken one
    │   └── MissingToolError      exit 3, 503 missing_tool: Java, Maven or a model not installed
    └── ServiceError              exit 3, 503: a service kgrec needs is not there
        ├── GraphUnavailableError exit 3, 503 graph_unavailable: Neo4j down, busy or refusing us
        └── LauncherError         exit 3, 503 launcher_failed: the local Neo4j would not start

Library errors are translated at the boundary with `raise ... from exc`; messages never carry
secrets or internal addresses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar


class KgrecError(Exception):
    """Root of every error kgrec raises on purpose."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    @property
    def details(self) -> Any:
        """Machine-readable context for the HTTP error body."""
        return None


class UserInputError(KgrecError):
    exit_code = 2
    http_status = 422
    code = "invalid_input"


class InputFileError(UserInputError):
    """A file the user gave us is wrong; names the file and line so it can be fixed."""

    code = "invalid_file"

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")

    @property
    def details(self) -> Any:
        return {"line": self.line, "problem": self.problem}


class InvalidArgumentError(UserInputError):
    """A caller passed a value we cannot use; the message names the field."""

    code = "invalid_argument"

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")

    @property
    def details(self) -> Any:
        return {"field": self.field}


class DatabaseNotEmptyError(UserInputError):
    """A bulk import replaces the whole database, so it only ever fills an empty one."""

    http_status = 409
    code = "database_not_empty"


class GraphTooSmallError(UserInputError):
    """The graph holds too little to train or evaluate on; loading more data fixes it."""

    http_status = 409
    code = "graph_too_small"


class NotFoundError(KgrecError):
    """A named thing (product, model, artifact) does not exist."""

    exit_code = 2
    http_status = 404
    code = "not_found"


class NotReadyError(KgrecError):
    """Something must happen first (train, install); retrying after it succeeds."""

    exit_code = 2
    http_status = 503
    code = "not_ready"


class ArtifactError(NotReadyError):
    """Trained artifacts are missing, corrupt or do not match the graph."""


class MissingToolError(NotReadyError):
    """A required program (Java, Maven) or package is not installed."""

    exit_code = 3
    code = "missing_tool"


class ServiceError(KgrecError):
    exit_code = 3
    http_status = 503
    code = "unavailable"


class GraphUnavailableError(ServiceError):
    """Neo4j cannot be reached, is busy past our retries, or refuses the credentials."""

    code = "graph_unavailable"


class LauncherError(ServiceError):
    """The local Neo4j server could not be installed or started (port taken, jars, start-up)."""

    code = "launcher_failed"
