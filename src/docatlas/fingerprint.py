"""A digest of docatlas's own code and data files.

Cached facts and page signatures are only valid for the code that made them: a changed extractor,
template or query (even without a version bump, as during development) must invalidate them.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from docatlas import __version__

# Rooms that only read a finished build (the HTML server, the MCP server): their code makes no facts or pages, so
# editing it must not invalidate every cached fact and page signature.
_READERS = frozenset({"serve", "agent"})


@functools.cache
def code_fingerprint() -> str:
    h = hashlib.sha1(__version__.encode())
    pkg = Path(__file__).parent
    for path in sorted(pkg.rglob("*")):
        if path.relative_to(pkg).parts[0] in _READERS:
            continue
        if path.suffix in (".py", ".scm", ".j2") and path.is_file():
            h.update(path.relative_to(pkg).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()
