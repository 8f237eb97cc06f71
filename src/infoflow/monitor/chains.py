"""Markov chains of measured layers, checked on the model's autograd graph (docs/method.md §5).

The DPIs relate two layers only when the later one depends on the input X only through the
earlier one: in the computation graph of a forward pass, the earlier layer's output *dominates*
every path from the input to the later layer's output. infoflow runs one forward pass with
gradients on the first two probe samples (eval mode, nothing updated), walks the autograd graph
back from every measured output, and decides dominance by reachability with a layer's output
removed.

Without declared chains, each measured layer is linked to its nearest measured dominator (the
input X when none), which gives a tree rooted at X; its root-to-leaf paths are the chains. Each
pair of layers adjacent in the user's list that is not a link of that tree is reported, with the
reason (parallel, bypassed, out of order). Declared chains are checked link by link; a link
that is not a Markov link is reported and the chain is split there.

The graph's vertices are the tensors (an autograd node and one of its outputs) and the nodes
that consume them, so the elements of a tuple output (a ``chunk``, an LSTM's state) are separate
variables. Only floating-point inputs have a graph: a model fed integers alone (token ids) cannot
be checked, and its chains are then assumed (:class:`ChainWarning`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from infoflow.monitor.activations import check_calls, check_forward_fn, check_model, hooked
from infoflow.monitor.dpi import Chains, Link
from infoflow.monitor.information_plane import INPUT
from infoflow.monitor.layer_specs import Layer
from infoflow.monitor.probe_inputs import (
    ForwardFn,
    as_probe,
    batch_of,
    map_tensors,
    model_dtype,
    moved,
)

_ROOT = ("root",)


class ChainWarning(UserWarning):
    """The chains could not be checked on the model's graph and are assumed."""


def _tensor_vertex(t: torch.Tensor) -> tuple[Any, tuple] | None:
    """The graph vertex of a tensor, with the node it keeps alive; None if it has no graph."""
    node = t.grad_fn
    if node is None:
        if not t.requires_grad:
            return None
        node = t.view_as(t).grad_fn.next_functions[0][0]  # the leaf's AccumulateGrad
        return node, ("t", id(node), 0)
    return node, ("t", id(node), t.output_nr)


class _Graph:
    """The part of the autograd graph between the inputs and the measured outputs."""

    def __init__(self, outputs: dict[str, tuple[Any, tuple] | None],
                 inputs: list[torch.Tensor]) -> None:
        self.successors: dict[tuple, set[tuple]] = {_ROOT: set()}
        self.vertex = {name: None if found is None else found[1] for name, found in outputs.items()}
        self._keep: list[Any] = []  # nodes stay alive (and their ids unique) while we look
        leaves = {id(t) for t in inputs}
        stack = [found[0] for found in outputs.values() if found is not None]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            self._keep.append(node)
            if id(getattr(node, "variable", None)) in leaves:
                self._edge(_ROOT, ("n", id(node)))
            for parent, k in node.next_functions:
                if parent is None:
                    continue
                tensor = ("t", id(parent), k)
                self._edge(("n", id(parent)), tensor)
                self._edge(tensor, ("n", id(node)))
                stack.append(parent)
        for vertex in self.vertex.values():  # a node's every output depends on all its inputs
            if vertex is not None:
                self._edge(("n", vertex[1]), vertex)

    def _edge(self, a: tuple, b: tuple) -> None:
        self.successors.setdefault(a, set()).add(b)
        self.successors.setdefault(b, set())

    def reachable(self, start: tuple, avoid: tuple | None = None) -> set[tuple]:
        """Vertices reachable from ``start`` without passing through ``avoid``."""
        found, stack = {start}, [start]
        while stack:
            for b in self.successors.get(stack.pop(), ()):
                if b not in found and b != avoid:
                    found.add(b)
                    stack.append(b)
        return found


def _forward_outputs(
    model: nn.Module, inputs: Any, layers: Sequence[Layer], forward: ForwardFn
) -> tuple[dict[str, tuple[Any, tuple] | None], list[str], list[torch.Tensor]]:
    """One forward pass with gradients on the first two probe samples: each layer's output's
    graph vertex (taken when it is produced, before any in-place change), the order in which
    the layers ran, and the input tensors the graph starts from."""
    probe, n = as_probe(inputs, model_dtype(model), minimum=1)
    device = next(iter(model.parameters()), torch.empty(0)).device
    leaves: list[torch.Tensor] = []

    def leaf(t: torch.Tensor) -> torch.Tensor:
        if not t.is_floating_point():
            return t
        t = t.detach().requires_grad_(True)
        leaves.append(t)
        return t

    batch = map_tensors(moved(batch_of(probe, 0, min(n, 2)), device), leaf)
    outputs: dict[str, tuple[Any, tuple] | None] = {}
    order: list[str] = []

    def record(layer: Layer, output: Any) -> None:
        if layer.name not in outputs:
            outputs[layer.name] = _tensor_vertex(layer.output(output))
        if layer.name not in order:
            order.append(layer.name)

    with hooked(model, layers, record) as calls, torch.enable_grad():
        forward(model, batch)
        check_calls(calls, layers)
    return outputs, order, leaves


