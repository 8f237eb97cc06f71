"""Which outputs to measure: layer specs as in captum and torchinfo, resolved to named layers.

A spec is

* a module's name in ``model.named_modules()`` (``"layer1.0.conv1"``),
* a module type (every module of exactly that type, in the model's order),
* a module object of the model,
* any of these paired with a selector, ``(spec, selector)``, for a module whose output is not
  one tensor: a tuple or list index (``("lstm", 0)``), a dict key (``("head", "logits")``) or a
  callable applied to the output (``("encoder", lambda out: out.last_hidden_state)``).

``layers`` is a sequence of specs, or a mapping from names of your choice to specs (one module
each). A layer's name is what the records call it: the module's name, with ``[0]`` or
``['logits']`` for an index or key, or ``:fn`` for a callable ``fn``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import torch
from torch import nn

Selector = Union[int, str, Callable[[Any], torch.Tensor]]
ModuleSpec = Union[str, type, nn.Module]
LayerSpec = Union[ModuleSpec, tuple[ModuleSpec, Selector]]
"""A module name, type or object, optionally with a selector of its output."""


@dataclass(frozen=True)
class Layer:
    """A measured output: ``select`` applied to the output of module ``module``."""

    name: str
    module: str
    select: Selector | None = None

    def output(self, raw: Any) -> torch.Tensor:
        """The measured tensor from the module's raw output; errors name the layer."""
        out = raw
        if isinstance(self.select, int):
            if not isinstance(raw, (tuple, list)):
                raise TypeError(f"layer {self.name!r}: index {self.select} selects from a tuple "
                                f"or list output, got {type(raw).__name__}")
            if not -len(raw) <= self.select < len(raw):
                raise IndexError(f"layer {self.name!r}: index {self.select} is out of range for "
                                 f"an output of {len(raw)} elements")
            out = raw[self.select]
        elif isinstance(self.select, str):
            if not isinstance(raw, Mapping):
                raise TypeError(f"layer {self.name!r}: key {self.select!r} selects from a dict "
                                f"output, got {type(raw).__name__}")
            if self.select not in raw:
                raise ValueError(f"layer {self.name!r}: the output has no key {self.select!r}; "
                               f"keys: {list(raw)}")
            out = raw[self.select]
        elif self.select is not None:
            out = self.select(raw)
        if not isinstance(out, torch.Tensor):
            hint = (" (select one tensor: a tuple index, a dict key or a callable, e.g. "
                    f"layers=[({self.module!r}, 0)])" if self.select is None else "")
            source = "returned" if self.select is None else "gave after its selector"
            raise TypeError(f"layer {self.name!r} {source} {type(out).__name__}, not a tensor"
                            f"{hint}")
        return out


def _selector_name(select: Selector | None) -> str:
    if select is None:
        return ""
    if isinstance(select, (int, str)):
        return f"[{select!r}]"
    return f":{getattr(select, '__name__', type(select).__name__)}"


def describe_spec(spec: Any) -> str:
    """One stable line naming a spec in messages: ``'fc1'``, ``type Linear``,
    ``a Linear(in_features=8, out_features=3, bias=True) object``, ``('block', 0)``."""
    if isinstance(spec, tuple) and len(spec) == 2:
        select = spec[1]
        shown = repr(select) if isinstance(select, (int, str)) else getattr(
            select, "__name__", type(select).__name__)
        return f"({describe_spec(spec[0])}, {shown})"
    if isinstance(spec, type):
        return f"type {spec.__name__}"
    if isinstance(spec, nn.Module):
        return f"a {type(spec).__name__}({spec.extra_repr()}) object"
    return repr(spec)


def _check_selector(select: Any, spec: Any) -> Selector:
    if isinstance(select, bool) or not (isinstance(select, (int, str)) or callable(select)):
        raise TypeError(f"layers: the selector of {spec!r} must be an int index, a str key or a "
                        f"callable, got {select!r}")
    return select


