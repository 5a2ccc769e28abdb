# Health checks, passive ejection, slow start and heartbeats.
#
# Run it from the top of the checkout with:   twistd -ny tacs/health.tac
#
# Group "web" checks its hosts with HTTP GET /health every 2 s; hosts whose
# connections keep failing are ejected; a host that comes back ramps up over
# 30 s; if every host is down, all are used anyway (panic).
# Group "workers" gets its hosts from heartbeats on UDP port 9999:
#
#   txlb heartbeat --to 127.0.0.1:9999 --key-file tacs/heartbeat.key \
#       --name w1 --address 127.0.0.1:8091
#
# tacs/heartbeat.key is an EXAMPLE key: make your own for real use, e.g.
#   head -c 32 /dev/urandom | base64 > /etc/txlb/heartbeat.key
import os

from txlb.config import (
    Balancer,
    Ejection,
    Group,
    HealthCheck,
    Heartbeat,
    Host,
    Service,
)
from txlb.tac import application


application = application(
    Balancer(
        services=[
            Service(
                "web",
                listen=["tcp:8080:interface=127.0.0.1"],
                groups=[
                    Group(
                        "web",
                        hosts=[
                            Host("app1", "127.0.0.1:8081"),
                            Host("app2", "127.0.0.1:8082"),
                        ],
                        check=HealthCheck(
                            "http:/health",
                            {"status": "200-299", "host": "app.example"},
                            interval=2.0,
                            timeout=1.0,
                            rise=2,
                            fall=3,
                            maxInterval=30.0,
                        ),
                        ejection=Ejection(failures=3, time=30.0, maxShare=0.5),
                        slowStart=30.0,
                        allDown="panic",
                    )
                ],
            ),
            Service(
                "workers",
                listen=["tcp:8090:interface=127.0.0.1"],
                groups=[
                    Group(
                        "workers",
                        heartbeat=Heartbeat(
                            "udp:9999:interface=127.0.0.1",
                            os.path.join("tacs", "heartbeat.key"),
                            deadAfter=3.0,
                            register=True,
                            leaveAfter=60.0,
                        ),
                    )
                ],
            ),
        ]
    )
)
