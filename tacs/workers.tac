# A balancer to run in several processes sharing 127.0.0.1:8080, with one
# admin (on 127.0.0.1:8001) for all of them. --workers is a flag of
# twistd txlb; twistd -ny runs a .tac as one process.
#
# Run it with:   twistd -n txlb --workers 2 --config tacs/workers.tac
# Then:          txlbctl --url http://127.0.0.1:8001/RPC2 workers
from txlb.config import Admin, Balancer, Group, Host, Service
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
                        scheduler="leastconns",
                        hosts=[
                            Host("app1", "127.0.0.1:8081"),
                            Host("app2", "127.0.0.1:8082"),
                        ],
                    )
                ],
            )
        ],
        admin=[Admin(["tcp:8001:interface=127.0.0.1"])],
    )
)
