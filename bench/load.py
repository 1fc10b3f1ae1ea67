"""Webhook load benchmark: signed LINE text events at a steady rate against `kyodo-desk serve`
on loopback, with the mock LINE API in this process.

Reports, per setup and rate: events/s sustained (all replies received), webhook ack p50/p99,
and webhook-to-reply p99 (event posted → reply request at the mock). In the same run, the same
stack's bare endpoint — signature check and 200, nothing stored — gives the ceiling.

    .venv/bin/python bench/load.py [--rates 100 200 300] [--seconds 10] [--postgres URL] [--workers 2]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import LINE_SECRET, LINE_TOKEN, free_port, sign  # noqa: E402
from tests.mock_platform import MockPlatform  # noqa: E402

QUESTIONS = ["公民館の休館日は？", "区づくり推進事業の補助率は？", "協働推進委員会の委員は何人？", "協働の提案はどこに出すの"]

BARE_APP = '''
import sys
from fastapi import FastAPI, Request, Response
from linebot.v3 import SignatureValidator
import uvicorn
validator = SignatureValidator(sys.argv[2])
app = FastAPI()

@app.post("/line/webhook")
async def webhook(request: Request):
    body = await request.body()
    if not validator.validate(body.decode(), request.headers.get("x-line-signature", "")):
        return Response(status_code=401)
    return Response(status_code=200)

@app.get("/healthz")
def health():
    return {}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] * 1000 if ordered else float("nan")


def wait_healthy(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def start_desk(db_url: str, line_url: str, workers: int) -> tuple[list[subprocess.Popen], list[int]]:
    env = dict(os.environ, DATABASE_URL=db_url, LINE_CHANNEL_SECRET=LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN=LINE_TOKEN,
               LINE_API_BASE_URL=line_url)
    procs, ports = [], []
    for _ in range(workers):
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        wait_healthy(port, proc)
        procs.append(proc)
        ports.append(port)
    return procs, ports


def start_bare() -> tuple[list[subprocess.Popen], list[int]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BARE_APP, str(port), LINE_SECRET], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT)
    wait_healthy(port, proc)
    return [proc], [port]


async def drive(ports: list[int], rate: int, seconds: float, users: int = 200) -> tuple[list[float], dict[str, float], int]:
    """Send rate*seconds events on a fixed schedule; returns ack latencies, send times by reply token, errors."""
    acks: list[float] = []
    sent_at: dict[str, float] = {}
    errors = 0
    total = int(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        async def one(i: int):
            nonlocal errors
            token = uuid.uuid4().hex
            event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
                     "source": {"type": "user", "userId": f"Ubench{i % users:04d}"},
                     "webhookEventId": uuid.uuid4().hex, "deliveryContext": {"isRedelivery": False},
                     "replyToken": token, "message": {"id": str(i), "type": "text", "text": QUESTIONS[i % len(QUESTIONS)]}}
            body = json.dumps({"destination": "U0", "events": [event]}, ensure_ascii=False).encode()
            port = ports[i % len(ports)]
            start = time.monotonic()
            try:
                response = await client.post(f"http://127.0.0.1:{port}/line/webhook", content=body,
                                             headers={"content-type": "application/json", "x-line-signature": sign(body)})
                if response.status_code != 200:
                    errors += 1
                    return
            except httpx.HTTPError:
                errors += 1
                return
            acks.append(time.monotonic() - start)
            sent_at[token] = start

        begin = time.monotonic()
        tasks = []
        for i in range(total):
            delay = begin + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return acks, sent_at, errors


def run(label: str, procs_ports, line: MockPlatform | None, rate: int, seconds: float) -> dict:
    procs, ports = procs_ports
    try:
        start = time.monotonic()
        acks, sent_at, errors = asyncio.run(drive(ports, rate, seconds))
        replied: dict[str, float] = {}
        if line is not None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and len(replied) < len(sent_at):
                for request in line.calls("/v2/bot/message/reply"):
                    token = request.body.get("replyToken")
                    if token in sent_at and token not in replied:
                        replied[token] = request.at
                time.sleep(0.1)
        finished = max(replied.values(), default=time.monotonic()) if line else time.monotonic()
        done = len(replied) if line else len(acks)
        elapsed = max(finished - start, seconds)
        to_reply = [replied[t] - sent_at[t] for t in replied]
        return {"setup": label, "rate": rate, "events": int(rate * seconds), "errors": errors,
                "sustained": done / elapsed, "ack_p50": pct(acks, .5), "ack_p99": pct(acks, .99),
                "reply_p99": pct(to_reply, .99) if line else float("nan"), "lost": (len(sent_at) - len(replied)) if line else 0}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", type=int, nargs="*", default=[100])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (e.g. postgresql+psycopg://postgres@127.0.0.1/test)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the PostgreSQL multi-process run")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rate in args.rates:
            results.append(run("bare endpoint (ceiling)", start_bare(), None, rate, args.seconds))
            line = MockPlatform(default_body={"sentMessages": []}).start()
            results.append(run("SQLite, 1 process", start_desk(f"sqlite:///{tmp}/bench-{rate}.db", line.url, 1),
                               line, rate, args.seconds))
            line.stop()
            if args.postgres:
                for workers in (1, args.workers):
                    url, drop = _fresh_schema(args.postgres)
                    line = MockPlatform(default_body={"sentMessages": []}).start()
                    results.append(run(f"PostgreSQL, {workers} process(es)", start_desk(url, line.url, workers),
                                       line, rate, args.seconds))
                    line.stop()
                    drop()
    print(f"{'setup':28} {'rate/s':>6} {'events':>6} {'sustained/s':>11} {'ack p50 ms':>10} {'ack p99 ms':>10} "
          f"{'reply p99 ms':>12} {'lost':>5} {'errors':>6}")
    for r in results:
        print(f"{r['setup']:28} {r['rate']:>6} {r['events']:>6} {r['sustained']:>11.1f} {r['ack_p50']:>10.1f} "
              f"{r['ack_p99']:>10.1f} {r['reply_p99']:>12.1f} {r['lost']:>5} {r['errors']:>6}")
    for rate in args.rates:
        bare = next(r for r in results if r["rate"] == rate and r["setup"].startswith("bare"))
        for r in results:
            if r["rate"] == rate and not r["setup"].startswith("bare"):
                print(f"{r['setup']} at {rate}/s: ack throughput {r['sustained'] / bare['sustained']:.0%} of the bare endpoint's")


def _fresh_schema(url: str):
    """A schema of its own for one run (dropped afterwards), so nothing else in the database is touched."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", drop


if __name__ == "__main__":
    main()
