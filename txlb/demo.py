"""
The demo: three small backends inside the balancer's own process, each
answering with its own name, so that rotation can be seen with curl or nc.
"""

from twisted.application.service import Service
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from zope.interface import implementer

from txlb.address import backendConnector, formatAddress, listenEndpoint
from txlb.backend import Backend
from txlb.config import Balancer, Group
from txlb.config import Service as ServiceSpec

DEMO_LISTEN = "tcp:8080:interface=127.0.0.1"
DEMO_NAMES = ("demo-1", "demo-2", "demo-3")
_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ")


@implementer(IHalfCloseableProtocol)
class DemoBackendProtocol(Protocol):
    """
    Answers an HTTP request with C{hello from NAME}, or each line of any
    other text with C{NAME: line}.
    """

    def __init__(self, name):
        self.name = name
        self.buffer = b""

    def dataReceived(self, data):
        self.buffer += data
        if self.buffer.startswith(_METHODS):
            if b"\r\n\r\n" in self.buffer or b"\n\n" in self.buffer:
                body = f"hello from {self.name}\n".encode()
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                ).encode()
                self.transport.write(head + body)
                self.transport.loseConnection()
            return
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            self.transport.write(self.name.encode() + b": " + line + b"\n")

    def readConnectionLost(self):
        if self.buffer and not self.buffer.startswith(_METHODS):
            self.transport.write(self.name.encode() + b": " + self.buffer + b"\n")
        self.transport.loseConnection()

    def writeConnectionLost(self):
        pass


class DemoBackends(Service):
    """
    Starts demo backends on 127.0.0.1 (ports from the OS) and adds each to
    C{pool} once it is bound.
    """

    log = Logger()

    def __init__(self, pool, reactor, names=DEMO_NAMES):
        self.pool = pool
        self.reactor = reactor
        self.names = names
        self.ports = []

    def startService(self):
        Service.startService(self)
        for name in self.names:
            factory = Factory.forProtocol(lambda name=name: DemoBackendProtocol(name))
            factory.noisy = False
            endpoint = listenEndpoint("tcp:0:interface=127.0.0.1", self.reactor)
            endpoint.listen(factory).addCallback(self._bound, name)

    def _bound(self, port, name):
        self.ports.append(port)
        address = formatAddress(port.getHost())
        self.pool.addHost(Backend(name, address, backendConnector(address, self.reactor)))
        self.log.info("demo backend {name} answering on {address}", name=name, address=address)

    def stopService(self):
        Service.stopService(self)
        ports, self.ports = self.ports, []
        for port in ports:
            port.stopListening()


class DemoGuide(Service):
    """
    Logs, once the listeners are bound, how to try the demo.
    """

    log = Logger()

    def __init__(self, proxy):
        self.proxy = proxy

    def startService(self):
        Service.startService(self)
        self.proxy.reactor.callWhenRunning(self._guide)

    def _guide(self):
        for listener in self.proxy.listeners:
            address = listener.address
            if address is None:
                continue
            self.log.info(
                "txlb demo ready: try  curl http://{address}/  a few times, or "
                " nc {host} {port}  and type lines; each new connection reaches "
                "the next demo backend",
                address=address,
                host=address.rpartition(":")[0].strip("[]"),
                port=address.rpartition(":")[2],
            )


def demo(builder, listen=(DEMO_LISTEN,), scheduler="roundrobin", admin=(), **options):
    """
    Build the demo balancer with C{builder}: a service named C{default}
    listening on C{listen}, whose group C{default} holds three demo
    backends, and the C{admin} (L{txlb.config.Admin} values) given.

    @param options: more L{txlb.config.Service} options (access control
        and limits).
    """
    spec = Balancer(
        services=[ServiceSpec("default", listen=listen, groups=[Group("default", scheduler)], **options)],
        admin=admin,
    )
    top = builder.balancer(spec)
    proxy = top.proxies["default"]
    backends = DemoBackends(proxy.pools["default"], builder.reactor)
    backends.setServiceParent(top)
    DemoGuide(proxy).setServiceParent(top)
    return top
