"""Annual plans, batches and the publicly verifiable draw (SSJ-DRAW-v1, shared/DRAW.md).

``verify_draw.py`` is the algorithm and the stand-alone verifier in one file; ``plans`` holds the
coverage rules and each draw's scope, ``ceremony`` the commit/reveal/substitute/supersede steps.
"""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import cli, plans, public_routes, routes  # noqa: F401

    app.register_blueprint(routes.bp)
    app.cli.add_command(cli.draw_cli)
    # A draw's machine words as people read them: why a unit has no group, strata by township name.
    app.jinja_env.filters["unstaffed_reason"] = plans.unstaffed_reason
    from .ceremony import beacon_name
    app.jinja_env.filters["beacon_name"] = beacon_name
    app.jinja_env.globals["draw_strata"] = plans.stratum_names
    app.jinja_env.globals["sample_text"] = plans.sample_text
