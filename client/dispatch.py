"""The event tables of the stream's clients: each handler is registered, where it is
written, under the event types it applies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

State = TypeVar("State")
Result = TypeVar("Result")
Handler = TypeVar("Handler", bound=Callable[..., Any])


class EventTable(Generic[State, Result]):
    """Handlers by event type. Each takes the state and its event's data, which arrives as
    raw JSON: the handler's parameter names the shape that event's data has."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[State, Any], Result]] = {}

    def on(self, *types: str) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of these event types."""

        def register(handler: Handler) -> Handler:
            for name in types:
                if name in self.handlers:
                    raise ValueError(f"{name!r} has a handler already")
                self.handlers[name] = handler
            return handler

        return register
