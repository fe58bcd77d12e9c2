"""The conference file: a whole conference as one YAML or JSON document, read and
checked in full (reader.py, importing.py) before anything is created, and written back
(exporting.py). It spans every domain, so it sits above them (docs/conference-file.md)."""
