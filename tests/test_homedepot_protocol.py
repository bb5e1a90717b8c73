"""The query-relevance protocol: its split, its metric, and a run end to end on made-up data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgrec.embeddings.artifacts import Artifact
from kgrec.embeddings.build import build_embeddings
from kgrec.embeddings.cold_start import embed_new_products
from kgrec.embeddings.encoder_artifacts import MANIFEST
from kgrec.embeddings.finetune import FinetuneConfig, Pair, finetune_encoder, read_pairs
from kgrec.embeddings.text_encoder import HashingTextEncoder
from kgrec.embeddings.training import TrainingConfig
from kgrec.evaluation.metrics import graded_ndcg_at_k
from kgrec.evaluation.presets.homedepot import check_not_fitted_on, read_qrels, split_queries
from kgrec.evaluation.query_run import evaluate_homedepot
from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.loaders import load_products
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.recommender.request import DEFAULT_QUERY_DIVERSITY, DEFAULT_STRATEGY, RecommendationRequest
from kgrec.recommender.service import Recommender
from tests.helpers import write

# Made-up catalogue and judgements (not the real Home Depot data), shaped like it.
BRANDS = ("Acme", "Bolton", "Zenith", "Quill")
THINGS = (
    "1/2 in. Copper Pipe",
    "20-Volt Cordless Drill",
    "50 ft. Garden Hose in Green",
    "Brass Door Knob in Satin Nickel",
    "5 Gal. Plastic Bucket",
    "1 gal. Exterior Paint in White",
    "52 in. Ceiling Fan in White",
    "LED Light Bulb 60-Watt",
)
TITLES = {f"{100 + i * 8 + j}": f"{b} {t}" for i, b in enumerate(BRANDS) for j, t in enumerate(THINGS)}


def _qrels(queries: list[str]) -> str:
    lines = []
    for n, query in enumerate(queries):
        thing = THINGS[n % len(THINGS)]
        for pid, title in TITLES.items():
            if title.endswith(thing):
                lines.append(f"{query}\t{pid}\t{3.0 if title.startswith(BRANDS[n % 4]) else 2.33}")
            elif n % 3 == 0 and title.endswith(THINGS[(n + 1) % len(THINGS)]):
                lines.append(f"{query}\t{pid}\t1.0")
    return "\n".join(lines) + "\n"


TRAIN = [f"{b.lower()} {t.split()[-1].lower()} {k}" for k in range(3) for b in BRANDS for t in THINGS]
DEV = ["copper pipe", "cordless drill", "garden hose", "door knob", "bucket", "paint white", "fan", "bulb"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "hd"
    folder.mkdir()
    write(folder / "products.csv", "id,title\n" + "\n".join(f"{k},{v}" for k, v in TITLES.items()) + "\n")
    write(folder / "qrels_train.tsv", _qrels(TRAIN))
    write(folder / "qrels_dev.tsv", _qrels(DEV))
    return folder


def test_graded_ndcg_by_hand() -> None:
    gains = {"a": 2.0, "b": 1.0, "c": 0.0}
    assert graded_ndcg_at_k(["a", "b"], gains, 10) == pytest.approx(1.0)
    dcg = 1.0 / 1.0 + 2.0 / 1.584962500721156
    ideal = 2.0 + 1.0 / 1.584962500721156
    assert graded_ndcg_at_k(["b", "a", "x"], gains, 10) == pytest.approx(dcg / ideal)
    assert graded_ndcg_at_k(["x", "c"], gains, 10) == 0.0
    assert graded_ndcg_at_k(["a"], {"a": 0.0}, 10) == 0.0


def test_dev_queries_are_never_tuned_on(data_dir: Path) -> None:
    train = read_qrels(data_dir / "qrels_train.tsv")
    dev = read_qrels(data_dir / "qrels_dev.tsv")
    split = split_queries(train, dev, cases=5, tune=10, seed=3)
    assert set(split.evaluated) <= set(dev) and len(split.evaluated) == 5
    assert set(split.tuning) <= set(train) and not set(split.tuning) & set(dev)
    assert split == split_queries(train, dev, cases=5, tune=10, seed=3)
    on_train = split_queries(train, dev, which="train", cases=20, tune=30, seed=3)
    assert set(on_train.evaluated) <= set(train) and not set(on_train.evaluated) & set(on_train.tuning)
    with pytest.raises(InvalidArgumentError, match="queries"):
        split_queries(train, dev, which="test")


def test_an_encoder_fitted_on_a_measured_query_is_refused(data_dir: Path, tmp_path: Path) -> None:
    encoder_dir = tmp_path / "encoder"
    encoder_dir.mkdir()
    (encoder_dir / MANIFEST).write_text(json.dumps({"queries": [TRAIN[0], DEV[2]]}), encoding="utf-8")
    with pytest.raises(InvalidArgumentError, match="garden hose"):
        evaluate_homedepot(data_dir, tmp_path / "out", HashingTextEncoder(), cases=8, finetuned=[encoder_dir])
    check_not_fitted_on(DEV, TRAIN, "finetuned")


def test_bad_judgement_lines_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"q.tsv:2.*grade 'high'"):
        read_qrels(write(tmp_path / "q.tsv", "pipe\t100\t3\npipe\t101\thigh\n"))
    with pytest.raises(InputFileError, match=r"q.tsv:1.*unknown product_id '999'"):
        read_qrels(write(tmp_path / "q.tsv", "pipe\t999\t3\n"), known={"100"})
    # The judged-lines reader fine-tuning's pairs share: a judgement names a product.
    with pytest.raises(InputFileError, match=r"q.tsv:2.*a query, a product_id and a grade from 1 to 3"):
        read_qrels(write(tmp_path / "q.tsv", "pipe\t100\t3\npipe\t \t2\n"))
    with pytest.raises(InputFileError, match=r"pairs.tsv:1.*a query, a product_id and a grade from 1 to 3"):
        read_pairs(write(tmp_path / "pairs.tsv", "pipe\t100\t4\n"))


@pytest.mark.slow
def test_a_title_only_catalogue_trains_and_every_product_gets_a_kg_vector(tmp_path: Path) -> None:
    store = MemoryGraphStore()
    text = "id,title\n" + "\n".join(f"{k},{v}" for k, v in TITLES.items()) + "\nlonely,Gizmo\n"
    load_products(store, write(tmp_path / "p.csv", text), extract_from_title=True)
    encoder = HashingTextEncoder()
    build_embeddings(store, tmp_path / "home", TrainingConfig(epochs=3, eval_sample=50), encoder)
    embed_new_products(store, Artifact.open_current(tmp_path / "home"), encoder)
    recommender = Recommender.load(store, tmp_path / "home", encoder, pseudonym_key=b"k")
    assert recommender.catalog.has_vectors.all() and len(recommender.catalog.pids) == len(TITLES) + 1
    request = RecommendationRequest(query="copper pipe", region_kind="community")
    items = recommender.recommend(request).as_dict()["items"]
    assert items[0]["title"].endswith("Copper Pipe")


@pytest.mark.slow
def test_the_preset_runs_end_to_end(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    report = evaluate_homedepot(data_dir, out, HashingTextEncoder(), cases=8, tune=12, epochs=3)
    names = [s["name"] for s in report["systems"]]
    assert names[:5] == ["bm25", "text", "kg", "fused", "default"] and "xquad@0.6" in names
    assert report["cases"] == 8 and "fused" in report["versus_bm25"]
    bm25 = next(s for s in report["systems"] if s["name"] == "bm25")["metrics"]
    assert 0.0 < bm25["ndcg@10"] <= 1.0 and bm25["coverage@10"] >= 1
    assert report["graph"]["nodes"]["Brand"] == len(BRANDS)
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "Against bm25" in text and (out / "pareto_coverage.png").is_file()


@pytest.mark.slow
def test_a_finetuned_encoder_joins_the_same_report(data_dir: Path, tmp_path: Path) -> None:
    train = read_qrels(data_dir / "qrels_train.tsv")
    pairs = [Pair(q, pid, grade) for q, graded in train.items() for pid, grade in graded.items()]
    tuned = finetune_encoder(
        pairs, TITLES, tmp_path / "home", config=FinetuneConfig(epochs=1, batch_size=8, max_pairs=40)
    )
    assert tuned.path is not None
    report = evaluate_homedepot(
        data_dir,
        tmp_path / "out",
        HashingTextEncoder(),
        cases=8,
        tune=12,
        epochs=3,
        finetuned=[tuned.path, tuned.path],
        diversity_sweep=False,
    )
    names = [s["name"] for s in report["systems"]]
    assert names == [
        "bm25",
        "text",
        "kg",
        "fused",
        "default",
        "text+finetuned",
        "fused+finetuned",
        "text+finetuned2",
        "fused+finetuned2",
    ]
    ndcg = {s["name"]: s["metrics"]["ndcg@10"] for s in report["systems"]}
    assert ndcg["fused+finetuned"] == ndcg["fused+finetuned2"], "the same encoder twice scores the same"
    default = next(s for s in report["systems"] if s["name"] == "default")
    assert (default["strategy"], default["diversity"]) == (DEFAULT_STRATEGY, DEFAULT_QUERY_DIVERSITY)
    assert "fused+finetuned" in report["versus_bm25"] and "fused+finetuned" in report["versus_fused"]
    assert set(report["encode_latency_ms"]) == {"base", "finetuned", "finetuned2"}
