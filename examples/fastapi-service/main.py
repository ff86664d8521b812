"""``uvicorn main:app``: the orders service on the data directory
``AUTHGATE_STORAGE__DATA_DIR`` (default ``./authgate-data``), with every
``AUTHGATE_*`` setting read from the environment as ``authgate serve`` reads it."""

from __future__ import annotations

import os

from app import create_app
from authgate.embedded import Auth

auth = Auth.open(env=os.environ)
app = create_app(auth)
