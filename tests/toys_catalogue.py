"""One small trained toys catalogue for the API and page tests, trained once per test run.

Both serve the first 600 real toys under the Google taxonomy (en-US, with its zh-CN names)
from a DistMult + hashing-encoder artifact. Training is the slow part, so it runs once; each
module gets its own copy of the artifact home (the API tests train and reload into theirs) and
the graph as it was trained on, reloaded when another module has cleared it in between.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from kgrec.embeddings.artifacts import Artifact
from kgrec.embeddings.build import build_embeddings, write_back_artifact
from kgrec.embeddings.text_encoder import HashingTextEncoder
from kgrec.embeddings.training import TrainingConfig
from kgrec.graph.loaders import load_products, load_taxonomy
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.samples import AMAZON_TOYS_MAPPING, GOOGLE_TAXONOMY_EN, GOOGLE_TAXONOMY_ZH, sample_file
from kgrec.recommender.region_publishing import publish_regions
from kgrec.recommender.service import Recommender
from tests.test_embeddings_neo4j import toys_subset

ENCODER = HashingTextEncoder(dim=48)
ROWS = 600
CONFIG = TrainingConfig(model="DistMult", dim=16, epochs=10, batch_size=1024, frequency=5, eval_sample=200)


@dataclass
class TrainedToys:
    """The trained home (never served from directly) and the products file it was trained on."""

    home: Path
    products: Path
    graph_is_fresh: bool = True

    def load_graph(self, store: Neo4jGraphStore) -> None:
        store.clear()
        load_taxonomy(store, sample_file(GOOGLE_TAXONOMY_EN))
        load_taxonomy(store, sample_file(GOOGLE_TAXONOMY_ZH))
        load_products(store, self.products, taxonomy="amazon_uk", mapping=AMAZON_TOYS_MAPPING, currency="GBP")

    def checkout(self, store: Neo4jGraphStore, home: Path) -> Path:
        """A private copy of the trained home, over the graph as trained: vectors and regions on
        the nodes, as `kgrec train` leaves them."""
        if not self.graph_is_fresh:
            self.load_graph(store)
            write_back_artifact(store, Artifact.open_current(self.home))
            self._publish_regions(store)
        self.graph_is_fresh = False
        shutil.copytree(self.home, home, symlinks=True)
        return home

    def _publish_regions(self, store: Neo4jGraphStore) -> None:
        publish_regions(store, Recommender.load(store, self.home, ENCODER, pseudonym_key=b"toys").catalog)


def shared_toys(store: Neo4jGraphStore, folder: Path) -> TrainedToys:
    """The toys trained under `folder`, by this process or by another xdist worker of the same
    run (the lock makes the others wait); a reused home's graph is loaded again at checkout."""
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "trained"
    with FileLock(folder / "training.lock"):
        if done.exists():
            return TrainedToys(home=folder / "home", products=folder / "toys.csv", graph_is_fresh=False)
        trained = train_toys(store, folder)
        done.touch()
        return trained


def train_toys(store: Neo4jGraphStore, folder: Path) -> TrainedToys:
    trained = TrainedToys(home=folder / "home", products=toys_subset(folder, ROWS))
    trained.load_graph(store)
    build_embeddings(store, trained.home, CONFIG, ENCODER)
    trained._publish_regions(store)
    return trained
