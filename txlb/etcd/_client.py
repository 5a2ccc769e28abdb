"""
A small etcd v3 client for Twisted: treq against etcd's JSON gateway
(C{/v3/kv/*}, C{/v3/lease/*}), keys and values base64 as the gateway wants
them, no threads. The PyPI etcd clients speak gRPC through asyncio or
threads, or are unmaintained; the gateway is etcd's own, documented HTTP
face, so a few calls over treq are all that is needed.

Several endpoints (cluster members) are tried in turn: a call that cannot
reach one member (refused, reset, timed out, or a member answering 5xx)
moves on to the next; the member that answered last is tried first next
time. Only when every member failed does the call fail, with
L{EtcdUnavailable}.
"""

import base64
import json

import attr
from treq.client import HTTPClient
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.web.client import Agent

from txlb._twisted import quietConnectionPool

#: How long one call may take on one member before the next is tried.
CALL_TIMEOUT = 2.0


class EtcdError(Exception):
    """
    etcd answered, and refused the call (C{code} is the gRPC code).
    """

    def __init__(self, message, code=None):
        Exception.__init__(self, message)
        self.message = message
        self.code = code


class EtcdUnavailable(Exception):
    """
    No member of the cluster answered.
    """


def encode(text):
    """
    A key or value as the gateway wants it: base64 of its UTF-8 bytes.
    """
    if isinstance(text, str):
        text = text.encode("utf-8")
    return base64.b64encode(text).decode("ascii")


def decode(text):
    """
    The bytes of a base64 key or value the gateway answered, as text.
    """
    return base64.b64decode(text or "").decode("utf-8")


def prefixEnd(prefix):
    """
    The C{range_end} that makes a range of every key starting with C{prefix}.
    """
    raw = prefix.encode("utf-8")
    return (raw[:-1] + bytes([raw[-1] + 1])) if raw else b"\0"


@attr.s(frozen=True)
class KeyValue:
    """
    One key as etcd keeps it.
    """

    key = attr.ib()
    value = attr.ib()
    modRevision = attr.ib()
    lease = attr.ib(default=0)

    @classmethod
    def fromGateway(cls, data):
        """
        Read a C{kv} object of the gateway.
        """
        return cls(
            decode(data.get("key")),
            decode(data.get("value")),
            int(data.get("mod_revision", 0)),
            int(data.get("lease", 0)),
        )


def endpointsOf(text):
    """
    The member URLs of C{URL[,URL...]}, without a trailing slash.
    """
    if isinstance(text, str):
        text = text.split(",")
    return tuple(u.strip().rstrip("/") for u in text if u.strip())


