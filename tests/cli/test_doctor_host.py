"""``storyboard doctor SERIES``: the DashScope host a series sends to, and a warning when it is the
Singapore public host, which is being retired in favour of workspace hosts (issue 35.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAD = "storyboard: 1\ntitle: Hosts\nepisodes: []\n"

# (the provider block, the host, where it comes from, whether doctor warns)
HOSTS = [
    ("", "https://dashscope-intl.aliyuncs.com/api/v1", "the public host of region intl", True),
    ("provider: {name: dashscope, region: cn}\n", "https://dashscope.aliyuncs.com/api/v1",
     "the public host of region cn", False),
    ("provider: {name: dashscope, workspace: ws-1}\n",
     "https://ws-1.ap-southeast-1.maas.aliyuncs.com/api/v1",
     "provider.workspace ws-1 in region intl", False),
    ("provider: {name: dashscope, region: us, workspace: ws-2}\n",
     "https://ws-2.us-east-1.maas.aliyuncs.com/api/v1",
     "provider.workspace ws-2 in region us", False),
    ("provider: {name: dashscope, base_url: 'http://127.0.0.1:9/api/v1'}\n",
     "http://127.0.0.1:9/api/v1", "provider.base_url in the series", False),
]


def doctor(series: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DASHSCOPE_HTTP_BASE_URL"}
    return subprocess.run([sys.executable, "-m", "storyboard", "doctor", str(series), *args],
                          capture_output=True, text=True, timeout=60, check=False, env=env)


@pytest.mark.parametrize(("block", "host", "source", "warns"), HOSTS)
def test_doctor_says_which_host_a_series_uses(tmp_path: Path, block: str, host: str,
                                              source: str, warns: bool) -> None:
    (tmp_path / "storyboard.yaml").write_text(HEAD + block, encoding="utf-8")
    report = json.loads(doctor(tmp_path, "--json").stdout)["host"]
    assert (report["host"], report["source"]) == (host, source)
    assert bool(report["warning"]) is warns
    text = doctor(tmp_path).stdout
    assert f"host:    {host} (dashscope, from {source})" in text
    assert ("warning: the Singapore public host is being retired" in text) is warns
    if warns:
        assert "provider.workspace" in report["warning"]


def test_a_broken_provider_block_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "storyboard.yaml").write_text(
        HEAD + "provider: {name: dashscope, workspace: 'no such/id'}\n", encoding="utf-8")
    proc = doctor(tmp_path)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "provider.workspace" in proc.stderr
