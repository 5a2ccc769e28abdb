# TLS on both sides (see doc/tls.rst).
#
# Make example certificates first (a CA of your own and certificates it
# signs; for trying txlb only):
#
#   sh tacs/make-tls-certs.sh tls-example
#
# then, from the top of the checkout, a TLS backend and txlb:
#
#   (cd tls-example && openssl s_server -accept 127.0.0.1:9443 -cert backend.example.crt \
#       -key backend.example.key -www) &
#   twistd -ny tacs/tls.tac
#
# Service "web" serves TLS on 127.0.0.1:8443 (localhost's certificate, or
# www.example's to a client asking for that name) and speaks TLS to its
# backend, checking that it is backend.example signed by the example CA:
#
#   curl --cacert tls-example/ca.pem https://localhost:8443/
#
# Service "mtls" on 127.0.0.1:8444 also requires a client certificate:
#
#   curl --cacert tls-example/ca.pem --cert tls-example/client.crt \
#       --key tls-example/client.key https://localhost:8444/
#
# After replacing a certificate file: kill -HUP PID, or txlbctl reload-certificates.
import os

from txlb.config import Admin, Balancer, ClientTLS, Group, HealthCheck, Host, Service, ServerTLS
from txlb.tac import application

certs = os.environ.get("TXLB_TLS_DIR", "tls-example")


def path(name):
    return os.path.join(certs, name)


backend = Host(
    "app",
    "127.0.0.1:9443",
    tls=ClientTLS(servername="backend.example", ca=path("ca.pem")),
)
served = dict(
    cert=path("localhost.crt"),
    key=path("localhost.key"),
    sni={"www.example": (path("www.example.crt"), path("www.example.key"))},
)

application = application(
    Balancer(
        services=[
            Service(
                "web",
                listen=["tcp:8443:interface=127.0.0.1"],
                tls=ServerTLS(**served),
                groups=[Group("app", hosts=[backend], check=HealthCheck("tcp"))],
            ),
            Service(
                "mtls",
                listen=["tcp:8444:interface=127.0.0.1"],
                tls=ServerTLS(clientCA=path("ca.pem"), **served),
                groups=[Group("app", hosts=[backend])],
            ),
        ],
        admin=Admin("tcp:8001:interface=127.0.0.1"),
    )
)
