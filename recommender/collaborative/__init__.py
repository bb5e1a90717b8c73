"""Collaborative-filtering item-item models (ItemKNN, EASE^R, RP3beta, iALS) in plain numpy/scipy.

They are the baselines a recommender must beat (Dacrema et al., RecSys 2019) and, fitted on
the graph's own `INTERACTED` edges, sources of kgrec's collaborative score. Each model is an
item-item weight matrix W: a shopper's scores are their history row times W.
"""

from kgrec.recommender.collaborative.ease import fit_ease
from kgrec.recommender.collaborative.ials import fit_ials
from kgrec.recommender.collaborative.itemknn import fit_itemknn
from kgrec.recommender.collaborative.matrix import InteractionMatrix, ItemItemModel
from kgrec.recommender.collaborative.rp3beta import fit_rp3beta

__all__ = ["InteractionMatrix", "ItemItemModel", "fit_ease", "fit_ials", "fit_itemknn", "fit_rp3beta"]
