"""Catalogue loaders: validate the whole file first, then write idempotent `UNWIND` batches.

A file with any error, including any value Neo4j could not store, is rejected before the
first write. A file of up to `ATOMIC_ROWS` rows is then written in one transaction, so a load
that fails (Neo4j down, the loader killed) leaves nothing; a larger one commits batch by
batch, and because every write is a MERGE a re-run converges to the graph of a clean load.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from kgrec.graph import limits
from kgrec.graph.bulk_staging import StagingStore
from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.interaction_parsing import RawInteraction, iter_interactions
from kgrec.graph.product_parsing import RawProduct, iter_products
from kgrec.graph.pseudonym import pseudonymise
from kgrec.graph.records import (
    CategoryRecord,
    InteractionRecord,
    ProductRecord,
    WriteCounts,
    category_id,
)
from kgrec.graph.store import LoadTarget
from kgrec.graph.taxonomy_parsing import PATH_SEPARATOR, build_tree, parse_taxonomy
from kgrec.graph.title_attributes import BRAND_KEY, BrandVocabulary, extract

T = TypeVar("T")
DEFAULT_BATCH = 5_000
ATOMIC_ROWS = 50_000
"""Files up to this many rows are written in one transaction (all or nothing)."""
MAX_TAXONOMY_NAME = 200


@dataclass(slots=True)
class LoadSummary:
    file: str
    kind: str
    rows: int = 0
    counts: WriteCounts = field(default_factory=WriteCounts)
    categories: WriteCounts = field(default_factory=WriteCounts)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "kind": self.kind,
            "rows": self.rows,
            **self.counts.as_dict(),
            "categories": self.categories.as_dict(),
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _bar(desc: str, progress: bool, total: int | None = None) -> tqdm:
    return tqdm(desc=desc, total=total, unit="rows", disable=not progress, leave=False)


def _atomic(
    store: LoadTarget, summary: LoadSummary, rows: int, atomic_rows: int
) -> AbstractContextManager[None]:
    if rows <= atomic_rows:
        return store.transaction()
    summary.notes.append(
        f"{rows} rows > {atomic_rows}: committed in batches; if interrupted, re-run the same file"
    )
    return nullcontext()


def _taxonomy_name(name: str) -> str:
    try:
        limits.text("taxonomy", name, indexed=True)
    except ValueError as exc:
        raise InvalidArgumentError("taxonomy", str(exc)) from None
    if not name.strip() or len(name) > MAX_TAXONOMY_NAME:
        raise InvalidArgumentError("taxonomy", f"must be 1-{MAX_TAXONOMY_NAME} characters")
    return name


def load_taxonomy(
    store: LoadTarget,
    path: Path,
    *,
    fmt: str | None = None,
    taxonomy: str | None = None,
    locale: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    atomic_rows: int = ATOMIC_ROWS,
    progress: bool = False,
) -> LoadSummary:
    started = time.perf_counter()
    if taxonomy is not None:
        _taxonomy_name(taxonomy)
    parsed = parse_taxonomy(path, fmt=fmt, locale=locale)
    name = taxonomy or ("google" if parsed.format == "google" else None)
    if not name:
        raise InvalidArgumentError("taxonomy", f"pass --taxonomy NAME for a {parsed.format} file")
    store.ensure_schema()
    existing = store.categories(name)
    records = build_tree(parsed, name, existing)
    known_locales = store.taxonomy_locales(name) or []
    summary = LoadSummary(file=str(path), kind="taxonomy", rows=len(records))
    bar = _bar(f"taxonomy {path.name}", progress, total=len(records))
    with _atomic(store, summary, len(records), atomic_rows):
        if existing and parsed.locale not in known_locales:
            # A new locale of a taxonomy already in the graph only names existing categories.
            extra = {loc for r in records for loc in r.names}
            store.merge_taxonomy(name, sorted(extra))
            for loc in sorted(extra):
                pairs = [(r.id, r.names[loc]) for r in records if loc in r.names]
                for pair_chunk in batched(pairs, batch_size):
                    counts = store.set_category_names(loc, pair_chunk)
                    if loc == parsed.locale:
                        summary.counts.add(counts)
                        bar.update(len(pair_chunk))
            missing = sum(1 for r in records if r.id not in existing)
            if missing:
                summary.notes.append(
                    f"{missing} categories of {path.name} are not in taxonomy {name!r}: "
                    f"locale {parsed.locale} only adds names, so they were skipped"
                )
        else:
            store.merge_taxonomy(name, sorted({loc for r in records for loc in r.names}))
            for record_chunk in batched(records, batch_size):
                summary.counts.add(store.merge_categories(record_chunk))
                bar.update(len(record_chunk))
    bar.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _resolve_category_id(raw: str, taxonomy: str | None) -> str:
    if ":" in raw or taxonomy is None:
        return raw
    return category_id(taxonomy, raw)


def _path_categories(store: LoadTarget, taxonomy: str, paths: set[str]) -> list[CategoryRecord]:
    """Categories named by product paths that the graph lacks, parents first."""
    prefixes: set[str] = set()
    for full in paths:
        segments = full.split(PATH_SEPARATOR)
        prefixes.update(PATH_SEPARATOR.join(segments[: i + 1]) for i in range(len(segments)))
    known: dict[str, str] = {}
    for chunk in batched(sorted(prefixes), DEFAULT_BATCH):
        known.update(store.category_ids_by_path(taxonomy, chunk))
    records = []
    for prefix in sorted(prefixes, key=lambda p: (p.count(PATH_SEPARATOR), p)):
        if prefix in known:
            continue
        segments = prefix.split(PATH_SEPARATOR)
        parent = PATH_SEPARATOR.join(segments[:-1]) or None
        known[prefix] = category_id(taxonomy, prefix)
        records.append(
            CategoryRecord(
                id=known[prefix],
                taxonomy=taxonomy,
                code=prefix,
                name=segments[-1],
                path=prefix,
                depth=len(segments),
                parent_id=known[parent] if parent else None,
            )
        )
    return records


def load_products(
    store: LoadTarget,
    path: Path,
    *,
    taxonomy: str | None = None,
    mapping: Mapping[str, str] | None = None,
    currency: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    atomic_rows: int = ATOMIC_ROWS,
    extract_from_title: bool = False,
    progress: bool = False,
) -> LoadSummary:
    """`extract_from_title` adds brands and attribute values read from the titles (marked
    `source: 'title'`) wherever the file gives none: for feeds that are little more than titles."""
    started = time.perf_counter()
    if taxonomy is not None:
        _taxonomy_name(taxonomy)
    store.ensure_schema()
    summary = LoadSummary(file=str(path), kind="products")
    paths: set[str] = set()
    first_line_of_id: dict[str, int] = {}
    titles: list[str] = []
    # A staging store (bulk import) holds the whole load in memory and writes nothing before the
    # import, so the rows parsed while validating are kept instead of parsing the file twice.
    parsed: deque[RawProduct] | None = deque() if isinstance(store, StagingStore) else None
    with _bar(f"validating {path.name}", progress) as bar:
        for chunk in batched(iter_products(path, mapping, currency), batch_size):
            if parsed is not None:
                parsed.extend(chunk)
            for product in chunk:
                if extract_from_title:
                    titles.append(product.title)
                if product.category_path:
                    if taxonomy is None:
                        raise InputFileError(
                            path, product.line, "category_path needs --taxonomy NAME to say whose path it is"
                        )
                    paths.add(product.category_path)
                if product.category_id:
                    cid = _resolve_category_id(product.category_id, taxonomy)
                    first_line_of_id.setdefault(cid, product.line)
            summary.rows += len(chunk)
            bar.update(len(chunk))
    if summary.rows == 0:
        raise InputFileError(path, None, "no products in file")
    known = set()
    for id_chunk in batched(sorted(first_line_of_id), batch_size):
        known |= store.existing_ids("Category", id_chunk)
    unknown = sorted(set(first_line_of_id) - known, key=first_line_of_id.__getitem__)
    if unknown:
        raise InputFileError(
            path,
            first_line_of_id[unknown[0]],
            f"unknown category_id {unknown[0]!r}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""),
        )
    vocabulary = BrandVocabulary.learn(titles) if extract_from_title else None
    with _atomic(store, summary, summary.rows, atomic_rows):
        path_ids = _write_path_categories(store, summary, taxonomy, paths, batch_size)

        def raw_products() -> Iterator[RawProduct]:
            if parsed is None:
                yield from iter_products(path, mapping, currency)
                return
            while parsed:
                yield parsed.popleft()

        def records() -> Iterator[ProductRecord]:
            for raw in raw_products():
                record = _product_record(raw, taxonomy, path_ids)
                yield record if vocabulary is None else with_title_facts(record, vocabulary)

        with _bar(f"loading {path.name}", progress, total=summary.rows) as bar:
            for product_chunk in batched(records(), batch_size):
                summary.counts.add(store.merge_products(product_chunk))
                bar.update(len(product_chunk))
    summary.seconds = time.perf_counter() - started
    return summary


def _write_path_categories(
    store: LoadTarget, summary: LoadSummary, taxonomy: str | None, paths: set[str], batch_size: int
) -> dict[str, str]:
    """Creates the path levels the graph lacks; returns every product path's category id."""
    path_ids: dict[str, str] = {}
    if paths and taxonomy is not None:
        new_categories = _path_categories(store, taxonomy, paths)
        store.merge_taxonomy(taxonomy, [])
        for category_chunk in batched(new_categories, batch_size):
            summary.categories.add(store.merge_categories(category_chunk))
        for path_chunk in batched(sorted(paths), batch_size):
            path_ids.update(store.category_ids_by_path(taxonomy, path_chunk))
    return path_ids


