"""A first load through `neo4j-admin database import full`: staged rows -> CSV files -> store files.

The transactional loader writes about 10k products/s because every row goes through Cypher and
the transaction log; the import tool writes the store files directly and is many times faster,
but only into an empty database with the server stopped. So `bulk_load` refuses a database that
holds any node, stages every file with the ordinary loaders (all validation first: a bad file
stops it before the server is touched), writes the CSVs, stops the local server, imports,
starts it again and creates the same constraints and indexes `ensure_schema` makes.
Incremental loads keep the transactional path.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kgrec.graph.bulk_staging import StagingStore
from kgrec.graph.errors import DatabaseNotEmptyError, LauncherError, MissingToolError
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore

log = logging.getLogger(__name__)

ARRAY_DELIMITER = ";"
# neo4j-admin column types of the properties that are not strings, per file.
_TYPES: dict[str, dict[str, str]] = {
    "Taxonomy": {"locales": "string[]"},
    "Category": {"depth": "long"},
    "Product": {"price": "double"},
    "INTERACTED": {
        "event_ts": "long[]",
        "count": "long",
        "first_ts": "long",
        "last_ts": "long",
        "value": "double",
        "changed_ms": "long",
    },
}
_SOURCE_COLUMNS = {"Brand": ("name", "source"), "AttributeValue": ("key", "value", "source")}
_PRODUCT_COLUMNS = ("title", "description", "price", "currency")
_INTERACTION_COLUMNS = ("kind", "event_ts", "count", "first_ts", "last_ts", "value", "session_id")


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _cell(value: Any) -> str:
    """One CSV field: None is an empty unquoted field (no property); strings are always quoted,
    so an empty string stays an empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return _quote(ARRAY_DELIMITER.join(str(v) for v in value))
    return _quote(str(value))


def _header(file: str, name: str) -> str:
    kind = _TYPES.get(file, {}).get(name)
    return f"{name}:{kind}" if kind else name


