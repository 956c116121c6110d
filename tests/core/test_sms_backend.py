"""The file SMS gateway honours the message key: a message handed over again (a task
retried after a crash between hand-over and commit) is written once, also when two
workers hand it over at the same moment."""

from __future__ import annotations

import json
import threading

from huiyin.core.notify import FileSmsBackend


def lines(tmp_path) -> list[dict]:
    return [json.loads(x) for x in (tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_key_is_delivered_once(tmp_path):
    backend = FileSmsBackend()
    backend.send(phone="13812345678", body="已登记", key="event:1")
    backend.send(phone="13812345678", body="已登记", key="event:1")
    backend.send(phone="13812345678", body="已登记", key="event:12")  # a key that starts like another
    assert [m["key"] for m in lines(tmp_path)] == ["event:1", "event:12"]


def test_concurrent_hand_overs_of_one_key_write_one_line(tmp_path):
    barrier = threading.Barrier(8)

    def send(i: int) -> None:
        barrier.wait()
        FileSmsBackend().send(phone="13812345678", body="已登记", key=f"event:{i % 2}")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(m["key"] for m in lines(tmp_path)) == ["event:0", "event:1"]
