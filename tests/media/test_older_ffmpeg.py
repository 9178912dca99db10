"""Real ffmpeg releases older than storyboard supports: refused, and only for what came after them.

``STORYBOARD_TEST_OLD_FFMPEGS`` (paths separated by ':') lists them; CI sets it to Debian 11's own
4.3 and the static 4.2.2 that old imageio-ffmpeg wheels carry (see ``.ci/run``). Each is probed as
storyboard probes any candidate, and then:

- every feature that ``ffbinary.FEATURES`` says its release already had is there (the ``since``
  column is checked against real builds, not only written down);
- it lacks something, so an explicit choice of it stops with an error naming what is missing.

Each is started once first, with no deadline of storyboard's (``_warmed``): Debian 11's build loads
about 200 shared libraries, and its first start on CI's loaded machine, its files just unpacked and
not read since, took over ``ffbinary.PROBE_TIMEOUT`` (30 s) where a warm one takes 0.1 s. What is
tested here is what a release can do, not how fast a cold disk is.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.errors import FFmpegError
from storyboard.media import ffbinary

EXTRA = "STORYBOARD_TEST_OLD_FFMPEGS"


def _binaries() -> list[str]:
    return [p for p in os.environ.get(EXTRA, "").split(":") if p]


def _release(version: str) -> tuple[int, ...]:
    """``4.3.9-0+deb11u2`` -> (4, 3, 9); ``4.2.2-static`` -> (4, 2, 2); ``n4.4.1`` -> (4, 4, 1)."""
    match = re.match(r"n?(\d+(?:\.\d+)*)", version)
    assert match, f"not a release number: {version!r}"
    return tuple(int(n) for n in match.group(1).split("."))


def _warmed(binary: str) -> None:
    """``binary`` started once, its libraries read into memory, however long that takes."""
    subprocess.run([binary, "-hide_banner", "-nostdin", "-version"], capture_output=True,
                   timeout=600, check=False)


def _since(feature: ffbinary.Feature) -> tuple[int, ...]:
    return tuple(int(n) for n in feature.since.split("."))


@pytest.fixture(autouse=True)
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    ffbinary.reset()
    yield
    ffbinary.reset()


@pytest.mark.skipif(not _binaries(), reason=f"no older ffmpeg listed in {EXTRA}")
@pytest.mark.parametrize("binary", _binaries())
def test_an_older_release_lacks_only_what_came_after_it(
        binary: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert os.access(binary, os.X_OK), f"{EXTRA} names {binary}, which cannot be run"
    _warmed(binary)
    found = ffbinary.describe(binary, "test")
    assert not found.error, found.summary()
    release = _release(found.version)
    had = [f for f in ffbinary.FEATURES if _since(f) <= release[:len(_since(f))]]
    wrongly_missing = sorted(set(found.missing) & {str(f) for f in had})
    assert not wrongly_missing, (f"ffmpeg {found.version} lacks features FEATURES says "
                                 f"{'.'.join(map(str, release[:2]))} already had: {wrongly_missing}")
    assert found.missing, (f"ffmpeg {found.version} has every feature: storyboard now supports it, so "
                           f"test it with the full suite (STORYBOARD_TEST_FFMPEGS) and say so")

    monkeypatch.setenv(ffbinary.ENV_VAR, binary)
    ffbinary.reset()
    with pytest.raises(FFmpegError) as refused:
        ffbinary.current().require()
    assert found.version in str(refused.value) and found.missing[0] in str(refused.value)
