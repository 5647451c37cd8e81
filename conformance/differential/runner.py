"""Run random programs on several C-API stacks in lock step and compare what a program sees after every step.

Hypothesis generates :class:`~conformance.differential.program.Program` values (a list of steps, so hypothesis
shrinks a failing one to a short list and the result prints as a script). Each program runs on every stack, each
over its own transport; after every step the observations of each stack are compared with those of the first stack
(the reference, normally the engine). A difference matching an entry of the divergence table is *explained*: the
stacks' states have parted, so the program stops there and the entry is counted. Any other difference raises
:class:`Divergence`, which hypothesis shrinks; the shrunk program is the finding.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from conformance.differential.program import (
    TRANSPORTS,
    Clear,
    Corrupt,
    Drop,
    Dup,
    Eof,
    Handshake,
    KeyUpdate,
    Move,
    Program,
    Read,
    Rebio,
    Renegotiate,
    Shutdown,
    Step,
    Write,
    programs,
    usable_transports,
)
from conformance.differential.table import Entry
from conformance.differential.world import Api, Observation, World

__all__ = ["Divergence", "Finding", "RunResult", "call_name", "compare", "execute", "run"]

# The functions a program may call; a run uses those every one of its stacks provides.
FUNCTIONS = ("SSL_read", "SSL_read_ex", "SSL_peek", "SSL_peek_ex", "SSL_write", "SSL_write_ex", "SSL_key_update",
             "BIO_shutdown_wr", "SSL_dup", "SSL_renegotiate", "SSL_renegotiate_abbreviated", "SSL_renegotiate_pending",
             "BIO_new_bio_pair", "BIO_new_socket", "SSL_set_fd")


def call_name(step: Step) -> str:
    if isinstance(step, Read):
        return step.func
    if isinstance(step, Write | Renegotiate):
        return step.func
    names: dict[type, str] = {Handshake: "SSL_do_handshake", Shutdown: "SSL_shutdown", KeyUpdate: "SSL_key_update",
                              Clear: "SSL_clear", Move: "move", Drop: "drop", Corrupt: "corrupt", Eof: "eof",
                              Dup: "SSL_dup", Rebio: "SSL_set_bio"}
    return names[type(step)]


def compare(reference: Observation, other: Observation) -> dict[str, tuple[Any, Any]]:
    """The observations that differ. Keys starting with ``~`` are shown, never compared; per-side state
    (``client.*`` / ``server.*``) is compared where both stacks observed it (:meth:`World.observe` leaves it out
    where record sizes, which differ between stacks, would decide it)."""
    keys = {k for k in set(reference) | set(other) if "." not in k or (k in reference and k in other)}
    return {k: (reference.get(k), other.get(k)) for k in sorted(keys)
            if not k.startswith("~") and reference.get(k) != other.get(k)}


def summary(obs: Observation) -> str:
    """One line of what a step returned, for the notes of a replay script."""
    parts = []
    if "raised" in obs:
        parts.append(f"raised {obs['raised']}")
    if "ret" in obs:
        parts.append(f"ret {obs['ret']}")
    if "written" in obs:
        parts.append(f"written {obs['written']}")
    if obs.get("data"):
        parts.append(f"{len(obs['data']) // 2} bytes")
    if "error" in obs:
        parts.append(str(obs["error"]))
    if obs.get("err"):
        parts.append(f"queue {obs['~err_text']}")
    return ", ".join(parts) or "-"


@dataclass
class Finding:
    """An unexplained divergence: the program, the step where stacks ``reference`` and ``stack`` parted, the
    differing observations and, per step, what each stack returned."""

    program: Program
    step: int
    reference: str
    stack: str
    diffs: dict[str, tuple[Any, Any]]
    observations: dict[str, list[Observation]]

    def notes(self) -> dict[int, str]:
        ref, other = self.observations[self.reference], self.observations[self.stack]
        notes = {}
        for i in range(min(len(ref), len(other))):
            a, b = summary(ref[i]), summary(other[i])
            notes[i] = f"{self.reference}: {a}" + ("" if a == b else f" | {self.stack}: {b}")
        notes[self.step] += "   <-- DIVERGES: " + "; ".join(
            f"{k}: {self.reference}={a!r} {self.stack}={b!r}" for k, (a, b) in self.diffs.items())
        return notes

    def script(self) -> str:
        return self.program.render_py(self.stack, self.notes())

    def describe(self) -> str:
        call = call_name(self.program.steps[self.step])
        diffs = "; ".join(f"{k}: {self.reference}={a!r}, {self.stack}={b!r}" for k, (a, b) in self.diffs.items())
        return f"{self.reference} and {self.stack} diverge at step {self.step} ({call}): {diffs}"


class Divergence(AssertionError):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.describe())
        self.finding = finding


@dataclass
class Hit:
    entry: Entry
    count: int = 0
    shortest: Finding | None = None


@dataclass
class RunResult:
    stacks: list[str]
    seed: int
    examples: int = 0
    steps: int = 0
    hits: dict[str, Hit] = field(default_factory=dict)
    finding: Finding | None = None
    error: str = ""  # hypothesis or the harness itself failed (not a divergence)


def execute(program: Program, apis: Mapping[str, Api], table: list[Entry], result: RunResult | None = None) -> None:
    """Run ``program`` on every stack of ``apis`` in lock step; raise :class:`Divergence` for an unexplained
    difference, count explained ones in ``result``."""
    names = list(apis)
    reference = names[0]
    worlds: dict[str, World] = {}
    history: dict[str, list[Observation]] = {name: [] for name in names}
    try:
        renegotiation = "SSL_renegotiate_pending" in available_functions(apis)
        for name in names:
            worlds[name] = World(apis[name], program.setup, renegotiation=renegotiation)
        for index, step in enumerate(program.steps):
            if result is not None:
                result.steps += 1
            for name in names:
                history[name].append(worlds[name].run(step))
            explained = False
            for name in names[1:]:
                diffs = compare(history[reference][-1], history[name][-1])
                if not diffs:
                    continue
                call = call_name(step)
                found = Finding(program, index, reference, name, diffs, history)
                remaining = set(diffs)
                used: list[Entry] = []
                ref_obs, other_obs = history[reference][-1], history[name][-1]
                candidates = [(entry, entry.covers(name, call, diffs, ref_obs, other_obs)) for entry in table]
                candidates.sort(key=lambda pair: -pair[0].specificity(diffs))  # stable: table order among equals
                for entry, covered in candidates:
                    if covered & remaining:
                        remaining -= covered
                        used.append(entry)
                if remaining:
                    raise Divergence(found)
                for entry in used:
                    explained = explained or not entry.continues
                    if result is not None:
                        hit = result.hits.setdefault(entry.id, Hit(entry))
                        hit.count += 1
                        if hit.shortest is None or index < hit.shortest.step:
                            hit.shortest = Finding(program, index, reference, name, diffs,
                                                   {k: list(v) for k, v in history.items()})
            if explained:
                return
    finally:
        for world in worlds.values():
            world.close()


def _same_divergence(program: Program, apis: Mapping[str, Api], table: list[Entry], like: Finding) -> Finding | None:
    try:
        execute(program, apis, table)
    except Divergence as exc:
        f = exc.finding
        if f.stack == like.stack and set(f.diffs) == set(like.diffs) \
                and call_name(f.program.steps[f.step]) == call_name(like.program.steps[like.step]):  # fmt: skip
            return f
    return None


def minimize(finding: Finding, apis: Mapping[str, Api], table: list[Entry]) -> Finding:
    """Delete steps one at a time (last first) while the same divergence remains: a final pass after hypothesis's
    shrinking, which keeps harmless steps it has simplified but could not delete."""
    best = finding
    changed = True
    while changed:
        changed = False
        steps = best.program.steps[: best.step + 1]
        for index in reversed(range(len(steps) - 1)):
            candidate = Program(best.program.setup, steps[:index] + steps[index + 1:])
            found = _same_divergence(candidate, apis, table, best)
            if found is not None:
                best, changed = found, True
                break
    return best


def available_functions(apis: Mapping[str, Api]) -> frozenset[str]:
    return frozenset(f for f in FUNCTIONS if all(api.has(f) for api in apis.values()))


def run(apis: Mapping[str, Api], table: list[Entry], *, examples: int = 100, seed: int | None = None,
        max_steps: int = 30, shrink: bool = True, transports: Sequence[str] = ()) -> RunResult:
    """Generate ``examples`` programs (reproducible from ``seed``) and run each on every stack. ``shrink=False``
    skips hypothesis's shrinking (the final step-deletion pass still runs): quicker, with larger sizes left in.
    ``transports``: the transports hypothesis draws from (default: every one all the stacks can use)."""
    if len(apis) < 2:
        raise ValueError("the differential runner needs at least two stacks")
    chosen = random.SystemRandom().randrange(2**32) if seed is None else seed
    result = RunResult(list(apis), chosen)
    available = available_functions(apis)
    if not usable_transports(available, transports or TRANSPORTS):
        raise ValueError(f"no transport of {list(transports)} is usable by every stack")

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False, print_blob=False,
              report_multiple_bugs=False, verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              phases=(Phase.generate, Phase.shrink) if shrink else (Phase.generate,))
    @given(programs(available, max_steps, transports))
    def check(program: Program) -> None:
        result.examples += 1
        execute(program, apis, table, result)

    try:
        hypothesis_seed(chosen)(check)()
    except Divergence as exc:
        result.finding = minimize(exc.finding, apis, table)
    return result
