"""Every Cypher statement kgrec sends, as constants or builders returning `(query, params)`.

User input only ever travels in `params`; query text is built from constants in this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Statement = tuple[str, dict[str, Any]]

NODE_LABELS = ("Taxonomy", "Category", "Product", "Brand", "AttributeValue", "User")
RELATIONSHIP_TYPES = (
    "SUBCATEGORY_OF",
    "IN_TAXONOMY",
    "IN_CATEGORY",
    "HAS_BRAND",
    "HAS_ATTRIBUTE",
    "INTERACTED",
)
PRODUCT_FULLTEXT_INDEX = "product_text"
CATEGORY_FULLTEXT_INDEX = "category_names"
CATEGORY_CJK_FULLTEXT_INDEX = "category_names_cjk"
CJK_LANGUAGES = ("zh", "ja", "ko")

_SCHEMA = [
    "CREATE CONSTRAINT taxonomy_name IF NOT EXISTS FOR (t:Taxonomy) REQUIRE t.name IS UNIQUE",
    "CREATE CONSTRAINT category_id IF NOT EXISTS FOR (c:Category) REQUIRE c.id IS UNIQUE",
    "CREATE CONSTRAINT product_id IF NOT EXISTS FOR (p:Product) REQUIRE p.id IS UNIQUE",
    "CREATE CONSTRAINT brand_id IF NOT EXISTS FOR (b:Brand) REQUIRE b.id IS UNIQUE",
    "CREATE CONSTRAINT attribute_value_id IF NOT EXISTS FOR (a:AttributeValue) REQUIRE a.id IS UNIQUE",
    "CREATE CONSTRAINT user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE",
    "CREATE CONSTRAINT region_id IF NOT EXISTS FOR (r:Region) REQUIRE r.id IS UNIQUE",
    "CREATE INDEX category_taxonomy IF NOT EXISTS FOR (c:Category) ON (c.taxonomy)",
    "CREATE INDEX category_path IF NOT EXISTS FOR (c:Category) ON (c.taxonomy, c.path)",
    "CREATE INDEX interacted_changed IF NOT EXISTS FOR ()-[r:INTERACTED]-() ON (r.changed_ms)",
    f"CREATE FULLTEXT INDEX {PRODUCT_FULLTEXT_INDEX} IF NOT EXISTS "
    "FOR (p:Product) ON EACH [p.title, p.description]",
]


PING = "RETURN 1 AS ok"
ALL_TAXONOMY_LOCALES = "MATCH (t:Taxonomy) RETURN t.locales AS locales"
# Vector queries see only online indexes; this waits (up to two minutes) for ones still populating.
AWAIT_INDEXES = "CALL db.awaitIndexes(120)"


def schema_statements() -> list[str]:
    return list(_SCHEMA)


def category_fulltext_properties(locale_properties: Sequence[str]) -> list[str]:
    return ["name", "path", *sorted(set(locale_properties))]


def cjk_properties(locale_properties: Sequence[str]) -> list[str]:
    """The `name_<locale>` properties in Chinese, Japanese or Korean, which Lucene's standard
    analyzer cuts into single characters: the `cjk` analyzer indexes overlapping bigrams."""
    return sorted({p for p in locale_properties if p.split("_")[1] in CJK_LANGUAGES})


def show_category_fulltext(index: str = CATEGORY_FULLTEXT_INDEX) -> Statement:
    return (
        "SHOW INDEXES YIELD name, properties WHERE name = $name RETURN properties",
        {"name": index},
    )


def drop_category_fulltext(index: str = CATEGORY_FULLTEXT_INDEX) -> str:
    if index not in (CATEGORY_FULLTEXT_INDEX, CATEGORY_CJK_FULLTEXT_INDEX):
        raise ValueError(f"unknown index {index!r}")
    return f"DROP INDEX {index} IF EXISTS"


def create_category_fulltext(properties: Sequence[str], index: str = CATEGORY_FULLTEXT_INDEX) -> str:
    """Property names come from `locale_property` over validated locale codes, never raw input."""
    for prop in properties:
        if not prop.replace("_", "").isalnum():
            raise ValueError(f"unsafe property name {prop!r}")
    fields = ", ".join(f"c.`{p}`" for p in properties)
    statement = f"CREATE FULLTEXT INDEX {index} IF NOT EXISTS FOR (c:Category) ON EACH [{fields}]"
    if index == CATEGORY_CJK_FULLTEXT_INDEX:
        return statement + " OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}"
    if index != CATEGORY_FULLTEXT_INDEX:
        raise ValueError(f"unknown index {index!r}")
    return statement


def taxonomy_locales(name: str) -> Statement:
    return ("MATCH (t:Taxonomy {name: $name}) RETURN t.locales AS locales", {"name": name})


def merge_taxonomy(name: str, locales: Sequence[str]) -> Statement:
    return (
        "MERGE (t:Taxonomy {name: $name}) SET t.id = $name "
        ", t.locales = coalesce(t.locales, []) + "
        "[l IN $locales WHERE NOT l IN coalesce(t.locales, [])]",
        {"name": name, "locales": list(locales)},
    )


def categories_of(taxonomy: str) -> Statement:
    return (
        "MATCH (c:Category {taxonomy: $taxonomy}) "
        "OPTIONAL MATCH (c)-[:SUBCATEGORY_OF]->(parent:Category) "
        "RETURN c.id AS id, parent.id AS parent_id, c.path AS path",
        {"taxonomy": taxonomy},
    )


def existing_ids(label: str, ids: Sequence[str]) -> Statement:
    if label not in NODE_LABELS:
        raise ValueError(f"unknown label {label!r}")
    return (f"UNWIND $ids AS id MATCH (n:{label} {{id: id}}) RETURN n.id AS id", {"ids": list(ids)})


def category_snapshots(ids: Sequence[str]) -> Statement:
    return (
        "UNWIND $ids AS id MATCH (c:Category {id: id}) "
        "OPTIONAL MATCH (c)-[:SUBCATEGORY_OF]->(parent:Category) "
        "RETURN c.id AS id, properties(c) AS props, parent.id AS parent_id",
        {"ids": list(ids)},
    )


def create_categories(rows: Sequence[dict[str, Any]]) -> Statement:
    """Rows known not to exist: CREATE nodes; edges follow in `link_categories`."""
    return ("UNWIND $rows AS row CREATE (c:Category) SET c = row.props", {"rows": list(rows)})


def update_categories(rows: Sequence[dict[str, Any]]) -> Statement:
    return (
        "UNWIND $rows AS row MATCH (c:Category {id: row.id}) SET c += row.props "
        "WITH c OPTIONAL MATCH (c)-[r:SUBCATEGORY_OF|IN_TAXONOMY]->() DELETE r",
        {"rows": list(rows)},
    )


def link_categories(rows: Sequence[dict[str, Any]]) -> Statement:
    """Creates taxonomy and parent edges for categories whose edges were just created or cleared."""
    return (
        "UNWIND $rows AS row MATCH (c:Category {id: row.id}) "
        "MATCH (t:Taxonomy {name: row.taxonomy}) CREATE (c)-[:IN_TAXONOMY]->(t) "
        "WITH c, row OPTIONAL MATCH (parent:Category {id: row.parent_id}) "
        "FOREACH (_ IN CASE WHEN parent IS NULL THEN [] ELSE [1] END | "
        "  CREATE (c)-[:SUBCATEGORY_OF]->(parent))",
        {"rows": list(rows)},
    )


def set_category_names(prop: str, rows: Sequence[dict[str, str]]) -> Statement:
    """Adds one locale's names to existing categories; the property name is passed as a param."""
    return (
        "UNWIND $rows AS row "
        "OPTIONAL MATCH (c:Category {id: row.id}) "
        "WITH c, row, CASE WHEN c IS NULL THEN 'skipped' "
        "  WHEN c[$prop] = row.name THEN 'skipped' ELSE 'updated' END AS status "
        "FOREACH (_ IN CASE WHEN c IS NULL THEN [] ELSE [1] END | SET c[$prop] = row.name) "
        "RETURN status, count(*) AS n",
        {"prop": prop, "rows": list(rows)},
    )


