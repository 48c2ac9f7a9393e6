"""The one place operationIds meet Python: the handler that serves an operation, by name."""

from __future__ import annotations

import re

from jobagent_mock.foundations import resources


def handler_name(operation_id: str, tags: list[str]) -> str:
    """The function <operationId in snake_case> of the module of the first tag in handlers/
    (jobagent_mock.handlers, in a checkout and in the wheel)."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
    return f"{resources.HANDLERS_PACKAGE}.{tags[0].lower()}.{snake}"
