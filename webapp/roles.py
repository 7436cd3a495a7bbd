"""The roles of the back office. The anonymous public has no role."""
from flask_babel import lazy_gettext as _l

ADMIN = "admin"  #: coordinating office (领导小组办公室): registries, users, audit
BRIGADE_LEAD = "brigade_lead"  #: enforcement brigade (综合行政执法大队) lead: plans, draws
TEAM_LEAD = "team_lead"  #: leads inspection groups of a department; reviews their work
INSPECTOR = "inspector"  #: law-enforcement officer, linked to an inspector-pool entry

ALL = (ADMIN, BRIGADE_LEAD, TEAM_LEAD, INSPECTOR)
STAFF = (ADMIN, BRIGADE_LEAD, TEAM_LEAD)  #: roles that see the registries

LABELS = {
    ADMIN: _l("Administrator (coordinating office)"),
    BRIGADE_LEAD: _l("Brigade lead"),
    TEAM_LEAD: _l("Team lead"),
    INSPECTOR: _l("Inspector"),
}
