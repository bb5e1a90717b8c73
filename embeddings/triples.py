"""Export the graph as PyKEEN triples, streamed from the store into integer arrays."""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from pykeen.triples import TriplesFactory

from kgrec.graph.errors import GraphTooSmallError
from kgrec.graph.store import GraphStore, RelationshipRecord

EXPORTED_TYPES = ("IN_CATEGORY", "SUBCATEGORY_OF", "HAS_BRAND", "HAS_ATTRIBUTE", "INTERACTED")
MIN_TRIPLES = 30


def entity_label(label: str, node_id: str) -> str:
    """`Product:p1`: ids are unique per label only, so the label is part of the entity name."""
    return f"{label}:{node_id}"


def relation_label(record: RelationshipRecord) -> str:
    if record.type == "INTERACTED":
        return f"interacted_{record.kind or 'view'}"
    return record.type.lower()


@dataclass(slots=True)
class ExportedGraph:
    factory: TriplesFactory
    fingerprint: str
    counts: dict[str, int]


def export_triples(store: GraphStore, types: Iterable[str] = EXPORTED_TYPES) -> ExportedGraph:
    entity_ids: dict[str, int] = {}
    relation_ids: dict[str, int] = {}
    heads, rels, tails = array("q"), array("q"), array("q")
    digest = 0
    counts: dict[str, int] = {}
    for record in store.iter_relationships(list(types)):
        head = entity_label(record.head_label, record.head)
        tail = entity_label(record.tail_label, record.tail)
        relation = relation_label(record)
        heads.append(entity_ids.setdefault(head, len(entity_ids)))
        rels.append(relation_ids.setdefault(relation, len(relation_ids)))
        tails.append(entity_ids.setdefault(tail, len(entity_ids)))
        counts[relation] = counts.get(relation, 0) + 1
        # Order-independent: the server streams in no fixed order.
        triple_hash = hashlib.blake2b(f"{head}\t{relation}\t{tail}".encode(), digest_size=8).digest()
        digest = (digest + int.from_bytes(triple_hash, "little")) % (1 << 64)
    total = len(heads)
    if total < MIN_TRIPLES:
        raise GraphTooSmallError(
            f"the graph has {total} triples to learn from; at least {MIN_TRIPLES} are needed "
            "(load a taxonomy and products first)"
        )
    # Sorted names give the same ids for the same graph, whatever order the rows came in.
    entity_names = sorted(entity_ids)
    relation_names = sorted(relation_ids)
    entity_remap = np.empty(len(entity_ids), dtype=np.int64)
    for new, name in enumerate(entity_names):
        entity_remap[entity_ids[name]] = new
    relation_remap = np.empty(len(relation_ids), dtype=np.int64)
    for new, name in enumerate(relation_names):
        relation_remap[relation_ids[name]] = new
    mapped = np.stack(
        [
            entity_remap[np.frombuffer(heads, dtype=np.int64)],
            relation_remap[np.frombuffer(rels, dtype=np.int64)],
            entity_remap[np.frombuffer(tails, dtype=np.int64)],
        ],
        axis=1,
    )
    mapped = mapped[np.lexsort((mapped[:, 2], mapped[:, 1], mapped[:, 0]))]
    factory = TriplesFactory(
        mapped_triples=torch.from_numpy(mapped),
        entity_to_id={name: i for i, name in enumerate(entity_names)},
        relation_to_id={name: i for i, name in enumerate(relation_names)},
    )
    fingerprint = f"{total}-{len(entity_names)}-{digest:016x}"
    return ExportedGraph(factory=factory, fingerprint=fingerprint, counts=counts)


def split_triples(
    factory: TriplesFactory, *, seed: int, ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> tuple[TriplesFactory, TriplesFactory, TriplesFactory]:
    """Deterministic for a seed, and every entity and relation keeps a triple in training.

    Triples needed to cover an entity go to training first, so sparse graphs (a taxonomy
    whose leaves appear once) still split; validation and test share what remains.
    """
    triples = factory.mapped_triples.numpy()
    order = np.random.default_rng(seed).permutation(len(triples))
    covered_entities = np.zeros(factory.num_entities, dtype=bool)
    covered_relations = np.zeros(factory.num_relations, dtype=bool)
    needed = np.zeros(len(triples), dtype=bool)
    for i in order:
        h, r, t = triples[i]
        if not (covered_entities[h] and covered_entities[t] and covered_relations[r]):
            needed[i] = True
            covered_entities[h] = covered_entities[t] = covered_relations[r] = True
    rest = [i for i in order if not needed[i]]
    held_out = min(len(rest), round(len(triples) * (ratios[1] + ratios[2])))
    if held_out < 2:
        raise GraphTooSmallError(
            f"the graph has {len(triples)} triples and no spare ones to evaluate on: load more data"
        )
    n_validation = max(1, round(held_out * ratios[1] / (ratios[1] + ratios[2])))
    validation_rows = rest[:n_validation]
    testing_rows = rest[n_validation:held_out]
    training_rows = np.concatenate([np.flatnonzero(needed), np.array(rest[held_out:], dtype=np.int64)])

    def subset(rows: Iterable[int]) -> TriplesFactory:
        index = torch.as_tensor(sorted(int(x) for x in rows), dtype=torch.long)
        return factory.clone_and_exchange_triples(factory.mapped_triples[index])

    return subset(training_rows), subset(validation_rows), subset(testing_rows)
