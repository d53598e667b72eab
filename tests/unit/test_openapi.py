"""docs/openapi.yaml: current, valid OpenAPI 3.1, one operation per function, exact requests.

The functions are read from functions/main.py twice: through the registry the
document is built from, and independently from the source (its ``@endpoint``
decorators), so a function that escapes the registry is still noticed.
"""

from __future__ import annotations

import ast
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import jsonschema
import pydantic
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import OpenAPIV31SpecValidator

from sharpened import cli, openapi
from sharpened.errors import ApiError
from sharpened.gateway import FUNCTIONS_SOURCE
from sharpened.http import EndpointSpec

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(openapi.SPEC_PATH.read_text())
    return loaded


@cache
def endpoints() -> dict[str, EndpointSpec]:
    return openapi.load_endpoints()


def declared_in_source() -> dict[str, dict[str, Any]]:
    """name → {methods, auth} of every ``@endpoint(...)`` in functions/main.py, from its AST."""
    tree = ast.parse(FUNCTIONS_SOURCE.read_text())
    found: dict[str, dict[str, Any]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Name)
                and decorator.func.id == "endpoint"
            ):
                continue
            name = ast.literal_eval(decorator.args[0])
            keywords = {kw.arg: kw.value for kw in decorator.keywords}
            methods = ast.literal_eval(keywords["methods"]) if "methods" in keywords else ("POST",)
            auth = ast.literal_eval(keywords["auth"]) if "auth" in keywords else "user"
            found[name] = {"methods": {m.lower() for m in methods}, "auth": auth}
    return found


def schema_for(ref_holder: dict[str, Any]) -> dict[str, Any]:
    """A standalone JSON schema for a ``{"$ref": "#/components/…"}`` of the document."""
    return {**ref_holder, "components": document()["components"]}


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_the_checked_in_document_is_the_generated_one() -> None:
    generated = openapi.generated_yaml()
    assert openapi.SPEC_PATH.read_text() == generated, (
        "docs/openapi.yaml does not match the functions' models: run `make openapi` "
        "(or `.venv/bin/sharpened openapi`) and commit the result"
    )
    assert yaml.safe_load(generated) == json.loads(
        openapi.render_json(openapi.build_document(endpoints()))
    )


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(doc).validate()  # raises with the first problem
    assert doc["servers"][0]["url"] == "http://127.0.0.1:54321/functions/v1"


def test_every_function_is_in_the_document_and_nothing_else() -> None:
    declared = declared_in_source()
    assert declared, "no @endpoint found in functions/main.py"
    paths = document()["paths"]
    assert set(paths) == {f"/{name}" for name in declared}
    for name, facts in declared.items():
        operations = {key for key in paths[f"/{name}"] if key in METHODS}
        assert operations == facts["methods"], name
    assert set(endpoints()) == set(declared)


def test_each_operation_states_its_auth() -> None:
    schemes = document()["components"]["securitySchemes"]
    assert schemes["apikey"] == {**schemes["apikey"], "type": "apiKey", "in": "header"}
    assert schemes["apikey"]["name"] == "apikey"
    for scheme in ("userToken", "serviceRole"):
        assert schemes[scheme]["scheme"] == "bearer"
        assert schemes[scheme]["bearerFormat"] == "JWT"
    expected = {
        "public": [{}, {"apikey": []}],
        "user": [{"apikey": [], "userToken": []}],
        "service": [{"apikey": [], "serviceRole": []}],
    }
    for name, facts in declared_in_source().items():
        for method in facts["methods"]:
            operation = document()["paths"][f"/{name}"][method]
            assert operation["security"] == expected[facts["auth"]], name
            responses = operation["responses"]
            assert "401" in responses, name  # a bad token is refused even where none is needed
            assert ("403" in responses) == (facts["auth"] == "service"), name
            codes_401 = error_codes(responses["401"])
            assert ("missing_token" in codes_401) == (facts["auth"] != "public"), name


def error_codes(response: dict[str, Any]) -> list[str]:
    schema = response["content"]["application/json"]["schema"]
    refs = [part["$ref"] for part in schema["allOf"] if "$ref" in part]
    assert refs == ["#/components/schemas/ErrorResponse"]
    enums: list[str] = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
    return enums


def test_every_error_answer_uses_the_one_error_shape_with_its_codes() -> None:
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert "200" in statuses, (path, method)
            assert {"413", "500", "503"} <= statuses, (path, method)
            if "requestBody" in operation:
                assert {"400", "422"} <= statuses, (path, method)
            for status, response in operation["responses"].items():
                if status == "200":
                    continue
                codes = error_codes(response)
                assert codes, (path, status)
                assert codes == sorted(set(codes)), (path, status)
                for code in codes:
                    assert f"`{code}`" in response["description"]
                    body = ApiError(int(status), code, "message", {"any": ["details"]}).body()
                    assert_valid(response["content"]["application/json"]["schema"], body)
                wrong = ApiError(int(status), "not_a_documented_code", "m").body()
                with pytest.raises(jsonschema.ValidationError):
                    assert_valid(response["content"]["application/json"]["schema"], wrong)


