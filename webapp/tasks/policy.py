"""Who may see which task: an inspector their own, a team lead their department's groups."""
from sqlalchemy import exists, select

from .. import roles as R
from ..registries.models import Inspector
from .models import Task, TaskMember


def task_scope(user, stmt):
    """Narrow a select of Task to what ``user`` may see."""
    if user.role in (R.ADMIN, R.BRIGADE_LEAD):
        return stmt
    if user.role == R.TEAM_LEAD and user.department_id:
        mine = (select(TaskMember.id).join(Inspector, Inspector.id == TaskMember.inspector_id)
                .where(TaskMember.task_id == Task.id, TaskMember.active.is_(True),
                       Inspector.department_id == user.department_id))
        return stmt.where(exists(mine))
    if user.inspector_id:
        mine = select(TaskMember.id).where(TaskMember.task_id == Task.id, TaskMember.active.is_(True),
                                           TaskMember.inspector_id == user.inspector_id)
        return stmt.where(exists(mine))
    return stmt.where(False)


def can_view_task(user, task: Task) -> bool:
    if user.role in (R.ADMIN, R.BRIGADE_LEAD):
        return True
    active = [m for m in task.members if m.active]
    if user.role == R.TEAM_LEAD and user.department_id:
        return any(m.inspector.department_id == user.department_id for m in active)
    return bool(user.inspector_id) and any(m.inspector_id == user.inspector_id for m in active)
