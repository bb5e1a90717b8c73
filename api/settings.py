"""The one settings object (env prefix `KGREC_`), built once at the edge and passed down."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _secret_file(path: Path) -> str:
    """A generated secret kept in the var dir (0600), so a fresh demo needs no configuration."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def _checkout_shared_data() -> Path | None:
    """`../shared/data` beside a source checkout (where the public datasets live), if it exists."""
    folder = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    return folder if folder.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KGREC_", extra="ignore")

    home: Path = Field(default=Path("var"), description="var dir for Neo4j, artifacts, secrets")
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    neo4j_lib_dir: Path | None = Field(default=None, description="jar cache; default HOME/neo4j/lib")
    neo4j_heap: str = "1g"
    neo4j_pagecache: str = "512m"
    pseudonym_key: SecretStr | None = None
    api_key: SecretStr | None = None
    browser_url: str = "http://127.0.0.1:7474/browser/"
    text_model: str | None = Field(
        default=None,
        description="text encoder: a packaged one (minilm, e5-multilingual, use-multilingual) or a "
        "local BERT-family model folder; default: what `kgrec models use` chose, else minilm",
    )
    text_quantize: bool = Field(
        default=False,
        description="int8 encoder: blocks of 32 with onnx (cosine >= 0.999), dynamic per-tensor with torch",
    )
    encoder_runtime: Literal["torch", "onnx"] = Field(
        default="torch", description="runs the same text encoder by torch or by ONNX Runtime (same vectors)"
    )
    torch_threads: int = Field(default=2, ge=1)
    cpu_workers: int = Field(default=2, ge=1, description="recommendations computed at once")
    sync_interval_ms: int = Field(
        default=250,
        ge=10,
        description="how often a worker pulls other workers' events and reloads (the staleness bound)",
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    max_upload_bytes: int = Field(default=200_000_000, ge=1024)
    shared_data: Path | None = Field(
        default_factory=_checkout_shared_data,
        description="folder holding the public datasets the evaluation presets read (default: "
        "../shared/data beside a source checkout)",
    )

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def lib_dir(self) -> Path:
        return self.neo4j_lib_dir or self.home / "neo4j" / "lib"

    @property
    def server_home(self) -> Path:
        return self.home / "neo4j" / "server"

    def neo4j_password_value(self) -> str:
        if self.neo4j_password is not None:
            return self.neo4j_password.get_secret_value()
        return _secret_file(self.secrets_dir / "neo4j_password")

    def pseudonym_key_bytes(self) -> bytes:
        if self.pseudonym_key is not None:
            return self.pseudonym_key.get_secret_value().encode("utf-8")
        return _secret_file(self.secrets_dir / "pseudonym_key").encode("utf-8")

    def api_key_value(self) -> str:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        return _secret_file(self.secrets_dir / "api_key")
