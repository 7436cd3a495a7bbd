"""``flask --app wsgi audit verify``."""
import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from .messages import reason_text
from .services import verify

audit_cli = AppGroup("audit", help="Audit trail commands.")


@audit_cli.command("verify")
def verify_command():
    """Check the whole hash chain; exit 1 and name the first broken entry."""
    result = verify()
    if result.ok:
        click.echo(_("Audit chain intact: %(n)d entries verified.", n=result.checked))
        return
    click.echo(_("Audit chain BROKEN at entry %(id)d: %(reason)s (%(n)d entries before it verified).",
                 id=result.broken_id, reason=reason_text(result.reason), n=result.checked), err=True)
    sys.exit(1)
