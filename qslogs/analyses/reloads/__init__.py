"""The reloads analysis: task runs linked to their script logs, the root cause of each failure, verdicts on the
monitoring apps, manual reloads and node history.

- :mod:`~.analysis`: the queries and the build step (the entry point, ``ANALYSIS``); :mod:`~.result`: the
  typed result (:class:`ReloadsResult`); :mod:`~.aggregates`: what the report draws beyond the tables;
- :mod:`~.task_runs`, :mod:`~.run_outcome`: scheduler records → one row per run with its outcome;
- :mod:`~.script_link`, :mod:`~.run_context`: runs ↔ script logs, and the log lines around the root cause;
- :mod:`~.script_failures`: failed script logs no run explains; :mod:`~.health`: monitoring-app verdicts,
  per-task summaries, the failure heatmap; :mod:`~.findings`: findings from all of these;
- :mod:`~.nodes`: versions and restarts per node.
"""

from qslogs.analyses.reloads.analysis import ANALYSIS, NAME
from qslogs.analyses.reloads.result import ReloadsMeta, ReloadsResult

__all__ = ["ANALYSIS", "NAME", "ReloadsMeta", "ReloadsResult"]
