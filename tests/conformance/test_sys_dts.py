"""``sysjobs/bindings/sys.d.ts`` cannot drift from the bindings.

The JS side is read from a real sandbox (what scripts actually see); the declarations are
read with the TypeScript parser. Every function, constant and class method on one side
must be on the other.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.bindings.jobs import jobs_namespace
from sysjobs.bindings.logs import logs_namespace
from sysjobs.jobs import Engine
from sysjobs.runtime import Sandbox
from sysjobs.runtime.namespace import Namespace

ROOT = Path(__file__).resolve().parents[2]
DTS = ROOT / "sysjobs" / "bindings" / "sys.d.ts"
TYPESCRIPT = ROOT / "node_modules" / "typescript"
#: Members every object has; declaring them would only add noise.
_OBJECT_MEMBERS = {"constructor", "toString", "toJSON", "valueOf"}


def _public(names: list[str]) -> list[str]:
    """Names scripts are meant to use: ``__x`` methods are a prelude's private plumbing."""
    return sorted(n for n in set(names) - _OBJECT_MEMBERS if not n.startswith("__"))

_ENUMERATE = r"""
(function () {
  var out = {globals: typeof log === 'function' ? ['log'] : []};
  Object.keys(sys).forEach(function (ns) {
    var obj = sys[ns], entry = {members: Object.keys(obj).sort(), classes: {}, constants: {}};
    entry.members.forEach(function (name) {
      var v = obj[name];
      if (typeof v === 'string') entry.constants[name] = v;
      if (typeof v === 'function' && /^[A-Z]/.test(name) && v.prototype) {
        entry.classes[name] = Object.getOwnPropertyNames(v.prototype).sort();
      }
    });
    out[ns] = entry;
  });
  return out;
})()
"""


def _data_namespace() -> Namespace | None:
    """``sys.data`` when the app layer provides it (its preludes need no services to load)."""
    try:
        from sysjobs.bindings import data  # type: ignore[attr-defined]
    except ImportError:
        return None
    factory = getattr(data, "data_namespace", None)
    if factory is None:
        return None
    try:
        return cast(Namespace, factory(None))
    except TypeError:  # a factory that needs more services than its prelude
        return None


def _js_surface() -> dict[str, Any]:
    namespaces = [*core_namespaces(), jobs_namespace(cast(Engine, None)),
                  logs_namespace(cast(Engine, None))]
    data = _data_namespace()
    if data is not None:
        namespaces.append(data)
    with Sandbox(namespaces, pool_size=0) as sandbox:
        result = sandbox.run(_ENUMERATE)
    assert result.ok, result.error
    return cast(dict[str, Any], result.value)


def _dts_surface() -> dict[str, Any]:
    if not (TYPESCRIPT / "package.json").exists():
        pytest.fail("TypeScript is not installed: run `make node_modules/.bin/tsc`")
    script = Path(__file__).with_name("dts_members.cjs")
    out = subprocess.run(
        ["node", str(script), str(TYPESCRIPT), str(DTS)],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout
    return cast(dict[str, Any], json.loads(out))


@pytest.fixture(scope="module")
def surfaces() -> tuple[dict[str, Any], dict[str, Any]]:
    return _js_surface(), _dts_surface()


@pytest.mark.parametrize("namespace", ["jobs", "commons", "exceptions", "data", "logs"])
def test_every_namespace_member_is_declared_and_nothing_more(
    surfaces: tuple[dict[str, Any], dict[str, Any]], namespace: str
) -> None:
    js, dts = surfaces
    if namespace not in js:
        pytest.skip(f"sys.{namespace} is not provided by the bindings yet")
    assert sorted(js[namespace]["members"]) == sorted(dts[namespace]["members"])


@pytest.mark.parametrize("namespace", ["jobs", "commons", "exceptions", "data", "logs"])
def test_every_class_method_is_declared_and_nothing_more(
    surfaces: tuple[dict[str, Any], dict[str, Any]], namespace: str
) -> None:
    js, dts = surfaces
    if namespace not in js:
        pytest.skip(f"sys.{namespace} is not provided by the bindings yet")
    actual = {k: _public(v) for k, v in js[namespace]["classes"].items()}
    declared = {k: _public(v) for k, v in dts[namespace]["classes"].items()}
    assert actual == declared


@pytest.mark.parametrize("namespace", ["jobs", "commons", "exceptions", "data", "logs"])
def test_every_constant_is_declared_with_its_value(
    surfaces: tuple[dict[str, Any], dict[str, Any]], namespace: str
) -> None:
    js, dts = surfaces
    if namespace not in js:
        pytest.skip(f"sys.{namespace} is not provided by the bindings yet")
    assert js[namespace]["constants"] == dts[namespace]["constants"]


def test_the_log_global_is_declared(surfaces: tuple[dict[str, Any], dict[str, Any]]) -> None:
    js, dts = surfaces
    assert js["globals"] == dts["globals"] == ["log"]


def test_the_declared_namespaces_are_the_ones_scripts_see(
    surfaces: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    js, dts = surfaces
    assert set(dts) - {"globals"} >= set(js) - {"globals"}
