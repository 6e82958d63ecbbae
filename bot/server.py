"""`python -m bot` in HTTP mode: the same gunicorn server and settings the Procfile runs."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from bot import gunicorn_config
from bot.config import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options = {k: v for k, v in vars(gunicorn_config).items() if k in self.cfg.settings and v is not None}
        options["bind"] = f"0.0.0.0:{self.settings.port}"
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from bot.wsgi import make_application

        return make_application(self.settings)


def serve(settings: Settings) -> None:
    _Gunicorn(settings).run()
