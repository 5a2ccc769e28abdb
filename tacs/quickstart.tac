# A balancer on 127.0.0.1:8080 over two backends, in round robin.
#
# Run it with:   twistd -ny tacs/quickstart.tac
#           or:  twistd -n txlb --config tacs/quickstart.tac
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
                        scheduler="roundrobin",
                        hosts=[
                            Host("app1", "127.0.0.1:8081"),
                            Host("app2", "127.0.0.1:8082"),
                        ],
                    )
                ],
            )
        ]
    )
)