def _relation(graph: _Graph, reach: dict[str, set[tuple]], a: str, b: str) -> str:
    """Why (a, b) is no Markov link, in words."""
    va, vb = graph.vertex[a], graph.vertex[b]
    if vb not in reach[INPUT]:
        return f"{b} does not depend on the input"
    if va not in reach[INPUT]:
        return f"{a} does not depend on the input"
    if vb in graph.reachable(va):
        return f"{b} depends on the input also through paths that bypass {a}"
    if va in graph.reachable(vb):
        return f"{a} is computed from {b}, not the reverse: they are listed out of order"
    return f"{b} is parallel to {a}"


def find_chains(
    model: nn.Module,
    inputs: Any,
    layers: Sequence[Layer],
    *,
    chains: Sequence[Sequence[str]] | None = None,
    forward_fn: ForwardFn | None = None,
) -> Chains:
    """The Markov chains among ``layers`` (derived, or ``chains`` checked), from the model's graph.

    Parameters
    ----------
    model : torch.nn.Module
    inputs : the probe inputs (see :func:`~infoflow.monitor.capture_activations`); the first two
        samples are used
    layers : the measured layers, in the user's order
    chains : sequences of layer names, optional
        Declared chains, each checked link by link; default: derived from the graph.
    forward_fn : callable ``forward_fn(model, batch)``, default ``model(batch)``
    """
    model = check_model(model)
    names = [layer.name for layer in layers]
    if chains is not None:
        declared = Chains.of(chains)
        unknown = [name for name in declared.layers if name not in names]
        if unknown:
            raise ValueError(f"chains name {unknown}, which are not measured layers {names}")
    outputs, order, leaves = _forward_outputs(model, inputs, layers, check_forward_fn(forward_fn))
    if not leaves:
        warnings.warn(
            "the chains cannot be checked: the model's inputs hold no floating-point tensor, so "
            "there is no autograd graph from them; the layers are assumed to form "
            + ("the declared chains" if chains is not None else "one chain in the given order"),
            ChainWarning,
            stacklevel=2,
        )
        return Chains((declared if chains is not None else Chains.of(names)).chains, checked=False)
    graph = _Graph(outputs, leaves)
    reach = {INPUT: graph.reachable(_ROOT)}
    for name in names:
        reach[name] = graph.reachable(_ROOT, avoid=graph.vertex[name])

    def dominates(a: str, b: str) -> bool:
        """Whether every path from the input to b passes through a (a ran before b)."""
        va, vb = graph.vertex[a], graph.vertex[b]
        return (vb in reach[INPUT] and order.index(a) < order.index(b)
                and (va == vb or vb not in reach[a]))

    if chains is not None:
        return _checked(declared, graph, reach, dominates)
    return _derived(names, order, graph, reach, dominates)


def _checked(declared: Chains, graph: _Graph, reach: dict, dominates) -> Chains:
    pieces: list[tuple[str, ...]] = []
    non_links: list[Link] = []
    for chain in declared.chains:
        piece: list[str] = []
        for name in chain:
            if graph.vertex[name] not in reach[INPUT]:
                non_links.append(Link(piece[-1] if piece else INPUT, name, False,
                                      f"{name} does not depend on the input"))
                if piece:
                    pieces.append(tuple(piece))
                piece = []
                continue
            if piece and not dominates(piece[-1], name):
                non_links.append(Link(piece[-1], name, False,
                                      _relation(graph, reach, piece[-1], name)))
                pieces.append(tuple(piece))
                piece = []
            piece.append(name)
        if piece:
            pieces.append(tuple(piece))
    unique = list(dict.fromkeys(pieces))
    kept = [p for p in unique if not any(len(q) > len(p) and q[:len(p)] == p for q in unique)]
    return Chains(tuple(kept), tuple(dict.fromkeys(non_links)))


def _derived(names: list[str], order: list[str], graph: _Graph, reach: dict, dominates) -> Chains:
    parent: dict[str, str] = {}
    non_links: list[Link] = []
    for name in order:
        if graph.vertex[name] not in reach[INPUT]:
            non_links.append(Link(INPUT, name, False, f"{name} does not depend on the input"))
            continue
        above = [a for a in order if a != name and dominates(a, name)]
        parent[name] = max(above, key=order.index) if above else INPUT
    children: dict[str, list[str]] = {}
    for name, up in parent.items():
        children.setdefault(up, []).append(name)

    def last(name: str) -> int:  # the latest layer below name: the main path comes first
        return max([order.index(name)] + [last(c) for c in children.get(name, [])])

    chains: list[tuple[str, ...]] = []

    def walk(name: str, path: tuple[str, ...]) -> None:
        below = sorted(children.get(name, []), key=last, reverse=True)
        if not below and path:
            chains.append(path)
        for child in below:
            walk(child, path + (child,))

    walk(INPUT, ())
    for a, b in zip(names, names[1:]):
        if a in parent and b in parent and parent[b] != a and not dominates(a, b):
            if parent[a] == b or dominates(b, a):
                reason = f"{a} is computed from {b}, not the reverse: they are listed out of order"
            else:
                reason = _relation(graph, reach, a, b)
            non_links.append(Link(a, b, False, reason))
    return Chains(tuple(chains), tuple(non_links))
