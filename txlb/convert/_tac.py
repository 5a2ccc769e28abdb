"""
Writing a L{txlb.convert._pythondirector.Conversion} as the text of a
C{.tac} file.

Every value that came from the old file is written with C{repr()}, and every
comment holds only printable text, so that no name in a file from anywhere
can turn into code.
"""

import shlex

from txlb.config import Admin, Group, Host

_HOST = Host("h", "h:1")
_GROUP = Group("g")
_ADMIN = Admin(["tcp:1"])


def _printable(text):
    return text if text.isprintable() else repr(text)


def _call(name, positional, keywords, defaults):
    parts = [repr(value) for value in positional]
    parts += [f"{key}={value!r}" for key, value in keywords if getattr(defaults, key, object()) != value]
    return f"{name}({', '.join(parts)})"


def _ejection(ejection):
    fields = [("failures", ejection.failures), ("time", ejection.time), ("maxTime", ejection.maxTime)]
    return _call("Ejection", [], fields, None)


def _group(group, note, indent):
    pad = " " * indent
    scheduler = f"scheduler={group.scheduler!r},"
    if note:
        scheduler += f"  # {_printable(note)}"
    lines = [f"{pad}Group(", f"{pad}    {group.name!r},", f"{pad}    {scheduler}", f"{pad}    hosts=["]
    for host in group.hosts:
        fields = [("weight", host.weight), ("backup", host.backup), ("maxconn", host.maxconn)]
        lines.append(f"{pad}        {_call('Host', [host.name, host.address], fields, _HOST)},")
    lines.append(f"{pad}    ],")
    if group.ejection != _GROUP.ejection:
        lines.append(f"{pad}    ejection={_ejection(group.ejection)},")
    lines.append(f"{pad}),")
    return lines


def _service(service, notes):
    lines = [
        "        Service(",
        f"            {service.name!r},",
        f"            listen={list(service.listen)!r},",
        "            groups=[",
    ]
    for group in service.groups:
        lines += _group(group, notes.get((service.name, group.name)), 16)
    lines.append("            ],")
    lines.append(f"            enabledGroup={service.enabledGroup!r},")
    lines.append("        ),")
    return lines


def _admin(admin):
    fields = [("users", admin.users), ("refresh", admin.refresh), ("projectURL", admin.projectURL),
              ("legacyWebAPI", admin.legacyWebAPI)]
    return f"        {_call('Admin', [list(admin.listen)], fields, _ADMIN)},"


def _names(balancer):
    names = {"Balancer", "Service", "Group", "Host"}
    if balancer.admin:
        names.add("Admin")
    if any(g.ejection != _GROUP.ejection for s in balancer.services for g in s.groups):
        names.add("Ejection")
    return sorted(names)


def tacSource(conversion, source):
    """
    The text of a C{.tac} running what C{conversion} describes.

    @param source: the old file's name, for the header.
    """
    balancer = conversion.balancer
    run = "twistd -n"
    if conversion.logFile is not None:
        run += " --logfile " + _printable(shlex.quote(conversion.logFile))
    lines = [
        f"# Converted by `txlb convert` from {_printable(source)}.",
        "# Check it with `txlb check SITE.tac`; run it with:",
        f"#     {run} txlb --config SITE.tac",
    ]
    if conversion.users:
        lines.append(f"# The admin's users need new passwords in {_printable(conversion.usersFile)}"
                     " (txlb passwd FILE NAME --role ROLE).")
    lines += [
        f"from txlb.config import {', '.join(_names(balancer))}",
        "from txlb.tac import application",
        "",
        "application = application(Balancer(",
        "    services=[",
    ]
    for service in balancer.services:
        lines += _service(service, conversion.notes)
    lines.append("    ],")
    if balancer.admin:
        lines.append("    admin=[")
        lines += [_admin(admin) for admin in balancer.admin]
        lines.append("    ],")
    lines.append("))")
    return "\n".join(lines) + "\n"
