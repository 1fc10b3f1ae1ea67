"""Webhook load benchmark: signed LINE text events against `kyodo-desk serve` on loopback, with a
mock LINE API in a process of its own (bench/mock_line.py).

Per setup (bare endpoint, SQLite 1 process, PostgreSQL 1 and N processes):
- at each steady rate (open loop: an event every 1/rate s, latency counted from when it was due,
  so a slow server cannot slow the generator down and hide its own delay): events/s sustained
  end to end (all replies received), webhook ack p50/p99, webhook-to-reply p99, lost, errors;
- at saturation (closed loop: 64 connections sending back to back for a few seconds): acks/s.
In the same run, the same stack's bare endpoint (signature check and 200, nothing stored, as
many processes) gives the ceiling.

The generator writes pre-signed HTTP/1.1 requests on keep-alive sockets: httpx costs about 2 ms
of CPU per request, which on a 2-core machine takes the CPU the server under test needs.

    .venv/bin/python bench/load.py [--rates 100 300] [--seconds 10] [--postgres URL] [--workers 2]
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
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.live import LINE_SECRET, LINE_TOKEN, free_port, sign  # noqa: E402

QUESTIONS = ["公民館の休館日は？", "区づくり推進事業の補助率は？", "協働推進委員会の委員は何人？", "協働の提案はどこに出すの"]
USERS = 200
SATURATION_SECONDS = 5
SATURATION_CONNECTIONS = 64

BARE_APP = '''
import sys
from fastapi import FastAPI, Request, Response
from linebot.v3 import SignatureValidator
import uvicorn
validator = SignatureValidator(sys.argv[1])
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

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
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


def start(commands: list[list[str]], env: dict | None = None) -> tuple[list[subprocess.Popen], list[int]]:
    """One process per command (each given a free port as its last argument), all healthy."""
    procs, ports = [], []
    for command in commands:
        port = free_port()
        proc = subprocess.Popen(command + [str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        wait_healthy(port, proc)
        procs.append(proc)
        ports.append(port)
    return procs, ports


def start_desk(db_url: str, line_url: str, roles: tuple[str, ...]):
    """One `serve` process per role; the load goes to those that serve the webhook."""
    env = dict(os.environ, DATABASE_URL=db_url, LINE_CHANNEL_SECRET=LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN=LINE_TOKEN,
               LINE_API_BASE_URL=line_url)
    procs, ports = start([[sys.executable, "-m", "app", "serve", "--role", role, "--port"] for role in roles], env)
    return procs, [port for port, role in zip(ports, roles, strict=True) if role != "worker"]


def start_bare(processes: int):
    return start([[sys.executable, "-c", BARE_APP, LINE_SECRET]] * processes)


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(30)


class MockLine:
    """bench/mock_line.py in its own process."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "mock_line.py"), str(self.port)])
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.url}/__replies", timeout=1)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replies(self) -> dict[str, float]:
        return httpx.get(f"{self.url}/__replies", timeout=30).json()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def signed_requests(count: int, port: int) -> list[tuple[str, bytes]]:
    """(reply token, raw HTTP request) per event, built before the clock starts."""
    out = []
    for i in range(count):
        token = uuid.uuid4().hex
        event = {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
                 "source": {"type": "user", "userId": f"Ubench{i % USERS:04d}"},
                 "webhookEventId": uuid.uuid4().hex, "deliveryContext": {"isRedelivery": False},
                 "replyToken": token, "message": {"id": str(i), "type": "text", "text": QUESTIONS[i % len(QUESTIONS)]}}
        body = json.dumps({"destination": "U0", "events": [event]}, ensure_ascii=False).encode()
        head = (f"POST /line/webhook HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nx-line-signature: {sign(body)}\r\n\r\n")
        out.append((token, head.encode() + body))
    return out


class Connections:
    """Keep-alive connections to one port, reused; a new one is opened when all are busy."""

    def __init__(self, port: int):
        self.port, self.idle = port, []

    async def exchange(self, request: bytes) -> int:
        if self.idle:
            try:
                return await self._exchange(*self.idle.pop(), request)
            except (OSError, asyncio.IncompleteReadError):
                pass  # closed by the server while idle: like any client, try a new connection (the event id dedupes)
        return await self._exchange(*await asyncio.open_connection("127.0.0.1", self.port), request)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
        except Exception:
            writer.close()
            raise
        self.idle.append((reader, writer))
        return status

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def open_loop(ports: list[int], requests: list[list[tuple[str, bytes]]], rate: int):
    """Each event sent when it is due (i / rate s after the start); returns ack latencies (from
    when due), the due time per reply token, and errors."""
    pools = [Connections(port) for port in ports]
    acks, due_at, errors = [], {}, Counter()
    begin = time.monotonic() + 0.2

    async def one(i: int, token: str, request: bytes, pool: Connections):
        due = begin + i / rate
        try:
            status = await pool.exchange(request)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[exc.__class__.__name__] += 1
            return
        if status != 200:
            errors[f"HTTP {status}"] += 1
            return
        acks.append(time.monotonic() - due)
        due_at[token] = due

    tasks = []
    for i in range(len(requests[0])):
        k = i % len(ports)
        token, request = requests[k][i]
        delay = begin + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, token, request, pools[k])))
    await asyncio.gather(*tasks)
    for pool in pools:
        pool.close()
    return acks, due_at, errors


