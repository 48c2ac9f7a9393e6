"""The one place operationIds meet Python: the handler that serves an operation, by name."""

from __future__ import annotations

import re


def handler_name(operation_id: str, tags: list[str]) -> str:
    """handlers.<first tag>.<operationId in snake_case>."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
    return f"handlers.{tags[0].lower()}.{snake}"
