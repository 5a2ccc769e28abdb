"""
txlb: a TCP load balancer built on Twisted.

Describe a balancer with L{txlb.config} (C{Balancer}, C{Service}, C{Group},
C{Host}) and run it with C{twistd -ny your.tac} or C{twistd txlb --config}.
"""

__version__ = "0.1.0"
