"""
Watching a prefix through the gateway's streaming C{/v3/watch}: one
long-lived POST whose answer is a stream of JSON objects, one per line
(C{{"result": {...}}}): first C{created}, then batches of C{events}; a
watch whose start revision was compacted away answers C{canceled} with
C{compact_revision}.
"""

import json

from twisted.internet import defer
from twisted.internet.protocol import Protocol

from txlb.etcd._client import KeyValue, encode, prefixEnd

#: Event kinds.
PUT, DELETE = "PUT", "DELETE"


class Compacted(Exception):
    """
    The watch started before the oldest revision etcd still has.
    """

    def __init__(self, revision):
        Exception.__init__(self, f"history before revision {revision} was compacted")
        self.revision = revision


class WatchEnded(Exception):
    """
    The member ended the watch stream (it stopped, or the connection broke).
    """


class _Lines(Protocol):
    """
    Reads the stream of a watch; each JSON object goes to C{watch.received}.
    """

    def __init__(self, watch):
        self.watch = watch
        self.buffer = b""

    def dataReceived(self, data):
        self.buffer += data
        decoder = json.JSONDecoder()
        text = self.buffer.decode("utf-8", "replace")
        position, consumed = 0, 0
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            if position >= len(text):
                break
            try:
                value, position = decoder.raw_decode(text, position)
            except ValueError:
                break
            consumed = position
            self.watch.received(value)
        self.buffer = text[consumed:].encode("utf-8")

    def connectionLost(self, reason):
        self.watch.streamLost(reason)


class Watch:
    """
    One watch of every key under a prefix, from a revision on.

    C{onEvents(revision, [(kind, KeyValue)])} is called for each batch;
    C{done} fires (with None) when L{stop} is called, or fails with
    L{Compacted} or L{WatchEnded}.

    @ivar url: the member watched.
    """


    def __init__(self, client, prefix, startRevision, onEvents):
        self.client = client
        self.prefix = prefix
        self.startRevision = startRevision
        self.onEvents = onEvents
        self.done = defer.Deferred()
        self.created = defer.Deferred()
        self.stream = None
        self.stopped = False
        self.url = None
        self._failure = None

    def start(self):
        """
        Open the stream on the member the client tries first; returns
        C{self.created}, fired once etcd confirmed the watch.
        """
        self.url = self.client.order()[0]
        body = {"create_request": {
            "key": encode(self.prefix),
            "range_end": encode(prefixEnd(self.prefix)),
            "start_revision": str(self.startRevision),
        }}
        d = self.client.streams.post(
            self.url + "/v3/watch", data=json.dumps(body).encode("utf-8"), unbuffered=True,
            reactor=self.client.reactor, timeout=self.client.timeout,
            headers={b"Content-Type": [b"application/json"]},
        )
        d.addCallbacks(self._connected, self._finish)
        return self.created

    def _connected(self, response):
        if response.code != 200:
            self._finish(WatchEnded(f"{self.url} answered {response.code} to a watch"))
            response.deliverBody(Protocol())
            return
        self.stream = _Lines(self)
        response.deliverBody(self.stream)
        if self.stopped:
            self.stream.transport.stopProducing()

    def received(self, value):
        """
        One object of the stream.
        """
        result = value.get("result", value)
        if "error" in value:
            self._fail(WatchEnded(f"{self.url}: {value.get('error')}"))
            return
        if result.get("canceled"):
            compacted = int(result.get("compact_revision", 0) or 0)
            self._fail(Compacted(compacted) if compacted else WatchEnded(
                f"{self.url} cancelled the watch: {result.get('cancel_reason', 'no reason given')}"))
            return
        if result.get("created") and not self.created.called:
            self.client.answered(self.url)
            self.created.callback(int(result["header"]["revision"]))
        events = result.get("events")
        if events:
            batch = [(e.get("type", PUT), KeyValue.fromGateway(e["kv"])) for e in events]
            self.onEvents(int(result["header"]["revision"]), batch)

    def _fail(self, why):
        self._failure = why
        if self.stream is not None and self.stream.transport is not None:
            self.stream.transport.stopProducing()

    def streamLost(self, reason):
        """
        The stream ended.
        """
        self._finish(self._failure or WatchEnded(f"the watch on {self.url} ended"))

    def _finish(self, why):
        if self.done.called:
            return
        if not self.created.called:
            self.created.errback(why if not self.stopped else defer.CancelledError())
            self.created.addErrback(lambda _: None)
        if self.stopped:
            self.done.callback(None)
        else:
            self.done.errback(why)

    def stop(self):
        """
        End the watch; C{done} fires.
        """
        self.stopped = True
        if self.stream is not None and self.stream.transport is not None:
            self.stream.transport.stopProducing()
        elif self.stream is None:
            self._finish(None)
        return self.done
