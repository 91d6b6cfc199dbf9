"""
=====================================================
Choosing a refinement with GridSearchCV, held out BLI
=====================================================

The aligners are scikit-learn estimators, so scikit-learn's own
:class:`~sklearn.model_selection.GridSearchCV` can choose among refinements. What it
must score is what a user reports: bilingual lexicon induction over the *whole*
target vocabulary, for seed words that the fit did not see.
:class:`~sklearn_l1align.model_selection.VocabularyAligner` makes that the estimator's
``score``: its samples are the seed pairs, it holds both vocabularies, and each fold
fits the pipeline on the full vocabularies with the training fold's pairs.
"""

# %%
# The data and the estimator
# --------------------------
# :class:`~sklearn_l1align.model_selection.Vocabularies` holds the two normalised
# spaces read-only; clones share it instead of copying it per fold. The samples
# ``X`` are the seed pairs, and
# :class:`~sklearn_l1align.model_selection.SeedWordKFold` makes folds of whole
# source words, so a word with several translations never straddles two folds.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_l1align import (
    CSLSDictionaryBuilder,
    L1ProcrustesAligner,
    ProcrustesAligner,
    StiefelFlowSolver,
    normalize_embeddings,
)
from sklearn_l1align.datasets import load_demo
from sklearn_l1align.metrics import bli_precision
from sklearn_l1align.model_selection import (
    SeedWordKFold,
    Vocabularies,
    VocabularyAligner,
    prefer_baseline,
)

demo = load_demo()
vocab = Vocabularies(normalize_embeddings(demo.src_vectors), normalize_embeddings(demo.tgt_vectors))
seed_pairs = demo.train_pairs
print(f"{len(seed_pairs)} seed pairs for {len(np.unique(seed_pairs[:, 0]))} source words")

pipe = Pipeline([("l2", ProcrustesAligner()), ("l1", "passthrough")])
model = VocabularyAligner(pipe, vocab)  # score: CSLS-10 P@1 over the whole target vocabulary

# %%
# The search
# ----------
# No refinement (``"passthrough"``) against the ℓ1 step with two CSLS
# neighbourhood sizes of its dictionary. ``n_jobs=-1`` would run the fits in
# parallel; one job keeps this example light.
l1 = L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder(),
                         solver=StiefelFlowSolver(integrator="cayley"))
param_grid = [{"estimator__l1": ["passthrough"]},
              {"estimator__l1": [l1], "estimator__l1__dictionary__k": [5, 10]}]
# ``refit=prefer_baseline()`` keeps the first candidate ("no refinement") unless the
# best one beats it by more than one standard error of its mean CV score.
search = GridSearchCV(model, param_grid, cv=SeedWordKFold(3, random_state=0),
                      refit=prefer_baseline())
start = time.perf_counter()
search.fit(seed_pairs)
print(f"{len(search.cv_results_['params'])} candidates x 3 folds in "
      f"{time.perf_counter() - start:.0f} s")

res = search.cv_results_
names = ["no refinement" if p["estimator__l1"] == "passthrough"
         else f"l1, k={p['estimator__l1__dictionary__k']}" for p in res["params"]]
for name, mean, std in zip(names, res["mean_test_score"], res["std_test_score"]):
    print(f"{name:>14}: CV P@1 {100 * mean:5.1f} ± {100 * std:.1f}")
print("chosen:", names[search.best_index_])

# %%
# Plot the cross-validated scores
# -------------------------------
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(names, 100 * res["mean_test_score"], xerr=100 * res["std_test_score"], capsize=3)
ax.set_xlabel("held-out CSLS P@1 over the full vocabulary (%)")
ax.set_title("GridSearchCV over refinements")
fig.tight_layout()
plt.show()

# %%
# The chosen pipeline on the test dictionary
# ------------------------------------------
# ``best_estimator_`` (the candidate the rule chose) was refitted on all the seed pairs. Its ``score`` on the
# test pairs is exactly :func:`~sklearn_l1align.metrics.bli_precision`.
best = search.best_estimator_
p1 = best.score(demo.test_pairs)
assert p1 == bli_precision(best.transform(vocab.X_src), vocab.X_tgt, demo.test_pairs, k=1).precision[1]
print(f"test CSLS P@1 of the chosen pipeline: {100 * p1:.1f}")

# %%
# The folds' spread (the error bars) is the noise that a difference between
# candidates must beat. :func:`~sklearn_l1align.model_selection.select_refinement`
# applies that rule for you, with a paired comparison on held-out words.
