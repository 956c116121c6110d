"""Triage routing on real complaint data (issue 19): stratified 5-fold macro-F1 and accuracy
of the 7-class routing from raw, unsegmented text, prediction time per case on one core,
training time.

    PYTHONPATH=src .venv/bin/python bench/triage.py --data ../shared/data/complaints-2020c
    PYTHONPATH=src .venv/bin/python bench/triage.py --data DIR --variants svm      # the product's model only

The data (``train_raw.csv``: title + detail as typed; ``train_segmented.csv``: a contest
team's segmented text, joined back without the spaces) is read at run time from ``--data``
and never copied, committed or kept in a model file: nothing trained here is written. Texts
go through the product's path (``core.chinese.prepare``: normalise, mask; the classifier
segments and builds character n-grams itself).

Folds keep exact and near duplicates together (group k-fold): two texts whose character
5-gram sets overlap by 60 % or more of the smaller one are one group, and groups are
joined transitively (union-find). Everything runs on one core (BLAS and OpenMP threads
limited to one before numpy loads).

Variants: ``svm`` (the product: ``huiyin.triage.classifier.TextClassifier`` — TF-IDF of
character 1–3-grams and words, linear SVM, temperature-calibrated), ``lr`` (logistic
regression on the same features), ``sgd`` (SGD with the modified Huber loss), ``ensemble``
(the three's probabilities averaged). Raw JSON goes to ``bench/results/``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, before numpy is imported

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import softmax  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from huiyin.core.chinese import prepare  # noqa: E402
from huiyin.triage.classifier import TextClassifier, _scores  # noqa: E402
from huiyin.triage.data import unsegment  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
csv.field_size_limit(10_000_000)


def load(directory: Path) -> tuple[list[str], list[str], list[str]]:
    """(raw texts, labels, source of each: "raw" or "seg")."""
    texts, labels, sources = [], [], []
    with (directory / "train_raw.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            text = row.get("text") or f"{row.get('title', '')}\n{row.get('detail', '')}"
            texts.append(text)
            labels.append(row["label"].strip())
            sources.append("raw")
    with (directory / "train_segmented.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            texts.append(unsegment(row["text_seg"]))
            labels.append(row["label"].strip())
            sources.append("seg")
    return texts, labels, sources


def duplicate_groups(texts: list[str], threshold: float = 0.6) -> tuple[np.ndarray, dict]:
    """Union-find over pairs whose character 5-gram sets overlap by ``threshold`` of the smaller."""
    vectorizer = CountVectorizer(analyzer="char", ngram_range=(5, 5), binary=True, max_df=0.01, dtype=np.float32)
    x = vectorizer.fit_transform(texts)
    sizes = np.asarray(x.sum(axis=1)).ravel()
    overlap = (x @ x.T).tocoo()
    parent = list(range(len(texts)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    pairs = 0
    upper = overlap.row < overlap.col
    for a, b, shared in zip(overlap.row[upper], overlap.col[upper], overlap.data[upper], strict=True):
        smaller = min(sizes[a], sizes[b])
        if smaller >= 5 and shared / smaller >= threshold:
            parent[find(a)] = find(b)
            pairs += 1
    groups = np.array([find(i) for i in range(len(texts))])
    exact = len(texts) - len(set(texts))
    sizes_of = np.bincount(np.unique(groups, return_inverse=True)[1])
    return groups, {
        "exact_duplicates": exact,
        "near_duplicate_pairs": pairs,
        "groups": int(len(sizes_of)),
        "texts_in_groups_of_2_or_more": int(sizes_of[sizes_of > 1].sum()),
    }


def ece(probabilities: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top class's confidence."""
    confidence = probabilities.max(axis=1)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total)


