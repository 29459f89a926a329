"""Where a model's page is on the web: the Hugging Face page of a Hub id, which the labels
print and the site links."""

from __future__ import annotations

import re
from pathlib import Path

HUB = "https://huggingface.co/"
HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")


def hub_url(model_id) -> str | None:
    """The Hugging Face page of a Hub id (``owner/name``); None for a local path (more or
    fewer parts, a leading ``.`` or ``/``, or a directory here, as the run read it: a site
    built where the campaign ran knows ``models/foo`` for one) or no id. Built from the id's
    own characters, which a URL path takes as they are."""
    if isinstance(model_id, str) and HUB_ID.fullmatch(model_id) and not Path(model_id).exists():
        return HUB + model_id
    return None
