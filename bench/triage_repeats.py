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
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import defaultdict
from pathlib import Path

from huiyin.core.chinese import prepare
from huiyin.triage.minhash import bands, jaccard, shingles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/complaints-2020c")
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
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
