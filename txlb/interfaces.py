"""
The contracts between txlb's parts.

Every part a user or a plugin can replace is described here first; the
implementations say ``@implementer(...)`` and the tests check them with
``verifyObject``.
"""

from zope.interface import Attribute, Interface


class IBackend(Interface):
    """
    One backend host of a group, with its live state and its counters.

    The pool owns and changes this state; schedulers and the admin only read it.
    """

    name = Attribute("The host's name, unique within its group (str).")
    address = Attribute("The address as the user wrote it (str).")
    weight = Attribute("The configured weight (int, >= 0).")
    effectiveWeight = Attribute(
        "The weight schedulers use now (int or float); equals weight unless a "
        "health policy such as slow start lowers it for a while."
    )
    backup = Attribute("True when the host only serves while no primary is available.")
    maxconn = Attribute("The most open connections the host takes, or None.")
    state = Attribute("One of 'up', 'down', 'draining', 'maint'.")
    open = Attribute("Connections open or being opened to the host now (int).")
    total = Attribute("Connections ever handed to the host (int).")
    failed = Attribute("Connection attempts to the host that failed (int).")
    bytesIn = Attribute("Bytes relayed from clients to the host (int).")
    bytesOut = Attribute("Bytes relayed from the host to clients (int).")
    lastFailure = Attribute("A Failure value (time, reason) or None.")
    history = Attribute("Recent state changes, oldest first (StateChange values).")
    available = Attribute("True when the host may take one more connection now.")
    lastClosed = Attribute("When the last connection to the host ended (seconds), or 0.")


class IScheduler(Interface):
    """
    Chooses the host for each new client connection.

    The pool tells a scheduler of each change as it happens, through the
    hooks below (HAProxy's C{lb_*} algorithms have the same ones), never
    per pick, so a scheduler may keep whatever structure makes a pick
    cheap and update it in place. A change must not hold the reactor for
    long: a structure too large to rebuild at once (a Maglev table of
    thousands of hosts) is rebuilt in slices while picks use the last
    complete one. A scheduler never changes a host.

    A scheduler's members are the hosts the pool handed it (L{setHosts},
    L{hostAdded}); it picks only among members that are up and have a
    positive effective weight.
    """

    def setHosts(hosts):
        """
        Replace every member at once (when the scheduler is made or
        replaced).

        @param hosts: the members, in configuration order (a sequence of
            L{IBackend}); may be empty.
        """

    def hostAdded(host):
        """
        C{host} became a member (whatever its state).
        """

    def hostRemoved(host):
        """
        C{host} is no longer a member.
        """

    def hostUp(host):
        """
        A member's state became C{up}.
        """

    def hostDown(host):
        """
        A member's state left C{up} (down, draining or maintenance).
        """

    def weightChanged(host):
        """
        A member's C{effectiveWeight} changed.
        """

    def pick(client, tried):
        """
        Choose a host for a connection.

        @param client: the client's address (an L{IAddress}), or None.
        @param tried: the hosts this connection has already tried (a
            container supporting C{in}); a host outside it is preferred.
        @return: an L{IBackend} whose C{available} is true.
        @raise txlb.errors.NoHostAvailable: when no host is available.
        """

    def connectionOpened(host):
        """
        A connection to C{host} was opened (counted in C{host.open} already).
        """

    def connectionClosed(host):
        """
        A connection to C{host} ended (already subtracted from C{host.open}).
        """


class ISchedulerFactory(Interface):
    """
    Makes schedulers of one kind; built-ins and plugins alike provide this.

    Third-party packages publish one by putting an object that provides this
    interface in a module of their C{twisted/plugins/} folder.
    """

    name = Attribute("The name users give to --scheduler (str).")
    aliases = Attribute("Other names that mean the same scheduler (tuple of str).")
    description = Attribute("One line saying what the scheduler does (str).")

    def makeScheduler(options, clock, random):
        """
        Make a new scheduler.

        @param options: a dict of option names to strings, from the user.
        @param clock: an L{IReactorTime} for schedulers that expire things.
        @param random: a L{random.Random} for schedulers that draw lots.
        @return: an L{IScheduler}.
        @raise txlb.errors.ConfigError: for an unknown or bad option.
        """


class ILease(Interface):
    """
    A host a pool granted one client connection: counted as opened when
    granted, and given back exactly once, by L{failed} or L{release}.
    """

    host = Attribute("The L{IBackend} to connect to.")

    def connected():
        """
        The connection to the host is established.
        """

    def failed(reason):
        """
        The connection attempt failed; the host is given back and the
        failure counted.

        @param reason: a short phrase saying why (str).
        """

    def release():
        """
        The connection ended; the host is given back.
        """


class IRefusal(Interface):
    """
    A pool's answer when it has no host for a client.
    """

    reason = Attribute("Why, as a short phrase for logs (str).")


class IWait(Interface):
    """
    A client's place in a pool's wait queue.
    """

    def cancel():
        """
        Leave the queue (the client went away); nothing is granted after.
        """


