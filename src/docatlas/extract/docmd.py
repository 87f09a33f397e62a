"""A whole docstring as Markdown: reStructuredText roles, Google and NumPy sections, doctest and literal blocks.

Docstrings are written for Sphinx or for `help()`, not for a Markdown page: `:math:`y = xA^T + b`` would show
its role, an `Examples::` block would run into the prose, a NumPy `Parameters` underline would become a rule.
The conversion is line-based and conservative: what it does not recognise stays as written (escaped only where
Markdown would misread it), so no text is lost.
"""

from __future__ import annotations

import re

from docatlas.extract.base import clean_text

_ROLE = re.compile(r":(?:[\w-]+:)*[\w-]+:`([^`]+)`")
_REF_TARGET = re.compile(r"^(.*?)\s*<[^<>]+>$")
_DOUBLE = re.compile(r"(?<!`)``([^`]+)``(?!`)")
_GOOGLE = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters|"
                     r"Returns?|Yields?|Raises|Warns|Attributes|Examples?|Notes?|Warnings?|See Also|Shape|"
                     r"References|Todo|Methods)\s*:(:?)\s*$")
_NUMPY_RULE = re.compile(r"^-{3,}\s*$")
_DIRECTIVE = re.compile(r"^\.\.\s+([\w-]+)::\s*(.*)$")
_ITEM = re.compile(r"^(\*{0,2}[\w.]+\*{0,2})\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\*{0,2}[\w.]+\*{0,2}(?:\s*,\s*\*{0,2}[\w.]+)*)\s*:\s*(.*)$")
_DASH_ITEM = re.compile(r"^(\*{0,2}[\w.]+\*{0,2})\s*(?:\(([^)]*)\))?\s+--?\s+(.*)$")
_TITLE = re.compile(r"^[A-Z]\w*(?: \w+){0,2}:$")  # up to three words that could title the block under them
_BARE = re.compile(r"\*{0,2}[A-Za-z_][\w.]*")
_ADMONITIONS = {"note": "Note", "warning": "Warning", "seealso": "See also", "deprecated": "Deprecated",
                "versionadded": "Added in version", "versionchanged": "Changed in version", "tip": "Tip",
                "important": "Important", "todo": "To do", "attention": "Attention", "caution": "Caution"}
_CODE_DIRECTIVES = {"code-block", "code", "sourcecode", "math", "testcode", "doctest", "highlight"}
_CODE_LANG = {"testcode": "python", "doctest": "pycon"}  # what a directive without an argument holds
_ITEM_SECTIONS = {"Args", "Arguments", "Parameters", "Params", "Keyword Args", "Keyword Arguments",
                  "Other Parameters", "Attributes", "Raises", "Warns", "Methods"}


def inline(text: str) -> str:
    """RST inline markup as Markdown: roles and double backticks become code spans."""
    def role(m: re.Match[str]) -> str:
        body = m.group(1)
        ref = _REF_TARGET.match(body)
        if ref and ref.group(1):
            body = ref.group(1)
        return f"`{body.lstrip('~!')}`"
    return _DOUBLE.sub(r"`\1`", _ROLE.sub(role, text))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _fence(lines: list[str], lang: str = "") -> list[str]:
    body = list(lines)
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    if not body:
        return []
    width = min(_indent(x) for x in body if x.strip())
    ticks = "````" if any("```" in x for x in body) else "```"
    return [f"{ticks}{lang}", *(x[width:] for x in body), ticks]


def _block(lines: list[str], start: int, base: int) -> tuple[list[str], int]:
    """The lines indented deeper than `base` from `start` (blank lines inside included)."""
    end = start
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end], end


def _items(body: list[str], numpy: bool = False) -> list[str]:
    """The entries of a parameter-like section as a Markdown list, continuation lines joined to their entry:
    Google's `name (type): text` (or `name (type) - text`), NumPy's `name : type` with the text indented under
    it, and a bare name with its text under it (`sender` / `    The sender ...`)."""
    entries: list[tuple[str, bool, list[str]]] = []  # (head, is a named entry, text)
    width = min((_indent(x) for x in body if x.strip()), default=0)
    for line in body:
        s = line.strip()
        if not s:
            continue
        if _indent(line) == width or not entries:
            head, named, text = _item_head(s, numpy)
            entries.append((head, named, [text] if text else []))
        else:
            entries[-1][2].append(inline(s))
    return [f"{head}{': ' if named else ' '}{' '.join(text)}" if text else head for head, named, text in entries]


