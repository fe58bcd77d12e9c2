"""What runs beside the requests, without HTTP: the document job runner and its pool,
the parse pool for uploads, site presence, the scheduler, the check-in writer, the
Redis doorbell between processes, and the settings (config.py). server/runtime.py starts
and stops them with the app."""
