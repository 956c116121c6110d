"""Duplicate detection (issue 19, part 4) on the same-user reposts of ``hot_issues.csv``:
precision and recall of the repeat candidates' text similarity, in memory (no database).

    PYTHONPATH=src .venv/bin/python bench/triage_repeats.py --data ../shared/data/complaints-2020c

Ground truth: two messages by the same user with the same title are one matter reposted (the
README counts 62 such groups). Each message is looked up as the intake form does
(``triage.repeats``): its MinHash bands find the candidates among the earlier messages, which
are then compared exactly (Jaccard of character 3-grams of the normalised, masked title and
text); a pair at or above the threshold is reported as a duplicate. Precision: reported
pairs that are ground-truth pairs; recall: ground-truth pairs reported. "Wider": the truth
also holds every pair with the identical detail text (a repost under another title or
account). Pairs by different
users that are near-identical are counted separately (reposts under another name — not
errors of the detector, but not in the ground truth either). Nothing is written.

With ``--labels FILE`` (a hand-labelled truth of the same-user pairs, kept outside the
repository: columns ``id_a,id_b,jaccard,label,sampled_low`` and optionally ``stratum``,
``confidence``, ``note``; ``label`` is ``same`` or ``different``) a ``same_user_labelled``
section is added: every pair of messages by the same user is scored with the exact Jaccard
similarity, as the intake shows a repeat candidate found by the same phone or ID number with
its text score, and "J >= t" is measured against the labels. A pair missing from the file
counts as different; the rows with ``sampled_low=yes`` (a random sample of the pairs below
the reading threshold) estimate how many same-matter pairs that assumption misses.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

from scipy.stats import binomtest

from huiyin.core.chinese import prepare
from huiyin.triage import data as datafiles
from huiyin.triage.minhash import bands, jaccard, shingles
from huiyin.triage.similarity import SAME_MATTER, UNIFORM, Frequencies, cosine, vector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/complaints-2020c")
    parser.add_argument("--labels", help="hand-labelled same-user pairs (CSV, outside the repository)")
    parser.add_argument(
        "--frequencies",
        action="append",
        help="training files whose n-gram frequencies weigh the same-matter score, as `huiyin triage train "
        "--data` keeps them (default: the data's train_raw.csv and train_segmented.csv)",
    )
    args = parser.parse_args()
    with (Path(args.data) / "hot_issues.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    users = [r["留言用户"] for r in rows]
    titles = [r["留言主题"].strip() for r in rows]
    started = time.process_time()
    sets = [shingles(prepare(r["留言主题"], r["留言详情"])) for r in rows]
    signatures = [bands(s) for s in sets]
    index_ms = (time.process_time() - started) * 1000 / len(rows)

    by_detail: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_detail[r["留言详情"].strip()].append(i)
    truth = set()
    by_key = defaultdict(list)
    for i, key in enumerate(zip(users, titles, strict=True)):
        by_key[key].append(i)
    for members in by_key.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                truth.add((members[a], members[b]))

    # A wider truth: also any two messages with the identical detail text (a repost under
    # another title or account).
    details = [r["留言详情"].strip() for r in rows]
    wider = truth | {(a, b) for a in range(len(rows)) for b in by_detail.get(details[a], ()) if b > a}

    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    similarity: dict[tuple[int, int], float] = {}
    started = time.process_time()
    for i, signature in enumerate(signatures):  # each message looked up among the earlier ones
        seen = set()
        for band, value in enumerate(signature):
            seen.update(buckets[(band, value)])
            buckets[(band, value)].append(i)
        for j in seen:
            similarity[(j, i)] = jaccard(sets[i], sets[j])
    lookup_ms = (time.process_time() - started) * 1000 / len(rows)
    candidates_found = len(similarity)
    truth_in_candidates = sum(1 for p in truth if p in similarity)

    table = []
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        reported = {p for p, s in similarity.items() if s >= threshold}
        hits = len(reported & truth)
        other_user = sum(1 for a, b in reported if users[a] != users[b])
        table.append(
            {
                "threshold": threshold,
                "reported": len(reported),
                "precision": round(hits / len(reported), 4) if reported else None,
                "recall": round(hits / len(truth), 4),
                "reported_other_user": other_user,
                "precision_wider": round(len(reported & wider) / len(reported), 4) if reported else None,
                "recall_wider": round(len(reported & wider) / len(wider), 4),
                "precision_same_user": round(hits / max(1, sum(1 for a, b in reported if users[a] == users[b])), 4),
            }
        )
    result = {
        "messages": len(rows),
        "truth_pairs": len(truth),
        "wider_truth_pairs": len(wider),
        "truth_groups": sum(1 for m in by_key.values() if len(m) > 1),
        "candidate_pairs_from_bands": candidates_found,
        "truth_pairs_among_candidates": truth_in_candidates,
        "signature_cpu_ms_per_message": round(index_ms, 3),
        "lookup_cpu_ms_per_message_in_memory": round(lookup_ms, 3),
        "by_threshold": table,
    }
    if args.labels:
        ids = [r["留言编号"].strip() for r in rows]
        result["same_user_labelled"] = same_user_labelled(Path(args.labels), ids, users, sets)
        files = args.frequencies or [str(Path(args.data) / n) for n in ("train_raw.csv", "train_segmented.csv")]
        texts = [prepare(r["留言主题"], r["留言详情"]) for r in rows]
        result["same_matter_score"] = same_matter_score(Path(args.labels), ids, users, texts, files)
    print(json.dumps(result, ensure_ascii=False, indent=2))


PRECISION_TARGET, RECALL_TARGET = 0.95, 0.90
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def binomial_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of a proportion k/n (scipy, scikit-learn's own dependency)."""
    interval = binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return float(interval.low), float(interval.high)


