# A group balanced by a third-party scheduler plugin ("lightest", defined in
# tacs/plugins/twisted/plugins/txlb_example_scheduler.py).
#
# Run it with:   PYTHONPATH=tacs/plugins twistd -ny tacs/plugin_scheduler.tac
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
                        scheduler="lightest",
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
