"""The published OpenAPI document: a valid OpenAPI 3.1 document (openapi-spec-validator), served by
the hub, naming every route the hub has and no route it lacks, and matching what the routes answer."""

import glob
import os
import re
import urllib.request

import yaml
from openapi_spec_validator import validate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = os.path.join(ROOT, "Sources", "HubServer", "OpenAPI", "openapi.yaml")


def registered_routes():
    """(METHOD, /path) of every route the server's sources register."""
    routes = set()
    for path in glob.glob(os.path.join(ROOT, "Sources", "HubServer", "**", "*.swift"), recursive=True):
        text = open(path, encoding="utf-8").read()
        for group, method, route in re.findall(r'\b(api|router)\.(get|post|put|patch|delete|ws)\(\s*"([^"]*)"', text):
            prefix = "/v1/" if group == "api" else "/"
            full = prefix + re.sub(r":(\w+)", r"{\1}", route)
            routes.add(("GET" if method == "ws" else method.upper(), full))
        for route in re.findall(r'\("(\w[\w/.-]*)", "\w+", "[\w.]+", "[^"]+"\)', text):
            routes.add(("GET", "/" + route))
    routes.add(("POST", "/webhooks/{account}"))
    routes.add(("POST", "/webhooks/{account}/{action}"))
    return routes


def documented_routes(spec):
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item}


def test_the_document_is_valid_openapi():
    validate(yaml.safe_load(open(SPEC, encoding="utf-8")))


def test_every_route_is_documented_and_every_documented_route_exists():
    spec = yaml.safe_load(open(SPEC, encoding="utf-8"))
    pages = {("GET", "/inbox"), ("GET", "/inbox/inbox.js"), ("GET", "/inbox/inbox.css"), ("GET", "/openapi.yaml"),
             ("GET", "/dashboard"), ("GET", "/dashboard/dashboard.js"), ("GET", "/dashboard/dashboard.css")}
    routes = registered_routes() - pages
    documented = documented_routes(spec)
    assert routes - documented == set(), "routes missing from the document"
    assert documented - routes == set(), "documented routes the hub does not have"


def test_the_hub_serves_it_and_its_routes_answer_as_documented(hub):
    with urllib.request.urlopen(hub.base + "/openapi.yaml") as response:
        assert response.headers["Content-Type"].startswith("application/yaml")
        served = yaml.safe_load(response.read())
    spec = yaml.safe_load(open(SPEC, encoding="utf-8"))
    assert served == spec
    # Every documented GET without path parameters answers one of its documented statuses.
    for path, item in spec["paths"].items():
        if "get" not in item or "{" in path or path in ("/v1/agent/ws", "/v1/supervisor/ws"):
            continue
        status, _ = hub.request("GET", path, raw=path == "/metrics")
        documented = {int(code) for code in item["get"]["responses"]}
        assert status in documented, (path, status)
