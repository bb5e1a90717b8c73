"""Multilingual shoppers: packaged encoders on real taxonomy names, one text space per artifact,
taxonomy alignment and names in the shopper's locale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrec.embeddings.artifacts import Artifact, ArtifactPayload, write_artifact
from kgrec.embeddings.cold_start import embed_new_products
from kgrec.embeddings.encoder_artifacts import current_choice, current_encoder, use_encoder
from kgrec.embeddings.encoders import E5Encoder, UseEncoder, open_encoder
from kgrec.embeddings.taxonomy_alignment import (
    align_categories,
    align_taxonomies,
    category_brand,
    without_brand,
)
from kgrec.embeddings.text_encoder import HashingTextEncoder
from kgrec.graph.errors import ArtifactError, InvalidArgumentError
from kgrec.graph.loaders import load_products, load_taxonomy
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.store import CategoryMapping, CategoryRef, GraphStore
from kgrec.recommender.localized_names import localized_names
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.request import RecommendationRequest
from kgrec.recommender.service import Recommender
from tests import synthetic
from tests.helpers import write

REPO = Path(__file__).resolve().parent.parent
GOOGLE = REPO / "data" / "google_taxonomy"
# Real Google taxonomy ids whose names the tests read from the committed data files.
TOY_IDS = ("1239", "1253", "2505", "5152", "216", "5999", "5150", "3965")
TOY_CHAIN = ("1239", "1253", "2505", "5152")


def google_lines(locale: str, ids: tuple[str, ...] = TOY_IDS) -> dict[str, str]:
    """id -> full path, from the real taxonomy file of `locale`."""
    name = {"en-US": "en-US.2021-09-21", "zh-CN": "zh-CN.2015-02-19"}[locale]
    out = {}
    for line in (GOOGLE / f"taxonomy-with-ids.{name}.txt").read_text(encoding="utf-8").splitlines():
        code, _, path = line.partition(" - ")
        if code in ids:
            out[code] = path
    return out


@pytest.fixture(scope="module", params=["e5-multilingual", "use-multilingual"])
def multilingual(request: pytest.FixtureRequest) -> E5Encoder | UseEncoder:
    encoder = open_encoder(request.param, threads=1)
    assert isinstance(encoder, E5Encoder | UseEncoder)
    return encoder


def test_a_chinese_category_name_finds_its_english_name(multilingual: E5Encoder | UseEncoder) -> None:
    en, zh = google_lines("en-US"), google_lines("zh-CN")
    codes = sorted(en)
    english = multilingual.encode([en[c] for c in codes])
    chinese = multilingual.encode([zh[c] for c in codes])
    assert english.shape == (len(codes), multilingual.dim)
    np.testing.assert_allclose(np.linalg.norm(chinese, axis=1), 1.0, atol=1e-4)
    best = np.argmax(chinese @ english.T, axis=1)
    right = sum(codes[b] == c for b, c in zip(best, codes, strict=True))
    assert right >= len(codes) - 1, [(c, codes[b]) for b, c in zip(best, codes, strict=True)]


def test_a_chinese_query_is_closer_to_toy_trains_than_to_nut_butter(
    multilingual: E5Encoder | UseEncoder,
) -> None:
    en = google_lines("en-US")
    query, trains, butter = multilingual.encode(["木制火车", en["5152"], en["3965"]])
    assert float(query @ trains) > float(query @ butter)


def test_the_english_minilm_does_not_match_chinese_to_english() -> None:
    """Why a multilingual encoder is needed: MiniLM maps Chinese names almost anywhere."""
    en, zh = google_lines("en-US"), google_lines("zh-CN")
    codes = sorted(en)
    minilm = open_encoder("minilm", threads=1)
    best = np.argmax(minilm.encode([zh[c] for c in codes]) @ minilm.encode([en[c] for c in codes]).T, axis=1)
    assert sum(codes[b] == c for b, c in zip(best, codes, strict=True)) < len(codes) - 1


def test_an_unknown_encoder_name_is_refused_naming_the_choices(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="e5-multilingual"):
        open_encoder("labse")


def test_models_use_records_a_packaged_encoder_and_base_goes_back(tmp_path: Path) -> None:
    use_encoder(tmp_path, "use-multilingual")
    assert current_choice(tmp_path) == "use-multilingual" and current_encoder(tmp_path) is None
    use_encoder(tmp_path, "base")
    assert current_choice(tmp_path) is None


def test_an_artifact_refuses_a_query_encoder_from_another_space(tmp_path: Path) -> None:
    recommender = synthetic.build(tmp_path)
    home = tmp_path / "home"
    other = HashingTextEncoder(dim=synthetic.ENCODER.dim)
    other.name = "another-encoder"
    with pytest.raises(ArtifactError, match="re-encodes"):
        Recommender.load(recommender.store, home, other, pseudonym_key=synthetic.KEY)
    with pytest.raises(ArtifactError, match="another-encoder"):
        embed_new_products(recommender.store, Artifact.open_current(home), other)
    assert Recommender.load(recommender.store, home, synthetic.ENCODER, pseudonym_key=synthetic.KEY)


def test_an_artifact_cannot_hold_text_vectors_of_two_sizes(tmp_path: Path) -> None:
    payload = ArtifactPayload(
        manifest={"text_model": "all-MiniLM-L6-v2", "text_dim": 384, "vector_dim": 2},
        entities=["a"],
        relations=["r"],
        entity_vectors=np.zeros((1, 2), np.float32),
        relation_vectors=np.zeros((1, 2), np.float32),
        text_ids=["a"],
        text_vectors=np.zeros((1, 512), np.float32),
        alignment=np.zeros((384, 2), np.float32),
    )
    with pytest.raises(ArtifactError, match="one text space"):
        write_artifact(tmp_path, "mixed", payload)


def _refs(paths: list[str], prefix: str) -> dict[str, CategoryRef]:
    return {
        f"{prefix}:{p}": CategoryRef(
            f"{prefix}:{p}", f"{prefix}:{p.rsplit(' > ', 1)[0]}" if " > " in p else None, p
        )
        for p in paths
    }


def test_a_parents_mapping_keeps_its_child_in_its_subtree_unless_clearly_better_elsewhere() -> None:
    """SYNTHETIC paths. `Garden > Trains` is a little closer (on hashed words) to `Toys > Garden
    trains` than to `Garden > Railway trains`, but its parent maps to `Garden`, so it stays there;
    `Toys > Garden > Trains` (same leaf, same words) is clearly better and overrules the parent."""
    source = _refs(["Garden", "Garden > Trains"], "shop")
    target = _refs(["Garden", "Garden > Railway trains", "Toys", "Toys > Garden trains"], "g")
    encoder = HashingTextEncoder(dim=256)
    mappings = align_categories(source, target, encoder, min_score=0.0)
    mapped = {m.source: (m.target, m.method) for m in mappings}
    assert mapped["shop:Garden"] == ("g:Garden", "path")
    assert mapped["shop:Garden > Trains"] == ("g:Garden > Railway trains", "path+leaf+parent")
    alone = align_categories(_refs(["Garden > Trains"], "shop"), target, encoder, min_score=0.0)
    assert alone[0].target == "g:Toys > Garden trains"
    clearer = _refs(
        ["Garden", "Garden > Railway trains", "Toys", "Toys > Garden", "Toys > Garden > Trains"], "g"
    )
    overruled = align_categories(source, clearer, encoder, min_score=0.0)[1]
    assert (overruled.target, overruled.method) == ("g:Toys > Garden > Trains", "path+leaf, parent overruled")


def test_real_toy_categories_map_onto_the_right_google_categories() -> None:
    """Real amazon_uk paths (the toy catalogue) onto real Google en-US paths, with USE."""
    google = google_lines("en-US")
    target = {
        f"google:{c}": CategoryRef(
            f"google:{c}",
            next((f"google:{p}" for p, q in google.items() if q == path.rsplit(" > ", 1)[0]), None),
            path,
        )
        for c, path in google.items()
    }
    source = _refs(
        [
            "Die-Cast & Toy Vehicles",
            "Die-Cast & Toy Vehicles > Toy Trains & Accessories",
            "Hobbies",
            "Hobbies > Model Trains & Railway Sets",
        ],
        "amazon_uk",
    )
    mapped = {
        m.source: m.target
        for m in align_categories(source, target, open_encoder("use-multilingual"), min_score=0.0)
    }
    assert mapped["amazon_uk:Die-Cast & Toy Vehicles > Toy Trains & Accessories"] == "google:5152"
    assert mapped["amazon_uk:Hobbies > Model Trains & Railway Sets"] == "google:5150"


def _toy_graph(tmp_path: Path, store: GraphStore | None = None) -> GraphStore:
    """Real Google lines (en-US, zh-CN) and a SYNTHETIC one-product shop taxonomy."""
    store = store or MemoryGraphStore()
    for locale, name in (("en-US", "en-US.2021-09-21"), ("zh-CN", "zh-CN.2015-02-19")):
        lines = "".join(f"{c} - {p}\n" for c, p in sorted(google_lines(locale, TOY_CHAIN).items()))
        load_taxonomy(
            store, write(tmp_path / f"taxonomy-with-ids.{name}.txt", "# header\n" + lines), taxonomy="google"
        )
    load_products(
        store,
        write(tmp_path / "products.csv", "id,title,category_path\nt1,Wooden train set,Toys > Trains\n"),
        taxonomy="shop",
    )
    return store


def test_after_alignment_a_shop_category_is_named_in_chinese_and_reruns_are_idempotent(
    tmp_path: Path,
) -> None:
    store = _toy_graph(tmp_path)
    store.replace_category_mappings(
        "shop", "google", [CategoryMapping("shop:Toys > Trains", "google:5152", 0.9, "text")]
    )
    store.replace_category_mappings(
        "shop", "google", [CategoryMapping("shop:Toys > Trains", "google:5152", 0.9, "text")]
    )
    assert list(store.iter_category_mappings()) == [
        CategoryMapping("shop:Toys > Trains", "google:5152", 0.9, "text")
    ]
    projection = GraphProjection.load(store)
    names = localized_names(store, projection, "zh-CN")
    assert names[("Category", "shop:Toys > Trains")] == "玩具/游戏 > 玩具 > 玩具交通工具 > 玩具火车与火车套装"
    assert names[("Region", "tax:google:1239")] == "玩具/游戏"
    assert ("Category", "shop:Toys") not in names  # not mapped: the default name stays
    view = projection.in_locale(names)
    assert view.name("Category", "shop:Toys") == "Toys"
    assert projection.name("Category", "shop:Toys > Trains") == "Toys > Trains"
    assert localized_names(store, projection, "fr-FR") == {}


def test_align_taxonomies_replaces_the_edges_on_a_rerun(tmp_path: Path) -> None:
    store = _toy_graph(tmp_path)
    encoder = HashingTextEncoder(dim=128)
    first = align_taxonomies(store, "shop", "google", encoder, min_score=0.0)
    again = align_taxonomies(store, "shop", "google", encoder, min_score=0.0)
    assert first == again and sorted(store.iter_category_mappings()) == sorted(first)
    assert align_taxonomies(store, "shop", "google", encoder, min_score=1.1) == []
    assert list(store.iter_category_mappings()) == []
    with pytest.raises(InvalidArgumentError, match="amazon_uk"):
        align_taxonomies(store, "amazon_uk", "google", encoder)


def test_a_request_locale_must_look_like_a_locale() -> None:
    with pytest.raises(InvalidArgumentError, match="locale"):
        RecommendationRequest(query="x", locale="zh CN; DROP").validate()
    request = RecommendationRequest(query="x", locale="zh_CN")
    request.validate()
    assert request.locale == "zh-CN"


@pytest.mark.neo4j
def test_neo4j_keeps_one_set_of_mappings_and_finds_chinese_names_by_bigrams(
    neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    store = _toy_graph(tmp_path, neo4j_store)
    rows = [CategoryMapping("shop:Toys > Trains", "google:5152", 0.9, "text")]
    store.replace_category_mappings("shop", "google", rows)
    store.replace_category_mappings("shop", "google", rows)
    assert list(store.iter_category_mappings()) == rows
    assert dict(store.iter_category_names("zh-CN"))["google:5152"] == "玩具火车与火车套装"
    neo4j_store.run("CALL db.awaitIndexes(60)")
    found = neo4j_store.run(
        "CALL db.index.fulltext.queryNodes('category_names_cjk', $q) YIELD node RETURN node.id AS id LIMIT 3",
        {"q": "火车"},
    )
    assert found and found[0]["id"] == "google:5152"


def test_brand_words_leave_the_category_text_when_its_products_carry_the_brand() -> None:
    ref = CategoryRef("amazon_uk:b", None, "Characters & Brands > BRIO > BRIO Wooden Roadway System")
    assert category_brand(ref, ["Brio", "Brio", "Hornby"]) == "brio"
    assert category_brand(ref, ["Brio", "Hornby", "Hornby", "Hornby", "Hornby"]) is None  # under a quarter
    assert category_brand(ref, ["Hornby"]) is None  # not named in the path
    assert without_brand(ref.path, "brio") == "Characters & Brands > Wooden Roadway System"
    assert without_brand("Characters & Brands > Marvin's Magic", "marvin s magic") == "Characters & Brands"
    assert without_brand("BRIO 33590 Wooden Railway System: Police Station", "brio").startswith(
        "33590 Wooden"
    )


def test_real_brand_categories_map_by_their_titles_onto_toy_trains() -> None:
    """Real amazon_uk BRIO categories with the real titles and brand of their products (the toy
    catalogue), onto real Google en-US lines, with USE: the railway lands on toy trains."""
    ids = (*TOY_CHAIN, "4648", "5970", "5153", "625")
    google = google_lines("en-US", ids)
    by_path = {path: f"google:{c}" for c, path in google.items()}
    target = {
        f"google:{c}": CategoryRef(f"google:{c}", by_path.get(path.rsplit(" > ", 1)[0]), path)
        for c, path in google.items()
    }
    railway = "Characters & Brands > BRIO > BRIO Wooden Railway System"
    source = _refs(["Characters & Brands", "Characters & Brands > BRIO", railway], "amazon_uk")
    title = "BRIO 33590 Wooden Railway System: Police Station"
    titles = {
        f"amazon_uk:{p}": [title] for p in ("Characters & Brands", "Characters & Brands > BRIO", railway)
    }
    brands = {key: ["Brio"] for key in titles}
    mapped = {
        m.source: m
        for m in align_categories(
            source, target, open_encoder("use-multilingual"), min_score=0.0, titles=titles, brands=brands
        )
    }
    assert mapped[f"amazon_uk:{railway}"].target == "google:5152"
    assert "titles" in mapped[f"amazon_uk:{railway}"].method
    assert "brand removed" in mapped[f"amazon_uk:{railway}"].method


def test_near_siblings_back_off_to_their_parent() -> None:
    """SYNTHETIC paths: two targets the words cannot tell apart give their common parent."""
    target = _refs(["Crafts", "Crafts > Kits", "Crafts > Kits > Bead kits", "Crafts > Kits > Kits bead"], "g")
    found = align_categories(_refs(["Bead kits"], "shop"), target, HashingTextEncoder(dim=256), min_score=0.0)
    assert (found[0].target, found[0].method) == ("g:Crafts > Kits", "path, sibling back-off")
    distinct = _refs(["Crafts", "Crafts > Kits", "Crafts > Kits > Bead kits", "Crafts > Kits > Paint"], "g")
    found = align_categories(
        _refs(["Bead kits"], "shop"), distinct, HashingTextEncoder(dim=256), min_score=0.0
    )
    assert found[0].target == "g:Crafts > Kits > Bead kits"
