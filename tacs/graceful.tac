# A balancer that stops gracefully: on SIGTERM it stops accepting, lets open
# connections finish for up to 30 s, then exits. Hosts that never complete
# the handshake cost a client 2 s before it is failed over; connections
# silent both ways for 5 minutes are closed.
#
# Run it with:   twistd -n txlb --config tacs/graceful.tac
from txlb.config import Balancer, Group, Host, Service
from txlb.tac import application

application = application(
    Balancer(
        services=[
            Service(
                "web",
                listen=["tcp:8080:interface=127.0.0.1"],
                groups=[
                    Group(
                        "default",
                        hosts=[
                            Host("app1", "127.0.0.1:8081"),
                            Host("app2", "127.0.0.1:8082"),
                        ],
                    )
                ],
                connectTimeout=2.0,
                idleTimeout=300.0,
                drainTimeout=30.0,
            )
        ]
    )
)
