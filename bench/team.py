"""Team benchmark: N machines (N processes, each its own series folder and journal) render the
same shots at once through one DashScope emulator, one PostgreSQL ledger and one folder store.

    python bench/team.py [--machines 3] [--shots 60] [--concurrency 10] [--latency 2]
                         [--twins] [--ledger postgresql://...] [--account-limit N]

The issue's setting is ``--machines 4 --shots 400 --concurrency 10 --latency 2`` (about a
minute); the default is a quicker version of it. Without ``--ledger`` a throwaway cluster is
started (initdb, as in the tests) and removed. Prints:

- the wall time from the first machine's start to the last machine's end, against the ideal for
  the combined concurrency, ceil(shots / (machines x concurrency)) x latency, and against a
  baseline measured in the same run: ONE machine rendering its fair share (shots / machines)
  alone, process start included (target: team <= 1.5x that baseline; claims, waits, store
  pushes and pulls come on top);
- submissions per shot at the emulator (target: exactly 1.0), and how many shots each machine
  rendered itself and took from the others.

With ``--account-limit N`` (issue 37: ``--machines 4 --account-limit 4``) the emulator enforces
the account's limit of N tasks in flight per key (a submit past it is answered 429) and every
machine keeps ``account_limits: {in_flight: N}`` through the ledger. It prints the emulator's peak
of tasks in flight, the limit violations (429s and a peak past N), the shots paid twice, and the
wall time against the ideal the account's limit sets, ceil(shots / N) x the emulator's mean time
per task (its latency plus its render, as it measured them; target: within 1.25x, process start
included).

Exits non-zero when a target is missed or a machine does not end with every shot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fixtures.pg_server


def worker(args: argparse.Namespace) -> int:
    """One machine: render every shot with the team ledger and the store; print a summary."""
    from runner import synthetic_shot

    from storyboard.providers.dashscope.provider import DashScopeProvider, DashScopeSettings
    from storyboard.run import render
    from storyboard.run.state.sharing import StoreLink
    from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
    from storyboard.run.team.store import RenderStore, store_settings
    from storyboard.run.trip.model import RunOptions, Wiring

    shots = [synthetic_shot(args.first + i, twin=args.twins) for i in range(args.shots)]
    settings = store_settings(args.store, Path(args.root))
    assert settings is not None
    store = StoreLink(RenderStore(settings), "dashscope")
    store.scan()
    ledger = PgLedger(LedgerSettings(args.ledger, "--ledger"))
    schedule = ((args.latency, 0.2) if args.account_limit
                else (args.latency, 0.25, 0.5, 1.0, 2.0))

    options = RunOptions(concurrency=args.concurrency, submit_rate=1000.0,
                         poll_schedule=schedule, request_timeout=30,
                         account_in_flight=args.account_limit or None,)

    async def go() -> Any:
        provider = DashScopeProvider(DashScopeSettings(base_url=args.base_url))
        try:
            return await render(shots, provider, options,
                                Wiring(series_dir=Path(args.root), store=store, ledger=ledger))
        finally:
            await provider.aclose()

    try:
        result = asyncio.run(go())
    finally:
        ledger.close()
    states = [r.state for r in result.shots]
    print(json.dumps({"done": states.count("done"), "cached": states.count("cached"),
                      "other": len(states) - states.count("done") - states.count("cached"),
                      "submits": result.submits}))
    return 0


def start_worker(args: argparse.Namespace, base_url: str, ledger: str, store: Path,
                 root: Path, shots: int, first: int = 0) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--worker", "--shots", str(shots), "--first", str(first),
               *(["--twins"] if args.twins else []),
               "--concurrency", str(args.concurrency), "--latency", str(args.latency),
               "--account-limit", str(args.account_limit),
               "--ledger", ledger, "--store", str(store), "--root", str(root),
               "--base-url", base_url]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "STORYBOARD_STATE_DIR": str(root / "state")})


def warm_up(base_url: str, tmp: Path) -> None:
    """The emulator draws its (shared) result picture once; that stays out of the timing."""
    from runner import run_shots, synthetic_shot

    from storyboard.providers.dashscope.provider import DashScopeProvider, DashScopeSettings
    provider = DashScopeProvider(DashScopeSettings(base_url=base_url))
    asyncio.run(run_shots([synthetic_shot(10**6)], provider, tmp / "warm", 1, (0.2,)))


def team(args: argparse.Namespace, ledger: str) -> bool:
    """The baseline (one machine, its share), then every machine at once."""
    from storyboard.emulator import EmulatorConfig, EmulatorServer
    with tempfile.TemporaryDirectory() as folder, \
            EmulatorServer(EmulatorConfig(latency=args.latency, plain_results=True)) as emulator:
        tmp = Path(folder)
        warm_up(emulator.base_url, tmp)
        share = math.ceil(args.shots / args.machines)
        started = time.perf_counter()
        start_worker(args, emulator.base_url, ledger, tmp / "store", tmp / "alone", share,
                     first=10**5).communicate()
        baseline = time.perf_counter() - started
        before = emulator.stats()["submissions"]["total"]
        started = time.perf_counter()
        machines = [start_worker(args, emulator.base_url, ledger, tmp / "store", tmp / f"m{i}",
                                 args.shots) for i in range(args.machines)]
        outputs = [machine.communicate()[0] for machine in machines]
        wall = time.perf_counter() - started
        submissions = emulator.stats()["submissions"]["total"] - before
        duplicates = emulator.stats()["submissions"]["duplicates"]
    summaries = [json.loads(out.strip().splitlines()[-1]) for out in outputs if out.strip()]
    ideal = math.ceil(args.shots / (args.machines * args.concurrency)) * args.latency
    per_shot = submissions / args.shots
    print(f"team: {args.machines} machines x concurrency {args.concurrency}, {args.shots} shots, "
          f"task latency {args.latency:g} s")
    for number, summary in enumerate(summaries):
        print(f"  machine {number}: rendered {summary['done']}, from the others "
              f"{summary['cached']}, not finished {summary['other']}")
    print(f"  wall {wall:.2f} s; ideal {ideal:.2f} s: {wall / ideal:.2f}x; one machine alone with "
          f"its share of {math.ceil(args.shots / args.machines)} shots {baseline:.2f} s: "
          f"{wall / baseline:.2f}x (target <= 1.5x)")
    print(f"  submissions per shot {per_shot:.3f} (target 1.0), duplicates {duplicates}")
    complete = len(summaries) == args.machines and all(
        s["other"] == 0 and s["done"] + s["cached"] == args.shots for s in summaries)
    return complete and per_shot == 1.0 and wall / baseline <= 1.5


def account(args: argparse.Namespace, ledger: str) -> bool:
    """Every machine at once under the account's limit of tasks in flight."""
    from storyboard.emulator import EmulatorConfig, EmulatorServer
    limit = args.account_limit
    config = EmulatorConfig(latency=args.latency, plain_results=True, max_in_flight=limit,
                            retry_after=0.2)
    with tempfile.TemporaryDirectory() as folder, EmulatorServer(config) as emulator:
        tmp = Path(folder)
        warm_up(emulator.base_url, tmp)
        before = emulator.stats()
        warm = set(before["submissions"]["by_body"])
        started = time.perf_counter()
        machines = [start_worker(args, emulator.base_url, ledger, tmp / "store", tmp / f"m{i}",
                                 args.shots) for i in range(args.machines)]
        outputs = [machine.communicate()[0] for machine in machines]
        wall = time.perf_counter() - started
        stats = emulator.stats()
    summaries = [json.loads(out.strip().splitlines()[-1]) for out in outputs if out.strip()]
    ended = stats["in_flight"]["tasks_ended"] - before["in_flight"]["tasks_ended"]
    busy = stats["in_flight"]["task_seconds"] - before["in_flight"]["task_seconds"]
    job = busy / max(1, ended)  # the emulator's own time per task: latency + its render
    ideal = math.ceil(args.shots / limit) * job
    peak, throttled = stats["in_flight"]["max"], stats["in_flight"]["throttled"]
    violations = throttled + max(0, peak - limit)
    paid = {body: n for body, n in stats["submissions"]["by_body"].items() if body not in warm}
    paid_twice = sum(n - 1 for n in paid.values() if n > 1)
    missing = args.shots - len(paid)
    print(f"account: {args.machines} machines over one ledger, limit {limit} tasks in flight, "
          f"{args.shots} shots, task latency {args.latency:g} s")
    for number, summary in enumerate(summaries):
        print(f"  machine {number}: rendered {summary['done']}, from the others "
              f"{summary['cached']}, not finished {summary['other']}")
    print(f"  peak in flight {peak} (limit {limit}); violations {violations} "
          f"(429s {throttled}); paid twice {paid_twice}; never paid {missing}")
    ratio = wall / ideal
    complete = len(summaries) == args.machines and all(
        s["other"] == 0 and s["done"] + s["cached"] == args.shots for s in summaries)
    passed = complete and violations == 0 and paid_twice == 0 and missing == 0 and ratio <= 1.25
    print(f"  wall {wall:.2f} s; ideal ceil({args.shots}/{limit}) x {job:.2f} s per task = "
          f"{ideal:.2f} s: {ratio:.2f}x (target <= 1.25x): {'PASS' if passed else 'FAIL'}")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--machines", type=int, default=3)
    parser.add_argument("--shots", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--ledger", default="", help="a PostgreSQL URL (default: a throwaway "
                        "cluster, started and removed)")
    parser.add_argument("--twins", action="store_true", help="every shot the same prompt (a "
                        "seed matrix): submits with one prompt go one at a time, team-wide")
    parser.add_argument("--account-limit", type=int, default=0, help="the account's tasks in "
                        "flight, kept across machines by the ledger and enforced by the "
                        "emulator (0: no account limit; the team benchmark)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    for hidden in ("--store", "--root", "--base-url"):
        parser.add_argument(hidden, default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DASHSCOPE_API_KEY", "bench-key")
    if args.worker:
        return worker(args)
    bench = account if args.account_limit else team
    if args.ledger:
        return 0 if bench(args, args.ledger) else 1
    from tests.fixtures import pg_server
    server = pg_server.start()
    try:
        return 0 if bench(args, server.url) else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
