"""
The quick-start C{--backend} value, read into a L{Host}.
"""

from txlb.config._host import Host
from txlb.config._tls import ClientTLS
from txlb.errors import ConfigError


def _backendName(text, address, flags):
    """
    Split a name written C{NAME=ADDR} off C{address}; C{NAME} has no C{:}
    (so C{unix:path=/run/app.sock} stays an address).
    """
    name, eq, rest = address.partition("=")
    if not eq or ":" in name or "[" in name:
        return None, address
    if not name.strip() or not rest.strip():
        raise ConfigError(f"--backend {text!r}: write NAME=ADDRESS, such as app1=127.0.0.1:8081")
    return name.strip(), rest.strip()


_TLS_FLAGS = {"servername": "servername", "ca": "ca", "cert": "cert", "key": "key"}


def parseBackend(text):
    """
    Read a quick-start C{--backend} value,
    C{[NAME=]ADDR[,name=NAME][,weight=N][,backup][,maxconn=N][,proxy=v1|v2]} with
    C{[,tls[,servername=NAME][,ca=FILE][,cert=FILE][,key=FILE][,verify=no]]},
    into a
    L{Host} named C{NAME}, or after its address when no name is given.

    @raise ConfigError: naming what is wrong.
    """
    address, *flags = [part.strip() for part in text.split(",")]
    name, address = _backendName(text, address, flags)
    if not address:
        raise ConfigError(f"--backend {text!r} needs an address such as 127.0.0.1:8081")
    options = {}
    tls = None
    for flag in flags:
        key, eq, value = flag.partition("=")
        if key == "tls" and not eq:
            tls = tls or {}
        elif key in _TLS_FLAGS and eq:
            tls = tls or {}
            tls[_TLS_FLAGS[key]] = value
        elif key == "verify" and eq:
            if value not in ("yes", "no"):
                raise ConfigError(f"--backend {text!r}: verify must be yes or no, not {value!r}")
            tls = tls or {}
            tls["verify"] = value == "yes"
        elif key == "backup" and not eq:
            options["backup"] = True
        elif key == "proxy" and eq:
            if value not in ("v1", "v2"):
                raise ConfigError(f"--backend {text!r}: proxy must be v1 or v2, not {value!r}")
            options["proxy"] = value
        elif key == "name" and eq:
            if name is not None and name != value:
                raise ConfigError(f"--backend {text!r} names the host twice ({name!r} and {value!r})")
            name = value
        elif key in ("weight", "maxconn") and eq:
            try:
                options[key] = int(value)
            except ValueError:
                raise ConfigError(
                    f"--backend {text!r}: {key} must be a whole number, not {value!r}"
                ) from None
        else:
            raise ConfigError(
                f"--backend {text!r}: unknown option {flag!r} "
                "(expected name=NAME, weight=N, backup, maxconn=N, proxy=v1|v2, tls, "
                "servername=NAME, ca=FILE, cert=FILE, key=FILE or verify=no)"
            )
    try:
        if tls is not None:
            if not any(flag == "tls" for flag in flags):
                raise ConfigError("servername, ca, cert, key and verify need the tls flag")
            options["tls"] = ClientTLS(**tls)
        return Host(address if name is None else name, address, **options)
    except ConfigError as e:
        raise ConfigError(f"--backend {text!r}: {e}") from None