def category_ids_by_path(taxonomy: str, paths: Sequence[str]) -> Statement:
    return (
        "UNWIND $paths AS path MATCH (c:Category {taxonomy: $taxonomy, path: path}) "
        "RETURN c.path AS path, c.id AS id",
        {"taxonomy": taxonomy, "paths": list(paths)},
    )


PRODUCT_KEYS = ("title", "description", "price", "currency")


def delete_orphans(label: str, relationship: str, ids: Sequence[str]) -> Statement:
    """Brands and attribute values that an update left without any product."""
    if label not in ("Brand", "AttributeValue") or relationship not in ("HAS_BRAND", "HAS_ATTRIBUTE"):
        raise ValueError(f"not an orphan-able pair: {label}/{relationship}")
    return (
        f"UNWIND $ids AS id MATCH (n:{label} {{id: id}}) WHERE NOT (n)<-[:{relationship}]-() DELETE n",
        {"ids": list(ids)},
    )


def product_snapshots(ids: Sequence[str]) -> Statement:
    """What a product looks like now, to tell created / updated / unchanged rows apart."""
    return (
        "UNWIND $ids AS id MATCH (p:Product {id: id}) "
        "RETURN p.id AS id, p.title AS title, p.description AS description, p.price AS price, "
        "  p.currency AS currency, [(p)-[:IN_CATEGORY]->(c) | c.id] AS categories, "
        "  [(p)-[:HAS_BRAND]->(b) | b.id] AS brands, [(p)-[:HAS_ATTRIBUTE]->(a) | a.id] AS attributes",
        {"ids": list(ids)},
    )


