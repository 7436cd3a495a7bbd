"""一单两库: departments, townships, the item list, the inspector and enterprise pools."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import cli, routes_enterprises, routes_inspectors, routes_io, routes_items, routes_reference  # noqa: F401
    from .blueprint import bp

    from .vocab import FIELD_LABELS

    app.register_blueprint(bp)
    app.jinja_env.globals["field_label"] = lambda name: FIELD_LABELS.get(name, name)
    app.cli.add_command(cli.registry_cli)
