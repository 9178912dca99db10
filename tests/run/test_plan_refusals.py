"""A plan that cannot run says so (54.6): a Seedance series whose cast is made elsewhere (on
DashScope, with another key) is refused by ``plan`` at the cast's lines, exit 1, exactly as
``render`` refuses it (one call, ``Provider.refused``); the cast is priced by its maker's list
price, in its currency, outside the gateway's total."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli

SERIES = """\
storyboard: 1
title: Seed
defaults: {resolution: 720P, ratio: "16:9"}
provider: {name: ark, media_base_url: "https://media.example.com/seed"}
characters:
  mia:
    image: {generate: "barista in her thirties, short dark hair, green apron"}
    voice: mia-voice
voices:
  mia-voice:
    design: "warm, calm woman in her thirties"
    sample: "Morning! The usual flat white, is it, as every day?"
episodes:
  - id: ep01
    shots:
      - id: one
        model: doubao-seedance-2-0-260128
        duration: 5
        prompt: "@mia smiles at the counter"
"""
REFUSED = ["storyboard.yaml:7:12: error: mia is generated",
           "storyboard.yaml:11:5: error: mia-voice is generated"]


@pytest.fixture
def seedance(tmp_path: Path) -> Path:
    (tmp_path / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    return tmp_path


def test_plan_says_at_the_line_what_render_refuses_and_exits_1(seedance: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", str(seedance)])
    assert result.exit_code == 1, result.output
    for said in REFUSED:
        assert said in result.output
    assert "gateway ark does not make wan2.7-image" in result.output
    rows = {line.split("\t")[0]: line for line in result.output.splitlines() if "\t" in line}
    assert "0.03 USD" in rows["cast/mia"] and "0.20 USD" in rows["voices/mia-voice"]
    assert "4.97 CNY" in rows["ep01/one"]
    assert "about 4.97 CNY; the cast made by dashscope: about 0.23 USD, not in this total" \
        in result.output
    assert "prices: doubao-seedance-2-0-260128: CNY" in result.output  # not the cast's price


def test_plan_json_lists_the_refusals_and_the_cast_made_elsewhere(seedance: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", str(seedance), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)  # one JSON document, the refusals in it
    assert [r["code"] for r in data["refused"]] == ["provider-video-only"] * 2
    assert data["elsewhere"] == [{"provider": "dashscope", "currency": "USD", "cost": 0.23}]
    assert data["total_cost"] == pytest.approx(4.968) and data["cast_cost"] == 0
    made = {s["key"].split("/", 1)[1]: (s["made_by"], s["currency"]) for s in data["shots"]}
    assert made["cast/mia"] == ("dashscope", "USD") and made["ep01/one"] == (None, "CNY")


def test_render_refuses_the_same_before_asking(seedance: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARK_API_KEY", "ark-test-key")
    result = CliRunner().invoke(cli, ["render", str(seedance), "--budget", "100"])
    assert result.exit_code == 1
    for said in REFUSED:
        assert said in result.output
    assert not (seedance / ".storyboard" / "journal.sqlite").exists()