def merge_brands(brands: Sequence[dict[str, str | None]]) -> Statement:
    """`source` is 'title' for brands extracted from titles, null for loaded ones."""
    return (
        "UNWIND $brands AS b MERGE (n:Brand {id: b.id}) ON CREATE SET n.name = b.name, n.source = b.source",
        {"brands": list(brands)},
    )


def merge_attribute_values(values: Sequence[dict[str, str | None]]) -> Statement:
    return (
        "UNWIND $values AS v MERGE (a:AttributeValue {id: v.id}) "
        "ON CREATE SET a.key = v.key, a.value = v.value, a.source = v.source",
        {"values": list(values)},
    )


_PRODUCT_PROPS = (
    "SET p.title = row.title, p.description = row.description, p.price = row.price, "
    "  p.currency = row.currency "
)
_PRODUCT_EDGES = (
    "OPTIONAL MATCH (cat:Category {id: row.category_id}) "
    "OPTIONAL MATCH (brand:Brand {id: row.brand_id}) "
    "FOREACH (_ IN CASE WHEN cat IS NULL THEN [] ELSE [1] END | CREATE (p)-[:IN_CATEGORY]->(cat)) "
    "FOREACH (_ IN CASE WHEN brand IS NULL THEN [] ELSE [1] END | CREATE (p)-[:HAS_BRAND]->(brand)) "
    "WITH p, row UNWIND row.attribute_ids AS aid "
    "MATCH (a:AttributeValue {id: aid}) CREATE (p)-[:HAS_ATTRIBUTE]->(a)"
)


def create_products(rows: Sequence[dict[str, Any]]) -> Statement:
    """Rows known not to exist yet: CREATE is safe and much cheaper than MERGE."""
    return (
        "UNWIND $rows AS row CREATE (p:Product {id: row.id}) "
        + _PRODUCT_PROPS
        + "WITH p, row "
        + _PRODUCT_EDGES,
        {"rows": list(rows)},
    )