def _product_record(raw: RawProduct, taxonomy: str | None, path_ids: Mapping[str, str]) -> ProductRecord:
    if raw.category_id:
        cid: str | None = _resolve_category_id(raw.category_id, taxonomy)
    elif raw.category_path:
        cid = path_ids[raw.category_path]
    else:
        cid = None
    return ProductRecord(
        id=raw.id,
        title=raw.title,
        description=raw.description,
        price=raw.price,
        currency=raw.currency,
        brand=raw.brand,
        category_id=cid,
        attributes=raw.attributes,
    )


def _aggregate(rows: Sequence[RawInteraction], key: bytes) -> list[InteractionRecord]:
    """One record per (user, item, kind) in a batch, so a batch never MERGEs the same edge twice."""
    groups: dict[tuple[str, str, str], list[RawInteraction]] = defaultdict(list)
    for row in rows:
        groups[(row.user_id, row.item_id, row.kind)].append(row)
    records = []
    for (user, item, kind), events in groups.items():
        latest = max(events, key=lambda e: e.timestamp)
        records.append(
            InteractionRecord(
                user_id=pseudonymise(user, key),
                item_id=item,
                kind=kind,
                timestamps=tuple(sorted({e.timestamp for e in events})),
                value=latest.value,
                session_id=latest.session_id,
            )
        )
    return records


