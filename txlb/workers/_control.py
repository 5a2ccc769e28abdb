"""
How worker 0 talks to another worker: XML-RPC over the worker's private
UNIX socket (in a directory only txlb's user can enter), with a timeout.
"""

import xmlrpc.client
from io import BytesIO

from twisted.internet.endpoints import UNIXClientEndpoint
from twisted.web.client import Agent, FileBodyProducer, HTTPConnectionPool, _HTTP11ClientFactory, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgentEndpointFactory
from zope.interface import implementer

#: Seconds a worker has to answer one call.
CALL_TIMEOUT = 10.0


class WorkerCallError(Exception):
    """
    A worker refused a call or did not answer it.
    """


class _QuietFactory(_HTTP11ClientFactory):
    noisy = False


class _QuietPool(HTTPConnectionPool):
    # One "Starting factory" line per poll would drown worker 0's log.
    _factory = _QuietFactory


@implementer(IAgentEndpointFactory)
class _OneSocket:
    def __init__(self, reactor, path):
        self.reactor = reactor
        self.path = path

    def endpointForURI(self, uri):
        return UNIXClientEndpoint(self.reactor, self.path, timeout=CALL_TIMEOUT)


class ControlClient:
    """
    Calls the admin methods of one worker at C{path}.
    """

    def __init__(self, reactor, path, clock=None):
        self.reactor = reactor
        self.clock = clock if clock is not None else reactor
        self.path = path
        self.pool = _QuietPool(reactor, persistent=True)
        self.pool.maxPersistentPerHost = 1
        self.agent = Agent.usingEndpointFactory(reactor, _OneSocket(reactor, path), pool=self.pool)

    def call(self, method, *args):
        """
        Call C{method}; a Deferred of its result, failing with
        L{WorkerCallError} (one sentence) when the worker refuses or does
        not answer.
        """
        body = xmlrpc.client.dumps(tuple(args), method, allow_none=False).encode("utf-8")
        d = self.agent.request(
            b"POST",
            b"http://worker/RPC2",
            Headers({b"Content-Type": [b"text/xml"]}),
            FileBodyProducer(BytesIO(body)),
        )
        d.addCallback(readBody)
        d.addTimeout(CALL_TIMEOUT, self.clock)
        d.addCallbacks(self._parse, self._failed, callbackArgs=(method,), errbackArgs=(method,))
        return d

    def _parse(self, body, method):
        try:
            return xmlrpc.client.loads(body)[0][0]
        except xmlrpc.client.Fault as e:
            raise WorkerCallError(f"{method} refused: {e.faultString}") from None
        except Exception as e:
            raise WorkerCallError(f"{method}: the worker's answer is not XML-RPC ({e})") from None

    def _failed(self, reason, method):
        reason.trap(Exception)
        if reason.check(WorkerCallError):
            return reason
        raise WorkerCallError(f"{method}: {reason.getErrorMessage() or reason.type.__name__}")

    def close(self):
        """
        Close the kept-alive connection; a Deferred.
        """
        return self.pool.closeCachedConnections()
