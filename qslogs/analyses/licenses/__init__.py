"""The licenses analysis: allocation against what was bought, growth per month and the runway.

- :mod:`~.analysis`: the queries and the build step (the entry point, ``ANALYSIS``); :mod:`~.result`: what it
  returns (:class:`~.result.LicensesResult`); :mod:`~.capacity`: licenses bought, from CalInfo and the options;
- :mod:`~.events`: license events from the logs; :mod:`~.qvd`, :mod:`~.qvd_map`, :mod:`~.qvd_recognise`:
  License Monitor QVD tables, recognised by their fields or mapped by the user;
- :mod:`~.timeline`: allocations per day; :mod:`~.growth`, :mod:`~.fits`, :mod:`~.tdist`: growth per month,
  fitted lines with their uncertainty and the date licenses run out; :mod:`~.denials`: access denied;
  :mod:`~.findings`: the conclusions in words.
"""

from qslogs.analyses.licenses.analysis import ANALYSIS, NAME
from qslogs.analyses.licenses.result import LicensesResult

__all__ = ["ANALYSIS", "NAME", "LicensesResult"]
