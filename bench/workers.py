"""Workers benchmark: W ``storyboard worker`` processes over one PostgreSQL ledger (the queue on
Procrastinate) and N emulated ComfyUI instances render a queued series of S shots, while random
workers are killed; a small render queued behind it measures the queue's fairness.

    python bench/workers.py [--shots 400] [--workers 4] [--instances 8] [--latency 2]
                            [--kills 10] [--lease 3] [--seed 1] [--small 10]

The issue's setting is the default (4 workers, 8 instances, 400 shots, 10 kills). The series
(S independent prompt shots on a text-to-video graph) is queued once (``queue render``); each
worker runs in its own clone with ``--slots instances / workers`` and ``--drain``. A killed worker
(SIGKILL, at a random moment) is restarted in the same clone a moment later, as a service
manager would; its claims lapse after ``--lease`` seconds and go to whichever worker asks first.
Prints:

- the wall time from the workers' start to the last one's end, against the ideal
  S x latency / (total slots) (target: at most 1.2x);
- the shots paid twice: prompts the instances were sent more than once (target: 0), and the
  shots not done;
- fairness: a render of ``--small`` shots (another series) queued a tenth of the way into the
  large one: the seconds from its queueing to its last shot done, against its own ideal
  small x latency / (total slots) rounded up to whole rounds (target: at most 2x);
- the load average (the machine is shared: read the ratio with it).

Exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.fixtures.pg_server

TARGET = 1.2
FAIR = 2.0  # the small render, against its own ideal
HEAD = """\
storyboard: 1
title: Workers bench
defaults: {{model: wan2.7-t2v, resolution: 720P, ratio: '16:9', duration: 2, seed: 7}}
episodes:
  - episodes/*.yaml
ledger: {ledger}
provider:
  name: comfyui
  instances: {instances}
  workflow: workflows/t2v.json
  poll: [0.5]
"""


def make_series(root: Path, shots: int, ledger: str, urls: list[str],
                name: str = "series") -> Path:
    """A series of ``shots`` prompt-only shots, 40 to an episode, on ComfyUI at ``urls``."""
    from comfyui import text_to_video
    series = root / name
    (series / "episodes").mkdir(parents=True)
    (series / "workflows").mkdir()
    text_to_video(series / "workflows")
    (series / "storyboard.yaml").write_text(
        HEAD.format(ledger=ledger, instances=json.dumps(urls)), encoding="utf-8")
    per = 40
    for number in range((shots + per - 1) // per):
        lines = [f"id: ep{number:02d}", "shots:"]
        for index in range(number * per, min(shots, (number + 1) * per)):
            lines += [f"  - id: s{index:03d}", f"    prompt: \"{name}: a quiet street, shot {index}\""]
        (series / "episodes" / f"ep{number:02d}.yaml").write_text("\n".join(lines) + "\n",
                                                                  encoding="utf-8")
    return series


def storyboard(cwd: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CI": "1", "STORYBOARD_STATE_DIR": str(cwd / "state")}
    env.pop("STORYBOARD_LEDGER", None)
    return subprocess.Popen([sys.executable, "-m", "storyboard", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def queue(base: Path, name: str = "series") -> None:
    child = storyboard(base, "queue", "render", name, "--json")
    _, err = child.communicate(timeout=600)
    if child.returncode != 0:
        raise SystemExit(f"queue render failed: {err[-2000:]}")


def start(clone: Path, ledger: str, slots: int, lease: float) -> subprocess.Popen[str]:
    return storyboard(clone, "worker", "--ledger", ledger, "--slots", str(slots), "--lease",
                      str(lease), "--drain")


def run(args: argparse.Namespace, ledger: str, urls: list[str], tmp: Path) -> float:
    """Queue the series, run the workers with their kills; the wall seconds."""
    series = make_series(tmp / "base", args.shots, ledger, urls)
    small = make_series(tmp / "base", args.small, ledger, urls, "small") if args.small else None
    queue(tmp / "base")
    clones = []
    for number in range(args.workers):
        clone = tmp / f"w{number}"
        for folder in (series, small):
            if folder is not None:
                shutil.copytree(folder, clone / folder.name,
                                ignore=shutil.ignore_patterns(".storyboard"))
        clones.append(clone)
    slots = max(1, args.instances // args.workers)
    rng = random.Random(args.seed)
    ideal = args.shots * args.latency / (slots * args.workers)
    kills = sorted(rng.uniform(0.1, 0.8) * ideal for _ in range(args.kills))
    started = time.monotonic()
    living = [start(c, ledger, slots, args.lease) for c in clones]
    done = 0
    waiting_small = small is not None
    while any(w.poll() is None for w in living):
        now = time.monotonic() - started
        if waiting_small and now >= 0.1 * ideal:
            queue(tmp / "base", "small")  # behind the large render's remaining shots
            waiting_small = False
        if done < len(kills) and now >= kills[done]:
            victim = rng.randrange(len(living))
            if living[victim].poll() is None:
                living[victim].send_signal(signal.SIGKILL)
                living[victim].wait()
                living[victim] = start(clones[victim], ledger, slots, args.lease)
            done += 1
        time.sleep(0.05)
    wall = time.monotonic() - started
    for worker in living:
        err = worker.stderr.read() if worker.stderr else ""
        if worker.returncode != 0 or "Traceback" in err:
            print(f"a worker ended {worker.returncode}: {err[-1500:]}")
    print(f"  kills made: {done} (each restarted in its clone)")
    return wall


def fairness(ledger: str) -> float | None:
    """Seconds from the small render's queueing to its last shot done (the engine's events);
    None when it was not queued or not done."""
    import psycopg
    with psycopg.connect(ledger) as db:
        row = db.execute(
            "SELECT max(extract(epoch from e.at)) - min(s.queued_at), count(DISTINCT s.job_id) "
            "FROM storyboard_queue_shots s JOIN procrastinate_events e ON e.job_id = s.job_id "
            "WHERE s.series = 'small' AND e.type = 'succeeded'").fetchone()
    return None if row is None or row[0] is None else float(row[0])


def outcome(ledger: str, urls: list[str]) -> tuple[int, int, int]:
    """(prompts sent more than once, prompts sent, queued shots not done)."""
    import httpx

    from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
    from storyboard.run.team.queue_pg import PgQueue
    counts: dict[str, int] = {}
    for url in urls:
        for prompt, count in httpx.get(url + "/_emulator/stats").json()["prompts"].items():
            counts[prompt] = counts.get(prompt, 0) + count
    session = PgLedger(LedgerSettings(ledger, "bench"))
    try:
        undone = sum(1 for s in PgQueue(session).shots() if s.state != "done")
    finally:
        session.close()
    return sum(1 for c in counts.values() if c > 1), len(counts), undone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shots", type=int, default=400)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--instances", type=int, default=8)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--small", type=int, default=10,
                        help="shots of the small render queued behind the large one (0: none)")
    args = parser.parse_args(argv)
    from comfyui import emulators

    from tests.fixtures import pg_server
    server = pg_server.start()
    child, urls = emulators(args.instances, args.latency)
    try:
        with tempfile.TemporaryDirectory(prefix="storyboard-bench-workers-") as folder:
            wall = run(args, server.url, urls, Path(folder))
        twice, sent, undone = outcome(server.url, urls)
        small_wall = fairness(server.url)
    finally:
        child.terminate()
        child.wait(10)
        server.stop()
    slots = max(1, args.instances // args.workers) * args.workers
    ideal = (args.shots + args.small) * args.latency / slots
    ratio = wall / ideal
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.shots} shots, {args.workers} workers x {slots // args.workers} slots, "
          f"{args.instances} instances, {args.latency:g} s a job, lease {args.lease:g} s")
    print(f"  wall {wall:.1f} s, ideal {ideal:.1f} s: {ratio:.2f}x (target {TARGET}x)")
    print(f"  prompts sent {sent}, paid twice {twice}, shots not done {undone}")
    fair_ok = True
    if args.small:
        rounds = -(-args.small // slots)  # whole rounds of every slot
        small_ideal = rounds * args.latency
        if small_wall is None:
            fair_ok = False
            print("  fairness: the small render did not finish")
        else:
            fair_ok = small_wall <= FAIR * small_ideal
            print(f"  fairness: {args.small} shots queued behind the large render done in "
                  f"{small_wall:.1f} s, its own ideal {small_ideal:.1f} s: "
                  f"{small_wall / small_ideal:.2f}x (target {FAIR}x)")
    print(f"  load average {load}")
    ok = (ratio <= TARGET and twice == 0 and undone == 0 and sent == args.shots + args.small
          and fair_ok)
    print("  ok" if ok else "  MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
