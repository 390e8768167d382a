"""A small shop API audited by ``auditwatch_sdk.AuditMiddleware``.

Run it against a local broker (``scripts/kafka.sh start``)::

    AUDITWATCH_KAFKA_BOOTSTRAP=127.0.0.1:19092 python -m examples.fastapi_shop.app
    curl -H 'x-user: alice' localhost:8000/items/42
    curl -X DELETE -H 'x-user: mallory' localhost:8000/items/42     # 403, an authorization failure

Each request becomes one canonical event on ``audit.raw``. The ``x-user``
header stands in for real authentication: in your service, set
``request.state.principal`` from the verified token, or pass a ``principal``
resolver that reads it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request

from auditwatch_sdk import Actor, AuditClient, AuditMiddleware

__all__ = ["create_app", "main"]

ITEMS = {str(n): {"id": str(n), "name": f"item {n}"} for n in range(100)}
ADMINS = frozenset({"admin"})


def principal(scope: Any) -> Actor | None:
    """Who is calling: here the ``x-user`` header, standing in for a verified token."""
    for key, value in scope.get("headers", ()):
        if key == b"x-user":
            user = value.decode("latin-1")
            return Actor(id=user, type="human", roles=("admin",) if user in ADMINS else ())
    return None


def create_app(client: AuditClient | None = None, trusted_proxies: tuple[str, ...] = ()) -> FastAPI:
    """The shop; audited when ``client`` is given, and the client is flushed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if client is not None:
            await client.aclose()

    app = FastAPI(title="shop", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/items/{item_id}")
    async def get_item(item_id: str) -> dict[str, str]:
        if item_id not in ITEMS:
            raise HTTPException(404, "no such item")
        return ITEMS[item_id]

    @app.delete("/items/{item_id}", status_code=204)
    async def delete_item(item_id: str, request: Request) -> None:
        actor = principal(request.scope)
        if actor is None:
            raise HTTPException(401, "sign in first")
        if "admin" not in actor.roles:
            raise HTTPException(403, "only admins delete items")

    if client is not None:
        app.add_middleware(
            AuditMiddleware,
            client=client,
            principal=principal,
            trusted_proxies=trusted_proxies,
            record_headers=("authorization", "x-tenant"),
            skip_paths=("/health",),
        )
    return app


def main() -> None:
    import uvicorn

    client = AuditClient.kafka(
        os.environ.get("AUDITWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        topic=os.environ.get("AUDITWATCH_RAW_TOPIC", "audit.raw"),
        service="shop",
        tenant_id=os.environ.get("SHOP_TENANT", "default"),
        overflow="spool",
        spool_dir=os.environ.get("SHOP_SPOOL_DIR", "var/shop-spool"),
    )
    uvicorn.run(create_app(client, trusted_proxies=("127.0.0.1/32",)), host="127.0.0.1", port=8000)


if __name__ == "__main__":
    main()
