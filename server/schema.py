"""Imports every package's tables so that SQLModel.metadata is complete."""

from __future__ import annotations

import agenda.models
import attendance.models
import awards.models
import conference.models

MODEL_MODULES = (conference.models, attendance.models, agenda.models, awards.models)
