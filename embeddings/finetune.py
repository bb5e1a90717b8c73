"""Fine-tune the BERT query/product encoder on a shop's own graded (query, product) pairs.

Objective: in-batch negatives (every other product in the batch is a negative for a query, as
in multiple-negatives ranking), plus one hard negative per positive: by default (`"judged"`)
one of the query's own products graded below `RELEVANT_GRADE`; with `"bm25"` the products BM25
ranks highest for the query among those not graded relevant (judged low first, then unjudged),
the confusions a keyword engine makes (on Home Depot not better at equal pairs:
docs/evaluation.md). Each query's cross-entropy is weighted by its positive's gain
(grade − 1) / 2, so an exact match pulls harder than a partial one. Mean pooling and L2
normalisation as at serving time, so the trained model drops into `HFTextEncoder` unchanged.
"""

from __future__ import annotations

import random
import shutil
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from kgrec.embeddings.encoder_artifacts import encoder_name, write_encoder
from kgrec.embeddings.finetune_checkpoint import Checkpoint as _Checkpoint
from kgrec.embeddings.finetune_checkpoint import read_checkpoint, write_checkpoint
from kgrec.embeddings.lexical import Bm25Index
from kgrec.embeddings.text_encoder import default_model_path
from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.file_reading import iter_graded_lines

RELEVANT_GRADE = 2.0
MAX_GRADE = 3.0
HARD_NEGATIVES = ("bm25", "judged")


@dataclass(frozen=True, slots=True)
class Pair:
    query: str
    product_id: str
    grade: float


@dataclass(frozen=True, slots=True)
class FinetuneConfig:
    epochs: int = 1
    batch_size: int = 32
    lr: float = 3e-5
    scale: float = 20.0
    warmup_share: float = 0.1
    max_pairs: int | None = None
    seed: int = 7
    hard_negatives: str = "judged"
    negative_depth: int = 10
    checkpoint_every: int = 0

    def __post_init__(self) -> None:
        if self.hard_negatives not in HARD_NEGATIVES:
            raise InvalidArgumentError(
                "hard-negatives", f"must be one of {', '.join(HARD_NEGATIVES)}, got {self.hard_negatives!r}"
            )
        if self.negative_depth < 1:
            raise InvalidArgumentError("negative-depth", "must be at least 1")
        if self.checkpoint_every < 0:
            raise InvalidArgumentError("checkpoint-every", "must be 0 (no checkpoints) or more")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise InvalidArgumentError(name, f"must be at least 1, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise InvalidArgumentError("batch-size", "in-batch negatives need at least 2")
        if self.max_pairs is not None and self.max_pairs < 1:
            raise InvalidArgumentError("max-pairs", "must be at least 1")


@dataclass(slots=True)
class FinetuneResult:
    path: Path | None
    pairs: int
    queries: int
    steps: int
    seconds: float
    steps_per_second: float
    losses: list[float] = field(default_factory=list)
    of_steps: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "encoder": self.path.name if self.path else None,
            "path": str(self.path) if self.path else None,
            "pairs": self.pairs,
            "queries": self.queries,
            "steps": self.steps,
            "of_steps": self.of_steps or self.steps,
            "seconds": round(self.seconds, 1),
            "steps_per_second": round(self.steps_per_second, 3),
            "loss_first": round(self.losses[0], 4) if self.losses else None,
            "loss_last": round(self.losses[-1], 4) if self.losses else None,
        }


def read_pairs(path: Path) -> list[Pair]:
    """`query<TAB>product_id<TAB>grade` lines (grade 1–3), e.g. a search log's judged results."""
    pairs = [Pair(query, pid, grade) for _, query, pid, grade in iter_graded_lines(path, MAX_GRADE)]
    if not pairs:
        raise InputFileError(path, None, "no pairs in file")
    return pairs


@dataclass(frozen=True, slots=True)
class _Example:
    query: str
    positive: str
    weight: float
    hard_negative: str | None


def _by_query(pairs: Sequence[Pair], texts: Mapping[str, str]) -> dict[str, list[Pair]]:
    by_query: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        if pair.product_id in texts:
            by_query[pair.query].append(pair)
    return by_query


