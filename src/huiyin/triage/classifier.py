"""The text classifier behind triage: pure machine learning, no Django.

Input is a *prepared* text (``core.chinese.prepare``: normalised, then masked), so nothing
here ever sees a phone number, an ID number or a name. Features: TF-IDF of character
1–3-grams (dictionary-free, robust to unseen words and typos) and of words (jieba's
segmentation), each n-gram kept only when at least ``min_df`` training texts contain it —
so a string that occurs in one complaint only (a name the masking missed, a house number)
never enters the model file. Classifier: a linear SVM (class weights balanced), its
scores turned into probabilities by temperature scaling: ``softmax(β · score)`` with β
fitted (bounded, so a perfectly separable set cannot drive it to infinity) to minimise the
log-loss of cross-validated scores. One softmax over all classes: the ranking is the SVM's
and "0.8" means right about 80 % of the time on texts the SVM did not see.

The words that drove a suggestion are the features present in the text with the largest
positive weight × value for that class.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from huiyin.core.chinese import PLACEHOLDERS, char_ngrams, words

Progress = Callable[[str], None]
BETA_RANGE = (0.05, 50.0)  # the inverse temperature's bounds


def _scores(svm: LinearSVC, x: Any) -> np.ndarray:
    """The SVM's scores, one column per class (two classes: 0 and the one score)."""
    scores = svm.decision_function(x)
    if scores.ndim == 1:
        scores = np.column_stack([np.zeros_like(scores), scores])
    return scores


def fit_temperature(scores: np.ndarray, y_index: np.ndarray) -> float:
    """β minimising the log-loss of softmax(β · scores) for the true classes ``y_index``."""

    def loss(log_beta: float) -> float:
        logp = log_softmax(np.exp(log_beta) * scores, axis=1)
        return float(-logp[np.arange(len(y_index)), y_index].mean())

    result = minimize_scalar(loss, bounds=tuple(np.log(BETA_RANGE)), method="bounded")
    return float(np.exp(result.x))


def _quiet(message: str) -> None:
    """The default progress callback: say nothing."""


class Classifier(Protocol):
    """What triage needs of a model: classes, calibrated probabilities, explanations."""

    classes_: list[Any]

    def fit(self, texts: Sequence[str], labels: Sequence[Any], progress: Progress = ...) -> Classifier: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def explain(self, text: str, class_index: int, k: int = 5) -> list[str]: ...

    def analyse(self, text: str, top: int = 3, k: int = 5) -> tuple[np.ndarray, dict[int, list[str]]]: ...