def load_interactions(
    store: LoadTarget,
    path: Path,
    *,
    pseudonym_key: bytes,
    batch_size: int = DEFAULT_BATCH,
    atomic_rows: int = ATOMIC_ROWS,
    progress: bool = False,
) -> LoadSummary:
    started = time.perf_counter()
    store.ensure_schema()
    summary = LoadSummary(file=str(path), kind="interactions")
    with _bar(f"validating {path.name}", progress) as bar:
        for chunk in batched(iter_interactions(path), batch_size):
            items = sorted({row.item_id for row in chunk})
            known = store.existing_ids("Product", items)
            for row in chunk:
                if row.item_id not in known:
                    raise InputFileError(path, row.line, f"unknown item_id {row.item_id!r}")
            summary.rows += len(chunk)
            bar.update(len(chunk))
    if summary.rows == 0:
        raise InputFileError(path, None, "no interactions in file")
    with (
        _atomic(store, summary, summary.rows, atomic_rows),
        _bar(f"loading {path.name}", progress, total=summary.rows) as bar,
    ):
        for chunk in batched(iter_interactions(path), batch_size):
            summary.counts.add(store.merge_interactions(_aggregate(chunk, pseudonym_key)))
            bar.update(len(chunk))
    summary.seconds = time.perf_counter() - started
    return summary


def with_title_facts(record: ProductRecord, vocabulary: BrandVocabulary) -> ProductRecord:
    """The record with the title's brand and attribute values added; loaded values win."""
    facts = extract(record.title, vocabulary)
    from_title = {k for k in facts.attributes if k not in record.attributes}
    brand = record.brand
    if brand is None and facts.brand is not None:
        brand = facts.brand
        from_title.add(BRAND_KEY)
    return replace(
        record,
        brand=brand,
        attributes={**facts.attributes, **record.attributes},
        from_title=frozenset(from_title),
    )
