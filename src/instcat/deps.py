"""Dependency providers for the controllers."""

from typing import Any

from litestar.datastructures import State
from litestar.di import Provide


def provide_service(service_class: type[Any]) -> Provide:
    """A dependency that builds `service_class(db)` for each request."""

    def provider(state: State) -> Any:
        return service_class(state.db)

    return Provide(provider, sync_to_thread=False)
