"""
txlb's fault suite: scenarios with real processes on 127.0.0.1 proving
what txlb does when things go wrong, run by C{python -m faults}
(which writes C{doc/reliability.rst}) and by C{tests/test_faults_*.py}.

Run it from a checkout: it builds on C{tests/support.py}.
"""

from faults._outcome import Outcome
from faults._registry import SCENARIOS, Scenario

__all__ = ["Outcome", "Scenario", "SCENARIOS"]
