"""Tiny HTML building blocks: everything that reaches the page goes through :func:`esc` or :func:`href`.

A :class:`Html` value is markup already escaped; a plain ``str`` is text and gets escaped when it is
joined into markup. That split is the only thing that keeps user-controlled names, inputs and error
messages from becoming markup, so helpers take ``Html | str`` and never concatenate raw strings.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from urllib.parse import quote

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7fb}
header{background:#38216e;color:#fff;padding:.6em 1.2em}header a{color:#fff;text-decoration:none}
main{padding:1em 1.4em;max-width:72em}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;background:#fff;width:100%;margin:.4em 0}
th,td{border:1px solid #dde;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#eef0f7}a{color:#3c2a9e}code,pre{font-family:ui-monospace,monospace;font-size:.92em}
pre{white-space:pre-wrap;margin:0}.crumbs{font-size:.9em;margin-bottom:.6em}
.phase{font-weight:600;padding:.1em .45em;border-radius:.3em;background:#e8e8ef}
.SUCCEEDED{background:#d5f2dc;color:#14612a}.FAILED,.TIMED_OUT,.ABORTED{background:#fbd9d9;color:#8c1c1c}
.RUNNING,.QUEUED,.SUCCEEDING,.FAILING,.DYNAMIC_RUNNING{background:#dde8fb;color:#17407e}
.error{background:#fff1f1;border:1px solid #e7b3b3;padding:.6em}.muted{color:#6b7080}
form.launch{background:#fff;border:1px solid #dde;padding:.8em}label{display:block;margin:.4em 0}
input[type=text]{width:22em}button{margin-top:.6em;padding:.4em 1.4em;background:#38216e;color:#fff;border:0}
"""


_VOID = frozenset({"input", "br", "meta"})


class Html(str):
    """Markup that is already safe to emit as it is."""


def esc(value: Html | str | object) -> Html:
    """``value`` as markup: ``Html`` stays as it is, anything else is escaped text."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[Html | str]) -> Html:
    return Html("".join(esc(part) for part in parts))


def tag(element: str, content: Html | str = "", /, **attributes: str) -> Html:
    """``<name attr="...">content</name>``; attribute values are escaped (``class_`` means ``class``)."""
    attrs = "".join(f' {key.rstrip("_").replace("_", "-")}="{esc(value)}"' for key, value in attributes.items())
    if element in _VOID:
        return Html(f"<{element}{attrs}>")
    return Html(f"<{element}{attrs}>{esc(content)}</{element}>")


def path(*segments: str) -> str:
    """A console path whose segments are percent-encoded (names may hold any character)."""
    return "/console" + "".join("/" + quote(segment, safe="") for segment in segments)


def link(url: str, text: Html | str) -> Html:
    return tag("a", text, href=url)


def phase_badge(phase: str) -> Html:
    return tag("span", phase, class_=f"phase {phase}")


def table(headers: Sequence[str], rows: Iterable[Sequence[Html | str]], empty: str = "none") -> Html:
    body = [tag("tr", join(tag("td", cell) for cell in row)) for row in rows]
    if not body:
        return tag("p", empty, class_="muted")
    if not headers:
        return tag("table", join(body))
    head = tag("tr", join(tag("th", header) for header in headers))
    return tag("table", join([head, *body]))


def crumbs(*items: tuple[str, str]) -> Html:
    """Breadcrumbs: ``(text, url)`` pairs; the last one is the current page (no link)."""
    parts: list[Html] = []
    for index, (text, url) in enumerate(items):
        parts.append(esc(text) if index == len(items) - 1 else link(url, text))
    return tag("div", Html(" / ".join(parts)), class_="crumbs")


def page(title: str, body: Html, refresh_seconds: int | None = None) -> bytes:
    """A whole document; ``refresh_seconds`` reloads it (a running execution's page)."""
    refresh = Html(f'<meta http-equiv="refresh" content="{int(refresh_seconds)}">') if refresh_seconds else Html("")
    document = Html(
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"{refresh}{tag('title', f'{title} · localflyte console')}<style>{STYLE}</style></head>"
        f"<body><header>{link('/console', 'localflyte console')}</header><main>{body}</main></body></html>"
    )
    return document.encode()
