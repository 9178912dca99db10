"""Command names into the examples their ``--help`` ends with (click's epilog), one table.

Every command shows at least one line a user can run as it is on a series of their own (``my-series``,
as ``storyboard init my-series`` makes it: a wheel has no ``examples/`` folder);
``tests/cli/test_cli_examples.py`` holds each line to the command's own options.
"""

from __future__ import annotations

import click

SERIES = "my-series"
EXAMPLES: dict[str, tuple[str, ...]] = {
    "check": (f"storyboard check {SERIES}", f"storyboard check {SERIES} --format github"),
    "compile": (f"storyboard compile {SERIES} --episode ep01",
                f"storyboard compile {SERIES} --format prompt --shot ep01/arrival"),
    "plan": (f"storyboard plan {SERIES} --provider dashscope",
             f"storyboard plan {SERIES} --offline --json",
             f"storyboard plan {SERIES} --provider dashscope --season --episode-budget 2"),
    "render": (f"storyboard render {SERIES}                 # the free local animatic",
               f"storyboard render {SERIES} --provider dashscope --budget 5",
               f"storyboard render {SERIES} ep01/arrival 'ep01/s*'",
               f"storyboard render {SERIES} boards --provider dashscope   # a still a shot",
               f"storyboard render {SERIES} boards   # drawn stills, out/boards/EP.mp4 animatic",
               f"storyboard render {SERIES} 1-3   # those episodes, by number",
               f"storyboard render {SERIES} --set concurrency=2 --set offline=true"),
    "season": (f"storyboard season render {SERIES} --provider dashscope --episodes 1-3 --yes",),
    "season render": (f"storyboard season render {SERIES} --provider dashscope --yes",
                      f"storyboard season render {SERIES} --episodes 1-3 --episode-budget 2"),
    "version": (f"storyboard version render {SERIES} es --provider dashscope",),
    "version render": (f"storyboard version render {SERIES} es --provider dashscope --budget 1",
                       f"storyboard version render {SERIES} --all --yes   # every language"),
    "queue": (f"storyboard queue render {SERIES} --provider comfyui   # for storyboard worker",),
    "queue render": (f"storyboard queue render {SERIES} --provider comfyui --budget 20",
                     f"storyboard queue render {SERIES} --episodes 2 --yes --json"),
    "queue upgrade": ("storyboard queue upgrade --ledger postgresql://db.lan/storyboard   # "
                      "workers stopped",),
    "status": (f"storyboard status {SERIES}", f"storyboard status {SERIES} --pending --json",
               f"storyboard status {SERIES} --queue   # shots queued for workers"),
    "cancel": (f"storyboard cancel {SERIES} --provider dashscope",),
    "emulate": ("storyboard emulate --port 8765",
                "storyboard emulate --dialect openai-video --latency 0.5 --fault submit:429:0.2"),
    "doctor": ("storyboard doctor", f"storyboard doctor {SERIES} --json"),
    "init": ("storyboard init my-series", "storyboard init my-ad --template ad",
             "storyboard init feature --from feature.fountain --episode-minutes 8"),
    "config": (f"storyboard config {SERIES} --provider dashscope",),
    "completion": ("storyboard completion bash >> ~/.bashrc",),
    "push": (f"storyboard push {SERIES} --provider dashscope",),
    "pull": (f"storyboard pull {SERIES} --provider dashscope --episode ep01",),
    "sheet": (f"storyboard sheet {SERIES}", f"storyboard sheet {SERIES} --png -o sheets"),
    "export": (f"storyboard export {SERIES} --format otio",
               f"storyboard export {SERIES} --format jianying --episode ep01 -o drafts"),
    "studio": (f"storyboard studio {SERIES}", f"storyboard studio {SERIES} --port 8600 --open"),
    "mcp": ("storyboard mcp . --budget-ceiling 20",),
    "takes": (f"storyboard takes {SERIES} ep01/arrival", f"storyboard takes {SERIES} cast/ada"),
    "pick": (f"storyboard pick {SERIES} ep01/arrival 2", f"storyboard pick {SERIES} voices/ada-voice 1",
             f"storyboard pick {SERIES} boards/ep01/arrival 2   # the board its animatic shows"),
    "approve": (f"storyboard approve {SERIES} ep01/arrival",
                f"storyboard approve {SERIES} boards/ep01/arrival   # its video may be paid now"),
    "retake": (f"storyboard retake {SERIES} ep01/arrival -n 2 --budget 3",
               f"storyboard retake {SERIES} cast/ada    # a generated cast member's picture",
               f"storyboard retake {SERIES} boards/ep01/arrival   # another board to pick from"),
    "cache": (f"storyboard cache {SERIES}", f"storyboard cache prune {SERIES} --max-size 500MB"),
    "cache show": (f"storyboard cache show {SERIES}",),
    "cache prune": (f"storyboard cache prune {SERIES} --older-than 30d",
                    f"storyboard cache prune {SERIES} --max-size 500MB"),
    "task": (f"storyboard task adopt {SERIES} ep01/arrival TASK_ID",),
    "task adopt": (f"storyboard task adopt {SERIES} ep01/arrival TASK_ID",),
    "task forget": (f"storyboard task forget {SERIES} ep01/arrival --yes",),
    "models": ("storyboard models", "storyboard models --json",
               "storyboard models check   # the declared ids against the vendors' catalogues"),
    "models check": ("storyboard models check",
                     "storyboard models check --json --base-url openai-video=https://GATEWAY/v1"),
    "docs": ("storyboard docs                    # the pages and their titles",
             "storyboard docs starting           # a page, as Markdown"),
    "worker": ("storyboard worker --ledger postgresql://renders.internal/storyboard --slots 2",
               "storyboard worker --providers comfyui --tags gpu-a --slots 4 --root ~/clone"),
    "breakdown": ("storyboard breakdown story.md --dry-run        # what it would ask and cost",
                  "storyboard breakdown story.md my-series --episodes 12 --budget 2"),
    "translate": ("storyboard translate my-series --language es --dry-run   # what it would cost",
                  "storyboard translate my-series --language es --budget 0.5",
                  "storyboard translate my-series --language pt-BR --no-model   # fill in by hand"),
}


def epilog(lines: tuple[str, ...]) -> str:
    """``lines`` as click prints them unwrapped (``\\b`` keeps a paragraph as written)."""
    return "\b\nExamples:\n" + "\n".join(f"  $ {line}" for line in lines)


def attach(group: click.Group, path: tuple[str, ...] = ()) -> None:
    """Give every command under ``group`` its examples (the group's own too, when it has some)."""
    for name, command in group.commands.items():
        key = " ".join((*path, name))
        if key in EXAMPLES:
            command.epilog = epilog(EXAMPLES[key])
        if isinstance(command, click.Group):
            attach(command, (*path, name))
