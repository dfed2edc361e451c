"""Stripe's own description of its API objects, as the witness the Stripe readers and the demo
generator are held to. The `stripe` package's resource classes are generated from Stripe's
OpenAPI specification: every attribute an object has, with its type (an expandable field is an
id or the object). Nothing here is the project's guess of the shape."""

import ast
import importlib
import inspect
import sys
import types
import typing
from functools import cache
from typing import Any, Literal, Union

import stripe
from stripe._stripe_object import StripeObject, UntypedStripeObject


class _TypeCheckingNames(dict):
    """The names a stripe module imports only for type checking, imported when looked up."""

    def __init__(self, module: types.ModuleType) -> None:
        super().__init__()
        self.imports: dict[str, tuple[str, str]] = {}
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
                for statement in node.body:
                    if isinstance(statement, ast.ImportFrom) and statement.module:
                        for alias in statement.names:
                            self.imports[alias.asname or alias.name] = (statement.module, alias.name)

    def __getitem__(self, name: str) -> Any:
        if name in self.imports:
            module_name, attribute = self.imports[name]
            return getattr(importlib.import_module(module_name), attribute)
        raise KeyError(name)  # then the module's own names


@cache
def attributes(cls: type) -> dict[str, Any]:
    """Every attribute Stripe documents for an object class, with its type."""
    return typing.get_type_hints(cls, localns=_TypeCheckingNames(sys.modules[cls.__module__]))


def _object_name(cls: type) -> str | None:
    kind = attributes(cls).get("object")
    return typing.get_args(kind)[0] if typing.get_origin(kind) is Literal else None


def _is_union(kind: Any) -> bool:
    return typing.get_origin(kind) in (Union, types.UnionType)


def problems(value: Any, kind: Any, where: str) -> list[str]:
    """Where ``value`` is not of Stripe's type ``kind``: keys Stripe does not document, values of
    another type. An empty list when it conforms."""
    if kind is Any:
        return []
    if kind is type(None):
        return [] if value is None else [f"{where}: {value!r} where null is documented"]
    if _is_union(kind):
        options = typing.get_args(kind)
        if isinstance(value, dict) and "object" in value:
            # an expanded object: the branch whose `object` names it
            named = [o for o in options if isinstance(o, type) and issubclass(o, StripeObject)]
            named = [o for o in named if _object_name(o) == value["object"]]
            if named:
                return problems(value, named[0], where)
        found = [problems(value, option, where) for option in options]
        return [] if any(not p for p in found) else min(found, key=len)
    origin = typing.get_origin(kind)
    if origin is Literal:
        return [] if value in typing.get_args(kind) else [f"{where}: {value!r} is not one of {typing.get_args(kind)}"]
    if origin in (list, typing.List):  # noqa: UP006 - the stripe package writes List
        if not isinstance(value, list):
            return [f"{where}: {value!r} where a list is documented"]
        (item,) = typing.get_args(kind)
        return [p for index, element in enumerate(value) for p in problems(element, item, f"{where}[{index}]")]
    if origin is UntypedStripeObject or kind is UntypedStripeObject:
        # metadata: the merchant's own keys, text values
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            return [f"{where}: {value!r} where a mapping of texts is documented"]
        return []
    if isinstance(kind, type) and issubclass(kind, StripeObject):
        if not isinstance(value, dict):
            return [f"{where}: {value!r} where a {kind.__name__} object is documented"]
        documented = attributes(kind)
        found = []
        for key, item in value.items():
            if key not in documented:
                found.append(f"{where}.{key}: not an attribute of Stripe's {kind.__name__}")
            else:
                found += problems(item, documented[key], f"{where}.{key}")
        return found
    if kind is float:
        return (
            []
            if isinstance(value, int | float) and not isinstance(value, bool)
            else [f"{where}: {value!r} not a number"]
        )
    if kind in (int, str, bool):
        fits = isinstance(value, kind) and (kind is bool or not isinstance(value, bool))
        return [] if fits else [f"{where}: {value!r} where {kind.__name__} is documented"]
    return []  # a type this check does not describe (a mapping of another kind)


def path_problems(cls: type, path: str) -> list[str]:
    """Why a dotted path (source.metadata.order_id) does not name something Stripe's ``cls`` can
    carry; empty when some object along every step has the key (a union's branch, an expanded
    field's object, anything under metadata)."""
    kinds: list[Any] = [cls]
    walked = cls.__name__
    for key in path.split("."):
        following: list[Any] = []
        for kind in kinds:
            for option in typing.get_args(kind) if _is_union(kind) else (kind,):
                if typing.get_origin(option) is UntypedStripeObject or option is UntypedStripeObject:
                    return []  # the merchant's metadata holds any key
                if isinstance(option, type) and issubclass(option, StripeObject) and key in attributes(option):
                    following.append(attributes(option)[key])
        if not following:
            return [f"{path}: {walked} has no attribute '{key}' in Stripe's API"]
        kinds, walked = following, f"{walked}.{key}"
    return []


BALANCE_TRANSACTION = stripe.BalanceTransaction
CHARGE = stripe.Charge
