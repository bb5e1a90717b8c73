"""The `kgrec` command line against the real test Neo4j: output, JSON and exit codes."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgrec.api.cli import app
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.recommender.tuning import load_tuned
from tests.conftest import TEST_PASSWORD, shared_data
from tests.helpers import PRODUCTS_CSV, TAXONOMY_CSV, giftcards_slice, write

runner = CliRunner()


@pytest.fixture
def env(neo4j_server: LocalNeo4j, neo4j_store: Neo4jGraphStore, tmp_path: Path) -> dict[str, str]:
    return {
        "KGREC_HOME": str(tmp_path / "home"),
        "KGREC_NEO4J_URI": neo4j_server.bolt_uri,
        "KGREC_NEO4J_PASSWORD": TEST_PASSWORD,
        "KGREC_PSEUDONYM_KEY": "cli-test-key",
    }


@pytest.mark.neo4j
def test_load_and_stats_json(env: dict[str, str], tmp_path: Path) -> None:
    tax = write(tmp_path / "tax.csv", TAXONOMY_CSV)
    result = runner.invoke(app, ["load", "taxonomy", str(tax), "--taxonomy", "shop", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 5
    products = write(tmp_path / "p.csv", PRODUCTS_CSV)
    args = ["load", "products", str(products), "--taxonomy", "shop", "--json"]
    for pair in ("id=sku", "title=name", "brand=maker", "price=cost", "category_id=cat"):
        args += ["--map", pair]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["stats", "--json"], env=env)
    stats = json.loads(result.stdout)
    assert stats["nodes"]["Product"] == 4
    assert stats["taxonomies"][0]["locales"] == ["de-DE", "en-US"]


@pytest.mark.neo4j
def test_bad_file_exits_2_naming_file_and_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = write(tmp_path / "cycle.csv", "id,parent_id,name\n1,2,A\n2,1,B\n")
    result = runner.invoke(app, ["load", "taxonomy", str(bad), "--taxonomy", "shop"], env=env)
    assert result.exit_code == 2
    assert f"{bad}:2: cycle in taxonomy" in result.stderr


@pytest.mark.neo4j
def test_unknown_map_field_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    products = write(tmp_path / "p.csv", PRODUCTS_CSV)
    result = runner.invoke(app, ["load", "products", str(products), "--map", "colour=x"], env=env)
    assert result.exit_code == 2
    assert "map: unknown field 'colour'" in result.stderr


def test_neo4j_down_exits_3_with_a_clear_message(tmp_path: Path) -> None:
    env = {"KGREC_HOME": str(tmp_path), "KGREC_NEO4J_URI": "bolt://127.0.0.1:1", "KGREC_NEO4J_PASSWORD": "x"}
    result = runner.invoke(app, ["stats"], env=env)
    assert result.exit_code == 3
    assert "Neo4j is not reachable" in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_exits_2(tmp_path: Path) -> None:
    env = {"KGREC_HOME": str(tmp_path), "KGREC_NEO4J_URI": "bolt://127.0.0.1:1", "KGREC_NEO4J_PASSWORD": "x"}
    result = runner.invoke(app, ["load", "taxonomy", str(tmp_path / "nope.txt")], env=env)
    assert result.exit_code == 2
    assert "file not found" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "movielens"], "preset: unknown preset 'movielens'"),
        (["--split", "shuffled"], "split: unknown split 'shuffled'"),
        (["--validation-cases", "-1"], "validation-cases: must be 0 or more"),
        (["--preset", "homedepot", "--apply", "--no-diversity-sweep"], "apply: --apply needs the diversity"),
        (["--cases", "0"], "cases: must be at least 1"),
        (["--interactions", "nope.csv"], "file not found"),
        (["--preset", "instacart", "--data-dir", "."], "not an Instacart-style folder: missing products.csv"),
        (["--preset", "homedepot", "--data-dir", "."], "not a Home Depot search folder: missing"),
        (["--preset", "homedepot", "--queries", "test"], "queries: use one of dev, train"),
        (["--preset", "lastfm", "--queries", "train"], "are for homedepot"),
    ],
)
def test_evaluate_refuses_bad_arguments_with_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    env = {"KGREC_HOME": str(tmp_path), "KGREC_NEO4J_URI": "bolt://127.0.0.1:1", "KGREC_NEO4J_PASSWORD": "x"}
    result = runner.invoke(app, ["evaluate", *args], env=env)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_finetune_refuses_a_bad_pairs_file_with_exit_2(tmp_path: Path) -> None:
    env = {"KGREC_HOME": str(tmp_path), "KGREC_NEO4J_URI": "bolt://127.0.0.1:1", "KGREC_NEO4J_PASSWORD": "x"}
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("pail\tp5\t3\npail\tp6\t7\n", encoding="utf-8")
    result = runner.invoke(app, ["finetune", "--pairs", str(pairs)], env=env)
    assert result.exit_code == 2, result.output
    assert "pairs.tsv:2" in result.stderr and "grade from 1 to 3" in result.stderr
    missing = runner.invoke(app, ["finetune", "--pairs", str(tmp_path / "nope.tsv")], env=env)
    assert missing.exit_code == 2 and "file not found" in missing.stderr


@pytest.mark.slow
def test_finetune_in_time_boxed_pieces_resumes_with_the_same_command(tmp_path: Path) -> None:
    """Made-up products and pairs: `--stop-after 0` stops after one step with a checkpoint; the
    same command again finishes from it and writes the encoder."""
    env = {"KGREC_HOME": str(tmp_path / "home")}
    products = write(
        tmp_path / "products.csv",
        "id,title\np1,Acme Copper Pipe Coupling\np2,Acme Cordless Drill\np3,Bolton Garden Hose\n"
        "p4,Bolton Door Knob\np5,Zenith Plastic Bucket\n",
    )
    pairs = write(
        tmp_path / "pairs.tsv",
        "couplingg\tp1\t3\ndriller\tp2\t3\nwatering tube\tp3\t3\ndoor handle\tp4\t3\npail\tp5\t3\n" * 2,
    )
    command = ["finetune", "--pairs", str(pairs), "--products", str(products), "--batch-size", "2"]
    piece = runner.invoke(app, [*command, "--stop-after", "0", "--json"], env=env)
    assert piece.exit_code == 0, piece.output
    first = json.loads(piece.stdout)
    assert first["encoder"] is None and first["steps"] == 1 and first["of_steps"] > 1
    assert (tmp_path / "home" / "finetune-checkpoint" / "latest").is_symlink()
    rest = runner.invoke(app, [*command, "--json"], env=env)
    assert rest.exit_code == 0, rest.output
    done = json.loads(rest.stdout)
    assert done["encoder"] and done["steps"] == first["of_steps"]
    assert not (tmp_path / "home" / "finetune-checkpoint").exists()


def test_evaluate_interactions_with_neo4j_down_exits_3(tmp_path: Path) -> None:
    env = {"KGREC_HOME": str(tmp_path), "KGREC_NEO4J_URI": "bolt://127.0.0.1:1", "KGREC_NEO4J_PASSWORD": "x"}
    events = write(tmp_path / "events.csv", "user_id,item_id,kind,timestamp\nu1,p1,view,1\n")
    result = runner.invoke(app, ["evaluate", "--interactions", str(events)], env=env)
    assert result.exit_code == 3
    assert "Neo4j is not reachable" in result.stderr


@pytest.mark.slow
def test_evaluate_apply_writes_the_chosen_defaults_for_serving(tmp_path: Path) -> None:
    # Every review on a fifth of the catalogue: encoding the whole catalogue was half this test.
    data = giftcards_slice(shared_data("amazon_giftcards_2018"), tmp_path / "data", unreviewed=150)
    env = {"KGREC_HOME": str(tmp_path / "home"), "KGREC_NEO4J_PASSWORD": "x"}
    args = ["evaluate", "--preset", "giftcards", "--data-dir", str(data), "--out", str(tmp_path / "out")]
    small = ["--cases", "20", "--tune-cases", "10", "--validation-cases", "10", "--epochs", "1"]
    small += ["--ranker-splits", "1"]
    small += ["--no-diversity-sweep"]
    result = runner.invoke(app, [*args, *small, "--apply", "--json"], env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {s["name"] for s in payload["systems"]} >= {
        "random",
        "popularity",
        "text",
        "kg",
        "fused",
        "default",
    }
    tuned = load_tuned(tmp_path / "home")
    assert tuned is not None
    assert payload["applied"] == str(tmp_path / "home" / "tuned_defaults.json")
    assert (tuned.strategy, tuned.diversity) == (
        payload["defaults"]["strategy"],
        payload["defaults"]["diversity"],
    )
    assert asdict(tuned.weights) == payload["defaults"]["fusion_weights"]
    # The lists those weights were measured on (iALS, tuned ItemKNN...) are served too.
    assert tuned.neighbours is not None
    assert asdict(tuned.neighbours) == payload["defaults"]["neighbour_settings"]
    # The served default is the one chosen on the tuning cases, and the one the run measured.
    assert tuned.query_diversity is None
    assert payload["defaults"]["diversity_tuning"]["diversity"] == tuned.diversity
    systems = json.loads((tmp_path / "out" / "report.json").read_text())["systems"]
    served = next(s for s in systems if s["name"] == "default")
    assert (served["strategy"], served["diversity"]) == (tuned.strategy, tuned.diversity)
    # The learned ranker serves where the run kept one, and the run then measured both lists.
    ranker = json.loads((tmp_path / "out" / "report.json").read_text())["ranker"]
    assert (tmp_path / "home" / "ranker.json").is_file() == ranker["kept"]
    assert ("fused_linear" in {s["name"] for s in systems}) == ranker["kept"]


def test_load_bulk_needs_files_and_a_local_server(tmp_path: Path) -> None:
    env = {"KGREC_HOME": str(tmp_path), "KGREC_NEO4J_PASSWORD": "x"}
    nothing = runner.invoke(app, ["load", "bulk"], env=env)
    assert nothing.exit_code == 2 and "at least one --taxonomy-file" in nothing.stderr
    missing = runner.invoke(app, ["load", "bulk", "--products", str(tmp_path / "none.csv")], env=env)
    assert missing.exit_code == 2 and "none.csv: file not found" in missing.stderr
    products = write(tmp_path / "p.csv", "id,title\np1,Wooden train\n")
    remote = {**env, "KGREC_NEO4J_URI": "bolt://db.example.com:7687"}
    refused = runner.invoke(app, ["load", "bulk", "--products", str(products)], env=remote)
    assert refused.exit_code == 3 and "db.example.com is not local" in refused.stderr