def assert_valid(schema: dict[str, Any], instance: Any) -> None:
    validator(schema_for(schema)).validate(instance)


def test_the_error_schema_rejects_other_shapes() -> None:
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    assert_valid(ref, {"error": {"code": "x", "message": "y", "details": None}})
    for bad in (
        {"error": {"code": "x", "message": "y"}},  # details is always present
        {"error": {"code": "x", "message": "y", "details": None, "hint": "z"}},
        {"code": "x", "message": "y", "details": None},  # PostgREST's shape is not ours
        {"error": {"code": 1, "message": "y", "details": None}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            assert_valid(ref, bad)


def test_request_and_answer_schemas_are_the_models() -> None:
    for name, spec in endpoints().items():
        method = next(iter(spec.methods)).lower()
        operation = document()["paths"][f"/{name}"][method]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert spec.response is not None, f"{name} declares no answer model"
        assert ok == {"$ref": f"#/components/schemas/{spec.response.__name__}"}
        if spec.request is None:
            assert "requestBody" not in operation, name
            continue
        body = operation["requestBody"]
        assert body["required"] is spec.request_required
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{spec.request.__name__}"
        }
        schema = document()["components"]["schemas"][spec.request.__name__]
        assert schema["additionalProperties"] is False, name
        assert schema.get("required", []) == [
            field for field, info in spec.request.model_fields.items() if info.is_required()
        ]


# Values that probe each kind of field: valid ones, edge ones and wrong types.
UUIDS = st.uuids().flatmap(
    lambda u: st.sampled_from([str(u), str(u).upper(), u.hex, f"{{{u}}}", f"urn:uuid:{u}"])
)
DATES = st.dates().flatmap(
    lambda d: st.sampled_from([d.isoformat(), f"{d.isoformat()}T00:00:00", d.strftime("%Y%m%d")])
)
NUMBERS = st.one_of(
    st.integers(min_value=-5, max_value=1100),
    st.sampled_from([0, 1, 52, 53, 1000, 1001, 12.0, 5.5, 1e1, -1.0, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    NUMBERS.map(str),
    st.text(max_size=20),
    st.sampled_from(["", "a\x00b", "\x00", "hello"]),
    UUIDS,
    DATES,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def bodies(model: type[pydantic.BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects over the model's keys (any subset, any values) plus, sometimes, an unknown key."""
    known = st.fixed_dictionaries({}, optional=dict.fromkeys(model.model_fields, VALUES))
    extra = st.dictionaries(st.sampled_from(["extra", "Message", "id"]), VALUES, max_size=1)
    return st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})


@cache
def request_validator(name: str) -> jsonschema.Draft202012Validator:
    return validator(schema_for({"$ref": f"#/components/schemas/{name}"}))


REQUEST_MODELS = sorted(
    {spec.request for spec in openapi.load_endpoints().values() if spec.request is not None},
    key=lambda model: model.__name__,
)


@pytest.mark.parametrize("model", REQUEST_MODELS, ids=lambda model: model.__name__)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_body_is_accepted_exactly_when_its_schema_allows_it(
    model: type[pydantic.BaseModel], data: st.DataObject
) -> None:
    body = data.draw(bodies(model))
    check = request_validator(model.__name__)
    schema_accepts = check.is_valid(body)
    try:
        model.model_validate_json(json.dumps(body))
    except pydantic.ValidationError:
        model_accepts = False
    else:
        model_accepts = True
    assert model_accepts == schema_accepts, (body, list(check.iter_errors(body)))


def test_the_probes_reach_both_verdicts() -> None:
    """The property above is not vacuous: both accepted and refused bodies come up."""
    model = next(m for m in REQUEST_MODELS if "session_id" in m.model_fields)
    good = {"session_id": str(uuid.uuid4()), "message": "hello"}
    fields = set(model.model_fields)
    good = {key: value for key, value in good.items() if key in fields}
    model.model_validate_json(json.dumps(good))
    for bad in ({**good, "session_id": uuid.uuid4().hex}, {**good, "extra": 1}, {}):
        with pytest.raises(pydantic.ValidationError):
            model.model_validate_json(json.dumps(bad))


def test_the_cli_writes_and_checks_the_document(tmp_path: Path) -> None:
    target = tmp_path / "openapi.yaml"
    assert cli.main(["openapi", "--check", "--output", str(target)]) == 1  # missing
    assert cli.main(["openapi", "--output", str(target)]) == 0
    assert target.read_text() == openapi.SPEC_PATH.read_text()
    assert cli.main(["openapi", "--check", "--output", str(target)]) == 0
    target.write_text(target.read_text().replace("3.1.0", "3.0.3"))
    assert cli.main(["openapi", "--check", "--output", str(target)]) == 1