def layer_entries(
    layers: Sequence[LayerSpec] | Mapping[str, LayerSpec] | LayerSpec,
) -> list[tuple[str | None, ModuleSpec, Selector | None]]:
    """The specs of ``layers`` one by one, as (name given in a mapping or None, module spec,
    selector or None); a tuple's shape and its selector are checked here."""
    if isinstance(layers, (str, type, nn.Module, tuple)):
        layers = [layers]
    chosen = list(layers.items()) if isinstance(layers, Mapping) else [(None, s) for s in layers]
    entries: list[tuple[str | None, ModuleSpec, Selector | None]] = []
    for given_name, spec in chosen:
        select = None
        if isinstance(spec, tuple):
            if len(spec) != 2:
                raise TypeError(f"layers: a tuple spec must be (module, selector), got {spec!r}")
            spec, select = spec[0], _check_selector(spec[1], spec)
        entries.append((given_name, spec, select))
    return entries


def matching_modules(spec: ModuleSpec, named: Mapping[str, nn.Module]) -> list[str]:
    """The names in ``named`` (a model's ``dict(named_modules())``) that a module name, type
    or object matches, in the model's order; empty when none does."""
    if isinstance(spec, str):
        return [spec] if spec and spec in named else []
    if isinstance(spec, type) and issubclass(spec, nn.Module):
        return [n for n, m in named.items() if n and type(m) is spec]
    if isinstance(spec, nn.Module):
        return [n for n, m in named.items() if m is spec and n][:1]
    raise TypeError(
        f"layers must hold module names, nn.Module types or modules, optionally paired with a "
        f"selector as (module, selector), got {spec!r}"
    )


def _modules(spec: Any, named: dict[str, nn.Module]) -> list[str]:
    """Module names for one name, type or module object; an error when it matches none."""
    found = matching_modules(spec, named)
    if found:
        return found
    if isinstance(spec, str):
        close = [n for n in named if n and spec and spec.split(".")[-1] in n][:10]
        raise ValueError(
            f"layers names {spec!r}, which is not a module of the model"
            + (f"; similar names: {close}" if close else "")
            + " (infoflow.monitor.list_layers(model, example_input) lists every module)"
        )
    if isinstance(spec, type):
        raise ValueError(f"layers names type {spec.__name__}, which the model does not use")
    raise ValueError(f"layers holds a {type(spec).__name__} object that is not a "
                     "submodule of the model")


def resolve_layers(
    model: nn.Module, layers: Sequence[LayerSpec] | Mapping[str, LayerSpec] | LayerSpec | None
) -> list[Layer]:
    """The measured layers for the specs, in the order given (a type's modules in model order).

    ``None`` takes the model's ``layer_names`` (infoflow's models define them).
    """
    named = dict(model.named_modules())
    if layers is None:
        if not hasattr(model, "layer_names"):
            raise ValueError(
                "layers must name the modules to measure (names, types or modules); this model "
                "has no layer_names attribute"
            )
        layers = list(model.layer_names)
    found: list[Layer] = []
    for given_name, spec, select in layer_entries(layers):
        modules = _modules(spec, named)
        if given_name is not None:
            if not isinstance(given_name, str) or not given_name:
                raise TypeError(f"layers: names must be non-empty strings, got {given_name!r}")
            if len(modules) > 1:
                raise ValueError(f"layers: {given_name!r} must name one module, but "
                                 f"{spec.__name__} matches {len(modules)}: {modules}")
            found.append(Layer(given_name, modules[0], select))
        else:
            found.extend(Layer(m + _selector_name(select), m, select) for m in modules)
    names: dict[str, Layer] = {}
    for layer in found:
        if layer.name in names and names[layer.name] != layer:
            raise ValueError(f"layers: two different outputs are both named {layer.name!r}")
        names.setdefault(layer.name, layer)
    if not names:
        raise ValueError("layers must name at least one module")
    return list(names.values())