def update_products(rows: Sequence[dict[str, Any]]) -> Statement:
    """Rows that exist and changed: properties set, category/brand/attribute edges replaced."""
    return (
        "UNWIND $rows AS row MATCH (p:Product {id: row.id}) " + _PRODUCT_PROPS + "WITH p, row "
        "OPTIONAL MATCH (p)-[r:IN_CATEGORY|HAS_BRAND|HAS_ATTRIBUTE]->() DELETE r "
        "WITH DISTINCT p, row " + _PRODUCT_EDGES,
        {"rows": list(rows)},
    )


def merge_interactions(rows: Sequence[dict[str, Any]], window: int) -> Statement:
    """Counts each (user, item, kind, timestamp) event once, even under concurrent writers.

    `SET r._lock` takes the relationship's write lock before anything is read, so two
    transactions updating one edge serialise instead of overwriting each other's events.
    `event_ts` keeps only the newest `window` timestamps (the replay-detection horizon) and
    `count` is a counter, so a hot edge never grows without bound; an event older than a full
    window is treated as a replay.
    """
    return (
        "UNWIND $rows AS row "
        "MATCH (p:Product {id: row.item_id}) "
        "MERGE (u:User {id: row.user_id}) "
        "MERGE (u)-[r:INTERACTED {kind: row.kind}]->(p) "
        "SET r._lock = true "
        "WITH r, row, r.count IS NULL AS is_new, coalesce(r.event_ts, []) AS seen "
        "WITH r, row, is_new, seen, "
        "  reduce(m = null, t IN seen | CASE WHEN m IS NULL OR t < m THEN t ELSE m END) AS oldest "
        "WITH r, row, is_new, seen, [t IN row.timestamps WHERE NOT t IN seen "
        "  AND (size(seen) < $window OR t > oldest)] AS fresh "
        "SET r.event_ts = COLLECT { UNWIND seen + fresh AS t RETURN t ORDER BY t DESC LIMIT $window }, "
        "  r.count = coalesce(r.count, 0) + size(fresh), "
        "  r.first_ts = reduce(m = r.first_ts, t IN fresh | CASE WHEN m IS NULL OR t < m THEN t ELSE m END), "
        "  r.last_ts = reduce(m = r.last_ts, t IN fresh | CASE WHEN m IS NULL OR t > m THEN t ELSE m END), "
        "  r.value = CASE WHEN size(fresh) > 0 AND row.value IS NOT NULL THEN row.value ELSE r.value END, "
        "  r.session_id = CASE WHEN size(fresh) > 0 AND row.session_id IS NOT NULL "
        "    THEN row.session_id ELSE r.session_id END, "
        "  r.changed_ms = CASE WHEN size(fresh) > 0 THEN timestamp() ELSE r.changed_ms END "
        "REMOVE r._lock "
        "RETURN CASE WHEN is_new THEN 'created' WHEN size(fresh) > 0 THEN 'updated' "
        "  ELSE 'skipped' END AS status, count(*) AS n",
        {"rows": list(rows), "window": window},
    )


def count_label(label: str) -> str:
    if label not in NODE_LABELS:
        raise ValueError(f"unknown label {label!r}")
    return f"MATCH (n:{label}) RETURN count(n) AS n"


def count_relationship(rel_type: str) -> str:
    if rel_type not in RELATIONSHIP_TYPES:
        raise ValueError(f"unknown relationship type {rel_type!r}")
    return f"MATCH ()-[r:{rel_type}]->() RETURN count(r) AS n"


def count_nodes() -> str:
    return "MATCH (n) RETURN count(n) AS n"


