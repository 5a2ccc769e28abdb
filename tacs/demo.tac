# The demo as a .tac: a listener on 127.0.0.1:8080 and three demo backends
# inside the process, each answering with its own name.
#
# Run it with:   twistd -ny tacs/demo.tac
# then try:      curl http://127.0.0.1:8080/   (a few times)
from twisted.application.service import Application
from twisted.internet import reactor

from txlb.builder import Builder
from txlb.demo import demo

application = Application("txlb-demo")
demo(Builder(reactor), listen=["tcp:8080:interface=127.0.0.1"]).setServiceParent(application)
