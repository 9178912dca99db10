"""An agent queues a render for workers (the MCP ``render`` tool with ``queue``), through the
official client: priced and held to ``max_cost`` as a render is, recorded on the team's
PostgreSQL ledger with the agreed budget, nothing submitted."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from storyboard.emulator import EmulatorServer
from storyboard.run.team.ledger_pg import LedgerSettings, PgLedger
from storyboard.run.team.queue_pg import PgQueue
from tests.fixtures.example import copy_example
from tests.fixtures.mcp import error, session, submissions


def test_an_agent_queues_a_paid_render_within_max_cost_and_nothing_is_sent(
        tmp_path: Path, pg_url: str) -> None:
    series = tmp_path / "coffee-shop"
    copy_example(series, ignore=shutil.ignore_patterns(".storyboard", "out", "storyboard.lock"))
    with (series / "storyboard.yaml").open("a", encoding="utf-8") as f:
        f.write(f"ledger: {pg_url}\n")
    with EmulatorServer(latency=0.1, plain_results=True) as emulator:
        tools, cheap, local, queued = session(
            tmp_path, ("render", {"series": series.name, "provider": "dashscope",
                                  "queue": True, "max_cost": 0.01}),
            ("render", {"series": series.name, "queue": True}),
            ("render", {"series": series.name, "provider": "dashscope", "queue": True,
                        "max_cost": 50}),
            ceiling=50, emulator=emulator)
        assert submissions(emulator) == 0  # queued, never rendered here
    render = next(t for t in tools.tools if t.name == "render")
    assert "queue" in render.input_schema["properties"]
    assert "refused, nothing was submitted" in error(cheap)  # over max_cost: nothing queued
    assert "not local" in error(local)
    assert not queued.is_error, queued
    answer: dict[str, Any] = queued.structured_content
    assert answer["queued"] > 0 and answer["series"] == series.name
    assert answer["provider"] == "dashscope" and 0 < answer["budget"] <= 50
    ledger = PgLedger(LedgerSettings(pg_url, "test"))
    try:
        rows = PgQueue(ledger).shots(series.name)
    finally:
        ledger.close()
    assert len(rows) == answer["queued"] and {r.state for r in rows} == {"queued"}
    assert {r.render_id for r in rows} == {answer["render"]}
