# txlb at the edge, behind a proxy that speaks the PROXY protocol (HAProxy
# with "send-proxy-v2", an AWS Network Load Balancer with proxy protocol v2,
# nginx's "proxy_protocol on" in a stream block): the listener reads the
# real client's address from the header, access control and the per-client
# limits apply to that address, and each host is told the real client in a
# PROXY v2 header of its own (nginx: "listen 8081 proxy_protocol").
#
# Run it with:   twistd -n txlb --config tacs/edge.tac
# Try it with:   printf 'PROXY TCP4 10.1.2.3 127.0.0.1 40000 8080\r\nhello' \
#                    | nc 127.0.0.1 8080
from txlb.config import Balancer, Group, Host, Service
from txlb.tac import application

application = application(
    Balancer(
        services=[
            Service(
                "web",
                listen=["haproxy:tcp:8080:interface=127.0.0.1"],
                groups=[
                    Group(
                        "default",
                        hosts=[
                            Host("app1", "127.0.0.1:8081", proxy="v2"),
                            Host("app2", "127.0.0.1:8082", proxy="v2"),
                        ],
                    )
                ],
                # Clients from the private networks, except one subnet.
                allow=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8"],
                deny=["10.66.0.0/16"],
                # At most 20 connections open and 50 new ones a second per
                # client address; 10000 at once for the whole service.
                maxClientConns=20,
                maxClientRate=50,
                maxconn=10000,
                # Seconds the proxy in front has to send each header.
                proxyHeaderTimeout=3.0,
            )
        ],
        # At most 20000 client connections for the whole process.
        maxconn=20000,
    )
)