def fold_models(variants: list[str], svm: TextClassifier, x_train, y_train, x_test) -> dict[str, np.ndarray]:
    """Probabilities of each variant on the test fold (features shared with the product's model)."""
    out: dict[str, np.ndarray] = {}
    timings: dict[str, float] = {}
    assert svm._svm is not None
    out["svm"] = softmax(svm.beta * _scores(svm._svm, x_test), axis=1)
    if "lr" in variants or "ensemble" in variants:
        started = time.process_time()
        lr = LogisticRegression(C=30, max_iter=300, class_weight="balanced").fit(x_train, y_train)
        timings["lr"] = time.process_time() - started
        out["lr"] = lr.predict_proba(x_test)
    if "sgd" in variants or "ensemble" in variants:
        started = time.process_time()
        sgd = SGDClassifier(loss="modified_huber", alpha=2e-5, class_weight="balanced", random_state=0)
        sgd.fit(x_train, y_train)
        timings["sgd"] = time.process_time() - started
        out["sgd"] = sgd.predict_proba(x_test)
    if "ensemble" in variants:
        out["ensemble"] = (out["svm"] + out["lr"] + out["sgd"]) / 3
    out["_timings"] = timings  # type: ignore[assignment]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/complaints-2020c", help="the complaints-2020c directory")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--variants", default="svm,lr,sgd,ensemble")
    parser.add_argument("--timing-cases", type=int, default=1000, help="cases timed one at a time")
    parser.add_argument("--timing-only", action="store_true", help="one fold's model: prediction and training times")
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    directory = Path(args.data)
    if not (directory / "train_raw.csv").is_file():
        sys.exit(f"no train_raw.csv in {directory} (give --data)")

    raw, labels, sources = load(directory)
    started = time.perf_counter()
    texts = [prepare("", t) for t in raw]
    prepare_ms = (time.perf_counter() - started) * 1000 / len(raw)
    y = np.asarray(labels)
    source = np.asarray(sources)
    groups, duplicates = duplicate_groups(texts)
    print(f"{len(texts)} texts, {len(set(labels))} classes; duplicates: {duplicates}", flush=True)

    splitter = StratifiedGroupKFold(n_splits=args.folds, shuffle=True, random_state=0)
    predicted = {v: np.empty(len(y), dtype=object) for v in variants}
    probabilities: dict[str, np.ndarray] = {}
    per_fold: dict[str, list[dict]] = {v: [] for v in variants}
    train_seconds: dict[str, list[float]] = {v: [] for v in variants}
    last_model = None
    last_test: np.ndarray | None = None
    if args.timing_only:
        variants = ["svm"]
    for fold, (train, test) in enumerate(splitter.split(texts, y, groups), start=1):
        if args.timing_only and fold > 1:
            break
        started = time.process_time()  # CPU time: the machine is shared, the wall clock says little
        svm = TextClassifier().fit([texts[i] for i in train], y[train])
        train_seconds["svm"].append(time.process_time() - started)
        x_train = svm._features([texts[i] for i in train])
        x_test = svm._features([texts[i] for i in test])
        out = fold_models(variants, svm, x_train, y[train], x_test)
        for name, seconds in out.pop("_timings").items():  # type: ignore[union-attr]
            if name in train_seconds:
                train_seconds[name].append(seconds + train_seconds["svm"][-1])  # features included
        classes = np.asarray(svm.classes_)
        for v in variants:
            p = out[v]
            if v not in probabilities:
                probabilities[v] = np.zeros((len(y), len(classes)))
            probabilities[v][test] = p
            predicted[v][test] = classes[p.argmax(axis=1)]
            per_fold[v].append(
                {
                    "macro_f1": float(f1_score(y[test], predicted[v][test], average="macro")),
                    "accuracy": float(accuracy_score(y[test], predicted[v][test])),
                }
            )
        print(
            f"fold {fold}: "
            + ", ".join(f"{v} F1 {per_fold[v][-1]['macro_f1']:.4f}" for v in variants)
            + f" (svm fit {train_seconds['svm'][-1]:.1f} s CPU)",
            flush=True,
        )
        last_model, last_test = svm, test

    results: dict = {"n": len(y), "classes": sorted(set(labels)), "duplicates": duplicates, "variants": {}}
    done = np.array([p is not None for p in predicted[variants[0]]])  # --timing-only: the first fold
    if not done.all():
        y, predicted, source = y[done], {v: predicted[v][done] for v in variants}, source[done]
        probabilities = {v: probabilities[v][done] for v in variants}
    for v in variants:
        correct = (predicted[v] == y).astype(float)
        f1s = [f["macro_f1"] for f in per_fold[v]]
        names = sorted(set(labels))
        class_f1 = f1_score(y, predicted[v], average=None, labels=names)
        results["variants"][v] = {
            "macro_f1": round(float(f1_score(y, predicted[v], average="macro")), 4),
            "accuracy": round(float(accuracy_score(y, predicted[v])), 4),
            "macro_f1_fold_mean": round(statistics.mean(f1s), 4),
            "macro_f1_fold_sd": round(statistics.stdev(f1s), 4) if len(f1s) > 1 else 0.0,
            "macro_f1_raw_rows": round(
                float(f1_score(y[source == "raw"], predicted[v][source == "raw"], average="macro")), 4
            ),
            "macro_f1_segmented_rows": round(
                float(f1_score(y[source == "seg"], predicted[v][source == "seg"], average="macro")), 4
            ),
            "ece": round(ece(probabilities[v], correct), 4),
            "train_seconds_per_fold": round(statistics.mean(train_seconds[v]), 1) if train_seconds[v] else None,
            "per_class_f1": {c: round(float(f), 4) for c, f in zip(names, class_f1, strict=True)},
        }

    # Prediction: one case at a time from the raw text, as the intake form asks (one core).
    assert last_model is not None and last_test is not None
    sample = [raw[i] for i in last_test[: args.timing_cases]]
    last_model.analyse(prepare("", sample[0]))  # warm up
    times, cpu = [], []
    for text in sample:
        started, started_cpu = time.perf_counter(), time.process_time()
        last_model.analyse(prepare("", text), top=3, k=5)  # what a suggestion computes
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    times.sort()
    started = time.perf_counter()
    last_model.predict_proba([prepare("", t) for t in sample])
    batch_ms = (time.perf_counter() - started) * 1000 / len(sample)
    # Training on everything (what `huiyin triage train` fits last), one core.
    started, started_cpu = time.perf_counter(), time.process_time()
    full = TextClassifier().fit(texts, y)
    full_seconds, full_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    results["prediction"] = {
        "cases": len(times),
        "ms_per_case_mean": round(statistics.mean(times), 3),
        "cpu_ms_per_case_mean": round(statistics.mean(cpu), 3),
        "ms_per_case_p50": round(times[len(times) // 2], 3),
        "ms_per_case_p95": round(times[int(len(times) * 0.95)], 3),
        "ms_per_case_batch": round(batch_ms, 3),
        "prepare_ms_per_case": round(prepare_ms, 3),
        "includes": "normalise, mask, segment, n-grams, vectorise, predict, the words behind the top 3; wall and CPU",
    }
    results["training"] = {
        "rows": len(texts),
        "seconds_all_rows": round(full_seconds, 1),
        "cpu_seconds_all_rows": round(full_cpu, 1),
        "features": len(full.vocabulary()),
        "beta": round(full.beta, 3),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"triage-{datetime.now():%Y%m%d-%H%M%S}.json"  # noqa: DTZ005 - a file name
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps({k: results[k] for k in ("variants", "prediction", "training")}, ensure_ascii=False, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
