"""
txlb's fault suite: scenarios with real processes on 127.0.0.1 proving
what txlb does when things go wrong, run by C{python -m txlb.faultsuite}
(which writes C{doc/reliability.rst}) and by C{tests/test_faults_*.py}.

Run it from a checkout: it builds on C{tests/support.py}.
"""

from txlb.faultsuite._outcome import Outcome
from txlb.faultsuite._registry import PENDING, SCENARIOS, Pending, Scenario

__all__ = ["Outcome", "Scenario", "Pending", "SCENARIOS", "PENDING"]
