"""Stripe's request side: bracket-notation form bodies, parameter checking and the error body it answers with."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

KEY_PART_RE = re.compile(r"\[([^\]]*)\]")
FREE_FORM = frozenset({"metadata", "payload"})  # maps whose keys are the caller's, never list indices


class StripeError(Exception):
    """An answer in Stripe's error shape: `{"error": {"type", "code", "message", "param", ...}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's own name for the field
        code: str | None = None,
        param: str | None = None,
        extra: dict | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict:
        error: dict = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def no_such(kind: str, object_id: str, param: str, status: int = 400) -> StripeError:
    return StripeError(status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def invalid(param: str, message: str, code: str | None = None) -> StripeError:
    return StripeError(400, message, code=code, param=param)


# parsing ------------------------------------------------------------------------------------------------------


def parse_form(text: str) -> dict:
    """`line_items[0][price]=p&expand[]=x&metadata[shop_id]=7` -> nested dicts and lists, as Stripe reads it."""
    root: dict = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        head = key.split("[", 1)[0]
        parts = [head, *KEY_PART_RE.findall(key[len(head) :])]
        node = root
        for part in parts[:-1]:
            if part == "":
                part = str(len(node))
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        last = parts[-1] if parts[-1] != "" else str(len(node))
        if not isinstance(node.get(last), dict):
            node[last] = value
    return _listify(root, None)


def _listify(node, name: str | None):
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value, key) for key, value in node.items()}
    if name not in FREE_FORM and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


# checking -----------------------------------------------------------------------------------------------------
#
# A schema is a dict of parameter name -> spec; a name ending in "!" is required. A spec is "str", "int", "bool",
# "map" (free-form string map such as metadata), "any" (accepted, not modelled), a tuple of allowed strings,
# a one-element list (an array of that spec) or a nested schema dict.


def check(params: dict, schema: dict, prefix: str = "") -> dict:
    """Returns the params coerced to their types; raises Stripe's error for unknown, missing or malformed ones."""
    specs = {name.rstrip("!"): spec for name, spec in schema.items()}
    for name in params:
        if name not in specs:
            param = _join(prefix, name)
            raise StripeError(400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param)
    out = {}
    for raw_name, spec in schema.items():
        name = raw_name.rstrip("!")
        param = _join(prefix, name)
        if name not in params or params[name] is None:
            if raw_name.endswith("!"):
                raise missing(param)
            continue
        value = _coerce(params[name], spec, param)
        if value is None and raw_name.endswith("!"):
            raise missing(param)
        out[name] = value
    return out


def _join(prefix: str, name) -> str:
    return f"{prefix}[{name}]" if prefix else str(name)


def _coerce(value, spec, param: str):
    if spec == "any":
        return value
    if spec == "map":
        return value if value == "" else check_map(value, param)
    if isinstance(spec, dict):
        if value == "":
            return None
        if not isinstance(value, dict):
            raise invalid(param, "Invalid object")
        return check(value, spec, param)
    if isinstance(spec, list):
        if value == "":
            return []
        if isinstance(value, dict) and not value:
            return []
        if not isinstance(value, list):
            raise invalid(param, "Invalid array")
        return [_coerce(item, spec[0], _join(param, i)) for i, item in enumerate(value)]
    if isinstance(value, (dict, list)):
        raise invalid(param, f"Invalid {'string' if spec == 'str' else 'value'}: {{...}}")
    if spec == "str":
        return value
    if spec == "int":
        if value == "":
            return None
        if not re.fullmatch(r"-?\d+", value):
            raise invalid(param, f"Invalid integer: {value}", code="parameter_invalid_integer")
        return int(value)
    if spec == "bool":
        if value == "":
            return None
        if value not in ("true", "false"):
            raise invalid(param, f"Invalid boolean: {value}")
        return value == "true"
    if isinstance(spec, tuple):
        if value == "":
            return None
        if value not in spec:
            choices = ", ".join(spec[:-1]) + (f", or {spec[-1]}" if len(spec) > 2 else f" or {spec[-1]}")
            raise invalid(param, f"Invalid {param}: must be one of {choices}")
        return value
    raise AssertionError(f"bad schema spec {spec!r}")


def check_map(value: dict, param: str) -> dict:
    """Metadata as Stripe limits it: at most 50 keys, keys up to 40 characters, values up to 500."""
    if not isinstance(value, dict):
        raise invalid(param, "Invalid object")
    if len(value) > 50:
        raise invalid(param, "You can only specify up to 50 keys in metadata.")
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid(f"{param}[{key}]", "Invalid string: {...}")
        if len(key) > 40:
            raise invalid(f"{param}[{key}]", "Metadata keys must be 40 characters or less.")
        if len(item) > 500:
            raise invalid(f"{param}[{key}]", "Metadata values must be 500 characters or less.")
    return value


def merge_metadata(current: dict, update: dict | str) -> dict:
    """Stripe's update rule: `metadata[k]=` removes k, `metadata=` clears all, other keys are kept."""
    if update == "" or update == {}:
        return {} if update == "" else dict(current)
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
