"""How one simulator is started."""

from __future__ import annotations

from dataclasses import dataclass, field

from supplier_sim.profile import Profile, load_profile

MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SimConfig:
    profile: Profile = field(default_factory=load_profile)
    seed: int = 1
    clock: str = "virtual"
    db_url: str = "sqlite+aiosqlite://"
    admin: bool = True
    admin_token: str | None = None
    # Validate every answer against its contract and keep what fails for SimServer.check().
    strict: bool = False
    # One of several workers sharing the state in PostgreSQL (orderportal sim --workers): see supplier_sim.cluster.
    shared: bool = False
