"""
The XML-RPC face of the admin, at C{/RPC2}: every method checks its
arguments (count and types) and the user's role before the operation runs,
and turns a refusal into a C{Fault} with a code from L{txlb.admin._faults}.
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import xmlrpc

from txlb.admin._faults import BAD_ARGUMENT, FAILED, FORBIDDEN, AdminError

S, I, N, A, T = "string", "int", "double", "array", "struct"
#: An int (a weight) or a struct (a host's settings).
W = "int|struct"

#: name: (argument names and types, optional ones last marked with "?",
#: result type, writes?, help)
METHODS = {
    "listServices": ((), A, False, "The names of the services."),
    "getConfig": ((), "struct", False,
                  "The running configuration as plain data: every field of the Balancer, its services, "
                  "groups, hosts and admins (see doc/reconfiguration.rst)."),
    "getStatus": ((), "struct", False,
                  "Live status by service: listeners, enabledGroup, and per group its scheduler, "
                  "queue, refusals by reason, connect and session time histograms, and hosts (address, weight, state, open, total, failed, bytesIn, bytesOut, "
                  "lastFailure, history, check, resolved)."),
    "getRoutes": ((("service", S),), A, False,
                  "A service's routes in the order they are tried: route, group (empty: the enabled "
                  "group) and match."),
    "getWorkers": ((), A, False,
                   "The worker processes (--workers): index, pid, state, restarts, refused, accepted."),
    "addHost": ((("service", S), ("group", S), ("name", S), ("address", S), ("weight?", W)), "boolean", True,
                "Add a host (address HOST:PORT, [IPv6]:PORT or an endpoint string; weight 1 by default, "
                "or a struct of settings: weight, backup, maxconn)."),
    "setHost": ((("service", S), ("group", S), ("name", S), ("settings", T)), "boolean", True,
                "Change a host's settings (address, weight, backup, maxconn); a new address or backup "
                "takes new clients at once while open connections finish on the old one."),
    "delHost": ((("service", S), ("group", S), ("name", S)), "boolean", True,
                "Remove a host; its open connections finish."),
    "delAllHosts": ((("service", S), ("group", S)), I, True,
                    "Remove every host of a group; returns how many were removed."),
    "setWeight": ((("service", S), ("group", S), ("name", S), ("weight", I)), "boolean", True,
                  "Change a host's weight (0 takes no new connections)."),
    "hostAdminDown": ((("service", S), ("group", S), ("name", S)), "boolean", True,
                      "Put a host in maintenance (state maint); open connections finish."),
    "hostDrain": ((("service", S), ("group", S), ("name", S)), "boolean", True,
                  "Drain a host (state draining): no new clients, open connections finish; "
                  "hostAdminUp brings it back."),
    "hostAdminUp": ((("service", S), ("group", S), ("name", S)), "boolean", True,
                    "Take a host out of maintenance or draining (with health checks, it is up once they pass)."),
    "retryHost": ((("service", S), ("group", S), ("name", S)), "boolean", True,
                  "Check a host now (without checks, a down host is marked up)."),
    "newGroup": ((("service", S), ("group", S), ("scheduler", S)), "boolean", True,
                 "Add an empty group with a scheduler."),
    "delGroup": ((("service", S), ("group", S)), "boolean", True,
                 "Delete a group that is not the enabled one."),
    "enableGroup": ((("service", S), ("group", S)), "boolean", True,
                    "Send new clients to this group; open connections stay where they are."),
    "changeScheduler": ((("service", S), ("group", S), ("scheduler", S)), "boolean", True,
                        "Replace a group's scheduler."),
    "newService": ((("service", S), ("listen", S)), "boolean", True,
                   "Add a service listening on an endpoint, with an empty group 'default'."),
    "delService": ((("service", S),), "boolean", True,
                   "Stop and delete a service; its open connections drain."),
    "addService": ((("service", S), ("config", T)), "boolean", True,
                   "Add a whole service (a struct of the Service's fields, as getConfig shows one)."),
    "addListener": ((("service", S), ("endpoint", S)), "boolean", True,
                    "Listen on one more endpoint for a service."),
    "delListener": ((("service", S), ("endpoint", S)), "boolean", True,
                    "Stop listening on an endpoint; connections accepted there go on."),
    "setService": ((("service", S), ("settings", T)), "boolean", True,
                   "Change a service's settings (connectTimeout, idleTimeout, maxTries, bufferSize, "
                   "drainTimeout, splice, ...); new connections use them."),
    "addGroup": ((("service", S), ("group", S), ("config", T)), "boolean", True,
                 "Add a whole group with its hosts (a struct of the Group's fields)."),
    "setGroup": ((("service", S), ("group", S), ("settings", T)), "boolean", True,
                 "Change a group's settings (scheduler, queueSize, queueTimeout, check, ejection, allDown, "
                 "slowStart, heartbeat); false means none."),
    "applyConfig": ((("config", T),), A, True,
                    "Make the balancer run a new configuration (as getConfig answers), all or nothing; "
                    "answers the changes made, as txlbctl commands."),
    "reloadCertificates": ((), "boolean", True,
                           "Re-read every service's TLS certificates from disk; open connections keep theirs. "
                           "A broken file keeps the old certificates (fault 'failed', saying why)."),
    "reopenLog": ((), "boolean", True, "Reopen the log file and the access log at their paths, as SIGUSR1 does."),
    "shutdown": ((("drainSeconds?", N),), "boolean", True,
                 "Stop txlb, letting open connections finish for up to drainSeconds."),
}

_TYPES = {S: (str,), I: (int,), N: (int, float), A: (list,), T: (dict,), W: (int, dict)}


_WHAT = {I: "an int", W: "an int or a struct"}


def _check(name, spec, args):
    required = [a for a, _ in spec if not a.endswith("?")]
    if not len(required) <= len(args) <= len(spec):
        shape = ", ".join(a.rstrip("?") if not a.endswith("?") else f"[{a[:-1]}]" for a, _ in spec)
        raise AdminError(BAD_ARGUMENT, f"{name} takes ({shape}), not {len(args)} arguments")
    for (argName, kind), value in zip(spec, args):
        if isinstance(value, bool) or not isinstance(value, _TYPES[kind]):
            raise AdminError(
                BAD_ARGUMENT,
                f"{name}: {argName.rstrip('?')} must be {_WHAT.get(kind, 'a ' + kind)}, "
                f"not {type(value).__name__}",
            )


class _Introspection(xmlrpc.XMLRPCIntrospection):
    """
    C{system.listMethods}, C{methodHelp} and C{methodSignature}, with their
    arguments checked like every other method's.
    """

    def _one(self, name, args):
        if len(args) != 1 or not isinstance(args[0], str):
            raise AdminError(BAD_ARGUMENT, f"system.{name} takes one string, a method name")
        return args[0]

    def _guard(self, name, call, args):
        try:
            return call(self._one(name, args)) if name != "listMethods" else call()
        except AdminError as e:
            return xmlrpc.Fault(e.code, e.message)
        except xmlrpc.NoSuchFunction as e:
            return xmlrpc.Fault(e.faultCode, e.faultString)

    def xmlrpc_listMethods(self, *args):
        if args:
            return xmlrpc.Fault(BAD_ARGUMENT, "system.listMethods takes no arguments")
        return xmlrpc.XMLRPCIntrospection.xmlrpc_listMethods(self)

    xmlrpc_listMethods.signature = [["array"]]

    def xmlrpc_methodHelp(self, *args):
        return self._guard("methodHelp", lambda m: xmlrpc.XMLRPCIntrospection.xmlrpc_methodHelp(self, m), args)

    xmlrpc_methodHelp.signature = [["string", "string"]]

    def xmlrpc_methodSignature(self, *args):
        return self._guard(
            "methodSignature", lambda m: xmlrpc.XMLRPCIntrospection.xmlrpc_methodSignature(self, m), args
        )

    xmlrpc_methodSignature.signature = [["array", "string"]]


class AdminRPC(xmlrpc.XMLRPC):
    """
    The XML-RPC resource for one user (or the local admin when there are no
    users): read-only users may call only the information methods.
    """

    log = Logger()

    def __init__(self, api, user=None, readOnly=False):
        xmlrpc.XMLRPC.__init__(self, allowNone=False, useDateTime=False)
        self.api = api
        self.user = user
        self.readOnly = readOnly
        self.putSubHandler("system", _Introspection(self))

    def listProcedures(self):
        return list(METHODS)

    def lookupProcedure(self, procedurePath):
        if not isinstance(procedurePath, str) or not procedurePath:
            raise xmlrpc.NoSuchFunction(self.NOT_FOUND, "the call names no method")
        if procedurePath in METHODS:
            return self._method(procedurePath)
        return xmlrpc.XMLRPC.lookupProcedure(self, procedurePath)

    def _method(self, name):
        spec, result, writes, help = METHODS[name]

        def call(*args):
            try:
                if writes and self.readOnly:
                    raise AdminError(FORBIDDEN, f"user {self.user!r} may only read; {name} changes things")
                _check(name, spec, args)
                operation = getattr(self.api, name)
                answer = operation(self.user, *args) if writes else operation(*args)
                if isinstance(answer, defer.Deferred):
                    answer.addErrback(self._fault, name)
                return answer
            except AdminError as e:
                return xmlrpc.Fault(e.code, e.message)
            except Exception:
                self.log.failure("admin call {method} failed", method=name)
                return xmlrpc.Fault(FAILED, f"{name} failed inside txlb; see its log")

        call.__doc__ = help
        call.signature = [[result] + [kind for _, kind in spec]]
        return call

    def _fault(self, failure, name):
        """
        A call answering later failed: its L{AdminError} as a C{Fault}.
        """
        if failure.check(AdminError):
            return xmlrpc.Fault(failure.value.code, failure.value.message)
        self.log.failure("admin call {method} failed", failure, method=name)
        return xmlrpc.Fault(FAILED, f"{name} failed inside txlb; see its log")
