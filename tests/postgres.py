"""A real PostgreSQL server for the tests that need one: started in a temporary folder on
a free port of 127.0.0.1, and always stopped.

The logic lives in :mod:`hpcourse.workshop` (the instructor's ``make workshop-server``
starts the same server); this module keeps the names the tests import. Where the binaries
are missing, tests that need the server are skipped with a message that says how to
install them.
"""

from __future__ import annotations

from hpcourse.workshop import INSTALL_HINT, postgres_server, server_binaries

__all__ = ["INSTALL_HINT", "postgres_server", "server_binaries"]