async def closed_loop(ports: list[int], requests: list[list[tuple[str, bytes]]], seconds: float) -> float:
    """Connections sending back to back; acks per second."""
    end = time.monotonic() + seconds
    acked = 0

    async def connection(c: int):
        nonlocal acked
        pool, mine = Connections(ports[c % len(ports)]), requests[c % len(ports)][c::SATURATION_CONNECTIONS]
        for _, request in mine:
            if time.monotonic() >= end:
                break
            try:
                if await pool.exchange(request) == 200:
                    acked += 1
            except (OSError, asyncio.IncompleteReadError, ValueError):
                pass
        pool.close()

    begin = time.monotonic()
    await asyncio.gather(*(connection(c) for c in range(SATURATION_CONNECTIONS)))
    return acked / (time.monotonic() - begin)


def measure_rate(label: str, started, line: MockLine | None, rate: int, seconds: float) -> dict:
    procs, ports = started
    try:
        count = int(rate * seconds)
        requests = [signed_requests(count, port) for port in ports]
        start_at = time.monotonic()
        acks, due_at, errors = asyncio.run(open_loop(ports, requests, rate))
        replied: dict[str, float] = {}
        if line is not None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and len(replied) < len(due_at):
                replied = {t: at for t, at in line.replies().items() if t in due_at}
                time.sleep(0.5)
        finished = max(replied.values(), default=time.monotonic()) if line else time.monotonic()
        done = len(replied) if line else len(acks)
        elapsed = max(finished - start_at, seconds)
        return {"setup": label, "rate": rate, "events": count, "errors": sum(errors.values()), "error_kinds": dict(errors),
                "sustained": done / elapsed, "ack_p50": pct(acks, .5), "ack_p99": pct(acks, .99),
                "reply_p99": pct([replied[t] - due_at[t] for t in replied], .99) if line else float("nan"),
                "lost": (len(due_at) - len(replied)) if line else 0}
    finally:
        stop(procs)


def measure_saturation(started) -> float:
    procs, ports = started
    try:
        requests = [signed_requests(3000 * SATURATION_SECONDS // len(ports), port) for port in ports]
        return asyncio.run(closed_loop(ports, requests, SATURATION_SECONDS))
    finally:
        stop(procs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", type=int, nargs="*", default=[100, 300])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (e.g. postgresql+psycopg://postgres@127.0.0.1/test)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the PostgreSQL multi-process runs")
    parser.add_argument("--only", help="run only the setups whose label contains this")
    args = parser.parse_args()
    line = MockLine()
    setups = [("SQLite, 1 process", ("all",), lambda tmp, rate: f"sqlite:///{tmp}/bench-{rate}.db")]
    if args.postgres:
        on_postgres = lambda tmp, rate: args.postgres  # noqa: E731
        setups += [("PostgreSQL, 1 process", ("all",), on_postgres),
                   (f"PostgreSQL, {processes(args.workers)}", ("all",) * args.workers, on_postgres),
                   (f"PostgreSQL, 1 web + {args.workers - 1} worker", ("web",) + ("worker",) * (args.workers - 1),
                    on_postgres)]
    setups = [(label, roles, url_for) for label, roles, url_for in setups if not args.only or args.only in label]
    rows, saturation = [], {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in sorted({len(roles) for _, roles, _ in setups}):
                label = bare_label(n)
                saturation[label] = measure_saturation(start_bare(n))
                rows += [measure_rate(label, start_bare(n), None, rate, args.seconds) for rate in args.rates]
            for label, roles, url_for in setups:
                for rate in args.rates + ["saturation"]:
                    url, drop = _database(url_for(tmp, rate))
                    try:
                        if rate == "saturation":
                            saturation[label] = measure_saturation(start_desk(url, line.url, roles))
                        else:
                            rows.append(measure_rate(label, start_desk(url, line.url, roles), line, rate, args.seconds))
                    finally:
                        drop()
    finally:
        line.stop()
    print(f"{'setup':28} {'rate/s':>6} {'events':>6} {'sustained/s':>11} {'ack p50 ms':>10} {'ack p99 ms':>10} "
          f"{'reply p99 ms':>12} {'lost':>5} {'errors':>6}")
    for r in rows:
        print(f"{r['setup']:28} {r['rate']:>6} {r['events']:>6} {r['sustained']:>11.1f} {r['ack_p50']:>10.1f} "
              f"{r['ack_p99']:>10.1f} {r['reply_p99']:>12.1f} {r['lost']:>5} {r['errors']:>6}")
    for r in rows:
        if r["errors"]:
            print(f"  errors of {r['setup']} at {r['rate']}/s: {r['error_kinds']}")
    print(f"\n{'setup':28} {'acks/s at saturation':>20} {'of the bare endpoint':>21}")
    counts = sorted({len(roles) for _, roles, _ in setups})
    for label, n in [(bare_label(n), n) for n in counts] + [(label, len(roles)) for label, roles, _ in setups]:
        print(f"{label:28} {saturation[label]:>20.0f} {saturation[label] / saturation[bare_label(n)]:>21.0%}")


def processes(n: int) -> str:
    return f"{n} process{'es' if n > 1 else ''}"


def bare_label(n: int) -> str:
    return f"bare endpoint, {processes(n)}"


def _database(url: str):
    """A PostgreSQL URL gets a schema of its own for one measurement (dropped afterwards)."""
    if url.startswith("sqlite"):
        return url, lambda: None
    return _fresh_schema(url)


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
