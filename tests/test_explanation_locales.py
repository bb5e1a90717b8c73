"""Explanation sentences in the shopper's locale (gettext catalogues) and Google-taxonomy regions
through MAPS_TO, down to a real `kgrec recommend "木制火车" --locale zh-CN` on real toys."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from typer.testing import CliRunner

from kgrec.api.cli import app
from kgrec.embeddings.build import build_embeddings
from kgrec.embeddings.encoders import open_encoder
from kgrec.embeddings.training import TrainingConfig
from kgrec.graph.loaders import load_products, load_taxonomy
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.samples import AMAZON_TOYS_MAPPING
from kgrec.graph.store import CategoryMapping, GraphStore
from kgrec.recommender.explain import Explainer
from kgrec.recommender.localized_names import localized_names
from kgrec.recommender.messages import available_catalogues, catalogue_for, read_catalogue, translations
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.regions import mapped_regions, taxonomy_regions
from tests.conftest import TEST_PASSWORD
from tests.helpers import write
from tests.test_multilingual import google_lines

REPO = Path(__file__).resolve().parent.parent
TOYS = REPO / "data" / "amazon_toys_uk" / "amazon_co-ecommerce_sample.csv"
# Real Google ids: the toy-train and model-train chains, balloons, board games.
GOOGLE_IDS = (
    "8",
    "5710",
    "5999",
    "5150",
    "5709",
    "96",
    "2587",
    "1239",
    "1253",
    "2505",
    "5152",
    "3793",
    "1246",
)
# Real amazon_uk categories of the toy catalogue, and how many of their first products to load.
TOY_CATEGORIES = {
    "Die-Cast & Toy Vehicles > Toy Trains & Accessories > Toy Trains & Sets": 5,
    "Hobbies > Model Trains & Railway Sets > Rail Vehicles > Trains": 4,
    "Party Supplies > Decorations > Balloons": 4,
    "Games > Chess": 4,
}
TRAINS = "amazon_uk:Die-Cast & Toy Vehicles > Toy Trains & Accessories > Toy Trains & Sets"
MODEL_TRAINS = "amazon_uk:Hobbies > Model Trains & Railway Sets > Rail Vehicles > Trains"
runner = CliRunner()


def test_every_explanation_sentence_is_translated_with_its_placeholders() -> None:
    source = REPO / "recommender" / "explain.py"
    wanted = {message for _, message, _, _ in extract_from_file("python", str(source), keywords={"_": None})}
    assert len(wanted) >= 15 and "Popular in the catalogue" in wanted
    assert available_catalogues() == ["de_DE", "zh_CN"]
    for code in available_catalogues():
        catalogue = read_catalogue(code)
        translated = {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}
        assert set(translated) == wanted, code
        assert not list(catalogue.check()), code  # Babel's checkers: the same %(name)s placeholders


LOCALES = [
    ("zh-CN", "zh_CN"),
    ("zh_CN", "zh_CN"),
    ("zh-SG", "zh_CN"),
    ("zh-TW", None),  # Traditional script: not the Simplified catalogue
    ("zh-Hant", None),
    ("de-DE", "de_DE"),
    ("de-AT", "de_DE"),
    ("de", "de_DE"),
    ("fr-FR", None),
    ("en-US", None),
    (None, None),
    ("xx-YY", None),
]


@pytest.mark.parametrize(("locale", "code"), LOCALES)
def test_a_locale_reads_the_catalogue_of_its_language_and_script(
    locale: str | None, code: str | None
) -> None:
    assert catalogue_for(locale) == code


def _graph(tmp_path: Path, store: GraphStore) -> Path:
    """Real Google lines (en-US, zh-CN) and the first real toys of a few amazon_uk categories."""
    for locale, name in (("en-US", "en-US.2021-09-21"), ("zh-CN", "zh-CN.2015-02-19")):
        lines = "".join(f"{c} - {p}\n" for c, p in sorted(google_lines(locale, GOOGLE_IDS).items()))
        load_taxonomy(store, write(tmp_path / f"taxonomy-with-ids.{name}.txt", lines), taxonomy="google")
    left = dict(TOY_CATEGORIES)
    products = tmp_path / "toys.csv"
    with TOYS.open(encoding="utf-8") as src, products.open("w", encoding="utf-8", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        for row in reader:
            category = row["amazon_category_and_sub_category"]
            if left.get(category, 0) > 0:
                left[category] -= 1
                writer.writerow(row)
    load_products(store, products, taxonomy="amazon_uk", mapping=AMAZON_TOYS_MAPPING, currency="GBP")
    return products


def _mapped(store: GraphStore) -> None:
    """Both train categories under Google's toy trains, balloons under party balloons (by hand)."""
    store.replace_category_mappings(
        "amazon_uk",
        "google",
        [
            CategoryMapping(TRAINS, "google:5152", 0.9, "hand"),
            CategoryMapping("amazon_uk:Hobbies", "google:5710", 0.6, "hand"),
            CategoryMapping("amazon_uk:Party Supplies", "google:96", 0.8, "hand"),
        ],
    )


