"""A synthetic corpus for scale tests: role-comparison articles shaped like the real ones.

Each article compares two of ~60 roles on 10–18 of ~30 facets; each facet paragraph
has a sentence per role built from varied templates and vocabularies, so sentences are
not repeats of one another (and cross-article repeat removal keeps nearly all of them).
Deterministic for a given seed.

    python -m roleguide.evaluation.synthetic OUT_DIR --chunks 10000
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

__all__ = ["ROLES", "write_corpus"]

ROLES = [
    "Warehouse Manager",
    "Fleet Manager",
    "Supply Chain Analyst",
    "Purchasing Agent",
    "Plant Manager",
    "Inventory Controller",
    "Customs Broker",
    "Transport Planner",
    "Quality Manager",
    "Production Supervisor",
    "Demand Planner",
    "Category Manager",
    "Vendor Manager",
    "Distribution Manager",
    "Materials Manager",
    "Facilities Manager",
    "Operations Analyst",
    "Shipping Coordinator",
    "Import Specialist",
    "Export Manager",
    "Contract Manager",
    "Sourcing Specialist",
    "Production Planner",
    "Maintenance Manager",
    "Health and Safety Officer",
    "Process Engineer",
    "Lean Coordinator",
    "Freight Forwarder",
    "Dispatch Supervisor",
    "Depot Manager",
    "Yard Manager",
    "Routing Analyst",
    "Cost Analyst",
    "Buyer",
    "Commodity Manager",
    "Supplier Quality Engineer",
    "Logistics Analyst",
    "Fulfilment Manager",
    "Returns Manager",
    "Cold Chain Specialist",
    "Port Operations Manager",
    "Rail Logistics Planner",
    "Air Cargo Agent",
    "Procurement Analyst",
    "Tender Manager",
    "Site Manager",
    "Shift Manager",
    "Continuous Improvement Manager",
    "Capacity Planner",
    "Packaging Engineer",
    "Trade Compliance Officer",
    "Stock Controller",
    "Replenishment Analyst",
    "Network Planner",
    "Last Mile Manager",
    "E-commerce Operations Manager",
    "Service Delivery Manager",
    "Asset Manager",
    "Energy Manager",
    "Sustainability Manager",
]
FACETS = [
    "Scope of Responsibilities",
    "Skill Set",
    "Budget Control",
    "Decision-making",
    "Stakeholder Interaction",
    "Performance Metrics",
    "Regulatory Compliance",
    "Technology Utilization",
    "Risk Management",
    "Career Path",
    "Educational Requirements",
    "Work Environment",
    "Travel Requirements",
    "Certifications",
    "Team Size",
    "Shift Patterns",
    "Safety Duties",
    "Sustainability Goals",
    "Customer Focus",
    "Reporting Structure",
    "Crisis Management",
    "Data Analysis",
    "Vendor Relationship",
    "Quality Control",
    "Industry Variance",
    "Communication Channels",
    "Training Duties",
    "Planning Horizon",
    "Documentation",
    "Negotiation",
]
FREQ = ["often", "typically", "usually", "frequently", "generally", "regularly", "mostly"]
VERBS = [
    "oversee",
    "coordinate",
    "plan",
    "review",
    "approve",
    "negotiate",
    "monitor",
    "audit",
    "schedule",
    "forecast",
    "document",
    "improve",
    "report on",
    "budget for",
    "optimise",
    "benchmark",
    "inspect",
    "track",
    "allocate",
    "prioritise",
    "standardise",
    "escalate",
    "reconcile",
    "evaluate",
    "streamline",
    "design",
    "validate",
    "supervise",
    "train staff on",
    "balance",
]
OBJECTS = [
    "inbound freight",
    "outbound deliveries",
    "supplier contracts",
    "warehouse layouts",
    "stock levels",
    "carrier rates",
    "customs declarations",
    "safety inspections",
    "maintenance plans",
    "production schedules",
    "purchase orders",
    "quality audits",
    "transport routes",
    "returns processing",
    "packaging standards",
    "demand forecasts",
    "tender documents",
    "energy use",
    "spare parts",
    "cold storage",
    "cross-docking",
    "pallet flows",
    "picking accuracy",
    "lead times",
    "service levels",
    "cost reports",
    "vendor scorecards",
    "shift rotas",
    "training records",
    "incident reports",
    "carbon emissions",
    "fleet utilisation",
    "dock appointments",
    "cycle counts",
    "supplier onboarding",
    "import licences",
    "export paperwork",
    "container bookings",
    "last-mile drops",
    "capacity plans",
]
PURPOSES = [
    "to keep costs predictable",
    "to meet delivery promises",
    "to stay within regulations",
    "to reduce waste",
    "to protect margins",
    "to support growth plans",
    "to avoid stockouts",
    "to improve safety records",
    "to shorten lead times",
    "to satisfy key customers",
    "to prepare for audits",
    "to cut emissions",
    "to keep sites running smoothly",
    "to secure reliable supply",
    "to raise productivity",
    "across several sites",
    "for a single site",
    "with external partners",
    "alongside finance teams",
    "under tight deadlines",
]
CONTRASTS = [
    "{role}s, on the other hand, {freq} {verb} {obj} {purpose}.",
    "By contrast, a {role} will {freq} {verb} {obj} {purpose}.",
    "{role}s tend to {verb} {obj} {purpose}, with a narrower focus.",
    "A {role} is {freq} expected to {verb} {obj} {purpose}.",
]
OPENERS = [
    "{role}s {freq} {verb} {obj} {purpose}.",
    "A {role} {freq} has to {verb} {obj} {purpose}.",
    "In most organisations, the {role} will {verb} {obj} {purpose}.",
    "The {role} is {freq} responsible for the way teams {verb} {obj} {purpose}.",
]


class _Sentences:
    """Fresh sentences, or (with ``pool``) draws from a fixed pool per role and kind, so a
    very large corpus repeats sentences across articles while its paragraphs stay unique."""

    def __init__(self, rng: random.Random, pool: int | None) -> None:
        self.rng = rng
        self.pool = pool
        self.cache: dict[tuple[str, int], list[str]] = {}

    def __call__(self, templates: list[str], role: str) -> str:
        if self.pool is None:
            return _sentence(self.rng, templates, role)
        key = (role, id(templates))
        if key not in self.cache:
            own = random.Random(f"{role}/{templates is OPENERS}")
            self.cache[key] = [_sentence(own, templates, role) for _ in range(self.pool)]
        return self.rng.choice(self.cache[key])


def _sentence(rng: random.Random, templates: list[str], role: str) -> str:
    return rng.choice(templates).format(
        role=role,
        freq=rng.choice(FREQ),
        verb=rng.choice(VERBS),
        obj=rng.choice(OBJECTS),
        purpose=rng.choice(PURPOSES),
    )


def _article(rng: random.Random, say: _Sentences, a: str, b: str, serial: int) -> tuple[str, int]:
    facets = rng.sample(FACETS, rng.randint(10, 18))
    lines = [
        "---",
        f'title: "{a} vs {b}: Differences ({serial})"',
        f"roles: [{a}, {b}]",
        "---",
        f"The differences between a {a} and a {b}",
    ]
    for facet in facets:
        first, second = (a, b) if rng.random() < 0.5 else (b, a)
        body = [say(OPENERS, first), say(CONTRASTS, second)]
        if rng.random() < 0.3:
            body.append(say(OPENERS, first))
        lines.append(f"{facet}: " + " ".join(body))
    closing = say(OPENERS, a)
    lines.append(f"In short, both roles matter, and {closing[0].lower()}{closing[1:]}")
    return "\n".join(lines) + "\n", len(facets) + 1


def write_corpus(out_dir: Path, chunks: int, seed: int = 7, pool: int | None = None) -> int:
    """Write articles into ``out_dir`` until about ``chunks`` chunks; returns the count.

    ``pool``: draw each role's sentences from a pool of that size (see ``_Sentences``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    say = _Sentences(rng, pool)
    total = serial = 0
    while total < chunks:
        a, b = rng.sample(ROLES, 2)
        text, n = _article(rng, say, a, b, serial)
        slug = f"{a}-vs-{b}".lower().replace(" ", "-")
        (out_dir / f"{serial:06d}-{slug}.md").write_text(text, encoding="utf-8")
        total += n
        serial += 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pool", type=int, default=None, help="sentences per role and kind")
    args = parser.parse_args()
    print(write_corpus(args.out_dir, args.chunks, args.seed, args.pool))


if __name__ == "__main__":
    main()
