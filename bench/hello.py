"""The ceiling every figure is divided by: a bare Litestar JSON endpoint.

Served by the harness with exactly the server settings the real app gets
(`uvicorn --factory hello:create_app --loop uvloop --http httptools --workers N`).
"""

from litestar import Litestar, get


@get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello, healthz])
