"""Where the course keeps files that belong to the learner, not to the repository.

Generated data (MNIST-1D) and the quiz's practice record live in one cache folder,
``$HPCOURSE_CACHE`` or ``~/.cache/hpcourse``. Nothing here imports PyTorch, so the
terminal quiz can use it and still start instantly.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The course's cache folder: ``$HPCOURSE_CACHE`` if set, else ``~/.cache/hpcourse``.

    >>> import os
    >>> os.environ["HPCOURSE_CACHE"] = "/tmp/hp-cache-demo"
    >>> str(cache_dir())
    '/tmp/hp-cache-demo'
    >>> del os.environ["HPCOURSE_CACHE"]
    """
    return Path(os.environ.get("HPCOURSE_CACHE", Path.home() / ".cache" / "hpcourse"))
