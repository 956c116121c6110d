"""Take the README's screenshots from a demo instance in real Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts `huiyin serve` on a throwaway data directory with the demo data, logs in
as the intake clerk and saves full-page PNGs. Needs Debian's chromium and a CJK
font (fonts-noto-cjk): without the font every Chinese character is a box.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",
]


def huiyin(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "huiyin.cli", *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--port", default="8765")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = tempfile.mkdtemp(prefix="huiyin-shots-")
    env = {**os.environ, "HUIYIN_DATA_DIR": data}
    env.pop("DATABASE_URL", None)
    huiyin(env, "migrate", "-v0")
    huiyin(env, "demo", "--cases", "300", "--seed", "7")
    phone, case_id = huiyin(
        env,
        "shell",
        "-c",
        (
            "from django.db.models import Count\n"
            "from huiyin.cases.models import Case, Party\n"
            "p = Party.objects.exclude(phone='').annotate(n=Count('cases')).order_by('-n').first()\n"
            "c = Case.objects.annotate(n=Count('events')).order_by('-n').first()\n"
            "print(p.phone, c.pk)"
        ),
    ).split()[-2:]
    server = subprocess.Popen(
        [sys.executable, "-m", "huiyin.cli", "serve", "--port", args.port, "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(base + "/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("HUIYIN_CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            page.goto(base + "/login/")
            page.fill("#id_username", "clerk")
            page.fill("#id_password", "huiyin2026")
            page.click("main button[type=submit]")
            page.wait_for_url("**/cases/desk/")
            page.screenshot(path=str(out / "desk.png"))
            page.goto(base + "/cases/?q=漏水")
            page.screenshot(path=str(out / "ledger.png"))
            page.goto(base + "/cases/new/phone/")
            page.fill("#id_party_phone", phone)
            page.wait_for_selector("#caller-history [data-case]")
            page.fill("#id_text", "再次来电反映：问题仍未解决，请尽快处理。")
            page.screenshot(path=str(out / "phone-intake.png"))
            page.goto(f"{base}/cases/{case_id}/")
            page.screenshot(path=str(out / "case-detail.png"), full_page=True)
            page.goto(f"{base}/cases/{case_id}/receipt/")
            page.screenshot(path=str(out / "receipt.png"))
            page.goto(f"{base}/supervision/daily-review/")
            page.screenshot(path=str(out / "daily-review.png"))
            supervisor = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            supervisor.goto(base + "/login/")
            supervisor.fill("#id_username", "supervisor")
            supervisor.fill("#id_password", "huiyin2026")
            supervisor.click("main button[type=submit]")
            supervisor.wait_for_url("**/cases/desk/")
            supervisor.goto(base + "/supervision/")
            supervisor.screenshot(path=str(out / "supervision-board.png"))
            leader = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            leader.goto(base + "/login/")
            leader.fill("#id_username", "leader")
            leader.fill("#id_password", "huiyin2026")
            leader.click("main button[type=submit]")
            leader.wait_for_url("**/cases/desk/")
            leader.goto(base + "/callbacks/")
            leader.screenshot(path=str(out / "callbacks.png"))
            leader.goto(base + "/evaluation/?by=department")
            leader.screenshot(path=str(out / "evaluation.png"), full_page=True)
            leader.goto(base + "/surveys/")
            leader.click("#campaigns a")
            leader.wait_for_selector("#area-stats")
            leader.screenshot(path=str(out / "survey-campaign.png"), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
