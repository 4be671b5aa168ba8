"""Flask, Django, gRPC and requests contrib instrumentation in one trace, read from Zipkin."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import pytest
from requests_opentracing import SessionTracing

from tests.ecosystem import services
from tests.ecosystem.conftest import Tracers
from tests.integration.zipkin_api import ZipkinApi

GRPC_ERROR = "StatusCode.UNKNOWN: Exception calling application: inventory on fire"


@pytest.fixture(scope="module")
def storefront_url(tracers: Tracers) -> Iterator[str]:
    inventory, target = services.start_inventory(tracers("inventory"))
    stock_web = services.WsgiServer(services.django_app(tracers("stock-web"), target))
    storefront = services.WsgiServer(services.flask_app(tracers("storefront"), stock_web.url))
    try:
        yield storefront.url
    finally:
        storefront.stop()
        stock_web.stop()
        services._inventory["channel"].close()
        inventory.stop(grace=None).wait(10)


def one(spans: List[Dict[str, Any]], **where: Any) -> Dict[str, Any]:
    """The single span whose fields (service=, kind=, name=, parentId=, url=) match."""

    def matches(span: Dict[str, Any]) -> bool:
        fields = {
            "service": span["localEndpoint"]["serviceName"],
            "kind": span.get("kind"),
            "name": span.get("name"),
            "parentId": span.get("parentId"),
            "url": span.get("tags", {}).get("http.url", "").rsplit("/", 1)[-1],
        }
        return all(fields[key] == value for key, value in where.items())

    found = [span for span in spans if matches(span)]
    assert len(found) == 1, (where, found)
    return found[0]


def test_flask_django_grpc_and_requests_share_one_trace(
    storefront_url: str, tracers: Tracers, zipkin: ZipkinApi
) -> None:
    shop = tracers("shop")
    response = SessionTracing(shop).get(f"{storefront_url}/checkout", timeout=30)
    assert response.json() == {"widget": 200, services.FAILING_ITEM: 500}
    tracers.flush()
    trace_id = response.request.headers["X-B3-TraceId"]

    # shop client, storefront server + 2 clients, and per item: Django server,
    # gRPC client, gRPC server.
    spans = zipkin.wait_for_trace(trace_id, spans=10)
    assert len(spans) == 10

    client = one(spans, service="shop", kind="CLIENT", name="requests.get")
    assert "parentId" not in client
    assert client["tags"]["http.status_code"] == "200"
    flask = one(spans, service="storefront", kind="SERVER", name="checkout")
    assert flask["parentId"] == client["id"]  # a child: Flask-OpenTracing tags the kind late
    assert flask["tags"]["http.method"] == "GET"
    assert flask["tags"]["component"] == "Flask"
    assert "error" not in flask["tags"]

    for item, status in (("widget", "200"), (services.FAILING_ITEM, "500")):
        call = one(spans, service="storefront", kind="CLIENT", url=item)
        assert call["name"] == "requests.get"
        assert call["parentId"] == flask["id"]
        assert call["tags"]["http.status_code"] == status
        assert "error" not in call["tags"]  # requests-opentracing flags no 5xx
        django = one(spans, service="stock-web", kind="SERVER", url=item)
        assert django["name"] == "stock"
        assert django["parentId"] == call["id"]
        assert django["tags"]["component"] == "django"
        grpc_client = one(spans, service="stock-web", kind="CLIENT", parentId=django["id"])
        assert grpc_client["name"] == services.CHECK.lower()  # Zipkin lowercases names
        grpc_server = one(spans, service="inventory", kind="SERVER", parentId=django["id"])
        assert grpc_server["name"] == services.CHECK.lower()
        assert grpc_server["id"] == grpc_client["id"]
        assert grpc_server.get("shared") is True
        if item == "widget":
            for span in (django, grpc_client, grpc_server):
                assert "error" not in span.get("tags", {}), span
        else:
            assert grpc_server["tags"]["error"] == "RuntimeError: inventory on fire"
            assert grpc_client["tags"]["error"] == GRPC_ERROR
            assert django["tags"]["error"] == GRPC_ERROR
