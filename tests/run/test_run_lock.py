"""The render lock is the OS's, through filelock, on every platform: a second render of a series
waits for nobody and submits nothing while another holds it, and a dead holder's lock is gone."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from storyboard.errors import JournalError
from storyboard.run.state.runlock import run_lock

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from storyboard.run.state.runlock import run_lock
    with run_lock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(60)
""")


def test_a_second_render_is_refused_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(JournalError, match=rf"pid {holder.pid}\); wait for it"), \
                run_lock(tmp_path):
            pytest.fail("the lock was taken twice")
    finally:
        holder.kill()
        holder.wait()
    with run_lock(tmp_path):  # a dead holder's lock is released by the OS
        assert (tmp_path / ".storyboard" / "run.pid").read_text(encoding="utf-8").isdigit()

