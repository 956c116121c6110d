"""Hot issues (issue 19, F52) on the real messages of ``hot_issues.csv``: the product's
clustering and heat ranking, and their quality against a hand check kept outside the
repository.

    PYTHONPATH=src DJANGO_SETTINGS_MODULE=huiyin.settings .venv/bin/python bench/triage_hot.py \\
        --data ../shared/data/complaints-2020c --out ../hot-clusters.json
    PYTHONPATH=src DJANGO_SETTINGS_MODULE=huiyin.settings .venv/bin/python bench/triage_hot.py \\
        --data ../shared/data/complaints-2020c --clusters ../hot-clusters.json \\
        --labels LABELS/hot_clusters_members.csv --labels LABELS/hot_clusters_issues.csv

The product's own code path, in a throwaway SQLite database (a fresh ``HUIYIN_DATA_DIR``
in a temporary directory, migrated, removed afterwards; ``DATABASE_URL`` is ignored): each
message becomes a case of one organisation (``received_at`` = 留言时间, title = 留言主题, text =
留言详情, one complainant per 留言用户; no location — the messages have none), then
``triage.hot.rebuild`` clusters them as ``huiyin triage hot --rebuild`` does (MinHash
bands, then cases linked at Jaccard ≥ ``hot.SIMILAR`` within ``hot.LINK_DAYS``; a cluster
is a connected group; the throwaway database has no triage model, so no wording is left
out as boilerplate — ``similarity.boilerplate_pairs`` needs one), and
``triage.hot.hot_issues`` ranks them as the analysts' page does, with one window spanning
the whole data (2017-06 … 2020-01; the page itself offers at most ``hot.MAX_WINDOW``
days). The page's heat has no likes (cases have none), so the likes of the messages (点赞数)
are added separately through the product's ``heat_of(…, likes)``: the JSON has both
rankings. Nothing is written to the repository; ``--out`` (outside it) gets every cluster
of two or more messages, hottest first: size, complainants, message ids, the
representative message, first / last time, likes, both heats.

``--labels FILE`` (repeatable; CSV files outside the repository) prints the quality figures
as one JSON line, for the clusters of ``--clusters FILE`` (an earlier ``--out``; without it,
the clustering runs again). Two kinds of file, told apart by their columns:

* members — ``rank,representative_id,message_id,label[,sampled,note]``: a member of a top
  cluster read against the cluster's representative message, ``label`` ``yes`` (the same
  issue) or ``no``; ``sampled`` ``yes`` when the cluster was larger than the reading and its
  members were a random sample. Purity: the share of read members that are the same issue,
  over the read members, per cluster (a sample's share stands for its cluster) and weighted by
  cluster size.
* issues — ``issue,message_id[,description]``: the hot issues a human organiser names from
  reading the data, with every message that belongs to each (the ground truth). Per issue:
  its messages' recall in the top 10 / top 20 clusters, the clusters (and singletons) its
  messages are spread over, its best cluster's rank and that cluster's share of the issue. An
  issue "appears" in the top k when one of the top k clusters holds two or more of its
  messages and they are at least half of that cluster.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path


def read_messages(data: Path) -> list[dict]:
    with (data / "hot_issues.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        stamp = r["留言时间"].strip().replace("/", "-")
        out.append(
            {
                "id": r["留言编号"].strip(),
                "user": r["留言用户"].strip(),
                "title": r["留言主题"].strip(),
                "text": r["留言详情"].strip(),
                # The board's local wall time; made aware in the site's time zone by ``_cluster``.
                "at": datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S"),  # noqa: DTZ007
                "likes": int(r["点赞数"] or 0),
            }
        )
    return out


def cluster(messages: list[dict], top: int | None) -> dict:
    """The product's clusters and ranking of the messages (throwaway SQLite database)."""
    scratch = tempfile.mkdtemp(prefix="huiyin-hot-")
    os.environ["HUIYIN_DATA_DIR"] = scratch
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("DATABASE_REPLICA_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
    try:
        return _cluster(messages, top)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _cluster(messages: list[dict], top: int | None) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from huiyin.cases.models import Case, Party
    from huiyin.core.search import document as search_document
    from huiyin.orgs.models import Organization, Staff
    from huiyin.orgs.roles import Role
    from huiyin.triage import hot
    from huiyin.triage.models import HotCluster, HotMember

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - started
    org = Organization.objects.create(code="bench-hot", name="热点问题基准")
    analyst = Staff.objects.create_user(
        username="bench-analyst", password=None, organization=org, roles=[Role.ANALYST], full_name="analyst"
    )
    users = sorted({m["user"] for m in messages})
    parties = Party.objects.bulk_create(Party(organization=org) for _ in users)
    party_of = dict(zip(users, (p.pk for p in parties), strict=True))
    tz = timezone.get_current_timezone()
    cases = Case.objects.bulk_create(
        Case(
            organization=org,
            number=f"HOT{i:06d}",
            channel="online",
            nature="complaint",
            title=m["title"][:120],
            text=m["text"],
            received_at=m["at"].replace(tzinfo=tz),
            party_id=party_of[m["user"]],
            # As a registration writes it (``cases.services``): the full-text index hot issues
            # find the cases naming a place through.
            search_document=search_document(f"HOT{i:06d}", m["title"][:120], m["text"], ""),
        )
        for i, m in enumerate(messages)
    )
    message_of = {c.pk: m for c, m in zip(cases, messages, strict=True)}

    started = time.perf_counter()
    cpu = time.process_time()
    hot.rebuild(org.pk)
    rebuild_s, rebuild_cpu = time.perf_counter() - started, time.process_time() - cpu

    first = min(m["at"] for m in messages).date()
    last = max(m["at"] for m in messages).date()
    window = (last - first).days + 1
    started = time.perf_counter()
    page = hot.hot_issues(actor=analyst, window=window, today=last, top=top or 10**6)
    page_s = time.perf_counter() - started

    members: dict[int, list[int]] = defaultdict(list)
    for cluster_id, case_id in HotMember.objects.filter(organization=org).values_list("cluster_id", "case_id"):
        members[cluster_id].append(case_id)
    sizes = Counter(len(v) for v in members.values())
    clusters = []
    for issue in page.issues:
        ms = sorted((message_of[c] for c in members[issue.cluster_id]), key=lambda m: (m["at"], m["id"]))
        likes = sum(m["likes"] for m in ms)
        rep = message_of.get(issue.representative_id)
        clusters.append(
            {
                "rank": issue.rank,
                "heat": issue.heat,
                "heat_with_likes": hot.heat_of(issue.volume, issue.complainants, issue.previous, likes),
                "size": len(ms),
                "volume": issue.volume,
                "complainants": issue.complainants,
                "likes": likes,
                "first_at": ms[0]["at"].isoformat(sep=" "),
                "last_at": ms[-1]["at"].isoformat(sep=" "),
                "representative_id": rep["id"] if rep else None,
                "representative_title": rep["title"] if rep else "",
                "representative_text": (rep["text"][:300] if rep else ""),
                "members": [m["id"] for m in ms],
            }
        )
    by_likes = sorted(clusters, key=lambda c: (-c["heat_with_likes"], -c["size"], c["rank"]))
    for i, c in enumerate(by_likes, start=1):
        c["rank_with_likes"] = i
    assert HotCluster.objects.filter(organization=org).count() == len(members)
    return {
        "messages": len(messages),
        "window": {"start": first.isoformat(), "end": last.isoformat(), "days": window},
        "settings": {
            "similar_jaccard": hot.SIMILAR,
            "link_days": hot.LINK_DAYS,
            "min_cases": hot.MIN_CASES,
            "representative_sample": hot.SAMPLE,
            "weights": hot.WEIGHTS,
        },
        "clusters_all": len(members),
        "clusters_by_size": {str(k): v for k, v in sorted(sizes.items())},
        "messages_in_clusters_of_2_or_more": sum(k * v for k, v in sizes.items() if k >= 2),
        "seconds": {"migrate": round(migrate_s, 1), "rebuild_wall": round(rebuild_s, 1)},
        "rebuild_cpu_ms_per_message": round(rebuild_cpu * 1000 / len(messages), 2),
        "page_wall_s": round(page_s, 2),
        "clusters": clusters,
    }


# --- the hand check ------------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [{k.strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(f)]


def member_figures(rows: list[dict], clusters: list[dict]) -> dict:
    by_rep = {c["representative_id"]: c for c in clusters}
    per: dict[str, dict] = {}
    unmatched = 0
    for r in rows:
        c = by_rep.get(r["representative_id"])
        if c is None or r["message_id"] not in c["members"] or r["label"] not in ("yes", "no"):
            unmatched += 1
            continue
        entry = per.setdefault(r["representative_id"], {"rank": c["rank"], "size": c["size"], "read": 0, "yes": 0})
        entry["read"] += 1
        entry["yes"] += r["label"] == "yes"
        entry["sampled"] = entry.get("sampled", False) or r.get("sampled", "") == "yes"
    table = sorted(per.values(), key=lambda e: e["rank"])
    for e in table:
        e["purity"] = round(e["yes"] / e["read"], 3)
    read = sum(e["read"] for e in table)
    yes = sum(e["yes"] for e in table)
    weighted = sum(e["yes"] / e["read"] * e["size"] for e in table)
    size = sum(e["size"] for e in table)
    return {
        "clusters_read": len(table),
        "members_read": read,
        "label_rows_not_matched": unmatched,
        "purity_over_read_members": round(yes / read, 4) if read else None,
        "purity_mean_per_cluster": round(sum(e["purity"] for e in table) / len(table), 4) if table else None,
        "purity_weighted_by_size": round(weighted / size, 4) if size else None,
        "clusters_pure": sum(1 for e in table if e["yes"] == e["read"]),
        "clusters_at_least_0.8": sum(1 for e in table if e["purity"] >= 0.8),
        "per_cluster": table,
    }


def issue_figures(rows: list[dict], clusters: list[dict], ids: set[str]) -> dict:
    cluster_of = {m: c for c in clusters for m in c["members"]}
    truth: dict[str, set[str]] = defaultdict(set)
    described: dict[str, str] = {}
    unmatched = 0
    for r in rows:
        if r["message_id"] not in ids:
            unmatched += 1
            continue
        truth[r["issue"]].add(r["message_id"])
        if r.get("description"):
            described[r["issue"]] = r["description"]
    out = []
    for issue, messages in truth.items():
        spread = Counter(cluster_of[m]["rank"] for m in messages if m in cluster_of)
        singletons = sum(1 for m in messages if m not in cluster_of)

        def found(k: int, spread: Counter = spread) -> list[int]:
            return [rank for rank, n in spread.items() if rank <= k and n >= 2 and n >= clusters[rank - 1]["size"] / 2]

        best = max(spread, key=lambda rank: (spread[rank], -rank)) if spread else None
        out.append(
            {
                "issue": issue,
                "description": described.get(issue, ""),
                "messages": len(messages),
                "in_top10": sum(n for rank, n in spread.items() if rank <= 10),
                "in_top20": sum(n for rank, n in spread.items() if rank <= 20),
                "recall_top10": round(sum(n for rank, n in spread.items() if rank <= 10) / len(messages), 3),
                "recall_top20": round(sum(n for rank, n in spread.items() if rank <= 20) / len(messages), 3),
                "recall_any_cluster": round(sum(spread.values()) / len(messages), 3),
                "best_cluster_rank": best,
                "best_cluster_share_of_issue": round(spread[best] / len(messages), 3) if best else 0.0,
                "best_cluster_share_is_issue": round(spread[best] / clusters[best - 1]["size"], 3) if best else None,
                "clusters": len(spread),
                "clusters_of_2_or_more_of_its_messages": sum(1 for n in spread.values() if n >= 2),
                "singletons": singletons,
                "cluster_ranks": dict(sorted((str(k), v) for k, v in spread.items())),
                "appears_top10": bool(found(10)),
                "appears_top20": bool(found(20)),
            }
        )
    out.sort(key=lambda e: -e["messages"])
    total = sum(e["messages"] for e in out)

    def recall(key: str) -> float | None:
        return round(sum(e[key] for e in out) / total, 4) if total else None

    return {
        "issues": len(out),
        "issue_messages": total,
        "label_rows_not_matched": unmatched,
        "issues_in_top10": sum(e["appears_top10"] for e in out),
        "issues_in_top20": sum(e["appears_top20"] for e in out),
        "message_recall_top10": recall("in_top10"),
        "message_recall_top20": recall("in_top20"),
        "issues_split_over_2_or_more_clusters": sum(1 for e in out if e["clusters_of_2_or_more_of_its_messages"] >= 2),
        "per_issue": out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data/complaints-2020c")
    parser.add_argument("--out", help="the ranked clusters as JSON (outside the repository)")
    parser.add_argument("--top", type=int, default=0, help="keep only the N hottest clusters (default: all)")
    parser.add_argument("--labels", action="append", default=[], help="hand-label CSV (repeatable)")
    parser.add_argument("--clusters", help="an earlier --out to label against (default: cluster again)")
    args = parser.parse_args()
    messages = read_messages(Path(args.data))
    if args.clusters:
        result = json.loads(Path(args.clusters).read_text(encoding="utf-8"))
    else:
        result = cluster(messages, args.top or None)
        if args.out:
            Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    clusters = result["clusters"]
    summary = {k: v for k, v in result.items() if k != "clusters"}
    summary["top10"] = [
        {k: c[k] for k in ("rank", "heat", "size", "complainants", "likes", "rank_with_likes", "representative_id")}
        for c in clusters[:10]
    ]
    if not args.labels:
        print(json.dumps(summary, ensure_ascii=False))
        return
    figures: dict = {"messages": len(messages), "clusters_ranked": len(clusters)}
    for path in map(Path, args.labels):
        rows = _read_csv(path)
        if not rows:
            sys.exit(f"{path.name}: no rows")
        if "representative_id" in rows[0]:
            figures["members"] = {"labels_file": path.name, **member_figures(rows, clusters)}
        elif "issue" in rows[0]:
            ids = {m["id"] for m in messages}
            figures["issues"] = {"labels_file": path.name, **issue_figures(rows, clusters, ids)}
        else:
            sys.exit(f"{path.name}: neither a members nor an issues file (see --help)")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
