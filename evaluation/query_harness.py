"""Query relevance: each case is a shopper's query and the products raters graded for it.

The same metrics as the history protocols, with NDCG@10 on graded gains (grade − 1; unjudged
products gain 0) and the binary metrics (recall, hit, MRR, α-NDCG) on products graded ≥ 2.
Systems: `bm25` (Lucene's formula, embeddings/lexical.py), `text` (BERT cosine), `kg` (the
query aligned into the KG space), then the recommender itself: `fused`, `default` and the sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from kgrec.embeddings.alignment import apply_alignment
from kgrec.evaluation import metrics as m
from kgrec.evaluation.harness import Evaluator, K, SystemResult
from kgrec.evaluation.presets.homedepot import RELEVANT_GRADE, Judgements, gains
from kgrec.evaluation.splits import EvalCase
from kgrec.recommender.fusion import FusionWeights
from kgrec.recommender.service import Recommender


def query_cases(judgements: Judgements) -> list[EvalCase]:
    """The query is the case id; `hidden` holds its products graded ≥ 2; there is no history."""
    return [
        EvalCase(query, "", [], {pid for pid, grade in graded.items() if grade >= RELEVANT_GRADE})
        for query, graded in sorted(judgements.items())
    ]


def fusion_grid() -> list[FusionWeights]:
    """Dense vs KG share, the lexical (BM25) share of the text score, and whether the dense
    cosines are stretched over the candidates first: what a query ranks by. The BM25 shares
    reach down to 0.1 because, unstretched, a small share already lets BM25 decide."""
    return [
        FusionWeights(text_share=t, lexical_share=lex, dense_rescale=rescale)
        for t in (0.8, 1.0)
        for rescale in (0.0, 1.0)
        for lex in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    ]


class QueryEvaluator(Evaluator):
    def __init__(
        self,
        recommender: Recommender,
        judgements: Judgements,
        *,
        region_kind: str = "community",
        seed: int = 7,
    ) -> None:
        super().__init__(recommender, query_cases(judgements), region_kind=region_kind, seed=seed)
        self.gains = {query: gains(graded) for query, graded in judgements.items()}
        recommender.cache_queries(sorted(judgements))

    def for_queries(self, judgements: Judgements) -> list[EvalCase]:
        """Cases for other queries (the tuning ones), with their gains known to the scorer."""
        self.gains.update({query: gains(graded) for query, graded in judgements.items()})
        self.rec.cache_queries(sorted(judgements))
        return query_cases(judgements)

    def _score(self, result: SystemResult, case: EvalCase, ranked: list[str]) -> None:
        super()._score(result, case, ranked)
        result.per_case["ndcg@10"][-1] = m.graded_ndcg_at_k(ranked[:K], self.gains[case.case_id], K)

    def _top(self, scores: np.ndarray) -> list[str]:
        top = np.argpartition(-scores, K)[:K] if scores.size > K else np.arange(scores.size)
        top = top[np.lexsort((top, -scores[top]))]
        return [self.catalog.pids[i] for i in top]

    def baselines(self) -> dict[str, Callable[[EvalCase], list[str]]]:
        c = self.catalog

        def bm25(case: EvalCase) -> list[str]:
            return [c.pids[row] for row, _ in c.lexical.search(case.case_id, K)]

        def text(case: EvalCase) -> list[str]:
            return self._top(c.text @ self.rec.encode_query(case.case_id))

        def kg(case: EvalCase) -> list[str]:
            return self._top(
                c.kg @ apply_alignment(c.artifact.alignment, self.rec.encode_query(case.case_id))
            )

        return {"bm25": bm25, "text": text, "kg": kg}

    def default_setting(self) -> tuple[str, float]:
        """A query-only request's default (Recommender.defaults_for)."""
        return self.rec.default_strategy, self.rec.default_query_diversity

    def _shopper(self, case: EvalCase) -> dict[str, Any]:
        return {"query": case.case_id}

    def run_systems(self, names: Sequence[str], *, suffix: str = "") -> list[SystemResult]:
        """Only the named systems (baselines, `fused` or `default`), each renamed with `suffix`."""
        chosen: list[tuple[SystemResult, Callable[[EvalCase], list[str]]]] = []
        baselines = self.baselines()
        for name in names:
            if name in ("fused", "default"):
                strategy, diversity = ("none", 0.0) if name == "fused" else self.default_setting()
                chosen.append(
                    (
                        SystemResult(f"{name}{suffix}", strategy, diversity),
                        self._recommended(strategy, diversity),
                    )
                )
            else:
                chosen.append((SystemResult(f"{name}{suffix}", None, None), baselines[name]))
        for result, fn in chosen:
            for case in self.cases:
                self._score(result, case, fn(case))
        return [r for r, _ in chosen]
