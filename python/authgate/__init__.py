"""authgate for Python: strict, fast JWT on authgate's Rust crates.

``authgate.jwt`` signs and verifies tokens; ``authgate.tokens.TokenManager``
signs an application's own tokens with rotating keys; ``authgate.guard.Guard``
verifies the tokens of an authgate server (``authgate.asgi`` for ASGI apps);
``authgate.client.AuthClient`` logs in to one; ``authgate.embedded.Auth``
runs authgate in this process; every error is in ``authgate.errors``.
"""

from __future__ import annotations

from authgate import errors, jwt
from authgate.tokens import MemoryKeyStore, TokenManager

__all__ = ["errors", "jwt", "TokenManager", "MemoryKeyStore"]
__version__ = "0.1.0"