def bm25_negatives(
    by_query: Mapping[str, Sequence[Pair]], texts: Mapping[str, str], depth: int
) -> dict[str, list[str]]:
    """Per query, the product texts among BM25's top `depth` over all products that are not
    graded relevant for it: those judged low first, then the unjudged, each best BM25 first.
    A text equal to one of the query's relevant products' is skipped (a duplicate listing)."""
    ids = list(texts)
    index = Bm25Index([texts[i] for i in ids])
    out: dict[str, list[str]] = {}
    for query, judged in by_query.items():
        grades = {p.product_id: p.grade for p in judged}
        relevant = {texts[p.product_id] for p in judged if p.grade >= RELEVANT_GRADE}
        hits = [ids[row] for row, _ in index.search(query, depth + len(relevant))]
        low = [pid for pid in hits if pid in grades and grades[pid] < RELEVANT_GRADE]
        unjudged = [pid for pid in hits if pid not in grades]
        out[query] = [texts[pid] for pid in (low + unjudged)[:depth] if texts[pid] not in relevant]
    return out


def _examples(
    pairs: Sequence[Pair], texts: Mapping[str, str], rng: random.Random, config: FinetuneConfig
) -> list[_Example]:
    by_query = _by_query(pairs, texts)
    mined = bm25_negatives(by_query, texts, config.negative_depth) if config.hard_negatives == "bm25" else {}
    out = []
    for query, judged in sorted(by_query.items()):
        negatives = mined.get(query) or [texts[p.product_id] for p in judged if p.grade < RELEVANT_GRADE]
        positives = [p for p in judged if p.grade >= RELEVANT_GRADE]
        start = rng.randrange(len(negatives)) if negatives else 0
        for n, pair in enumerate(positives):
            out.append(
                _Example(
                    query,
                    texts[pair.product_id],
                    (pair.grade - 1.0) / (MAX_GRADE - 1.0),
                    negatives[(start + n) % len(negatives)] if negatives else None,
                )
            )
    return out


def _batches(examples: list[_Example], size: int, rng: random.Random) -> list[list[_Example]]:
    """Shuffled batches where no query appears twice (its other positives are no negatives)."""
    order = examples[:]
    rng.shuffle(order)
    batches: list[list[_Example]] = []
    pending = order
    while pending:
        batch: list[_Example] = []
        seen: set[str] = set()
        rest: list[_Example] = []
        for example in pending:
            if len(batch) < size and example.query not in seen:
                batch.append(example)
                seen.add(example.query)
            else:
                rest.append(example)
        batches.append(batch)
        pending = rest
    return [b for b in batches if len(b) > 1]


class _Trainer:
    def __init__(self, model_path: Path, config: FinetuneConfig) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(model_path), local_files_only=True)
        self.config = config

    def embed(self, texts: Sequence[str], max_length: int) -> torch.Tensor:
        tokens = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        hidden = self.model(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)

    def loss(self, batch: Sequence[_Example]) -> torch.Tensor:
        documents = [e.positive for e in batch] + [e.hard_negative for e in batch if e.hard_negative]
        queries = self.embed([e.query for e in batch], 32)
        docs = self.embed(documents, 64)
        logits = self.config.scale * queries @ docs.T
        targets = torch.arange(len(batch))
        weights = torch.tensor([e.weight for e in batch], dtype=logits.dtype)
        per_query = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
        return (per_query * weights).sum() / weights.sum().clamp(min=1e-9)


def evaluation_loss(
    model_path: Path, pairs: Sequence[Pair], texts: Mapping[str, str], *, batch_size: int = 32
) -> float:
    """The objective on these pairs without training (same batching as training, seed 0)."""
    config = FinetuneConfig(batch_size=batch_size)
    trainer = _Trainer(model_path, config)
    trainer.model.eval()
    rng = random.Random(0)
    batches = _batches(_examples(pairs, texts, rng, config), batch_size, rng)
    with torch.inference_mode():
        losses = [trainer.loss(b).item() for b in batches]
    return sum(losses) / max(len(losses), 1)


