"""A flag or an argument people reach for that a command does not take, answered with what it is
and the command that does it (issue 97, item 3): `season render --boards`, `worker SERIES`."""

from __future__ import annotations

from click.testing import CliRunner, Result

from storyboard.cli.main import cli as group


def command(*args: str) -> Result:
    return CliRunner().invoke(group, [*args])


def said(done: Result) -> str:
    return " ".join(done.output.split())


def test_season_render_boards_says_where_boards_are_drawn() -> None:
    done = command("season", "render", "my-series", "--boards")
    assert done.exit_code == 2
    text = said(done)
    assert "storyboard season render has no --boards option: it draws a series' boards " \
        "itself" in text
    assert "`storyboard render SERIES boards`" in text and \
        "`storyboard approve SERIES boards/EP`" in text
    assert "Did you mean" not in text and "--var" not in text


def test_season_render_keeps_click_s_answer_for_other_flags() -> None:
    done = command("season", "render", "my-series", "--shot", "ep01/s01")
    assert done.exit_code == 2 and "No such option --shot" in said(done).replace("'", "")


def test_worker_given_a_series_says_what_it_takes_and_what_to_run() -> None:
    done = command("worker", "my-series")
    assert done.exit_code == 2
    text = said(done)
    assert "storyboard worker takes no argument (my-series): a worker renders the shots " \
        "`storyboard queue render SERIES` put on the team ledger" in text
    assert "`storyboard queue render my-series`" in text and \
        "`storyboard render my-series`" in text
    assert "Got unexpected extra argument" not in text


def test_the_answer_names_the_command_however_the_program_was_started() -> None:
    """`python -m storyboard render --offline` names the root by three words: the answer says
    `storyboard render`, not `storyboard -m storyboard render`."""
    for prog in ("storyboard", "python -m storyboard", "sb"):
        done = CliRunner().invoke(group, ["render", "my-series", "--offline"], prog_name=prog)
        assert done.exit_code == 2
        assert "storyboard render has no --offline option:" in said(done), prog
        assert "-m storyboard render has" not in said(done)
