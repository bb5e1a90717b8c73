"""Every error kgrec raises on purpose tells the CLI its exit code and HTTP its status."""

from __future__ import annotations

import json

import pytest
import typer

import kgrec.graph.errors as errors_module
from kgrec.api.cli.common import handle_errors
from kgrec.api.errors import _kgrec_error
from kgrec.graph.errors import InputFileError, InvalidArgumentError, KgrecError


def _subclasses(cls: type[KgrecError]) -> list[type[KgrecError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


TREE = _subclasses(KgrecError)
LEAVES = [cls for cls in TREE if not cls.__subclasses__()]


def _instance(cls: type[KgrecError]) -> KgrecError:
    if issubclass(cls, InputFileError):
        return cls("shop.csv", 7, "price 'x' is not a number")
    if issubclass(cls, InvalidArgumentError):
        return cls("k", "must be 1-100")
    return cls("something the user can fix")


def test_the_tree_has_the_documented_leaves() -> None:
    assert {cls.__name__ for cls in LEAVES} >= {
        "InputFileError",
        "InvalidArgumentError",
        "GraphTooSmallError",
        "NotFoundError",
        "ArtifactError",
        "MissingToolError",
        "GraphUnavailableError",
        "LauncherError",
    }
    doc = errors_module.__doc__ or ""
    for cls in TREE:
        assert f"{cls.__name__} " in doc, f"{cls.__name__} is not in the tree in graph/errors.py"


@pytest.mark.parametrize("cls", TREE, ids=[cls.__name__ for cls in TREE])
def test_every_error_below_the_root_is_user_facing(cls: type[KgrecError]) -> None:
    assert cls.exit_code in (2, 3)
    assert 400 <= cls.http_status < 500 or cls.http_status == 503
    assert cls.code and cls.code != KgrecError.code
    assert (cls.exit_code == 3) == (cls.http_status == 503 and cls.code != "not_ready")


@pytest.mark.parametrize("cls", LEAVES, ids=[cls.__name__ for cls in LEAVES])
def test_http_and_cli_read_the_status_and_exit_code_from_the_error(cls: type[KgrecError]) -> None:
    error = _instance(cls)
    response = _kgrec_error(None, error)  # type: ignore[arg-type]
    body = json.loads(bytes(response.body))
    assert response.status_code == cls.http_status
    assert body["error"]["code"] == cls.code and body["error"]["message"] == str(error)
    assert (response.headers.get("Retry-After") is not None) == (cls.http_status == 503)

    def command() -> None:
        raise error

    with pytest.raises(typer.Exit) as exited:
        handle_errors(command)()
    assert exited.value.exit_code == cls.exit_code


def test_the_root_is_a_500_that_hides_its_message() -> None:
    response = _kgrec_error(None, KgrecError("bolt://10.0.0.5:7687 secret detail"))  # type: ignore[arg-type]
    assert response.status_code == 500
    assert b"10.0.0.5" not in bytes(response.body)
