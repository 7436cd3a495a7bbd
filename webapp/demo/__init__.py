"""``flask --app wsgi seed-demo``: a realistic demo county."""
from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import seed_demo_command

    app.cli.add_command(seed_demo_command)
