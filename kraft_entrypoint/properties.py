"""Java .properties files, read and written the way java.util.Properties does (via jproperties)."""

from __future__ import annotations

import io
from collections.abc import Iterable

import jproperties


class MalformedProperties(ValueError):
    """Text that java.util.Properties could not read either (a bad \\u escape, for one)."""


def parse(data: bytes) -> list[tuple[str, str]]:
    """Key/value pairs in file order (a repeated key keeps its first place and last value)."""
    loaded = jproperties.Properties()
    try:
        loaded.load(data, "iso-8859-1")
    except jproperties.PropertyError as error:
        raise MalformedProperties(str(error)) from None
    pairs = [(key, loaded[key].data) for key in loaded]
    for key, value in pairs:
        try:
            (key + value).encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedProperties(f"{key} holds a lone \\u surrogate escape") from None
    return pairs


def read(path: str) -> list[tuple[str, str]]:
    with open(path, "rb") as source:
        return parse(source.read())


def render(pairs: Iterable[tuple[str, str]], header: str) -> bytes:
    """Properties.store's format in the given order, without the timestamp line.

    jproperties sorts keys it did not load, so each pair is stored on its own to keep the order.
    """
    out = io.BytesIO()
    _store(jproperties.Properties(), out, header)
    for key, value in pairs:
        single = jproperties.Properties()
        single[key] = value
        _store(single, out, None)
    return out.getvalue()


def _store(properties: jproperties.Properties, out: io.BytesIO, header: str | None) -> None:
    properties.store(out, initial_comments=header, encoding="iso-8859-1", timestamp=False)
