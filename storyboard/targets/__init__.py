"""What each model and gateway accepts, as data: the capability table every stage reads.

The language checks shots against these declarations, dialects obey them, providers bill by them;
this package imports none of those, so every arrow into it points down.
"""

from storyboard.targets.capabilities import NATIVE_SIZES, Capabilities, HasVideo, Limits, PriceTable
from storyboard.targets.taskapi import TaskProtocol, TaskState, TaskStatus, Usage

__all__ = ["NATIVE_SIZES", "Capabilities", "HasVideo", "Limits", "PriceTable", "TaskProtocol",
           "TaskState", "TaskStatus", "Usage"]
