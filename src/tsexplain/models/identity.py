"""What a model learned, as a short digest: how a store, an evaluation table and a report
tell one model from another (the same architecture trained otherwise is another model)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

__all__ = ["model_identity"]


def model_identity(model: Any) -> dict[str, Any]:
    """The model's class and a digest of what it learned: a module's weights and buffers, the
    file a graph or a pickled classifier was loaded from, or (a classifier given in Python) its
    pickled estimator; a callable with none of these is known by its class only."""
    import torch

    h = hashlib.sha256()
    kind = f"{type(model).__module__}.{type(model).__qualname__}"
    h.update(kind.encode())
    source = getattr(model, "source", None) or getattr(model, "path", None)
    if isinstance(model, torch.nn.Module):
        for name, t in model.state_dict().items():
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    elif source is not None and Path(source).is_file():
        with Path(source).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    elif hasattr(model, "estimator"):
        import contextlib
        import pickle

        # an estimator that cannot be pickled is known by its class
        with contextlib.suppress(Exception):
            h.update(pickle.dumps(model.estimator, protocol=4))
    return {"class": kind, "sha256": h.hexdigest()[:16]}
