"""`GraphStore` over a real Neo4j 5 server, through the official driver passed in by the caller."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import neo4j
from neo4j import Driver
from neo4j.exceptions import AuthError, ClientError, ServiceUnavailable, SessionExpired, TransientError

from kgrec.graph import cypher
from kgrec.graph.errors import GraphUnavailableError, InvalidArgumentError
from kgrec.graph.records import (
    EVENT_WINDOW,
    CategoryRecord,
    GraphStats,
    InteractionRecord,
    ProductRecord,
    TaxonomyStats,
    WriteCounts,
    attribute_id,
    brand_id,
    locale_property,
)
from kgrec.graph.store import (
    CategoryMapping,
    CategoryRef,
    CategoryText,
    InteractionSummary,
    ProductText,
    RelationshipRecord,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Tx = neo4j.ManagedTransaction | neo4j.Transaction


def _status_counts(records: Sequence[Any]) -> WriteCounts:
    counts = WriteCounts()
    for record in records:
        setattr(counts, record["status"], getattr(counts, record["status"]) + record["n"])
    return counts


def _product_payload(r: ProductRecord) -> dict[str, Any]:
    attributes = [
        {"id": attribute_id(k, v), "key": k, "value": v, "source": r.source(k)}
        for k, v in sorted(r.attributes.items())
    ]
    return {
        "id": r.id,
        "title": r.title,
        "description": r.description,
        "price": r.price,
        "currency": r.currency,
        "category_id": r.category_id,
        "brand_id": brand_id(r.brand) if r.brand else None,
        "brand_name": r.brand,
        "brand_source": r.source("brand"),
        "attributes": attributes,
        "attribute_ids": [a["id"] for a in attributes],
    }


def _unchanged(snapshot: neo4j.Record, row: dict[str, Any]) -> bool:
    return (
        all(snapshot[k] == row[k] for k in cypher.PRODUCT_KEYS)
        and snapshot["categories"] == ([row["category_id"]] if row["category_id"] else [])
        and snapshot["brands"] == ([row["brand_id"]] if row["brand_id"] else [])
        and sorted(snapshot["attributes"]) == row["attribute_ids"]
    )


@dataclass(slots=True)
class _Bound:
    """The explicit transaction this thread's store calls join, and work to run after commit."""

    tx: neo4j.Transaction
    after_commit: list[Callable[[], None]] = field(default_factory=list)


