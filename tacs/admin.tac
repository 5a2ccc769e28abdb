# A balancer with its admin: XML-RPC at http://127.0.0.1:8001/RPC2, the
# status page at http://127.0.0.1:8001/ and Prometheus metrics at /metrics.
#
# Run it with:   twistd -ny tacs/admin.tac
# then:          txlbctl status      (127.0.0.1:8001 is txlbctl's default)
#
# To open the admin to other machines, give it a users file:
#     txlb passwd /etc/txlb/users alice --role admin
#     Admin(["tcp:8001", "ssl:8443:privateKey=key.pem:certKey=cert.pem"],
#           users="/etc/txlb/users")
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
                        "blue",
                        hosts=[
                            Host("app1", "127.0.0.1:8081"),
                            Host("app2", "127.0.0.1:8082"),
                        ],
                    ),
                    Group("green"),
                ],
            )
        ],
        admin=Admin(
            ["tcp:8001:interface=127.0.0.1"],
            refresh=5,
            projectURL="https://example.org/mysite",
        ),
    )
)
