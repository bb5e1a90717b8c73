"""The recommender on the in-memory store (proved equivalent to Neo4j by the contract suite)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kgrec.embeddings.build import build_embeddings
from kgrec.embeddings.text_encoder import HashingTextEncoder
from kgrec.embeddings.training import TrainingConfig
from kgrec.graph.errors import ArtifactError, NotFoundError
from kgrec.graph.loaders import load_products, load_taxonomy
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.recommender.collaborative.neighbours import NeighbourSettings
from kgrec.recommender.fusion import FusionWeights
from kgrec.recommender.request import (
    DEFAULT_DIVERSITY,
    DEFAULT_QUERY_DIVERSITY,
    DEFAULT_STRATEGY,
    RecommendationRequest,
)
from kgrec.recommender.service import Recommender
from kgrec.recommender.tuning import TunedDefaults, load_tuned, save_tuned
from tests.conftest import DATA
from tests.helpers import write

GOOGLE = DATA / "google_taxonomy" / "taxonomy-with-ids.en-US.2021-09-21.txt"
ENCODER = HashingTextEncoder(dim=32)


def google_subset(tmp_path: Path, lines: int) -> Path:
    """The first categories of the real Google taxonomy (parents come before children there)."""
    text = GOOGLE.read_text(encoding="utf-8").splitlines()[: lines + 1]
    return write(tmp_path / "taxonomy-with-ids.en-US.txt", "\n".join(text) + "\n")


@pytest.fixture(scope="module")
def one_product(tmp_path_factory: pytest.TempPathFactory) -> tuple[MemoryGraphStore, Path]:
    """A real taxonomy slice, one product, a tiny real training run: trained once for the module."""
    tmp_path = tmp_path_factory.mktemp("one-product")
    store = MemoryGraphStore()
    load_taxonomy(store, google_subset(tmp_path, 120))
    products = write(tmp_path / "p.csv", "id,title,category_id\nonly,Dog bed,4\n")
    load_products(store, products, taxonomy="google")
    config = TrainingConfig(model="DistMult", dim=8, epochs=5, batch_size=64, frequency=5, eval_sample=20)
    build_embeddings(store, tmp_path / "home", config, ENCODER)
    return store, tmp_path / "home"


def one_product_recommender(
    one_product: tuple[MemoryGraphStore, Path], encoder: HashingTextEncoder
) -> Recommender:
    store, home = one_product
    return Recommender.load(store, home, encoder, pseudonym_key=b"k")


def test_no_artifacts_says_run_train(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="run `kgrec train`"):
        Recommender.load(MemoryGraphStore(), tmp_path, ENCODER, pseudonym_key=b"k")


@pytest.mark.slow
def test_a_one_product_catalogue_works(one_product: tuple[MemoryGraphStore, Path]) -> None:
    recommender = one_product_recommender(one_product, ENCODER)
    for request in (
        RecommendationRequest(query="dog bed", diversity=0.8),
        RecommendationRequest(diversity=0.5, strategy="dpp"),
        RecommendationRequest(history=["only"], query="bed"),
    ):
        result = recommender.recommend(request).as_dict()
        ids = [i["id"] for i in result["items"]]
        assert ids == ([] if request.history else ["only"])
    item = recommender.recommend(RecommendationRequest(query="dog")).as_dict()["items"][0]
    assert item["explanations"] and item["region"]["name"]


@pytest.mark.slow
def test_a_catalogue_without_products_answers_empty_lists(tmp_path: Path) -> None:
    store = MemoryGraphStore()
    load_taxonomy(store, google_subset(tmp_path, 120))
    config = TrainingConfig(model="DistMult", dim=8, epochs=2, batch_size=64, frequency=5, eval_sample=20)
    build_embeddings(store, tmp_path / "home", config, ENCODER)
    recommender = Recommender.load(store, tmp_path / "home", ENCODER, pseudonym_key=b"k")
    assert recommender.recommend(RecommendationRequest(query="dog")).as_dict()["items"] == []
    assert recommender.recommend(RecommendationRequest()).as_dict()["regions_covered"] == 0


class CountingEncoder(HashingTextEncoder):
    def __init__(self) -> None:
        super().__init__(dim=32)
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:  # type: ignore[override]
        self.calls += 1
        return super().encode(texts)


@pytest.mark.slow
def test_repeated_queries_are_encoded_once(one_product: tuple[MemoryGraphStore, Path]) -> None:
    encoder = CountingEncoder()
    recommender = one_product_recommender(one_product, encoder)
    first = recommender.recommend(RecommendationRequest(query="Dog  bed")).as_dict()
    second = recommender.recommend(RecommendationRequest(query="dog bed")).as_dict()
    assert encoder.calls == 1
    assert [i["score"] for i in first["items"]] == [i["score"] for i in second["items"]]
    recommender.recommend(RecommendationRequest(query="cat")).as_dict()
    assert encoder.calls == 2


def test_tuned_defaults_round_trip_and_a_bad_file_is_named(tmp_path: Path) -> None:
    tuned = TunedDefaults("mmr", 0.3, FusionWeights(popularity_without_query=0.9), "giftcards: leave-last")
    path = save_tuned(tmp_path, tuned)
    assert load_tuned(tmp_path) == tuned
    queries = TunedDefaults("swap", 0.2, FusionWeights(), "both", query_diversity=0.1, query_strategy="dpp")
    save_tuned(tmp_path, queries)
    assert load_tuned(tmp_path) == queries
    lists = NeighbourSettings(ials_factors=64, ials_top_k=200, shopperknn_knowledge=0.2)
    with_lists = TunedDefaults("swap", 1.0, FusionWeights(ials_weight=1.0), "lastfm", neighbours=lists)
    save_tuned(tmp_path, with_lists)
    assert load_tuned(tmp_path) == with_lists
    path.write_text('{"strategy": "mmr"}')
    with pytest.raises(ArtifactError, match=r"tuned_defaults\.json"):
        load_tuned(tmp_path)
    written = json.loads(json.dumps(with_lists.as_dict()))
    malformed = (([64], "object"), ({"ials_factors": "64"}, "ials_factors"), ({"ials_l2": True}, "ials_l2"))
    for bad, field in malformed:
        path.write_text(json.dumps({**written, "neighbour_settings": bad}))
        with pytest.raises(ArtifactError, match=field):
            load_tuned(tmp_path)
    assert load_tuned(tmp_path / "elsewhere") is None


def test_a_request_is_query_only_with_words_and_no_shopper_or_history() -> None:
    assert RecommendationRequest(query="dog bed").query_only
    assert not RecommendationRequest(query="  ").query_only
    assert not RecommendationRequest(query="dog bed", history=["a"]).query_only
    assert not RecommendationRequest(query="dog bed", user_id="u1").query_only
    assert not RecommendationRequest(history=["a"]).query_only


@pytest.mark.slow
def test_a_query_alone_gets_the_lighter_query_default(one_product: tuple[MemoryGraphStore, Path]) -> None:
    plain = one_product_recommender(one_product, ENCODER)
    assert DEFAULT_QUERY_DIVERSITY < DEFAULT_DIVERSITY
    searched = plain.recommend(RecommendationRequest(query="dog bed")).as_dict()
    assert (searched["strategy"], searched["diversity"]) == (DEFAULT_STRATEGY, DEFAULT_QUERY_DIVERSITY)
    personal = plain.recommend(RecommendationRequest(query="dog bed", user_id="u1")).as_dict()
    assert (personal["strategy"], personal["diversity"]) == (DEFAULT_STRATEGY, DEFAULT_DIVERSITY)


@pytest.mark.slow
def test_the_shops_tuned_defaults_apply_when_a_request_leaves_them_out(
    one_product: tuple[MemoryGraphStore, Path], tmp_path: Path
) -> None:
    plain = one_product_recommender(one_product, ENCODER)
    home = tmp_path / "home"
    shutil.copytree(one_product[1], home, symlinks=True)
    assert (plain.default_strategy, plain.default_diversity) == (DEFAULT_STRATEGY, DEFAULT_DIVERSITY)
    weights = FusionWeights(popularity_without_query=0.9, cooccurrence_share=0.1)
    save_tuned(home, TunedDefaults("calibrated", 0.35, weights, "test"))
    tuned = Recommender.load(plain.store, home, ENCODER, pseudonym_key=b"k")
    assert tuned.weights == weights
    personal = tuned.recommend(RecommendationRequest(query="dog bed", user_id="u1")).as_dict()
    assert (personal["strategy"], personal["diversity"]) == ("calibrated", 0.35)
    # A strategy and diversity tuned on shoppers' histories leave a query alone at the query
    # defaults (`swap` needs a shopper's regions)...
    searched = tuned.recommend(RecommendationRequest(query="dog bed")).as_dict()
    assert (searched["strategy"], searched["diversity"]) == (DEFAULT_STRATEGY, DEFAULT_QUERY_DIVERSITY)
    # ...unless a query evaluation tuned them too (a file from before `query_strategy`: its strategy).
    save_tuned(home, TunedDefaults("calibrated", 0.35, weights, "test", query_diversity=0.15))
    by_queries = Recommender.load(plain.store, home, ENCODER, pseudonym_key=b"k")
    result = by_queries.recommend(RecommendationRequest(query="dog bed")).as_dict()
    assert (result["strategy"], result["diversity"]) == ("calibrated", 0.15)
    save_tuned(home, TunedDefaults("swap", 0.35, weights, "test", query_diversity=0.15, query_strategy="mmr"))
    both = Recommender.load(plain.store, home, ENCODER, pseudonym_key=b"k")
    assert both.recommend(RecommendationRequest(query="dog bed")).as_dict()["strategy"] == "mmr"
    assert (
        both.recommend(RecommendationRequest(query="dog bed", user_id="u1")).as_dict()["strategy"] == "swap"
    )
    explicit = tuned.recommend(
        RecommendationRequest(query="dog bed", strategy="dpp", diversity=0.0)
    ).as_dict()
    assert (explicit["strategy"], explicit["diversity"]) == ("dpp", 0.0)
    # Weights tuned on an iALS list are served with one: the evaluation's list settings rebuild
    # the lists the home saved with the defaults (no iALS; this one-product shop has no
    # interactions to fit it on, so the settings are what is checked).
    assert tuned.collaborative.lists.settings.ials_factors == 0
    lists = NeighbourSettings(ials_factors=2, ials_l2=1.0, ials_confidence=5.0)
    save_tuned(home, TunedDefaults("swap", 0.35, FusionWeights(ials_weight=1.0), "test", neighbours=lists))
    with_ials = Recommender.load(plain.store, home, ENCODER, pseudonym_key=b"k")
    assert with_ials.collaborative.settings == lists == with_ials.collaborative.lists.settings
