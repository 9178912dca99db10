"""bench/workers.py at a small size: two workers over one ledger, four emulated ComfyUI instances,
one killed and restarted, and a small render queued behind the large one; it prints its rows and,
whatever the machine's load, pays nothing twice and leaves no shot undone (the wall time's ratio
and the fairness figure are not judged here, only printed)."""

from __future__ import annotations

import pytest

from tests.project.test_bench_smoke import assert_ran, run_bench


@pytest.mark.timeout(300)
def test_workers_bench_renders_every_shot_once_under_a_kill() -> None:
    done = run_bench("workers.py", "--shots", "12", "--workers", "2", "--instances", "4",
                     "--latency", "0.5", "--kills", "1", "--lease", "2", "--small", "3")
    assert_ran(done)
    assert "kills made: 1" in done.stdout, done.stdout
    assert "prompts sent 15, paid twice 0, shots not done 0" in done.stdout, done.stdout
    assert "fairness: 3 shots queued behind the large render done in" in done.stdout
    assert "load average" in done.stdout