@dataclass
class TextClassifier:
    C: float = 1.0
    char_range: tuple[int, int] = (1, 3)
    min_df: int = 2
    max_df: float = 0.9
    calibration_folds: int = 3
    classes_: list[Any] = field(default_factory=list)
    _char: TfidfVectorizer | None = None
    _word: TfidfVectorizer | None = None
    _svm: LinearSVC | None = None
    beta: float = 1.0
    _names: np.ndarray | None = field(default=None, repr=False)

    # --- training -------------------------------------------------------------------------

    def _vectorizers(self, n_docs: int) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        # Very small sets (tests, a new office's first cases) keep every n-gram seen twice.
        max_df = self.max_df if n_docs >= 50 else 1.0
        common = dict(sublinear_tf=True, min_df=self.min_df, max_df=max_df, dtype=np.float32, lowercase=False)
        char = TfidfVectorizer(
            analyzer=functools.partial(char_ngrams, n_min=self.char_range[0], n_max=self.char_range[1]), **common
        )
        return char, TfidfVectorizer(analyzer=words, **common)

    def fit(self, texts: Sequence[str], labels: Sequence[Any], progress: Progress = _quiet) -> TextClassifier:
        y = np.asarray(list(labels))
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise ValueError("at least two classes are needed")
        progress(f"vectorising {len(texts)} texts (character 1-3-grams and words)")
        self._char, self._word = self._vectorizers(len(texts))
        try:
            x = sp.hstack([self._char.fit_transform(texts), self._word.fit_transform(texts)]).tocsr()
        except ValueError as exc:  # an empty vocabulary: nothing occurs in two texts
            raise ValueError("the texts have nothing in common to learn from") from exc
        for vectorizer in (self._char, self._word):
            # Terms pruned by min_df/max_df: one-off strings, exactly what must not be kept.
            if hasattr(vectorizer, "stop_words_"):
                del vectorizer.stop_words_
        folds = int(max(2, min(self.calibration_folds, counts.min())))
        progress(f"fitting a linear SVM on {x.shape[1]} features; calibrating on {folds}-fold cross-validated scores")
        svm = LinearSVC(C=self.C, class_weight="balanced")
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        held_out = cross_val_predict(svm, x, y, cv=cv, method="decision_function")
        if held_out.ndim == 1:
            held_out = np.column_stack([np.zeros_like(held_out), held_out])
        self.beta = fit_temperature(held_out, np.searchsorted(classes, y))
        self._svm = svm.fit(x, y)
        self.classes_ = list(self._svm.classes_)
        self._names = None
        return self

    # --- prediction -----------------------------------------------------------------------

    def _features(self, texts: Sequence[str]) -> sp.csr_matrix:
        assert self._char is not None and self._word is not None, "not fitted"
        return sp.hstack([self._char.transform(texts), self._word.transform(texts)]).tocsr()

    def _one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's feature indices and values, as ``_features`` computes them (TF-IDF with
        sublinear tf, each block L2-normalised) without scikit-learn's per-call overhead —
        the intake form asks at every pause in typing."""
        assert self._char is not None and self._word is not None
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        offset = 0
        for vectorizer, terms in (
            (self._char, char_ngrams(text, self.char_range[0], self.char_range[1])),
            (self._word, words(text)),
        ):
            vocabulary = vectorizer.vocabulary_
            counts: dict[int, int] = {}
            for term in terms:
                j = vocabulary.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if counts:
                idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                weight = (1.0 + np.log(tf)) * vectorizer.idf_[idx]
                weight /= np.sqrt((weight * weight).sum())
                indices.append(idx + offset)
                values.append(weight)
            offset += len(vocabulary)
        if not indices:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(indices), np.concatenate(values)

    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(coefficients: one row per class, intercepts); two classes spread to two rows."""
        assert self._svm is not None
        coef, intercept = self._svm.coef_, self._svm.intercept_
        if coef.shape[0] == 1:
            coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
            intercept = np.array([0.0, intercept[0]])
        return coef, intercept

    def _proba_one(self, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        coef, intercept = self._weights()
        return softmax(self.beta * (coef[:, indices] @ values + intercept))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        assert self._svm is not None, "not fitted"
        if len(texts) == 1:  # one case at intake: the fast path, same figures
            return self._proba_one(*self._one(texts[0]))[None, :]
        return softmax(self.beta * _scores(self._svm, self._features(texts)), axis=1)

    def predict(self, texts: Sequence[str]) -> list[Any]:
        probs = self.predict_proba(texts)
        return [self.classes_[i] for i in probs.argmax(axis=1)]

    # --- explanation ----------------------------------------------------------------------

    def _feature_names(self) -> np.ndarray:
        if self._names is None:
            assert self._char is not None and self._word is not None
            self._names = np.concatenate([self._char.get_feature_names_out(), self._word.get_feature_names_out()])
        return self._names

    def _coef(self, class_index: int) -> np.ndarray:
        assert self._svm is not None
        coef = self._svm.coef_
        if coef.shape[0] == 1:  # two classes: one weight vector, for the second class
            return coef[0] if class_index == 1 else -coef[0]
        return coef[class_index]

    def _terms(self, indices: np.ndarray, values: np.ndarray, class_index: int, k: int) -> list[str]:
        # Weight × value on the text's own features only (a product over the whole
        # vocabulary would cost milliseconds per suggestion).
        contribution = values * self._coef(class_index)[indices]
        names = self._feature_names()
        chosen: list[str] = []
        for position in np.argsort(-contribution)[: 6 * k]:
            if contribution[position] <= 0 or len(chosen) >= k:
                break
            term = str(names[indices[position]])
            if len(term) < 2 or term in PLACEHOLDERS or any(term in c or c in term for c in chosen):
                continue
            chosen.append(term)
        return chosen

    def explain(self, text: str, class_index: int, k: int = 5) -> list[str]:
        """The ``k`` terms of ``text`` that pushed it most towards the class: words and
        n-grams of two or more characters, a term inside a stronger one left out."""
        return self._terms(*self._one(text), class_index, k)

    def analyse(self, text: str, top: int = 3, k: int = 5) -> tuple[np.ndarray, dict[int, list[str]]]:
        """One text's probabilities and, for its ``top`` classes, the terms behind them, the
        features computed once: what a suggestion needs."""
        indices, values = self._one(text)
        probabilities = self._proba_one(indices, values)
        best = [int(i) for i in np.argsort(-probabilities)[:top]]
        return probabilities, {i: self._terms(indices, values, i, k) for i in best}

    def vocabulary(self) -> list[str]:
        """Every term the model keeps (what a model file can reveal of its training texts)."""
        return [str(n) for n in self._feature_names()]