def default_taxonomy_locales() -> str:
    """The import tool cannot write an empty list; `merge_taxonomy` leaves `[]` for none."""
    return "MATCH (t:Taxonomy) WHERE t.locales IS NULL SET t.locales = [] RETURN count(t) AS n"


def taxonomy_stats() -> Statement:
    return (
        "MATCH (t:Taxonomy) "
        "OPTIONAL MATCH (c:Category {taxonomy: t.name}) "
        "RETURN t.name AS name, t.locales AS locales, count(c) AS categories, "
        "  sum(CASE WHEN c IS NOT NULL AND NOT (c)-[:SUBCATEGORY_OF]->() THEN 1 ELSE 0 END) AS roots, "
        "  coalesce(max(c.depth), 0) AS max_depth",
        {},
    )


def relationships_of_type(rel_type: str) -> str:
    """Streams one relationship type for the triples export."""
    if rel_type not in RELATIONSHIP_TYPES:
        raise ValueError(f"unknown relationship type {rel_type!r}")
    return (
        f"MATCH (h)-[r:{rel_type}]->(t) "
        "RETURN labels(h)[0] AS head_label, h.id AS head, labels(t)[0] AS tail_label, "
        "t.id AS tail, r.kind AS kind"
    )


def clear_relationships_batch(batch_size: int) -> Statement:
    """Relationships first, so that dense nodes never make one delete too large."""
    return ("MATCH ()-[r]->() WITH r LIMIT $limit DELETE r RETURN count(*) AS n", {"limit": batch_size})


def clear_nodes_batch(batch_size: int) -> Statement:
    return ("MATCH (n) WITH n LIMIT $limit DELETE n RETURN count(*) AS n", {"limit": batch_size})


_LUCENE_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/')


_LUCENE_OPERATORS = frozenset({"AND", "OR", "NOT", "TO"})


def lucene_escape(text: str) -> str:
    """Full-text queries take Lucene syntax; shopper text must match literally.

    Every syntax character is escaped and every word that is an operator (`AND`, `OR`, `NOT`,
    `TO`, wherever it stands) is lower-cased, so no input can make the query parser fail.
    """
    words = []
    for word in text.split():
        escaped = "".join(f"\\{ch}" if ch in _LUCENE_SPECIAL else ch for ch in word)
        words.append(escaped.lower() if escaped in _LUCENE_OPERATORS else escaped)
    return " ".join(words)


def product_texts() -> str:
    return (
        "MATCH (p:Product) "
        "OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category) "
        "OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand) "
        "RETURN p.id AS id, p.title AS title, p.description AS description, b.name AS brand, "
        "  c.id AS category_id, c.path AS category_path, "
        "  [(p)-[:HAS_ATTRIBUTE]->(a:AttributeValue) | a.key + ': ' + a.value] AS attributes, "
        "  p.price AS price"
    )


def delete_category_mappings(source: str, target: str) -> Statement:
    return (
        "MATCH (:Category {taxonomy: $source})-[r:MAPS_TO]->(:Category {taxonomy: $target}) DELETE r",
        {"source": source, "target": target},
    )


def merge_category_mappings(rows: list[dict[str, Any]]) -> Statement:
    return (
        "UNWIND $rows AS row MATCH (s:Category {id: row.source}), (t:Category {id: row.target}) "
        "MERGE (s)-[r:MAPS_TO]->(t) SET r.score = row.score, r.method = row.method "
        "RETURN count(r) AS n",
        {"rows": rows},
    )


def category_mappings() -> str:
    return (
        "MATCH (s:Category)-[r:MAPS_TO]->(t:Category) "
        "RETURN s.id AS source, t.id AS target, r.score AS score, r.method AS method"
    )


def category_locale_names(prop: str) -> Statement:
    return (
        "MATCH (c:Category) WHERE c[$prop] IS NOT NULL RETURN c.id AS id, c[$prop] AS name",
        {"prop": prop},
    )


def category_texts() -> str:
    return "MATCH (c:Category) RETURN c.id AS id, c.name AS name, c.path AS path"


