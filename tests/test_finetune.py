"""Fine-tuning the text encoder on a tiny made-up set of graded (query, product) pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kgrec.embeddings import finetune, finetune_checkpoint
from kgrec.embeddings.encoder_artifacts import (
    current_encoder,
    fitted_queries,
    is_encoder,
    list_encoders,
    use_encoder,
)
from kgrec.embeddings.finetune import (
    FinetuneConfig,
    Pair,
    bm25_negatives,
    evaluation_loss,
    finetune_encoder,
    read_pairs,
)
from kgrec.embeddings.finetune_checkpoint import Checkpoint
from kgrec.embeddings.text_encoder import HFTextEncoder, default_model_path
from kgrec.graph.errors import ArtifactError, InputFileError, InvalidArgumentError
from tests.helpers import write

# Made-up products and queries (not from any real catalogue or search log).
PRODUCTS = {
    "p1": "Acme 1/2 in. Copper Pipe Coupling",
    "p2": "Acme 20-Volt Cordless Drill Kit",
    "p3": "Bolton Garden Hose 50 ft. Green",
    "p4": "Bolton Brass Door Knob in Satin Nickel",
    "p5": "Zenith 5 Gal. Plastic Bucket",
    "p6": "Zenith Wet Dry Shop Vacuum 6 Gal.",
    "p7": "Acme Ceiling Fan 52 in. White",
    "p8": "Bolton LED Light Bulb 60W Soft White",
    "p9": "Zenith Exterior Paint 1 gal. Barn Red",
    "p10": "Acme Pressure Washer 3000 PSI Gas",
    "p11": "Bolton Cedar Fence Picket 6 ft.",
    "p12": "Zenith Tile Saw 7 in. Wet Cutting",
}
QUERIES = {
    "couplingg for water line": "p1",
    "battery powered driller": "p2",
    "watering tube for yard": "p3",
    "handle to open doors": "p4",
    "pail": "p5",
    "sucks up water in basement": "p6",
    "overhead air mover": "p7",
    "lamp globe": "p8",
    "outside wall colour": "p9",
    "jet cleaner for driveway": "p10",
    "boundary boards wood": "p11",
    "cutter for ceramic squares": "p12",
}


def _pairs() -> list[Pair]:
    pairs = [Pair(q, pid, 3.0) for q, pid in QUERIES.items()]
    pairs += [Pair(q, "p5" if pid != "p5" else "p6", 1.0) for q, pid in QUERIES.items()]
    return pairs * 3


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    home = tmp_path_factory.mktemp("home")
    result = finetune_encoder(
        _pairs(), PRODUCTS, home, config=FinetuneConfig(epochs=1, batch_size=8, lr=1e-4, seed=1)
    )
    assert result.path is not None and result.steps >= 4
    return home, result.path


def _similarity(encoder: HFTextEncoder, query: str, pid: str) -> float:
    vectors = encoder.encode([query, PRODUCTS[pid]])
    return float(vectors[0] @ vectors[1])


@pytest.mark.slow
def test_the_loss_falls(trained: tuple[Path, Path]) -> None:
    _, path = trained
    before = evaluation_loss(default_model_path(), _pairs(), PRODUCTS, batch_size=8)
    after = evaluation_loss(path, _pairs(), PRODUCTS, batch_size=8)
    assert after < before * 0.9


@pytest.mark.slow
def test_a_trained_pair_moves_closer(trained: tuple[Path, Path]) -> None:
    _, path = trained
    base, tuned = HFTextEncoder(), HFTextEncoder(path)
    gains = [_similarity(tuned, q, pid) - _similarity(base, q, pid) for q, pid in QUERIES.items()]
    assert np.mean(gains) > 0.02
    assert _similarity(tuned, "couplingg for water line", "p1") > _similarity(
        base, "couplingg for water line", "p1"
    )


@pytest.mark.slow
def test_the_encoder_artifact_round_trips(trained: tuple[Path, Path]) -> None:
    home, path = trained
    assert current_encoder(home) == path and is_encoder(home, path.name)
    assert set(fitted_queries(path)) == set(QUERIES)
    [listed] = list_encoders(home)
    assert listed["current"] and listed["pairs"] == len(QUERIES) * 3 and "queries" not in listed
    first, again = HFTextEncoder(path), HFTextEncoder(path)
    np.testing.assert_allclose(first.encode(["pail"]), again.encode(["pail"]), atol=1e-6)
    assert not np.allclose(first.encode(["pail"]), HFTextEncoder().encode(["pail"]), atol=1e-3)
    use_encoder(home, "base")
    assert current_encoder(home) is None
    use_encoder(home, path.name)
    assert current_encoder(home) == path


def test_bm25_negatives_are_keyword_matches_not_graded_relevant() -> None:
    """ "Zenith ... gal." products match the words of a bucket query; the judged-low one comes
    first, then the unjudged, never the relevant one or a product sharing no word."""
    texts = dict(PRODUCTS)
    judged = [Pair("zenith 5 gal bucket", "p5", 3.0), Pair("zenith 5 gal bucket", "p9", 1.0)]
    [negatives] = bm25_negatives({"zenith 5 gal bucket": judged}, texts, 3).values()
    assert negatives[0] == PRODUCTS["p9"]
    assert PRODUCTS["p5"] not in negatives
    assert PRODUCTS["p6"] in negatives  # unjudged "Zenith ... 6 Gal."
    assert not {PRODUCTS["p2"], PRODUCTS["p4"]} & set(negatives)
    with pytest.raises(InvalidArgumentError, match="hard-negatives"):
        FinetuneConfig(hard_negatives="random")


def test_a_bad_pairs_line_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "pairs.tsv", "pail\tp5\t3\nlamp\tp8\tvery\n")
    with pytest.raises(InputFileError, match=r"pairs.tsv:2.*grade 'very'"):
        read_pairs(path)
    with pytest.raises(InputFileError, match=r"two.tsv:1"):
        read_pairs(write(tmp_path / "two.tsv", "pail\tp5\n"))


class _Interrupted(Exception):
    pass


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_checkpoint_to_the_same_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after its second checkpoint, a re-run resumes at that step and ends with the
    weights of a run that was never stopped; the checkpoint is itself a usable encoder."""
    config = FinetuneConfig(epochs=2, batch_size=8, lr=1e-4, seed=1, checkpoint_every=2)
    whole = finetune_encoder(_pairs(), PRODUCTS, tmp_path / "a", config=config, checkpoint=tmp_path / "ca")
    assert whole.path is not None and not (tmp_path / "ca").exists()

    real = finetune_checkpoint.write_checkpoint
    written: list[int] = []

    def write_then_stop(root: Path, state: Checkpoint, *args: Any) -> Path:
        folder = real(root, state, *args)
        written.append(state.step)
        if len(written) == 2:
            raise _Interrupted
        return folder

    monkeypatch.setattr(finetune, "write_checkpoint", write_then_stop)
    home, saved = tmp_path / "b", tmp_path / "cb"
    with pytest.raises(_Interrupted):
        finetune_encoder(_pairs(), PRODUCTS, home, config=config, checkpoint=saved)
    assert written == [2, 4] and current_encoder(home) is None
    partial = saved / "latest"
    assert set(fitted_queries(partial)) == set(QUERIES)
    HFTextEncoder(partial).encode(["pail"])
    monkeypatch.setattr(finetune, "write_checkpoint", real)
    resumed = finetune_encoder(_pairs(), PRODUCTS, home, config=config, checkpoint=saved)
    assert resumed.path is not None and resumed.losses[:4] == whole.losses[:4]
    np.testing.assert_allclose(
        HFTextEncoder(resumed.path).encode(["pail", "lamp globe"]),
        HFTextEncoder(whole.path).encode(["pail", "lamp globe"]),
        atol=1e-5,
    )
    other = FinetuneConfig(epochs=2, batch_size=8, lr=3e-5, seed=1, checkpoint_every=2)
    with pytest.raises(InvalidArgumentError, match=r"checkpoint_every|checkpoint"):
        FinetuneConfig(checkpoint_every=-1)
    monkeypatch.setattr(finetune, "write_checkpoint", write_then_stop)
    written.clear()
    with pytest.raises(_Interrupted):
        finetune_encoder(_pairs(), PRODUCTS, tmp_path / "c", config=config, checkpoint=tmp_path / "cc")
    with pytest.raises(ArtifactError, match="other pairs or settings"):
        finetune_encoder(_pairs(), PRODUCTS, tmp_path / "c", config=other, checkpoint=tmp_path / "cc")


@pytest.mark.slow
def test_a_time_boxed_piece_stops_with_a_checkpoint_and_the_next_finishes(tmp_path: Path) -> None:
    config = FinetuneConfig(epochs=1, batch_size=8, lr=1e-4, seed=1)
    saved = tmp_path / "checkpoint"
    piece = finetune_encoder(_pairs(), PRODUCTS, tmp_path, config=config, checkpoint=saved, stop_after=0)
    assert piece.path is None and piece.steps == 1 and piece.of_steps is not None and piece.of_steps > 1
    assert (saved / "latest" / "trainer_state.pt").is_file() and current_encoder(tmp_path) is None
    rest = finetune_encoder(_pairs(), PRODUCTS, tmp_path, config=config, checkpoint=saved)
    assert rest.path is not None and current_encoder(tmp_path) == rest.path
    assert rest.losses[0] == piece.losses[0] and len(rest.losses) == rest.steps == piece.of_steps
    assert not saved.exists()
