# TLS passthrough: many sites behind one port, each backend terminating its
# own TLS. txlb reads only the server name (SNI) in the client's
# ClientHello, picks the group, and relays the encrypted bytes unchanged.
#
#   shop.example.com   -> group "shop"  (127.0.0.1:9443, 127.0.0.1:9444)
#   *.api.example.com  -> group "api"   (127.0.0.1:9543)
#   clients from 10.0.0.0/8 asking for nothing above -> group "internal"
#   anything else (other names, no name, plain TCP) -> the enabled group "www"
#
# A router (any Python function) is asked before the routes: here it sends
# clients of www.example.com that offer HTTP/2 (ALPN "h2") to group "api";
# for every other connection it returns None and the routes decide.
#
# Run it with:   twistd -ny tacs/passthrough.tac
#           or:  twistd -n txlb --config tacs/passthrough.tac
# Then:          txlbctl --url http://127.0.0.1:8001/RPC2 routes web
from txlb.config import Admin, Balancer, Group, Host, Route, Service
from txlb.tac import application


def router(connection):
    """
    connection has host, port, listener, sni and alpn; return a group's
    name, or None to let the routes below decide.
    """
    if connection.sni == "www.example.com" and "h2" in connection.alpn:
        return "api"
    return None


application = application(
    Balancer(
        services=[
            Service(
                "web",
                listen=["tcp:8443:interface=127.0.0.1"],
                groups=[
                    Group("www", hosts=[Host("www1", "127.0.0.1:9343")]),
                    Group(
                        "shop",
                        scheduler="hash:key=sni",
                        hosts=[Host("shop1", "127.0.0.1:9443"), Host("shop2", "127.0.0.1:9444")],
                    ),
                    Group("api", hosts=[Host("api1", "127.0.0.1:9543")]),
                    Group("internal", hosts=[Host("internal1", "127.0.0.1:9643")]),
                ],
                routes=[
                    Route("shop", sni="shop.example.com"),
                    Route("api", sni="*.api.example.com"),
                    Route("internal", source="10.0.0.0/8"),
                ],
                router=router,
                helloTimeout=3.0,
            )
        ],
        admin=[Admin(["tcp:8001:interface=127.0.0.1"])],
    )
)