def test_sentences_follow_the_locale_and_names_follow_the_graph(tmp_path: Path) -> None:
    store = MemoryGraphStore()
    _graph(tmp_path, store)
    _mapped(store)
    projection = GraphProjection.load(store)
    train = projection.category_products[TRAINS][0]
    chinese = Explainer(
        projection.in_locale(localized_names(store, projection, "zh-CN")), translations("zh-CN")
    )
    assert chinese.fallback(train, "木制火车").text == (
        "商品描述与“木制火车”相近；所属类别：玩具/游戏 > 玩具 > 玩具交通工具 > 玩具火车与火车套装"
    )
    german = Explainer(projection, translations("de-AT"))  # the graph has no German names here
    assert german.fallback(train, "Holzeisenbahn").text == (
        "Der Produkttext ähnelt „Holzeisenbahn“; in Die-Cast & Toy Vehicles > Toy Trains & Accessories "
        "> Toy Trains & Sets"
    )
    assert (
        Explainer(projection, translations("fr-FR"))
        .fallback(train, None)
        .text.startswith("Popular in the catalogue; in Die-Cast")
    )
    other = projection.category_products[TRAINS][1]
    asked = german.history_paths(train, [other], "u1")[0]  # u1 has no stored edge to `other`
    assert asked.text.endswith("aus dem Verlauf dieser Anfrage, nicht aus Ihren gespeicherten Ereignissen)")
    assert asked.nodes[0].label == "Product"
    projection.add_interaction("u1", other, "view", 1, 1_700_000_000)
    history = german.history_paths(train, [other], "u1")[0]
    assert history.text.startswith("„") and "steht in Ihrem Verlauf" in history.text
    assert history.nodes[0].name == "Sie"


def test_mapped_regions_regroup_products_by_the_google_subtree_they_map_to(tmp_path: Path) -> None:
    store = MemoryGraphStore()
    _graph(tmp_path, store)
    _mapped(store)
    projection = GraphProjection.load(store)
    regions, names = mapped_regions(projection)
    own, _ = taxonomy_regions(projection, 2)
    trains = projection.category_products[TRAINS]
    model_trains = projection.category_products[MODEL_TRAINS]
    chess = projection.category_products["amazon_uk:Games > Chess"]
    assert {regions[p] for p in trains} == {"tax:google:2505"}  # Toys & Games > Toys > Play Vehicles
    assert names["tax:google:2505"] == "Toys & Games > Toys > Play Vehicles"
    # Through the mapped ancestor `Hobbies`, whose target is shallower than the region depth.
    assert {regions[p] for p in model_trains} == {"tax:google:5710"}
    assert not any(p in regions for p in chess)  # nothing mapped above: left to its own region
    assert own[trains[0]] != regions[trains[0]]
    path = Explainer(projection).region_path(trains[0], "tax:google:2505", "Play Vehicles", 7)
    assert [r for r, _ in path.relationships] == ["IN_CATEGORY", "MAPS_TO", "SUBCATEGORY_OF"]
    assert [n.id for n in path.nodes][1:] == [TRAINS, "google:5152", "google:2505"]


@pytest.mark.neo4j
@pytest.mark.slow
def test_cli_and_neo4j_recommend_toy_trains_to_a_chinese_query_in_chinese(
    neo4j_server: LocalNeo4j, neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    """Real toys and Google lines, a small real training with the packaged multilingual encoder,
    `kgrec align-taxonomy`, then `kgrec recommend "木制火车" --locale zh-CN --regions mapped`."""
    _graph(tmp_path, neo4j_store)
    env = {
        "KGREC_HOME": str(tmp_path / "home"),
        "KGREC_NEO4J_URI": neo4j_server.bolt_uri,
        "KGREC_NEO4J_PASSWORD": TEST_PASSWORD,
        "KGREC_PSEUDONYM_KEY": "locale-test-key",
        "KGREC_TEXT_MODEL": "use-multilingual",
    }
    config = TrainingConfig(model="DistMult", dim=16, epochs=5, batch_size=256, frequency=5, eval_sample=50)
    build_embeddings(neo4j_store, tmp_path / "home", config, open_encoder("use-multilingual", threads=1))
    aligned = runner.invoke(
        app,
        ["align-taxonomy", "--from", "amazon_uk", "--to", "google", "--min-score", "0", "--json"],
        env=env,
    )
    assert aligned.exit_code == 0, aligned.output
    mapped = {m.source: m.target for m in neo4j_store.iter_category_mappings()}
    assert mapped[TRAINS] == "google:5152"
    asked = ["recommend", "木制火车", "--locale", "zh-CN", "--regions", "mapped", "-k", "5", "--json"]
    result = runner.invoke(app, asked, env=env)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["region_kind"] == "mapped"
    trains = [i for i in body["items"] if i["region"]["id"] in {"tax:google:2505", "tax:google:5999"}]
    assert len(trains) >= 3
    assert any(i["category_path"].startswith("玩具/游戏 > 玩具 > 玩具交通工具") for i in trains)
    assert any(i["region"]["name"].startswith("玩具/游戏") for i in trains)
    texts = [e["text"] for item in body["items"] for e in item["explanations"]]
    assert any("商品描述与“木制火车”相近" in t or "该类别与“木制火车”相符" in t for t in texts)
    assert not any("Its text is close" in t or "Picked for variety" in t for t in texts)
    for item in body["items"]:
        for explanation in item["explanations"]:
            assert neo4j_store.run(explanation["cypher"], explanation["params"]), explanation  # path exists
    plain = runner.invoke(app, ["recommend", "木制火车", "--locale", "zh-CN", "-k", "3"], env=env)
    assert plain.exit_code == 0 and ("商品描述" in plain.stdout or "相符" in plain.stdout)
