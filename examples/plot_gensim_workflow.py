"""
=================================
gensim ``KeyedVectors`` workflow
=================================

Most users hold gensim :class:`~gensim.models.KeyedVectors` (or ``.vec`` files)
rather than arrays. :mod:`sklearn_l1align.gensim` takes and returns
``KeyedVectors``, keeps their row order (``index_to_key[i]`` names
``vectors[i]``), never modifies its inputs, and turns word dictionaries into row
pairs, reporting the out-of-vocabulary pairs it drops.
"""

# %%
# ``KeyedVectors`` from the demo sample
# -------------------------------------
# With files, :func:`~sklearn_l1align.gensim.read_keyed_vectors` reads word2vec
# text or binary (``max_vocab=200_000`` keeps the most frequent words, as MUSE
# does). Here the demo arrays become ``KeyedVectors`` directly, and both spaces are
# normalised (unit length, centring, unit length) as new objects.
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from sklearn_l1align import L1ProcrustesAligner, ProcrustesAligner, StiefelFlowSolver
from sklearn_l1align.datasets import load_demo
from sklearn_l1align.gensim import (
    align,
    dictionary_to_pairs,
    evaluate_bli,
    keyed_vectors_from_arrays,
    normalize_keyed_vectors,
    transform_keyed_vectors,
    translate,
)
from sklearn_l1align.io import load_mapping, save_mapping

demo = load_demo()
fr = normalize_keyed_vectors(keyed_vectors_from_arrays(demo.src_words, demo.src_vectors))
ru = normalize_keyed_vectors(keyed_vectors_from_arrays(demo.tgt_words, demo.tgt_vectors))
print(f"fr: {len(fr.index_to_key)} words, ru: {len(ru.index_to_key)} words, "
      f"{fr.vector_size} dimensions")

# %%
# Dictionaries and coverage
# -------------------------
# A dictionary is a list of word pairs or a MUSE-format file. Pairs with a word
# outside the vocabularies are dropped and counted; here two such pairs are added
# to the seed dictionary to show the report.
seed = list(demo.train_dictionary) + [("ornithorynque", "утконос"), ("chat", "котейка")]
pairs, coverage = dictionary_to_pairs(seed, fr, ru)
print(f"kept {coverage.n_kept} of {coverage.n_pairs} pairs, dropped {coverage.n_dropped}: "
      f"{list(coverage.dropped)}")
print(f"source words covered: {coverage.n_source_covered} of {coverage.n_source_words} "
      f"({100 * coverage.coverage:.2f} %)")

# %%
# Supervised ℓ2, then unsupervised ℓ1
# -----------------------------------
# :func:`~sklearn_l1align.gensim.align` fits an estimator on the two spaces and
# returns the mapped source ``KeyedVectors``. With a seed dictionary the pairs go
# to the estimator's ``fit`` (in a Pipeline, to the first step that takes
# ``pairs``). Without one, it is the unsupervised path:
# :class:`~sklearn_l1align.L1ProcrustesAligner` induces its own mutual CSLS
# dictionary from the two (already aligned) spaces.
l2 = ProcrustesAligner()
fr_l2 = align(fr, ru, l2, seed_dictionary=seed)
l1 = L1ProcrustesAligner(solver=StiefelFlowSolver(integrator="cayley"))
fr_l1 = align(fr_l2, ru, l1)
print(f"l1 step: {len(l1.dictionary_)} induced pairs, stop: "
      f"{l1.solver_result_.stop_reason.value}")
print("row order kept:", fr_l1.index_to_key == fr.index_to_key)

# %%
# Evaluate and translate
# ----------------------
# :func:`~sklearn_l1align.gensim.evaluate_bli` reports precision@1/5/10 by cosine
# nearest neighbour (NN) and by CSLS-10, the test dictionary's coverage, and the
# counting convention it follows.
scores = {"ℓ2": evaluate_bli(fr_l2, ru, demo.test_dictionary),
          "ℓ2 + ℓ1": evaluate_bli(fr_l1, ru, demo.test_dictionary)}
print(scores["ℓ2"]["convention"])
print(f"test words: {scores['ℓ2']['n_queries']}, "
      f"coverage {100 * scores['ℓ2']['coverage'].coverage:.1f} %")
for name, res in scores.items():
    for method in ("nn", "csls"):
        p = res["precision"][method]
        print(f"{name:>8} {method:>4}: P@1 {100 * p[1]:.1f}  P@5 {100 * p[5]:.1f}  "
              f"P@10 {100 * p[10]:.1f}")

# %%
# :func:`~sklearn_l1align.gensim.translate` returns ``(word, score)`` lists, best
# first, like gensim's ``most_similar``.
for word, candidates in translate(["chien", "roi", "maison", "guerre"], fr_l1, ru,
                                  topn=3).items():
    print(f"{word:>8}: " + ", ".join(f"{w} ({s:.2f})" for w, s in candidates))

# %%
# Save the map without pickle, apply it later
# -------------------------------------------
# The two steps' rotations multiply into one orthogonal map.
# :func:`~sklearn_l1align.io.save_mapping` stores it in a pickle-free ``.npz``
# (joblib and pickle files can run code when loaded: never load one from an
# untrusted source), and :func:`~sklearn_l1align.io.load_mapping` checks its
# shape, dtype and orthogonality. :func:`~sklearn_l1align.gensim.transform_keyed_vectors`
# applies it to any ``KeyedVectors`` of the source language.
M = l2.rotation_ @ l1.rotation_
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "fr-ru.mapping.npz")
    save_mapping(path, M, metadata={"src_lang": "fr", "tgt_lang": "ru"})
    M_loaded, metadata = load_mapping(path)
fr_again = transform_keyed_vectors(fr, M_loaded)
print(metadata, "same vectors:", bool(np.allclose(fr_again.vectors, fr_l1.vectors, atol=1e-5)))

# %%
# Plot the scores
# ---------------
fig, ax = plt.subplots(figsize=(6, 3.5))
labels = [f"{m.upper()} P@{k}" for m in ("nn", "csls") for k in (1, 5, 10)]
x = np.arange(len(labels))
for offset, (name, res) in zip((-0.2, 0.2), scores.items()):
    values = [100 * res["precision"][m][k] for m in ("nn", "csls") for k in (1, 5, 10)]
    ax.bar(x + offset, values, width=0.4, label=name)
ax.set_xticks(x, labels)
ax.set_ylabel("precision (%)")
ax.set_title("BLI fr → ru on the demo test dictionary")
ax.legend()
fig.tight_layout()
plt.show()
