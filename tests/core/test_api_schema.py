"""The OpenAPI description integrators generate clients from: complete, valid, warning-free."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert "ApiKey" in schema["components"]["securitySchemes"]
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert len(operations) == sum(len(path) for path in schema["paths"].values())  # no collisions
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, f"{method} {path} documents its errors"
