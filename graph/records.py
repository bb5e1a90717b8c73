"""Plain records passed between parsers, loaders and stores."""

from __future__ import annotations

from dataclasses import dataclass, field


def locale_property(locale: str) -> str:
    """`zh-CN` -> `name_zh_CN`: Neo4j property names cannot contain `-`."""
    return "name_" + locale.replace("-", "_")


def category_id(taxonomy: str, code: str) -> str:
    """Namespace a source id so several taxonomies coexist (`google:1604`)."""
    return f"{taxonomy}:{code}"


@dataclass(frozen=True, slots=True)
class CategoryRecord:
    id: str
    taxonomy: str
    code: str
    name: str
    path: str
    depth: int
    parent_id: str | None
    names: dict[str, str] = field(default_factory=dict)

    def properties(self) -> dict[str, object]:
        props: dict[str, object] = {
            "id": self.id,
            "taxonomy": self.taxonomy,
            "code": self.code,
            "name": self.name,
            "path": self.path,
            "depth": self.depth,
        }
        for locale, name in self.names.items():
            props[locale_property(locale)] = name
        return props


@dataclass(frozen=True, slots=True)
class ProductRecord:
    id: str
    title: str
    description: str | None = None
    price: float | None = None
    currency: str | None = None
    brand: str | None = None
    category_id: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    # Which of `brand` and the attribute keys were read from the title rather than loaded.
    from_title: frozenset[str] = frozenset()

    def source(self, key: str) -> str | None:
        """`'title'` for a brand (key `brand`) or attribute extracted from the title, else None."""
        return "title" if key in self.from_title else None

    def properties(self) -> dict[str, object]:
        props: dict[str, object] = {"id": self.id, "title": self.title}
        for key in ("description", "price", "currency"):
            value = getattr(self, key)
            if value is not None:
                props[key] = value
        return props


EVENT_WINDOW = 1_000
"""Timestamps kept per (user, item, kind) edge to recognise replayed events; `count` counts all."""


@dataclass(frozen=True, slots=True)
class InteractionRecord:
    """One (user, item, kind) pair with the timestamps of its events in one batch."""

    user_id: str
    item_id: str
    kind: str
    timestamps: tuple[int, ...]
    value: float | None = None
    session_id: str | None = None


@dataclass(slots=True)
class WriteCounts:
    created: int = 0
    updated: int = 0
    skipped: int = 0

    def add(self, other: WriteCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "skipped": self.skipped}


@dataclass(slots=True)
class TaxonomyStats:
    name: str
    categories: int
    roots: int
    max_depth: int
    locales: list[str]


@dataclass(slots=True)
class GraphStats:
    nodes: dict[str, int]
    relationships: dict[str, int]
    taxonomies: list[TaxonomyStats]

    def as_dict(self) -> dict[str, object]:
        return {
            "nodes": dict(sorted(self.nodes.items())),
            "relationships": dict(sorted(self.relationships.items())),
            "taxonomies": [
                {
                    "name": t.name,
                    "categories": t.categories,
                    "roots": t.roots,
                    "max_depth": t.max_depth,
                    "locales": sorted(t.locales),
                }
                for t in sorted(self.taxonomies, key=lambda t: t.name)
            ],
        }


def normalise_key(text: str) -> str:
    """Case- and space-insensitive key, so `LEGO ` and `Lego` are one brand."""
    return " ".join(text.casefold().split())


def brand_id(name: str) -> str:
    return normalise_key(name)


def attribute_id(key: str, value: str) -> str:
    return f"{normalise_key(key)}={normalise_key(value)}"
