"""`python -m bot` in HTTP mode: gunicorn with the settings of bot.gunicorn_config."""

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
        for key, value in vars(gunicorn_config).items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from bot.wsgi import make_application

        return make_application(self.settings)


def serve(settings: Settings) -> None:
    _Gunicorn(settings).run()
