"""Gunicorn's access log as JSON lines like the application's: request id and shop, and neither query strings,
one-time tokens in paths, nor phone numbers (infra/gunicorn.conf.py sets it as `logger_class`)."""

import json

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        from django.db import connection

        from config.redaction import redact

        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        request_id = next((value for name, value in resp.headers if name.lower() == "x-request-id"), "-")
        path = environ.get("PATH_INFO", "")  # never the query string; one-time tokens in it are redacted below
        line = {
            "time": self.now(),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": f"{environ.get('REQUEST_METHOD')} {path} {status}",
            "request_id": request_id,
            "shop": getattr(connection, "schema_name", "-"),
            "host": environ.get("HTTP_HOST", ""),
            "status": int(status),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "bytes": getattr(resp, "sent", None),
        }
        self.access_log.info(redact(json.dumps(line)))
