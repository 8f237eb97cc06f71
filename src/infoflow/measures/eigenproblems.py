"""The eigenvalue problems of entropy computations, solved one by one or batched across them.

An entropy's computation is written as a generator of *steps*: it yields a list of
:class:`Eigenproblem` (a symmetric matrix or a (b, m, m) stack, eigenvalues only or with
eigenvectors), receives their solutions in the same order, and finally returns its value.
:func:`run` solves each problem as it comes, which is what every estimator does by default.

:func:`run_together` advances many computations in lockstep instead and solves the problems of
the same size, precision and device from all of them in one batched call. On an accelerator that
matters: torch's symmetric solvers read their error flag on the host after every call (one
synchronisation each, which no public API skips), so a monitor checkpoint that solved each
entropy's spectrum in its own call synchronised a dozen times, and one that batches them
synchronises once per size (docs/scale.md). The solutions are the same: a batched call solves
each matrix of its stack on its own.

Examples
--------
>>> import numpy as np
>>> def steps(a):
...     (values,) = yield [Eigenproblem(a)]
...     return values.max()
>>> float(run(steps(np.diag([1.0, 3.0]))))
3.0
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, NamedTuple, TypeVar

from infoflow._array import eigvalsh, is_torch, namespace

T = TypeVar("T")

#: Batch on the CPU too (tests and ``benchmarks/bench_scale.py --device cpu`` make CPU tensors
#: take the accelerator's path with it). Off by default: on the CPU no solver call
#: synchronises anything, and batching would only hold more matrices in memory at once.
BATCH_ON_CPU = False


class Eigenproblem(NamedTuple):
    """A symmetric matrix (m, m) or stack (b, m, m) whose eigenvalues, ascending (and with
    ``vectors``, eigenvectors as columns), a computation needs. Only the lower triangle is read."""

    matrix: Any
    vectors: bool = False


Steps = Generator[list[Eigenproblem], list[Any], T]
"""A computation that yields lists of eigenproblems and returns its result."""


def solve(problem: Eigenproblem) -> Any:
    """The eigenvalues of ``problem`` (:func:`infoflow._array.eigvalsh`, the solver chosen by
    size and precision), or with ``vectors`` the pair (eigenvalues, eigenvectors)."""
    if problem.vectors:
        return namespace(problem.matrix).linalg.eigh(problem.matrix)
    return eigvalsh(problem.matrix)


def run(steps: Steps[T]) -> T:
    """Drive one computation, solving its problems as they come."""
    try:
        problems = next(steps)
        while True:
            problems = steps.send([solve(problem) for problem in problems])
    except StopIteration as done:
        return done.value


def batches(like: Any) -> bool:
    """Whether computations on arrays like ``like`` gain from :func:`run_together`: torch
    tensors on an accelerator (or on the CPU with :data:`BATCH_ON_CPU`)."""
    return is_torch(like) and (like.device.type != "cpu" or BATCH_ON_CPU)


def run_together(steps: Sequence[Steps[Any]],
                 scopes: Sequence[Callable[[], AbstractContextManager[Any]]] | None = None,
                 ) -> list[Any]:
    """Drive several computations in lockstep and return their results in order.

    At each round every computation still running has yielded its problems; those of the same
    size, precision, device and kind (eigenvalues, or with vectors) are solved in one batched
    call, and each computation is given its own solutions. ``scopes`` (one per computation)
    wrap each advance of a computation, so that a context a computation would hold across its
    steps (an error prefix naming it) is active only while it runs. Every computation holds its
    arrays until it finishes: the caller bounds how many run together by memory.
    """
    scopes = scopes or [nullcontext] * len(steps)
    results: list[Any] = [None] * len(steps)
    waiting: dict[int, list[Eigenproblem]] = {}

    def advance(i: int, solutions: list[Any] | None) -> None:
        with scopes[i]():
            try:
                waiting[i] = steps[i].send(solutions)  # type: ignore[arg-type]
            except StopIteration as done:
                results[i] = done.value

    for i in range(len(steps)):
        advance(i, None)
    while waiting:
        round_, waiting = waiting, {}
        solutions = _solved_in_batches(round_)
        for i in round_:
            advance(i, solutions[i])
    return results


def _solved_in_batches(problems: dict[int, list[Eigenproblem]]) -> dict[int, list[Any]]:
    """Every problem's solution, problems of one kind (torch, same size, dtype, device and
    ``vectors``) solved as one stack; NumPy problems one by one."""
    solutions: dict[int, list[Any]] = {i: [None] * len(ps) for i, ps in problems.items()}
    groups: dict[Any, list[tuple[int, int]]] = {}
    for i, ps in problems.items():
        for j, p in enumerate(ps):
            if is_torch(p.matrix):
                key = (p.matrix.shape[-1], p.matrix.dtype, p.matrix.device, p.vectors)
                groups.setdefault(key, []).append((i, j))
            else:
                solutions[i][j] = solve(p)
    for members in groups.values():
        if len(members) == 1:
            i, j = members[0]
            solutions[i][j] = solve(problems[i][j])
            continue
        import torch

        matrices = [problems[i][j].matrix for i, j in members]
        m = matrices[0].shape[-1]
        counts = [a.reshape(-1, m, m).shape[0] for a in matrices]
        stacked = solve(Eigenproblem(torch.cat([a.reshape(-1, m, m) for a in matrices]),
                                     problems[members[0][0]][members[0][1]].vectors))
        parts = ([torch.split(s, counts) for s in stacked] if isinstance(stacked, tuple)
                 else [torch.split(stacked, counts)])
        for k, ((i, j), a) in enumerate(zip(members, matrices)):
            pieces = [part[k].reshape(*a.shape[:-1], *part[k].shape[2:]) for part in parts]
            solutions[i][j] = tuple(pieces) if isinstance(stacked, tuple) else pieces[0]
    return solutions