class Neo4jGraphStore:
    def __init__(self, driver: Driver, database: str = "neo4j") -> None:
        self._driver = driver
        self._database = database
        self._bound: ContextVar[_Bound | None] = ContextVar(f"kgrec-tx-{id(self)}", default=None)

    @property
    def driver(self) -> Driver:
        return self._driver

    @property
    def database(self) -> str:
        return self._database

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (ServiceUnavailable, SessionExpired, ConnectionError, OSError) as exc:
            log.warning("Neo4j is not reachable: %s", exc)
            raise GraphUnavailableError("Neo4j is not reachable") from exc
        except TransientError as exc:
            raise GraphUnavailableError(f"Neo4j is busy, retries exhausted: {exc.code}") from exc
        except AuthError as exc:
            raise GraphUnavailableError(
                "Neo4j refused the credentials (check KGREC_NEO4J_USER / KGREC_NEO4J_PASSWORD)"
            ) from exc

    def run(self, query: str, params: dict[str, Any] | None = None) -> list[neo4j.Record]:
        """A read: in a read transaction, which a `neo4j://` driver routes to a reader of the
        cluster (Neo4j refuses a write in it). Inside `transaction()` it joins that one."""
        bound = self._bound.get()
        if bound is not None:
            return self._call(lambda: list(bound.tx.run(query, params or {})))
        return self._execute(query, params, neo4j.RoutingControl.READ)

    def schema(self, query: str, params: dict[str, Any] | None = None) -> list[neo4j.Record]:
        """Index and constraint commands: on the writer, in a transaction of their own."""
        return self._execute(query, params, neo4j.RoutingControl.WRITE)

    def _session(self, access_mode: str = neo4j.WRITE_ACCESS) -> neo4j.Session:
        """Sessions share the bookmarks of `execute_query`, so that a read routed to a cluster
        reader after a write waits until that reader has the write (causal consistency)."""
        return self._driver.session(
            database=self._database,
            default_access_mode=access_mode,
            bookmark_manager=self._driver.execute_query_bookmark_manager,
        )

    def _execute(
        self, query: str, params: dict[str, Any] | None, routing: neo4j.RoutingControl
    ) -> list[neo4j.Record]:
        def work() -> list[neo4j.Record]:
            records, _, _ = self._driver.execute_query(
                query, params or {}, database_=self._database, routing_=routing
            )
            return list(records)

        return self._call(work)

    def write(self, query: str, params: dict[str, Any]) -> list[neo4j.Record]:
        return self._in_write_transaction(lambda tx: list(tx.run(query, params)))

    def _in_write_transaction(self, work: Callable[[Tx], T]) -> T:
        """One managed write transaction (retried by the driver on transient errors), or the
        caller's explicit one inside `transaction()`."""
        bound = self._bound.get()
        if bound is not None:
            return self._call(lambda: work(bound.tx))

        def run_session() -> T:
            with self._session() as session:
                return session.execute_write(work)

        return self._call(run_session)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Joins this thread's store calls into one explicit transaction.

        Neo4j rolls an uncommitted transaction back when its connection drops, so even a
        `kill -9` of the loader leaves nothing of the work inside. Nested uses join the outer one.
        """
        if self._bound.get() is not None:
            yield
            return
        session = self._call(lambda: self._session())
        try:
            bound = _Bound(self._call(session.begin_transaction))
            token = self._bound.set(bound)
            try:
                yield
            except BaseException:
                if not bound.tx.closed():
                    try:
                        bound.tx.rollback()
                    except (ServiceUnavailable, SessionExpired, OSError):
                        log.warning("rollback failed; Neo4j discards the transaction with the connection")
                raise
            finally:
                self._bound.reset(token)
            self._call(bound.tx.commit)
        finally:
            session.close()
        for work in bound.after_commit:
            work()

    def ping(self) -> None:
        self.run(cypher.PING)

    def ensure_schema(self) -> None:
        for statement in cypher.schema_statements():
            self.schema(statement)
        if not self.run(*cypher.show_category_fulltext()):
            self.schema(cypher.create_category_fulltext(cypher.category_fulltext_properties([])))

    def _ensure_category_fulltext(self) -> None:
        locales: set[str] = set()
        for record in self.run(cypher.ALL_TAXONOMY_LOCALES):
            locales.update(record["locales"] or [])
        properties = [locale_property(x) for x in locales]
        self._ensure_fulltext(cypher.CATEGORY_FULLTEXT_INDEX, cypher.category_fulltext_properties(properties))
        cjk = cypher.cjk_properties(properties)
        if cjk:
            self._ensure_fulltext(cypher.CATEGORY_CJK_FULLTEXT_INDEX, cjk)

    def _ensure_fulltext(self, index: str, wanted: list[str]) -> None:
        current = self.run(*cypher.show_category_fulltext(index))
        if current and sorted(current[0]["properties"]) == sorted(wanted):
            return
        log.info("rebuilding full-text index %s over %s", index, wanted)
        self.schema(cypher.drop_category_fulltext(index))
        self.schema(cypher.create_category_fulltext(wanted, index))

    def node_count(self) -> int:
        return int(self.run(cypher.count_nodes())[0]["n"])

    def after_bulk_import(self) -> None:
        """What the transactional loader leaves that the import tool cannot write: empty locale
        lists and the category full-text index over every locale; waits for the indexes."""
        self.write(cypher.default_taxonomy_locales(), {})
        self._ensure_category_fulltext()
        self.run(cypher.AWAIT_INDEXES)

    def taxonomy_locales(self, taxonomy: str) -> list[str] | None:
        records = self.run(*cypher.taxonomy_locales(taxonomy))
        return list(records[0]["locales"] or []) if records else None

    def categories(self, taxonomy: str) -> dict[str, CategoryRef]:
        return {
            r["id"]: CategoryRef(r["id"], r["parent_id"], r["path"])
            for r in self.run(*cypher.categories_of(taxonomy))
        }

    def category_ids_by_path(self, taxonomy: str, paths: Sequence[str]) -> dict[str, str]:
        return {r["path"]: r["id"] for r in self.run(*cypher.category_ids_by_path(taxonomy, paths))}

    def existing_ids(self, label: str, ids: Sequence[str]) -> set[str]:
        return {r["id"] for r in self.run(*cypher.existing_ids(label, ids))}

    def merge_taxonomy(self, name: str, locales: Sequence[str]) -> None:
        self.write(*cypher.merge_taxonomy(name, locales))
        bound = self._bound.get()
        if bound is None:
            self._ensure_category_fulltext()
        elif self._ensure_category_fulltext not in bound.after_commit:
            bound.after_commit.append(self._ensure_category_fulltext)

    def merge_categories(self, rows: Sequence[CategoryRecord]) -> WriteCounts:
        payload: dict[str, dict[str, Any]] = {
            r.id: {"id": r.id, "parent_id": r.parent_id, "taxonomy": r.taxonomy, "props": r.properties()}
            for r in rows
        }
        snapshots = {s["id"]: s for s in self.run(*cypher.category_snapshots(list(payload)))}
        created = [row for cid, row in payload.items() if cid not in snapshots]
        changed = [
            row
            for cid, row in payload.items()
            if cid in snapshots
            and not (
                all(snapshots[cid]["props"].get(k) == v for k, v in row["props"].items())
                and snapshots[cid]["parent_id"] == row["parent_id"]
            )
        ]

        def work(tx: Tx) -> None:
            if created:
                tx.run(*cypher.create_categories(created)).consume()
            if changed:
                tx.run(*cypher.update_categories(changed)).consume()
            tx.run(*cypher.link_categories(created + changed)).consume()

        if created or changed:
            self._in_write_transaction(work)
        return WriteCounts(
            created=len(created), updated=len(changed), skipped=len(payload) - len(created) - len(changed)
        )

    def set_category_names(self, locale: str, names: Sequence[tuple[str, str]]) -> WriteCounts:
        rows = [{"id": cid, "name": name} for cid, name in names]
        return _status_counts(self.write(*cypher.set_category_names(locale_property(locale), rows)))

    def merge_products(self, rows: Sequence[ProductRecord]) -> WriteCounts:
        payload = {r.id: _product_payload(r) for r in rows}
        snapshots = {s["id"]: s for s in self.run(*cypher.product_snapshots(list(payload)))}
        created = [row for pid, row in payload.items() if pid not in snapshots]
        changed = [
            row for pid, row in payload.items() if pid in snapshots and not _unchanged(snapshots[pid], row)
        ]
        brands = {
            r["brand_id"]: {"id": r["brand_id"], "name": r["brand_name"], "source": r["brand_source"]}
            for r in created + changed
            if r["brand_id"]
        }
        values = {a["id"]: a for r in created + changed for a in r["attributes"]}
        old_brands = sorted({b for r in changed for b in snapshots[r["id"]]["brands"]} - set(brands))
        old_values = sorted({a for r in changed for a in snapshots[r["id"]]["attributes"]} - set(values))

        def work(tx: Tx) -> None:
            if brands:
                tx.run(*cypher.merge_brands(list(brands.values()))).consume()
            if values:
                tx.run(*cypher.merge_attribute_values(list(values.values()))).consume()
            if created:
                tx.run(*cypher.create_products(created)).consume()
            if changed:
                tx.run(*cypher.update_products(changed)).consume()
            if old_brands:
                tx.run(*cypher.delete_orphans("Brand", "HAS_BRAND", old_brands)).consume()
            if old_values:
                tx.run(*cypher.delete_orphans("AttributeValue", "HAS_ATTRIBUTE", old_values)).consume()

        if created or changed:
            self._in_write_transaction(work)
        return WriteCounts(
            created=len(created), updated=len(changed), skipped=len(payload) - len(created) - len(changed)
        )

    def merge_interactions(self, rows: Sequence[InteractionRecord]) -> WriteCounts:
        payload = [
            {
                "user_id": r.user_id,
                "item_id": r.item_id,
                "kind": r.kind,
                "timestamps": list(r.timestamps),
                "value": r.value,
                "session_id": r.session_id,
            }
            for r in sorted(rows, key=lambda r: (r.user_id, r.item_id, r.kind))
        ]
        return _status_counts(self.write(*cypher.merge_interactions(payload, EVENT_WINDOW)))

    def stats(self) -> GraphStats:
        nodes = {label: self.run(cypher.count_label(label))[0]["n"] for label in cypher.NODE_LABELS}
        rels = {t: self.run(cypher.count_relationship(t))[0]["n"] for t in cypher.RELATIONSHIP_TYPES}
        taxonomies = [
            TaxonomyStats(
                name=r["name"],
                categories=r["categories"],
                roots=r["roots"],
                max_depth=r["max_depth"],
                locales=list(r["locales"] or []),
            )
            for r in self.run(*cypher.taxonomy_stats())
        ]
        return GraphStats(nodes=nodes, relationships=rels, taxonomies=taxonomies)

    def _stream(self, query: str) -> Iterator[neo4j.Record]:
        """Yields records as the server sends them, without holding the result in memory."""
        try:
            # A read session: its auto-commit query goes to a reader of a cluster, like `run`.
            with self._session(neo4j.READ_ACCESS) as session:
                yield from session.run(query)
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            log.warning("Neo4j is not reachable: %s", exc)
            raise GraphUnavailableError("Neo4j is not reachable") from exc

    def iter_relationships(self, types: Sequence[str]) -> Iterator[RelationshipRecord]:
        for rel_type in types:
            for r in self._stream(cypher.relationships_of_type(rel_type)):
                yield RelationshipRecord(
                    rel_type, r["head_label"], r["head"], r["tail_label"], r["tail"], r["kind"]
                )

    def iter_product_texts(self) -> Iterator[ProductText]:
        for r in self._stream(cypher.product_texts()):
            yield ProductText(
                r["id"],
                r["title"],
                r["description"],
                r["brand"],
                r["category_id"],
                r["category_path"],
                tuple(sorted(r["attributes"])),
                r["price"],
            )

    def iter_category_texts(self) -> Iterator[CategoryText]:
        for r in self._stream(cypher.category_texts()):
            yield CategoryText(r["id"], r["name"], r["path"])

    def replace_category_mappings(self, source: str, target: str, rows: Sequence[CategoryMapping]) -> int:
        payload = [r._asdict() for r in rows]
        with self.transaction():
            self.write(*cypher.delete_category_mappings(source, target))
            written = 0
            for start in range(0, len(payload), 5000):
                records = self.write(*cypher.merge_category_mappings(payload[start : start + 5000]))
                written += int(records[0]["n"]) if records else 0
        return written

    def iter_category_mappings(self) -> Iterator[CategoryMapping]:
        for r in self._stream(cypher.category_mappings()):
            yield CategoryMapping(r["source"], r["target"], float(r["score"]), r["method"])

    def iter_category_names(self, locale: str) -> Iterator[tuple[str, str]]:
        for r in self.run(*cypher.category_locale_names(locale_property(locale))):
            yield r["id"], r["name"]

    def iter_interactions(self) -> Iterator[InteractionSummary]:
        for r in self._stream(cypher.interactions()):
            yield InteractionSummary(r["user"], r["item"], r["kind"], r["count"], r["last_ts"])

    def server_time_ms(self) -> int:
        """Neo4j's clock, the one `changed_ms` on interactions is stamped with."""
        return int(self.run("RETURN timestamp() AS now")[0]["now"])

    def interactions_changed_since(self, since_ms: int) -> list[dict[str, Any]]:
        """(user, item, kind, event_ts, changed_ms) of the edges that took events after `since_ms`."""
        return [dict(r) for r in self.run(*cypher.interactions_changed_since(since_ms))]

    def set_product_regions(self, rows: Sequence[tuple[str, str, str, str, str]]) -> int:
        payload = [{"id": a, "tax": b, "tax_name": c, "com": d, "com_name": e} for a, b, c, d, e in rows]
        records = self.write(*cypher.set_product_regions(payload))
        self.write(cypher.delete_empty_regions(), {})
        return int(records[0]["n"]) if records else 0

    def search_products(self, text: str, limit: int) -> list[tuple[str, float]]:
        if not text.strip():
            return []
        try:
            records = self.run(*cypher.search_products(text, limit))
        except ClientError as exc:
            log.error("full-text query failed for %r: %s", text, exc.message)
            raise InvalidArgumentError("query", "cannot be used as search text") from exc
        return [(r["id"], float(r["score"])) for r in records]

    def product(self, product_id: str) -> dict[str, Any] | None:
        records = self.run(*cypher.product_detail(product_id))
        return dict(records[0]) if records else None

    def browse_categories(
        self, taxonomy: str | None, parent: str | None, limit: int = 500
    ) -> list[dict[str, Any]]:
        return [
            {"props": dict(r["props"]), "products": r["products"], "children": r["children"]}
            for r in self.run(*cypher.browse_categories(taxonomy, parent, limit))
        ]

    def write_vectors(self, label: str, prop: str, rows: Sequence[tuple[str, Sequence[float]]]) -> int:
        payload = [{"id": node_id, "vector": [float(x) for x in vector]} for node_id, vector in rows]
        records = self.write(*cypher.write_vectors(label, prop, payload))
        return int(records[0]["n"]) if records else 0

    def ensure_vector_index(self, label: str, prop: str, dim: int) -> None:
        current = self.run(*cypher.show_vector_index(label, prop))
        if current and current[0]["dim"] == dim:
            return
        if current:
            self.schema(cypher.drop_vector_index(label, prop))
        self.schema(cypher.drop_legacy_vector_index(label, prop))
        self.schema(cypher.create_vector_index(label, prop, dim))

    def vector_search(
        self, label: str, prop: str, vector: Sequence[float], k: int
    ) -> list[tuple[str, float]]:
        self.run(cypher.AWAIT_INDEXES)
        records = self.run(*cypher.query_vector_index(label, prop, k, vector))
        return [(r["id"], r["score"]) for r in records]

    def clear(self) -> None:
        while self.write(*cypher.clear_relationships_batch(50_000))[0]["n"]:
            pass
        while self.write(*cypher.clear_nodes_batch(50_000))[0]["n"]:
            pass
