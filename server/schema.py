"""Imports every package's tables so that SQLModel.metadata is complete."""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode
from sqlmodel import SQLModel

import agenda.minutes.models
import agenda.models
import attendance.models
import awards.models
import conference.models

MODEL_MODULES = (
    conference.models,
    attendance.models,
    agenda.models,
    agenda.minutes.models,
    awards.models,
)

# APScheduler's job store table (server/scheduler.py), in the layout its SQLAlchemyJobStore
# builds: described here so that migrations create it and the schema check covers it.
SCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
