from __future__ import annotations

import dataclasses

import httpx

from backend.app import create_app


async def test_health_reports_database_and_redis(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "jobs": "arq"}


async def test_health_is_503_when_redis_is_down(db, settings):
    broken = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")
    app = create_app(broken)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://podium.test") as client:
        app.state.queue = None  # the lifespan would fail to reach Redis; health must still answer
        response = await client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["redis"].startswith("error: ")
