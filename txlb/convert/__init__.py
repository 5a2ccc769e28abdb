"""
Migration from pythondirector and txLoadBalancer: C{txlb convert OLD.xml}
turns their XML configuration into a C{.tac} (see C{doc/migration.rst}).
"""

from txlb.convert._command import convert, convertFile
from txlb.convert._pythondirector import Conversion, interpret
from txlb.convert._tac import tacSource
from txlb.convert._xml import Element, readXML

__all__ = ["Conversion", "Element", "convert", "convertFile", "interpret", "readXML", "tacSource"]