def _definition_list(body: list[str]) -> bool:
    """Every line at the block's own indent is a name or a `name: text` entry, and one has text under it."""
    width = min(_indent(x) for x in body if x.strip())
    heads = [x.strip() for x in body if x.strip() and _indent(x) == width]
    return all(_BARE.fullmatch(h) or _ITEM.match(h) for h in heads) and \
        any(x.strip() and _indent(x) > width for x in body)


def _item_head(s: str, numpy: bool) -> tuple[str, bool, str]:
    m = (_NUMPY_ITEM if numpy else _ITEM).match(s) or (None if numpy else _DASH_ITEM.match(s))
    if m:
        names, kind = (m.group(1), m.group(2)) if numpy else (m.group(1).strip("*"), m.group(2))
        text = "" if numpy else m.group(3)
    elif _BARE.fullmatch(s):
        names, kind, text = s, "", ""
    else:
        return f"- {inline(s)}", False, ""
    return f"- `{names}`" + (f" ({inline(kind)})" if kind else ""), True, inline(text)


def to_markdown(doc: str) -> str:
    """The docstring (already dedented, as `ast.get_docstring` gives it) as Markdown."""
    lines = clean_text(doc).expandtabs().strip("\n").splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        base = _indent(line)
        if s.startswith(">>>"):  # a doctest block runs to the next blank line
            end = i
            while end < len(lines) and lines[end].strip():
                end += 1
            out += ["", *_fence(lines[i:end], "pycon"), ""]
            i = end
            continue
        g = _GOOGLE.match(s) if base == 0 else None
        if base == 0 and not g and _TITLE.match(s):  # `Context:` over a list of names, each with text under it
            body, end = _block(lines, i + 1, base)
            if body and _definition_list(body):
                out += ["", f"**{s[:-1]}**", "", *_items(body), ""]
                i = end
                continue
        numpy = i + 1 < len(lines) and _NUMPY_RULE.match(lines[i + 1].strip()) and s and \
            len(lines[i + 1].strip()) >= len(s) - 1
        if g or numpy:
            title = g.group(1) if g else s
            literal = bool(g and g.group(2))
            body, end = _block(lines, i + (2 if numpy else 1), base if g else base - 1)
            if numpy:  # a NumPy section runs to the next section title (NumPy's or Google's) or the end
                end = i + 2
                while end < len(lines) and not (end + 1 < len(lines) and _NUMPY_RULE.match(
                        lines[end + 1].strip()) and lines[end].strip()) and \
                        not (_indent(lines[end]) == 0 and _GOOGLE.match(lines[end].strip())):
                    end += 1
                body = lines[i + 2:end]
            out += ["", f"**{title}**", ""]
            doctest = any(x.strip().startswith(">>>") for x in body)
            if literal or (title.startswith("Example") and doctest):
                out += _fence(body, "pycon" if doctest else "python")
            elif numpy and title in _ITEM_SECTIONS | {"Returns", "Yields", "See Also"}:
                out += _items(body, numpy=True)
            elif title in _ITEM_SECTIONS | {"See Also"}:
                out += _items(body)
            else:
                out += _paragraphs(body)
            out.append("")
            i = end
            continue
        d = _DIRECTIVE.match(s)
        if d:
            name, arg = d.group(1), d.group(2)
            body, end = _block(lines, i + 1, base)
            if name in _CODE_DIRECTIVES:
                lang = "math" if name == "math" else arg or _CODE_LANG.get(name, "")
                out += ["", *_fence(([arg] if name == "math" and arg else []) + body, lang.strip()), ""]
            elif name in _ADMONITIONS:
                text = " ".join(inline(x.strip()) for x in [arg, *body] if x.strip())
                out += ["", f"**{_ADMONITIONS[name]}:** {text}".rstrip(), ""]
            else:  # other directives (autosummary, image ...): their text, as written
                out += ["", *_fence([line, *body]), ""]
            i = end
            continue
        if s.endswith("::") and not s.startswith(".."):  # a literal block follows
            text = s[:-2].rstrip()
            out.append(inline(text + ":") if text else "")
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            body, end = _block(lines, j, base)
            out += ["", *_fence(body), ""]
            i = max(end, i + 1)
            continue
        out.append(inline(line) if not line.startswith("    ") else inline(line.strip()))
        i += 1
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _paragraphs(body: list[str]) -> list[str]:
    width = min((_indent(x) for x in body if x.strip()), default=0)
    return [inline(x[width:]) for x in body]