def operating_points(scored: list[tuple[float, bool]]) -> dict:
    """Precision and recall of "J >= t" on (J, same matter) pairs: the fixed thresholds, the
    threshold with the highest recall at precision >= 0.95 (over every distinct J), and the
    precision where recall first reaches 0.90."""
    positives = sum(1 for _, same in scored if same)

    def point(threshold: float, reported: int, hits: int) -> dict:
        return {
            "threshold": round(threshold, 4),
            "reported": reported,
            "true_positives": hits,
            "precision": round(hits / reported, 4) if reported else None,
            "recall": round(hits / positives, 4) if positives else None,
        }

    table = []
    for t in THRESHOLDS:
        reported = sum(1 for j, _ in scored if j >= t)
        hits = sum(1 for j, same in scored if j >= t and same)
        table.append(point(t, reported, hits))
    grid_ok = [p for p in table if p["precision"] is not None and p["precision"] >= PRECISION_TARGET]
    grid_best = max(grid_ok, key=lambda p: (p["recall"], -p["threshold"])) if grid_ok else None

    best, at_recall = None, None
    reported = hits = 0
    ordered = sorted(scored, key=lambda x: -x[0])
    for j, group in itertools.groupby(ordered, key=lambda x: x[0]):
        for _, same in group:
            reported += 1
            hits += same
        if hits / reported >= PRECISION_TARGET and (best is None or hits > best["true_positives"]):
            best = point(j, reported, hits)
        if at_recall is None and positives and hits / positives >= RECALL_TARGET:
            at_recall = point(j, reported, hits)
    return {
        "pairs": len(scored),
        "same_matter": positives,
        "by_threshold": table,
        "best_grid_threshold_at_precision_0.95": grid_best,
        "best_threshold_at_precision_0.95": best,
        "target_met": bool(best and best["recall"] is not None and best["recall"] >= RECALL_TARGET),
        "first_threshold_with_recall_0.90": at_recall,
    }


def message_points(scored: list[tuple[int, int, float, bool]]) -> dict:
    """Per message, as a clerk sees a new case: it is flagged when one of its same-user partners
    scores J >= t, rightly when one of those partners is the same matter; recall is over the
    messages that have a same-matter partner at all (a chain of reposts needs one link each)."""
    grid = _message_grid(scored)
    ok = [p for p in grid if p["precision"] is not None and p["precision"] >= PRECISION_TARGET]
    best = max(ok, key=lambda p: (p["recall"], -p["threshold"])) if ok else None
    return {
        "messages_with_a_same_matter_partner": grid[0]["messages_with_a_same_matter_partner"],
        "by_threshold": [p for p in grid if p["threshold"] in THRESHOLDS],
        "best_threshold_at_precision_0.95": best,
        "target_met": bool(best and best["recall"] >= RECALL_TARGET),
    }