class EtcdClient:
    """
    Calls to an etcd cluster through its JSON gateway.

    @ivar endpoints: the member URLs (C{http://127.0.0.1:2379}, ...).
    @ivar current: the index of the member tried first.
    """


    def __init__(self, reactor, endpoints, timeout=CALL_TIMEOUT):
        self.reactor = reactor
        self.endpoints = endpointsOf(endpoints)
        if not self.endpoints:
            raise ValueError("etcd needs at least one endpoint URL")
        self.timeout = timeout
        self.current = 0
        self.pending = set()
        self.pool = quietConnectionPool(reactor, persistent=True)
        self.pool.retryAutomatically = False
        self.http = HTTPClient(Agent(reactor, pool=self.pool))
        # Long-lived streams (watches) get their own connections.
        self.streams = HTTPClient(Agent(reactor, pool=quietConnectionPool(reactor, persistent=False)))

    def order(self):
        """
        The member URLs in the order to try them.
        """
        n = len(self.endpoints)
        return [self.endpoints[(self.current + i) % n] for i in range(n)]

    def answered(self, url):
        """
        C{url} answered: try it first from now on.
        """
        self.current = self.endpoints.index(url)

    def call(self, path, body):
        """
        POST C{body} (JSON) to C{path} on the first member that answers;
        fires with the decoded answer.

        @raise EtcdError: when etcd refused the call.
        @raise EtcdUnavailable: when no member answered.
        """
        d = self._call(path, body)
        self.pending.add(d)

        def done(result):
            self.pending.discard(d)
            return result

        return d.addBoth(done)

    @defer.inlineCallbacks
    def _call(self, path, body):
        data = json.dumps(body).encode("utf-8")
        failures = []
        for url in self.order():
            try:
                response = yield self.http.post(
                    url + path, data=data, reactor=self.reactor, timeout=self.timeout,
                    headers={b"Content-Type": [b"application/json"]},
                )
                text = yield response.content()
            except Exception as e:
                failures.append(f"{url}: {describe(e)}")
                continue
            if response.code >= 500:
                failures.append(f"{url}: answered {response.code}")
                continue
            # (A member without a leader or quorum answers 5xx: another may do better.)
            self.answered(url)
            answer = json.loads(text or b"{}")
            if "error" in answer or response.code >= 400:
                raise EtcdError(answer.get("message") or answer.get("error") or str(response.code),
                                answer.get("code"))
            return answer
        raise EtcdUnavailable("no etcd member answered (" + "; ".join(failures) + ")")

    # Keys

    @defer.inlineCallbacks
    def getPrefix(self, prefix):
        """
        Every key under C{prefix}: fires with C{(revision, [KeyValue])}.
        """
        answer = yield self.call("/v3/kv/range", {"key": encode(prefix), "range_end": encode(prefixEnd(prefix))})
        kvs = [KeyValue.fromGateway(kv) for kv in answer.get("kvs", ())]
        return int(answer["header"]["revision"]), kvs

    def put(self, key, value, lease=0):
        """
        Set C{key} to C{value} (under C{lease} when not 0).
        """
        body = {"key": encode(key), "value": encode(value)}
        if lease:
            body["lease"] = str(lease)
        return self.call("/v3/kv/put", body)

    def delete(self, key):
        """
        Delete C{key}.
        """
        return self.call("/v3/kv/deleterange", {"key": encode(key)})

    @defer.inlineCallbacks
    def transaction(self, unchanged, puts=(), deletes=()):
        """
        Put and delete keys at once, only if each key of C{unchanged}
        (a dict: key to the mod revision read, 0 for absent) is as read.
        Fires with C{(succeeded, revision)}.
        """
        compare = [{"key": encode(k), "target": "MOD", "result": "EQUAL", "mod_revision": str(r)}
                   for k, r in unchanged.items()]
        success = [{"request_put": {"key": encode(k), "value": encode(v)}} for k, v in puts]
        success += [{"request_delete_range": {"key": encode(k)}} for k in deletes]
        answer = yield self.call("/v3/kv/txn", {"compare": compare, "success": success})
        return bool(answer.get("succeeded")), int(answer["header"]["revision"])

    def compact(self, revision):
        """
        Forget the history before C{revision}.
        """
        return self.call("/v3/kv/compaction", {"revision": str(revision), "physical": True})

    # Leases

    @defer.inlineCallbacks
    def grant(self, ttl):
        """
        A new lease of C{ttl} seconds: fires with its id.
        """
        answer = yield self.call("/v3/lease/grant", {"TTL": str(int(ttl))})
        return int(answer["ID"])

    @defer.inlineCallbacks
    def keepAlive(self, lease):
        """
        Renew C{lease}: fires with its new TTL, 0 when it has expired.
        """
        answer = yield self.call("/v3/lease/keepalive", {"ID": str(lease)})
        return int(answer.get("result", answer).get("TTL", 0))

    def revoke(self, lease):
        """
        End C{lease} now: its keys are deleted.
        """
        return self.call("/v3/lease/revoke", {"ID": str(lease)})

    def close(self):
        """
        Close the connections once the calls under way are answered (or
        timed out).
        """
        under = defer.DeferredList(list(self.pending), consumeErrors=True)
        return under.addCallback(lambda _: self.pool.closeCachedConnections())


def describe(e):
    """
    What went wrong talking to a member, in a few words (a refused
    connection, a timeout, a lost connection), for logs and Faults.
    """
    if isinstance(e, Failure):
        e = e.value
    if isinstance(e, defer.CancelledError):
        return "timed out"
    reasons = getattr(e, "reasons", None)
    if reasons:
        return "; ".join(describe(r) for r in reasons)
    return str(e).rstrip(".") or type(e).__name__


__all__ = ["EtcdClient", "EtcdError", "EtcdUnavailable", "KeyValue", "describe", "encode", "decode", "prefixEnd"]
