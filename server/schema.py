"""Imports every package's tables so that SQLModel.metadata is complete."""

from __future__ import annotations

import agenda.minutes.models
import agenda.models
import attendance.models
import awards.models
import conference.models
import runtime.scheduler

MODEL_MODULES = (
    conference.models,
    attendance.models,
    agenda.models,
    agenda.minutes.models,
    awards.models,
    runtime.scheduler,  # APScheduler's job store table, SCHEDULER_JOBS
)
