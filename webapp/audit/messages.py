"""User-facing wording of chain breaks."""
from flask_babel import gettext as _


def reason_text(reason: str) -> str:
    return {
        "missing": _("entry missing (deleted from the chain)"),
        "link": _("link to the previous entry broken (an earlier entry was changed or removed)"),
        "content": _("entry content altered after it was written"),
        "tail": _("the last entries were removed (chain end does not match the head)"),
    }.get(reason, reason)