def same_user_labelled(path: Path, ids: list[str], users: list[str], sets: list[set[str]]) -> dict:
    """Precision and recall of "J >= t" on every pair of messages by the same user, against the hand labels."""
    labels, unmatched = _read_labels(path, ids, users)
    members: dict[str, list[int]] = defaultdict(list)
    for i, user in enumerate(users):
        members[user].append(i)
    largest = max(members, key=lambda u: len(members[u]))
    pairs = [p for m in members.values() for p in itertools.combinations(m, 2)]
    similarity = {(a, b): jaccard(sets[a], sets[b]) for a, b in pairs}

    def same(p: tuple[int, int]) -> bool:  # unread pairs count as different
        return p in labels and labels[p]["label"] == "same"

    def borderline(p: tuple[int, int]) -> bool:
        return p in labels and labels[p].get("confidence", "") == "borderline"

    sample = [r for r in labels.values() if r.get("sampled_low", "").strip() == "yes"]
    sample_same = sum(1 for r in sample if r["label"] == "same")
    unread = [p for p in pairs if p not in labels]
    low, high = binomial_interval(sample_same, len(sample)) if sample else (None, None)
    strata = Counter((r.get("stratum") or "-", r["label"]) for r in labels.values())
    return {
        "labels_file": path.name,
        "same_user_pairs": len(pairs),
        "labelled_pairs": len(labels),
        "label_rows_not_matched": unmatched,
        "labelled_same": sum(1 for r in labels.values() if r["label"] == "same"),
        "labelled_borderline": sum(1 for p in labels if borderline(p)),
        "by_stratum": {f"{s}/{lab}": n for (s, lab), n in sorted(strata.items())},
        "sample_below_reading_threshold": {
            "pairs": len(sample),
            "same_matter": sample_same,
            "rate": round(sample_same / len(sample), 4) if sample else None,
            "rate_95ci": [round(low, 4), round(high, 4)] if sample else None,
        },
        "unread_pairs_counted_as_different": {
            "pairs": len(unread),
            "estimated_same_matter": round(len(unread) * sample_same / len(sample), 1) if sample else None,
            "estimated_same_matter_95_upper": round(len(unread) * high, 1) if sample else None,
        },
        "all_same_user_pairs": operating_points([(similarity[p], same(p)) for p in pairs]),
        "per_message": message_points([(a, b, similarity[(a, b)], same((a, b))) for a, b in pairs]),
        "borderline_pairs_left_out": operating_points([(similarity[p], same(p)) for p in pairs if not borderline(p)]),
        "without_the_largest_poster": {
            "poster_messages": len(members[largest]),
            **operating_points([(similarity[p], same(p)) for p in pairs if users[p[0]] != largest]),
            "per_message": message_points(
                [(a, b, similarity[(a, b)], same((a, b))) for a, b in pairs if users[a] != largest]
            ),
        },
    }


def _read_labels(path: Path, ids: list[str], users: list[str]) -> tuple[dict[tuple[int, int], dict], int]:
    """The labelled same-user pairs by message index, and how many rows matched no such pair."""
    index = {m: i for i, m in enumerate(ids)}
    labels: dict[tuple[int, int], dict] = {}
    unmatched = 0
    with path.open(encoding="utf-8") as f:
        for record in csv.DictReader(f):
            a, b = index.get(record["id_a"].strip()), index.get(record["id_b"].strip())
            if a is None or b is None or users[a] != users[b] or record["label"] not in ("same", "different"):
                unmatched += 1
                continue
            labels[(min(a, b), max(a, b))] = record
    return labels, unmatched