class IPool(Interface):
    """
    The hosts of one group, and the one place that decides which host a
    client gets, queues it or refuses it, and counts it.
    """

    name = Attribute("The group's name (str).")
    hosts = Attribute("The hosts by name, in the order they were added (a mapping).")

    def acquire(client, tried, granted):
        """
        Ask for a host for one client connection.

        @param client: the client's address (an L{IAddress}), or None.
        @param tried: the hosts this client already tried (a tuple).
        @param granted: called once, later, with an L{ILease} or an
            L{IRefusal}, when this call answers with an L{IWait}.
        @return: an L{ILease} (the host is counted as opened), an
            L{IRefusal} (counted), or an L{IWait}.
        """


class IPoolObserver(Interface):
    """
    Hears what happens to the hosts of a pool: the hook health checks and
    passive ejection build on.
    """

    def connectFailed(pool, host, reason):
        """
        A connection attempt to C{host} failed (refused, timed out, ...).

        @param reason: a short sentence saying why (str).
        """

    def connectSucceeded(pool, host):
        """
        A connection attempt to C{host} succeeded.
        """

    def stateChanged(pool, host, change):
        """
        C{host} changed state; C{change} is a L{txlb.backend.StateChange}.
        """


class IConnector(Interface):
    """
    Opens connections to one backend address.
    """

    description = Attribute("The address as the user wrote it (str).")

    def connect(reactor, factory):
        """
        Start connecting; the outcome reaches C{factory} as a
        L{ClientFactory}'s C{buildProtocol} or C{clientConnectionFailed}.
        The caller applies its own timeout with C{stopConnecting}.

        @return: an object with C{stopConnecting()} to abandon the attempt.
        """


class ICheck(Interface):
    """
    One kind of active health check, ready to probe hosts.
    """

    description = Attribute("The check as the user wrote it, such as 'http:/health' (str).")

    def check(host, timeout):
        """
        Probe C{host} (an L{IBackend} with a C{connector}) once.

        @param timeout: seconds the whole probe may take; the checker
            cancels the returned Deferred when they are over.
        @return: a L{Deferred} that fires (with anything) when the host
            passes, or fails with L{txlb.health.CheckFailed} saying why.
            Cancelling it abandons the probe.
        """


class ICheckFactory(Interface):
    """
    Makes checks of one kind; built-ins and plugins alike provide this.

    Third-party packages publish one by putting an object that provides this
    interface in a module of their C{twisted/plugins/} folder.
    """

    name = Attribute("The kind's name, the part of --check before the first colon (str).")
    description = Attribute("One line saying what the check does (str).")

    def makeCheck(argument, options, reactor):
        """
        Make a check.

        @param argument: what followed C{NAME:} in the spec, or C{""}.
        @param options: a dict of option names to strings, from the user.
        @param reactor: the reactor to connect with.
        @return: an L{ICheck}.
        @raise txlb.errors.ConfigError: for a bad argument or option.
        """


class IRouter(Interface):
    """
    Chooses the group of a service that serves one client connection
    (C{Service(router=...)}); see doc/routing.rst.

    Third-party packages publish one by putting an object that provides this
    interface (and C{IPlugin}) in a module of their C{twisted/plugins/}
    folder; a service names it by its C{name}.
    """

    name = Attribute("The name a service's router setting gives (str).")
    description = Attribute("One line saying how it routes (str).")
    needsHello = Attribute(
        "Whether it reads the server name or ALPN list, so that the TLS "
        "ClientHello must be read before it is asked (bool)."
    )

    def route(connection):
        """
        The name of the group to send C{connection} to, or None to let the
        service's routes and then its enabled group decide.

        @param connection: a L{txlb.routing.Connection}.
        """


class IServerCertificates(Interface):
    """
    The TLS certificates a service serves to its clients (a connection
    creator for Twisted's C{TLSMemoryBIOFactory}, choosing one by SNI
    name), re-read on demand.
    """

    expiries = Attribute(
        "A dict: certificate name ('default', or an SNI name) to its expiry in seconds since the epoch."
    )
    problem = Attribute("Why the last reload kept the old certificates (str), or None.")

    def serverConnectionForTLS(tlsProtocol):
        """
        A pyOpenSSL C{Connection} for a new client.
        """

    def reload():
        """
        Read the certificate files again; new handshakes use them, open
        connections keep theirs. A file that cannot be read keeps the old
        certificates.

        @return: None, or the sentence saying why the old ones were kept.
        """


class ISharedStore(Interface):
    """
    Where a fleet of balancers keeps the description they share (etcd,
    L{txlb.etcd.SharedStore}): a node applies what it holds, and makes
    its admin changes there first.
    """

    state = Attribute("'connecting', 'connected' or 'disconnected' (str).")
    applied = Attribute("The last revision of the store this node handled (int).")

    def change(user, what, describe):
        """
        Make a change on every node: C{describe(stored)} answers the shared
        description after the change, and the call's result. A Deferred
        firing with that result once this node runs the change.

        @raise txlb.admin.AdminError: for a change that cannot be made, or
            while the store cannot be reached (nothing changes anywhere).
        """

    def status():
        """
        The store's state as plain data (C{getStatus}'s C{etcd}).
        """
