from twisted.application.service import ServiceMaker

txlb = ServiceMaker("txlb", "txlb.tap", "A TCP load balancer.", "txlb")