def same_matter_score(path: Path, ids: list[str], users: list[str], texts: list[str], files: list[str]) -> dict:
    """The repeat look-up's same-matter call (``triage.similarity``: cosine of character 1-2-gram
    TF-IDF, the n-gram frequencies from the routing training files as a model trained on them
    keeps them) on every same-user pair, against the hand labels: at the product's threshold,
    over the thresholds, with equal weights (no model), and with the threshold chosen on four
    fifths of the posters and measured on the fifth (five folds, pooled)."""
    labels, _unmatched = _read_labels(path, ids, users)
    started = time.process_time()
    dataset = datafiles.read(files)
    frequencies = Frequencies.of(prepare(e.title, e.text) for e in dataset.examples)
    frequencies_s = time.process_time() - started
    members: dict[str, list[int]] = defaultdict(list)
    for i, user in enumerate(users):
        members[user].append(i)
    pairs = [p for m in members.values() for p in itertools.combinations(m, 2)]

    def scored(weights: Frequencies) -> list[tuple[int, int, float, bool]]:
        vectors = [vector(t, weights) for t in texts]
        return [
            (a, b, cosine(vectors[a], vectors[b]), (a, b) in labels and labels[(a, b)]["label"] == "same")
            for a, b in pairs
        ]

    started = time.process_time()
    weighted = scored(frequencies)
    score_ms = (time.process_time() - started) * 1000 / len(pairs)
    uniform = scored(UNIFORM)

    def at(rows: list[tuple[int, int, float, bool]], t: float) -> dict:
        pair = operating_points([(s, same) for _, _, s, same in rows])
        reported = sum(1 for _, _, s, _same in rows if s >= t)
        hits = sum(1 for _, _, s, same in rows if s >= t and same)
        messages = message_points(rows)
        return {
            "pairs": {
                "precision": round(hits / reported, 4) if reported else None,
                "recall": round(hits / pair["same_matter"], 4),
            },
            "messages": next(p for p in _message_grid(rows) if p["threshold"] == round(t, 2)),
            "best_pairs_at_precision_0.95": pair["best_threshold_at_precision_0.95"],
            "best_messages_at_precision_0.95": messages["best_threshold_at_precision_0.95"],
        }

    # The threshold chosen on four fifths of the posters, measured on the fifth.
    posters = sorted(members)
    random.Random(19).shuffle(posters)
    fold_of = {u: k % 5 for k, u in enumerate(posters)}
    flagged = right = with_partner = 0
    chosen = []
    for fold in range(5):
        train = [r for r in weighted if fold_of[users[r[0]]] != fold]
        test = [r for r in weighted if fold_of[users[r[0]]] == fold]
        best = message_points(train)["best_threshold_at_precision_0.95"]
        t = best["threshold"] if best else 1.0
        chosen.append(t)
        point = next((p for p in _message_grid(test) if p["threshold"] == round(t, 2)), None)
        if point is None:  # no threshold reached the precision on the other posters: nothing flagged
            with_partner += _message_grid(test)[0]["messages_with_a_same_matter_partner"]
            continue
        flagged += point["flagged_messages"]
        right += point["rightly_flagged"]
        with_partner += point["messages_with_a_same_matter_partner"]
    largest = max(members, key=lambda u: len(members[u]))
    return {
        "frequencies_from": [Path(f).name for f in files],
        "frequencies_texts": frequencies.documents,
        "frequencies_ngrams_kept": len(frequencies.counts),
        "frequencies_cpu_s": round(frequencies_s, 1),
        "score_cpu_ms_per_pair": round(score_ms, 3),
        "product_threshold": SAME_MATTER,
        "product_threshold_equal_weights": UNIFORM.threshold,
        "at_product_threshold": at(weighted, SAME_MATTER),
        "at_product_threshold_without_the_largest_poster": at(
            [r for r in weighted if users[r[0]] != largest], SAME_MATTER
        ),
        "equal_weights_no_model": at(uniform, UNIFORM.threshold),
        "threshold_chosen_on_other_posters": {
            "thresholds": chosen,
            "messages_flagged": flagged,
            "precision": round(right / flagged, 4) if flagged else None,
            "recall": round(right / with_partner, 4) if with_partner else None,
        },
    }


def _message_grid(rows: list[tuple[int, int, float, bool]]) -> list[dict]:
    """message_points' grid of thresholds 0.01 … 0.99, each with the messages counted."""
    best_any: dict[int, float] = defaultdict(float)
    best_same: dict[int, float] = {}
    for a, b, j, same in rows:
        for m in (a, b):
            best_any[m] = max(best_any[m], j)
            if same:
                best_same[m] = max(best_same.get(m, 0.0), j)
    grid = []
    for k in range(1, 100):
        t = k / 100
        flagged = sum(1 for j in best_any.values() if j >= t)
        right = sum(1 for j in best_same.values() if j >= t)
        grid.append(
            {
                "threshold": round(t, 2),
                "flagged_messages": flagged,
                "rightly_flagged": right,
                "messages_with_a_same_matter_partner": len(best_same),
                "precision": round(right / flagged, 4) if flagged else None,
                "recall": round(right / len(best_same), 4) if best_same else None,
            }
        )
    return grid


if __name__ == "__main__":
    main()
