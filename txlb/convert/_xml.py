"""
Reading an XML file that may come from anywhere into a small tree of
L{Element}s that remember their line, with one sentence (naming the line)
for whatever makes the file unreadable.

The parser is C{defusedxml}'s SAX reader: no entity declarations, nothing
fetched from outside the file (no external DTD or entity), so a hostile file
can neither blow up memory nor read other files.
"""

import io
import xml.sax
import xml.sax.xmlreader

import attr
from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.sax import make_parser

from txlb.errors import ConfigError


@attr.s(frozen=True)
class Element:
    """
    One element of the file.

    @ivar tag: its name.
    @ivar attributes: C{((name, value), ...)} in the order written.
    @ivar line: the line its start tag is on.
    @ivar children: the L{Element}s inside it.
    @ivar text: the non-blank text directly inside it, stripped.
    """

    tag = attr.ib()
    attributes = attr.ib(converter=tuple)
    line = attr.ib()
    children = attr.ib(converter=tuple, default=())
    text = attr.ib(default="")

    def get(self, name, default=None):
        """
        The value of attribute C{name}, or C{default}.
        """
        for key, value in self.attributes:
            if key == name:
                return value
        return default


class _Builder(xml.sax.ContentHandler):
    def __init__(self):
        xml.sax.ContentHandler.__init__(self)
        self.locator = None
        self.stack = [[]]
        self.texts = [[]]
        self.openings = []

    def setDocumentLocator(self, locator):
        self.locator = locator

    def line(self):
        return self.locator.getLineNumber() if self.locator is not None else None

    def startElement(self, name, attrs):
        self.openings.append((name, [(k, attrs[k]) for k in attrs.getNames()], self.line()))
        self.stack.append([])
        self.texts.append([])

    def characters(self, content):
        self.texts[-1].append(content)

    def endElement(self, name):
        tag, attributes, line = self.openings.pop()
        children = self.stack.pop()
        text = "".join(self.texts.pop()).strip()
        self.stack[-1].append(Element(tag, attributes, line, children, text))


def readXML(data, shown):
    """
    Parse C{data} (bytes) into its root L{Element}.

    @param shown: the file's name as the sentences say it.
    @raise ConfigError: one sentence with the line, for malformed XML, an
        entity declaration or a reference to something outside the file.
    """
    builder = _Builder()
    parser = make_parser()
    parser.setContentHandler(builder)
    source = xml.sax.xmlreader.InputSource()
    source.setByteStream(io.BytesIO(data))
    try:
        parser.parse(source)
    except xml.sax.SAXParseException as e:
        message = e.getMessage()
        raise ConfigError(f"{shown}, line {e.getLineNumber()}: malformed XML: {message}") from None
    except ExternalReferenceForbidden as e:
        raise ConfigError(
            f"{shown}, line {builder.line()}: the file refers to {e.sysid!r} outside it, which is "
            "never read for safety; remove the <!DOCTYPE ...> or entity that names it"
        ) from None
    except EntitiesForbidden as e:
        raise ConfigError(
            f"{shown}, line {builder.line()}: the file declares the entity {e.name!r}; entity "
            "declarations are refused for safety (pythondirector files need none)"
        ) from None
    except DefusedXmlException as e:
        raise ConfigError(f"{shown}, line {builder.line()}: refused for safety: {e}") from None
    (root,) = builder.stack[0]
    return root
