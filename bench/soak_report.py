"""What one soak run reports: the result (the findings with the run's timings, CPU, chaos
events and balancer counts), its summary as a dict for JSON, the CPU per delivered copy,
and the markdown table bench/soak.py prints and docs/benchmarks.md quotes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from bench.soak_check import Findings
from bench.soak_world import SEED_SENDS, SEED_SUCCESS, Plan

if TYPE_CHECKING:  # soak_run makes the result; the settings are only a type here
    from bench.soak_run import SoakSettings


@dataclass
class SoakResult:
    settings: SoakSettings
    plan: Plan
    findings: Findings
    wall_seconds: float = 0.0
    drive_seconds: float = 0.0
    settle_seconds: float = 0.0
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    events: list[tuple[float, str]] = field(default_factory=list)  # (seconds in, what)
    kills: list[tuple[str, float]] = field(default_factory=list)  # (replica, time.time())
    balancers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def cpu_ms_per_delivered(self) -> dict[str, float]:
        n = max(1, self.findings.delivered)
        return {k: 1000 * v / n for k, v in self.cpu_seconds.items()}

    def summary(self) -> dict[str, Any]:
        f = self.findings
        return {
            "sends_planned": self.settings.sends,
            "actions": self.plan.actions,
            "customers": len(self.plan.customers),
            "jobs": f.jobs,
            "delivered": f.delivered,
            "deliverable": f.deliverable,
            "delivered_share": f.delivered / max(1, f.deliverable),
            "copies_expected": f.expected,
            "copies_shown": f.shown,
            "lost": f.lost,
            "unfinished_jobs": f.unfinished,
            "heads_unparked": f.heads_unparked,
            "failed_for_good": f.failed_for_good,
            "permanent_failures": dict(f.permanent_failures),
            "duplicates": f.duplicates,
            "order_violations": f.order_violations,
            "edits": [f.edits_expected, len(f.edits_lost)],
            "reactions": [f.reactions_expected, len(f.reactions_lost)],
            "replies_resolved": [f.replies_resolved, f.replies],
            "redelivered_to_both": f.redelivered,
            "redelivered_recorded_twice": f.redelivered_recorded_twice,
            "redelivered_refused": f.redelivered_refused,
            "updates_recorded": f.updates_recorded,
            "quarantined": f.quarantined,
            "onboarded": [f.onboarded, f.newcomers],
            "welcomes_repeated": f.welcomes_repeated,
            "too_many_requests": f.too_many_requests,
            "avoidable_429s": f.avoidable_429s,
            "faults_fired": f.faults_fired,
            "people_problems": f.people_problems[:20],
            "stalls": f.stalls,
            "duplicate_topics": f.duplicate_topics,
            "topics_unanswered": f.topics_unanswered,
            "wall_seconds": round(self.wall_seconds, 1),
            "drive_seconds": round(self.drive_seconds, 1),
            "settle_seconds": round(self.settle_seconds, 1),
            "cpu_seconds": {k: round(v, 2) for k, v in self.cpu_seconds.items()},
            "cpu_ms_per_delivered": {
                k: round(v, 2) for k, v in self.cpu_ms_per_delivered().items()
            },
            "events": self.events,
            "balancers": self.balancers,
            "settings": asdict(self.settings),
        }


def markdown_table(result: SoakResult) -> str:
    """The run's headline figures as a two-column markdown table."""
    s = result.summary()
    f = result.findings
    tmr = s["too_many_requests"]
    cpu = s["cpu_ms_per_delivered"]
    dup_why: dict[str, int] = {}
    for d in f.duplicates:
        dup_why[d["why"]] = dup_why.get(d["why"], 0) + 1
    rows = [
        ("sends (jobs) planned / made", f"{s['sends_planned']:,} / {f.deliverable:,}"),
        (
            "delivered / deliverable",
            f"{f.delivered:,} / {f.deliverable:,} = {100 * s['delivered_share']:.2f} % "
            f"(seed: {100 * SEED_SUCCESS:.2f} % of {SEED_SENDS:,})",
        ),
        ("copies shown / expected (sandbox side)", f"{f.shown:,} / {f.expected:,}"),
        ("lost", f"{len(f.lost)} (unfinished jobs: {f.unfinished})"),
        (
            "visible duplicates",
            f"{len(f.duplicates)}" + "".join(f"; {n} × {why}" for why, n in dup_why.items()),
        ),
        ("order violations per destination", str(len(f.order_violations))),
        (
            "permanent failures",
            "; ".join(f"{n} × {why}" for why, n in f.permanent_failures.items()) or "0",
        ),
        (
            "429s",
            f"avoidable {tmr.get('avoidable')}, injected {tmr.get('injected')} "
            f"(by reason {tmr.get('by_reason')})",
        ),
        ("faults fired", ", ".join(f"{k} {v}" for k, v in f.faults_fired.items())),
        (
            "edits / reactions / replies landed",
            f"{f.edits_expected - len(f.edits_lost)}/{f.edits_expected}, "
            f"{f.reactions_expected - len(f.reactions_lost)}/{f.reactions_expected}, "
            f"{f.replies_resolved}/{f.replies} replies resolved",
        ),
        ("onboarded", f"{f.onboarded} / {f.newcomers}"),
        (
            "updates posted to both ingress processes",
            f"{f.redelivered}, recorded twice: {len(f.redelivered_recorded_twice)}",
        ),
        ("updates recorded (quarantined)", f"{f.updates_recorded:,} ({f.quarantined})"),
        (
            "wall: people / settle / whole",
            f"{s['drive_seconds']} s / {s['settle_seconds']} s / {s['wall_seconds']} s",
        ),
        (
            "CPU ms per delivered copy",
            " · ".join(f"{k} {v:.2f}" for k, v in cpu.items() if k not in ("machine",))
            + f" (machine {cpu.get('machine', 0):.2f})",
        ),
    ]
    out = ["| | |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(out)