def finetune_encoder(
    pairs: Sequence[Pair],
    texts: Mapping[str, str],
    home: Path,
    *,
    config: FinetuneConfig = FinetuneConfig(),
    base_model: Path | None = None,
    source: str = "",
    progress: bool = False,
    checkpoint: Path | None = None,
    stop_after: float | None = None,
) -> FinetuneResult:
    """Trains, then writes the encoder artifact (atomically) and makes it current. With
    `checkpoint` and `config.checkpoint_every`, the state is saved there every that many steps
    and a run of the same pairs and config resumes from it (see finetune_checkpoint.py). With
    `checkpoint` and `stop_after` seconds, training stops at the first step past that time and
    saves a checkpoint (result: no path, `steps` done of `of_steps`), so a long run can be cut
    into time-boxed pieces."""
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    chosen = list(pairs)
    if config.max_pairs is not None and len(chosen) > config.max_pairs:
        chosen = _whole_queries(chosen, config.max_pairs, rng)
    examples = _examples(chosen, texts, rng, config)
    if len(examples) < 2:
        raise InvalidArgumentError(
            "pairs", f"need at least 2 pairs graded >= {RELEVANT_GRADE} whose products are in the catalogue"
        )
    path = base_model or default_model_path()
    queries = sorted({e.query for e in examples})
    manifest: dict[str, Any] = {
        "base_model": path.name if base_model else "all-MiniLM-L6-v2",
        "objective": f"in-batch negatives + {config.hard_negatives} hard negatives, weighted by (grade-1)/2",
        "pairs_file": source,
        "pairs": len(examples),
        "config": {
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "lr": config.lr,
            "scale": config.scale,
            "max_pairs": config.max_pairs,
            "seed": config.seed,
            "hard_negatives": config.hard_negatives,
            "negative_depth": config.negative_depth,
        },
        "queries": queries,
    }
    saved = read_checkpoint(checkpoint, manifest) if checkpoint is not None else None
    trainer = _Trainer(saved.folder if saved else path, config)
    trainer.model.train()
    epochs = [_batches(examples, config.batch_size, rng) for _ in range(config.epochs)]
    total = sum(len(b) for b in epochs)
    optimizer = torch.optim.AdamW(trainer.model.parameters(), lr=config.lr)
    warmup = max(1, int(total * config.warmup_share))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(total - warmup, 1)))
    )
    losses: list[float] = saved.losses if saved else []
    done = saved.step if saved else 0
    earlier = saved.seconds if saved else 0.0
    if saved:
        saved.restore(optimizer, schedule)
    started = time.perf_counter()
    steps = [batch for batches in epochs for batch in batches]

    def save_checkpoint(number: int, checkpoint: Path) -> float:
        seconds = earlier + time.perf_counter() - started
        write_checkpoint(
            checkpoint,
            _Checkpoint(checkpoint, number, losses, seconds, optimizer.state_dict(), schedule.state_dict()),
            lambda folder: _save_model(trainer, folder),
            {**manifest, "steps": number, "of_steps": total, "seconds": round(seconds, 1)},
        )
        return seconds

    with tqdm(total=total, initial=done, desc="fine-tuning", unit="steps", disable=not progress) as bar:
        for number, batch in enumerate(steps[done:], start=done + 1):
            loss = trainer.loss(batch)
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.3f}")
            bar.update(1)
            if checkpoint is None or number == total:
                continue
            if stop_after is not None and time.perf_counter() - started >= stop_after:
                seconds = save_checkpoint(number, checkpoint)
                rate = (number - done) / max(seconds - earlier, 1e-9)
                return FinetuneResult(
                    None, len(examples), len(queries), number, seconds, rate, losses, of_steps=total
                )
            if config.checkpoint_every and number % config.checkpoint_every == 0:
                save_checkpoint(number, checkpoint)
    seconds = earlier + time.perf_counter() - started
    trainer.model.eval()
    manifest = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **manifest,
        "steps": total,
        "seconds": round(seconds, 1),
        "loss_first": losses[0],
        "loss_last": losses[-1],
        "resumed_at_step": done or None,
    }

    written = write_encoder(
        home, encoder_name("minilm"), lambda folder: _save_model(trainer, folder), manifest
    )
    if checkpoint is not None:
        shutil.rmtree(checkpoint, ignore_errors=True)
    return FinetuneResult(
        written,
        len(examples),
        len(queries),
        total,
        seconds,
        (total - done) / max(seconds - earlier, 1e-9),
        losses,
    )


def _save_model(trainer: _Trainer, folder: Path) -> None:
    trainer.model.save_pretrained(str(folder))
    trainer.tokenizer.save_pretrained(str(folder))


def _whole_queries(pairs: Sequence[Pair], limit: int, rng: random.Random) -> list[Pair]:
    """About `limit` pairs made of whole queries drawn at random (a query keeps all its judgements)."""
    by_query: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        by_query[pair.query].append(pair)
    names = sorted(by_query)
    rng.shuffle(names)
    out: list[Pair] = []
    for name in names:
        if len(out) >= limit:
            break
        out.extend(by_query[name])
    return out
