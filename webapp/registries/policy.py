"""Who may see and change which registry object (checked per object, not only per route)."""
from sqlalchemy import false

from .. import roles as R
from .models import Inspector


def can_edit_registries(user) -> bool:
    """The coordinating office maintains the one list and two pools (R1)."""
    return user.is_authenticated and user.role == R.ADMIN


def can_view_inspector(user, inspector: Inspector) -> bool:
    """Office and brigade see the whole pool; a team lead their department; an inspector themself."""
    if not user.is_authenticated:
        return False
    if user.role in (R.ADMIN, R.BRIGADE_LEAD):
        return True
    if user.role == R.TEAM_LEAD:
        return user.department_id is not None and inspector.department_id == user.department_id
    return user.inspector_id == inspector.id


def inspector_scope(stmt, user):
    """Restrict an inspector query to what ``can_view_inspector`` allows."""
    if user.role in (R.ADMIN, R.BRIGADE_LEAD):
        return stmt
    if user.role == R.TEAM_LEAD and user.department_id is not None:
        return stmt.where(Inspector.department_id == user.department_id)
    if user.inspector_id:
        return stmt.where(Inspector.id == user.inspector_id)
    return stmt.where(false())


def can_view_recusals(user) -> bool:
    """Recusal pairs say who is related to whom: office and brigade only."""
    return user.is_authenticated and user.role in (R.ADMIN, R.BRIGADE_LEAD)
