"""The minutes of a conference: drafted from the live log and the secretary's text,
finalised as a signed PDF (and Word), amended by new versions (docs/minutes.md)."""
