"""What a load run sends, as plain data: the CLI writes it, and every Locust process reads it back.

Nothing here imports Locust, so the CLI's asyncio process never gets gevent's monkey-patching.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field

ACTIVITIES = ("catalog", "orders", "polls", "dispatches", "tokens")
DEFAULT_MIX = "catalog=1,orders=4,polls=3,dispatches=2,tokens=1"
# The secrets never travel in the plan (Locust sends it over the wire and shows it in `ps`):
# each process, a remote worker too, reads them from its own environment.
FINAL_SUFFIX = "_final.json"  # beside Locust's CSV files: its statistics once every user stopped
PASSWORD_ENV, API_KEY_ENV = "ORDERPORTAL_LOAD_PASSWORD", "ORDERPORTAL_LOAD_API_KEY"


@dataclass(frozen=True, slots=True)
class Plan:
    supplier_url: str
    customer: str
    method: str  # basic | token | api-key
    username: str | None
    mix: dict[str, int]
    seed: int
    run_id: str  # keeps this run's order numbers and Idempotency-Keys apart from any other run's
    think_s: float
    timeout_s: float
    replay_share: float = 0.5  # of the order bursts, the share that resends one of their orders
    burst: tuple[int, int] = (1, 3)
    page_size: int = 100
    password: str | None = field(default=None, repr=False, compare=False)
    api_key: str | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> str:
        public = {k: v for k, v in dataclasses.asdict(self).items() if k not in ("password", "api_key")}
        return json.dumps(public, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        fields = json.loads(text)
        fields["burst"] = tuple(fields["burst"])
        return cls(**fields, password=os.environ.get(PASSWORD_ENV), api_key=os.environ.get(API_KEY_ENV))


def parse_mix(text: str) -> dict[str, int]:
    """``orders=4,polls=3`` as weights; an activity left out keeps no weight, an unknown one is a ValueError."""
    mix = dict.fromkeys(ACTIVITIES, 0)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        if name.strip() not in mix:
            raise ValueError(f"{name.strip()!r} is not an activity; the activities are {', '.join(ACTIVITIES)}")
        if not weight.strip().isdigit():
            raise ValueError(f"the weight of {name.strip()} must be a whole number, as in {name.strip()}=3")
        mix[name.strip()] = int(weight)
    if not any(mix.values()):
        raise ValueError("every weight is 0: nothing would be sent")
    return mix