VECTOR_PROPERTIES = ("kg_embedding", "text_embedding")
VECTOR_LABELS = ("Product", "Category")
# Vectors live on their own node, (:Product)-[:HAS_EMBEDDING]->(:ProductEmbedding {id}), which
# carries the vector index: clicking a product in Neo4j Browser shows its title, not 400 numbers.
EMBEDDING_RELATIONSHIP = "HAS_EMBEDDING"


def embedding_label(label: str) -> str:
    """`Product` -> `ProductEmbedding`: the node label that holds `label`'s vectors."""
    if label not in VECTOR_LABELS:
        raise ValueError(f"no vectors for label {label!r}")
    return f"{label}Embedding"


def vector_index_name(label: str, prop: str) -> str:
    if label not in VECTOR_LABELS or prop not in VECTOR_PROPERTIES:
        raise ValueError(f"no vector index for {label}.{prop}")
    return f"{label.lower()}_embedding_{prop.removesuffix('_embedding')}"


def legacy_vector_index_name(label: str, prop: str) -> str:
    """The index of the old layout (vectors on the product node itself), dropped on upgrade."""
    vector_index_name(label, prop)
    return f"{label.lower()}_{prop}"


def write_vectors(label: str, prop: str, rows: Sequence[dict[str, Any]]) -> Statement:
    """Sets one vector per node on its embedding node (created on first write). A vector left on
    the node itself by the old layout is removed."""
    vector_index_name(label, prop)
    return (
        f"UNWIND $rows AS row MATCH (n:{label} {{id: row.id}}) "
        f"MERGE (n)-[:{EMBEDDING_RELATIONSHIP}]->(v:{embedding_label(label)}) "
        f"SET v.id = row.id REMOVE n.{prop} "
        f"WITH v, row CALL db.create.setNodeVectorProperty(v, $prop, row.vector) RETURN count(v) AS n",
        {"rows": list(rows), "prop": prop},
    )


def show_vector_index(label: str, prop: str) -> Statement:
    return (
        "SHOW INDEXES YIELD name, type, options WHERE name = $name AND type = 'VECTOR' "
        "RETURN options.indexConfig['vector.dimensions'] AS dim",
        {"name": vector_index_name(label, prop)},
    )


def drop_vector_index(label: str, prop: str) -> str:
    return f"DROP INDEX {vector_index_name(label, prop)} IF EXISTS"


def drop_legacy_vector_index(label: str, prop: str) -> str:
    return f"DROP INDEX {legacy_vector_index_name(label, prop)} IF EXISTS"


def create_vector_index(label: str, prop: str, dim: int) -> str:
    """`dim` is an int computed by kgrec; label and property are checked against constants."""
    name = vector_index_name(label, prop)
    return (
        f"CREATE VECTOR INDEX {name} IF NOT EXISTS FOR (n:{embedding_label(label)}) ON n.{prop} "
        f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(dim)}, "
        "`vector.similarity_function`: 'cosine'}}"
    )


def query_vector_index(label: str, prop: str, k: int, vector: Sequence[float]) -> Statement:
    """The embedding node has its owner's id, so no hop back to the product is needed."""
    return (
        "CALL db.index.vector.queryNodes($name, $k, $vector) YIELD node, score RETURN node.id AS id, score",
        {"name": vector_index_name(label, prop), "k": k, "vector": list(vector)},
    )


def interactions() -> str:
    return (
        "MATCH (u:User)-[r:INTERACTED]->(p:Product) "
        "RETURN u.id AS user, p.id AS item, r.kind AS kind, r.count AS count, r.last_ts AS last_ts"
    )


