"""gunicorn's access log with portal links masked: a request line, a path or a referrer naming /p/<token>/
would otherwise put a live link in the log (`--logger-class config.gunicorn_logging.MaskingLogger`)."""

from gunicorn.glogging import Logger

from compliance.masking import mask_portal_links


class MaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return {
            name: mask_portal_links(value) if isinstance(value, str) else value
            for name, value in super().atoms(resp, req, environ, request_time).items()
        }