@dataclass(slots=True)
class ImportFiles:
    """The CSVs of one import, by label and relationship type."""

    folder: Path
    nodes: dict[str, Path] = field(default_factory=dict)
    relationships: dict[str, Path] = field(default_factory=dict)
    multiline: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def _write(self, name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
        path = self.folder / f"{name}.csv"
        count = 0
        with path.open("w", encoding="utf-8", newline="") as out:
            out.write(",".join(header) + "\n")
            count = self._rows(out, rows)
        self.counts[name] = count
        return path

    def _rows(self, out: TextIO, rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        for row in rows:
            line = ",".join(_cell(v) for v in row)
            if not self.multiline and ("\n" in line or "\r" in line):
                self.multiline = True
            out.write(line + "\n")
            count += 1
        return count

    def node_file(self, label: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        header = [f"id:ID({label})", *(_header(label, c) for c in columns)]
        self.nodes[label] = self._write(f"nodes-{label}", header, rows)

    def relationship_file(
        self,
        rel_type: str,
        ends: tuple[str, str],
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
    ) -> None:
        header = [f":START_ID({ends[0]})", f":END_ID({ends[1]})", *(_header(rel_type, c) for c in columns)]
        self.relationships[rel_type] = self._write(f"rels-{rel_type}", header, rows)


def write_import_csvs(staging: StagingStore, folder: Path) -> ImportFiles:
    """Every staged node and edge as neo4j-admin CSVs; brands and values no product uses are
    left out, as the transactional loader deletes such orphans."""
    folder.mkdir(parents=True, exist_ok=True)
    files = ImportFiles(folder)
    products = staging.products
    files.node_file(
        "Taxonomy",
        ("name", "locales"),
        ((name, name, locales or None) for name, locales in staging.taxonomies.items()),
    )
    category_columns = sorted({k for p in staging.categories_by_id.values() for k in p} - {"id"})
    files.node_file(
        "Category",
        category_columns,
        ((cid, *(p.get(c) for c in category_columns)) for cid, p in staging.categories_by_id.items()),
    )
    files.node_file(
        "Product",
        _PRODUCT_COLUMNS,
        ((pid, *(p.props.get(c) for c in _PRODUCT_COLUMNS)) for pid, p in products.items()),
    )
    used_brands = {p.brand_id for p in products.values() if p.brand_id}
    used_values = {a for p in products.values() for a in p.attribute_ids}
    for label, table, used in (
        ("Brand", staging.brands, used_brands),
        ("AttributeValue", staging.attribute_values, used_values),
    ):
        columns = _SOURCE_COLUMNS[label]
        files.node_file(
            label, columns, ((i, *(n[c] for c in columns)) for i, n in table.items() if i in used)
        )
    files.node_file("User", (), sorted({(user,) for user, _, _ in staging.interactions}))
    files.relationship_file(
        "IN_TAXONOMY",
        ("Category", "Taxonomy"),
        (),
        ((cid, p["taxonomy"]) for cid, p in staging.categories_by_id.items()),
    )
    files.relationship_file(
        "SUBCATEGORY_OF",
        ("Category", "Category"),
        (),
        ((cid, parent) for cid, parent in staging.category_parent.items() if parent),
    )
    files.relationship_file(
        "IN_CATEGORY",
        ("Product", "Category"),
        (),
        ((pid, p.category_id) for pid, p in products.items() if p.category_id),
    )
    files.relationship_file(
        "HAS_BRAND",
        ("Product", "Brand"),
        (),
        ((pid, p.brand_id) for pid, p in products.items() if p.brand_id),
    )
    files.relationship_file(
        "HAS_ATTRIBUTE",
        ("Product", "AttributeValue"),
        (),
        ((pid, aid) for pid, p in products.items() for aid in p.attribute_ids),
    )
    # Every edge carries the stamp the transactional path leaves (workers sync on it).
    imported_ms = int(time.time() * 1000)
    files.relationship_file(
        "INTERACTED",
        ("User", "Product"),
        (*_INTERACTION_COLUMNS, "changed_ms"),
        (
            (user, item, *(edge.get(c) for c in _INTERACTION_COLUMNS), imported_ms)
            for (user, item, _), edge in staging.interactions.items()
        ),
    )
    return files


def import_arguments(files: ImportFiles, database: str, max_memory: str) -> list[str]:
    """`neo4j-admin` arguments: strict (no bad row is skipped), replacing the empty database."""
    args = [
        "database",
        "import",
        "full",
        database,
        "--overwrite-destination=true",
        "--strict=true",
        "--bad-tolerance=0",
        "--skip-bad-relationships=false",
        "--skip-duplicate-nodes=false",
        f"--array-delimiter={ARRAY_DELIMITER}",
        f"--max-off-heap-memory={max_memory}",
        f"--report-file={files.folder / 'import.report'}",
    ]
    if files.multiline:
        args.append("--multiline-fields=true")
    args += [f"--nodes={label}={path}" for label, path in files.nodes.items()]
    args += [f"--relationships={rel}={path}" for rel, path in files.relationships.items()]
    return args


@dataclass(slots=True)
class BulkSummary:
    """Seconds per phase, so a benchmark can say where the time went."""

    nodes: dict[str, int]
    relationships: dict[str, int]
    seconds: dict[str, float]

    def as_dict(self) -> dict[str, object]:
        return {
            "nodes": self.nodes,
            "relationships": self.relationships,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


class _Phases:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self._started
        self._started = now


def _discard_database(server: LocalNeo4j, database: str) -> None:
    """A failed import leaves unusable store files of a database that was empty: removing them
    lets the server create it empty again."""
    for kind in ("databases", "transactions"):
        shutil.rmtree(server.home / "data" / kind / database, ignore_errors=True)


def bulk_load(
    server: LocalNeo4j,
    open_store: Callable[[], AbstractContextManager[Neo4jGraphStore]],
    stage: Callable[[StagingStore], object],
    *,
    work_dir: Path,
    database: str = "neo4j",
    max_memory: str = "1g",
    keep_csvs: bool = False,
) -> BulkSummary:
    """`open_store()` is a context manager giving a store on `server`; `stage` runs the loaders
    on the staging store. The server runs when this returns, also after a failed import; a
    never-started home is imported into before its first start (no start/stop around it)."""
    phases = _Phases()
    # A home whose database was never created (no store files, server down) is empty by
    # construction: no JVM start to look, no stop before the import.
    fresh = server.running_pid() is None and not (server.home / "data" / "databases" / database).exists()
    if not fresh:
        server.start()
        with open_store() as store:
            nodes = store.node_count()
        if nodes:
            raise DatabaseNotEmptyError(
                f"the database already holds {nodes} nodes: bulk import only fills an empty database "
                "(use `kgrec load` for incremental loads, or empty it first)",
            )
    phases.done("fresh home, not started" if fresh else "check")
    staging = StagingStore()
    stage(staging)
    phases.done("stage")
    folder = work_dir / f"bulk-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        files = write_import_csvs(staging, folder)
        del staging
        phases.done("csv")
        if not fresh:
            server.stop()
            phases.done("stop")
        try:
            server.admin(*import_arguments(files, database, max_memory), heap=max_memory)
        except LauncherError:
            _discard_database(server, database)
            server.start()
            raise
        phases.done("import")
        server.start()
        phases.done("start")
    finally:
        if not keep_csvs:
            shutil.rmtree(folder, ignore_errors=True)
    with open_store() as store:
        store.ensure_schema()
        store.after_bulk_import()
        stats = store.stats()
    phases.done("schema")
    return BulkSummary(nodes=stats.nodes, relationships=stats.relationships, seconds=phases.seconds)


def require_local(server: LocalNeo4j, uri_host: str | None) -> None:
    """The import writes the server's files: it needs the kgrec-managed server on this machine
    and the import tool's jar (`org.neo4j:neo4j-import-tool`, fetched with the server)."""
    if uri_host not in ("127.0.0.1", "localhost", "::1"):
        raise LauncherError(
            f"bulk import writes the store files of the local kgrec Neo4j (KGREC_HOME); "
            f"{uri_host} is not local: use `kgrec load` there"
        )
    server.resolve_jars()
    if not any(server.lib_dir.glob("neo4j-import-tool-*.jar")):
        raise MissingToolError(
            f"no neo4j-import-tool jar in {server.lib_dir}: run `kgrec neo4j install` again"
        )