def interactions_changed_since(since_ms: int) -> Statement:
    """Edges that took new events after `since_ms` (server clock), for workers that follow each
    other's live events (api/worker_sync.py)."""
    return (
        "MATCH (u:User)-[r:INTERACTED]->(p:Product) WHERE r.changed_ms > $since "
        "RETURN u.id AS user, p.id AS item, r.kind AS kind, r.event_ts AS event_ts, "
        "r.changed_ms AS changed_ms",
        {"since": since_ms},
    )


def set_product_regions(rows: Sequence[dict[str, str]]) -> Statement:
    """Regions as nodes, (:Product)-[:IN_REGION]->(:Region {id, kind, name}), replacing the
    product's previous ones; the `region_*` properties of the old layout are removed."""
    return (
        "UNWIND $rows AS row MATCH (p:Product {id: row.id}) "
        "REMOVE p.region_taxonomy, p.region_taxonomy_name, p.region_community, p.region_community_name "
        "WITH p, row "
        "CALL (p) { MATCH (p)-[old:IN_REGION]->() DELETE old } "
        "MERGE (t:Region {id: row.tax}) SET t.kind = 'taxonomy', t.name = row.tax_name "
        "MERGE (c:Region {id: row.com}) SET c.kind = 'community', c.name = row.com_name "
        "MERGE (p)-[:IN_REGION]->(t) MERGE (p)-[:IN_REGION]->(c) "
        "RETURN count(p) AS n",
        {"rows": list(rows)},
    )


def delete_empty_regions() -> str:
    return "MATCH (r:Region) WHERE NOT EXISTS { (r)<-[:IN_REGION]-() } DELETE r RETURN count(r) AS n"


def search_products(text: str, limit: int) -> Statement:
    return (
        f"CALL db.index.fulltext.queryNodes('{PRODUCT_FULLTEXT_INDEX}', $q, {{limit: $limit}}) "
        "YIELD node, score RETURN node.id AS id, score",
        {"q": lucene_escape(text), "limit": limit},
    )


def product_detail(product_id: str) -> Statement:
    return (
        "MATCH (p:Product {id: $id}) "
        "OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category) "
        "OPTIONAL MATCH (p)-[:HAS_BRAND]->(b:Brand) "
        "WITH p.id AS id, p.title AS title, p.description AS description, p.price AS price, "
        "  p.currency AS currency, b.name AS brand, c.id AS category_id, c.path AS category_path, "
        "  [(p)-[:HAS_ATTRIBUTE]->(a:AttributeValue) | {key: a.key, value: a.value}] AS attributes, "
        "  [(p)-[:IN_REGION]->(r:Region {kind: 'taxonomy'}) | r][0] AS tax, "
        "  [(p)-[:IN_REGION]->(r:Region {kind: 'community'}) | r][0] AS com "
        "RETURN id, title, description, price, currency, brand, category_id, category_path, attributes, "
        "  tax.id AS region_taxonomy, tax.name AS region_taxonomy_name, "
        "  com.id AS region_community, com.name AS region_community_name",
        {"id": product_id},
    )


def browse_categories(taxonomy: str | None, parent: str | None, limit: int) -> Statement:
    """Children of `parent` (or the roots), with product counts over each subtree."""
    return (
        "MATCH (c:Category) "
        "WHERE ($taxonomy IS NULL OR c.taxonomy = $taxonomy) "
        "  AND (($parent IS NULL AND NOT EXISTS { (c)-[:SUBCATEGORY_OF]->() }) "
        "    OR EXISTS { (c)-[:SUBCATEGORY_OF]->(:Category {id: $parent}) }) "
        "WITH c ORDER BY c.taxonomy, c.name LIMIT $limit "
        "OPTIONAL MATCH (p:Product)-[:IN_CATEGORY]->(:Category)-[:SUBCATEGORY_OF*0..8]->(c) "
        "WITH c, count(DISTINCT p) AS products "
        "RETURN properties(c) AS props, products, COUNT { (c)<-[:SUBCATEGORY_OF]-() } AS children",
        {"taxonomy": taxonomy, "parent": parent, "limit": limit},
    )
