"""JSON one item a line: the layout of manifest.json and results.json.

A document of settings whose last member is a list, written with the settings on
the first line, then one item (a compact JSON object) a line, then ``]}``. It is one
JSON document, which any JSON reader reads; this module's reader finds each item's
line without parsing the rest, so a large class is parsed one student at a time
(in the worker that needs the student). The writer never joins the document into
one copy: it returns its parts, for the file to be written one after the other.
"""

from __future__ import annotations

from collections.abc import Sequence

Part = bytes | memoryview


def document_parts(head: str, key: str, items: Sequence[Sequence[Part]]) -> list[Part]:
    r"""The document ``head`` (compact JSON of an object) with ``key`` = the items, a line each.

    Each item is given as its parts (UTF-8), e.g. those of :func:`with_member`.

    >>> b"".join(document_parts('{"n":2}', "items", [[b'{"a":1}'], [b'{"b":', b"2}"]]))
    b'{"n":2,"items":[\n{"a":1},\n{"b":2}\n]}\n'
    """
    parts: list[Part] = [head[:-1].encode() + f',"{key}":[\n'.encode()]
    for k, item in enumerate(items):
        if k:
            parts.append(b",\n")
        parts += item
    parts.append(b"\n]}\n" if items else b"]}\n")
    return parts


def with_member(item: bytes, name: str, value_json: bytes) -> list[Part]:
    """A compact JSON object with one more member at its end, without parsing it again.

    >>> b"".join(with_member(b'{"a":1}', "flags", b'["late"]'))
    b'{"a":1,"flags":["late"]}'
    """
    return [memoryview(item)[:-1], b',"' + name.encode() + b'":' + value_json + b"}"]


def item_spans(data: bytes, key: str) -> list[tuple[int, tuple[int, int]]] | None:
    """Each item's (line number, (start, end) of its JSON object) in a document laid out
    by :func:`document_parts`; None for any other layout of JSON.

    >>> data = b"".join(document_parts('{"n":2}', "items", [[b'{"a":1}'], [b'{"b":[2]}']]))
    >>> [(line, data[a:b]) for line, (a, b) in item_spans(data, "items")]
    [(2, b'{"a":1}'), (3, b'{"b":[2]}')]
    >>> item_spans(b'{"n":2,"items":[{"a":1}]}', "items") is None
    True
    """
    first = data.find(b"\n")
    opening = f'"{key}":['.encode()
    if first < 0 or not data.endswith(b"\n]}\n") or not data[:first].endswith(opening):
        return None
    stop = len(data) - len(b"]}\n")
    ends = []  # where each line ends
    start = first + 1
    while start < stop:
        end = data.find(b"\n", start, stop)
        if end < 0 or data[start] != ord("{"):
            return None
        ends.append(end)
        start = end + 1
    spans = []
    for k, end in enumerate(ends):
        begin = ends[k - 1] + 1 if k else first + 1
        if k < len(ends) - 1:  # the comma between array items, after the object
            if data[end - 2 : end] != b"},":
                return None  # not the writer's layout: parse the document as a whole
            end -= 1
        elif data[end - 1] != ord("}"):
            return None
        spans.append((k + 2, (begin, end)))
    return spans
