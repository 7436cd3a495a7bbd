"""Controlled vocabularies: UI labels (translated) and the fixed Chinese words of the files.

The import/export files are a data format kept in Chinese whatever the UI language,
as an office keeps them in Excel; the UI labels follow the user's language.
"""
from flask_babel import lazy_gettext as _l

INDUSTRY_LABELS = {
    "coal": _l("Coal mine"), "non_coal_mine": _l("Non-coal mine"), "hazchem": _l("Hazardous chemicals"),
    "metallurgy": _l("Metallurgy"), "nonferrous": _l("Non-ferrous metals"),
    "building_materials": _l("Building materials"), "machinery": _l("Machinery"),
    "light_industry": _l("Light industry"), "textile": _l("Textiles"), "tobacco": _l("Tobacco"),
    "commerce": _l("Commerce and trade"), "other": _l("Other"),
}
INDUSTRY_FILE = {
    "coal": "煤矿", "non_coal_mine": "非煤矿山", "hazchem": "危险化学品", "metallurgy": "冶金",
    "nonferrous": "有色", "building_materials": "建材", "machinery": "机械", "light_industry": "轻工",
    "textile": "纺织", "tobacco": "烟草", "commerce": "商贸", "other": "其他",
}

STATUS_LABELS = {"operating": _l("Operating"), "suspended": _l("Suspended"),
                 "deregistered": _l("Deregistered")}
STATUS_FILE = {"operating": "在营", "suspended": "停业", "deregistered": "注销"}

FLAG_LABELS = {
    "key_supervision": _l("Key supervision unit"), "dust_explosion": _l("Combustible dust"),
    "confined_space": _l("Confined space"), "liquid_ammonia": _l("Liquid-ammonia refrigeration"),
    "major_hazard": _l("Major hazard installation"), "seriously_untrustworthy": _l("Seriously untrustworthy"),
    "blacklisted": _l("Safety blacklist"), "high_credit_risk": _l("High credit risk"),
    "many_complaints": _l("Many complaints"), "abnormal_operation": _l("Abnormal-operation list"),
    "serious_violation": _l("Serious violation record"),
}
FLAG_FILE = {
    "key_supervision": "重点监管", "dust_explosion": "粉尘涉爆", "confined_space": "有限空间",
    "liquid_ammonia": "液氨制冷", "major_hazard": "重大危险源", "seriously_untrustworthy": "严重失信",
    "blacklisted": "黑名单", "high_credit_risk": "信用风险高", "many_complaints": "投诉举报多",
    "abnormal_operation": "经营异常名录", "serious_violation": "严重违法记录",
}
#: Flags that make a unit a focus of checks without a frequency cap (R11).
FOCUS_FLAGS = ("high_credit_risk", "many_complaints", "abnormal_operation", "serious_violation")

METHOD_LABELS = {"onsite": _l("On-site"), "written": _l("Written"), "online": _l("Online"),
                 "agency": _l("Commissioned agency")}
METHOD_FILE = {"onsite": "现场检查", "written": "书面检查", "online": "网络检查", "agency": "委托专业机构"}

INACTIVE_LABELS = {"transfer": _l("Transferred"), "leave": _l("On leave"), "retired": _l("Retired"),
                   "other": _l("Other")}
ACTIVE_FILE = {None: "在岗", "transfer": "调离", "leave": "休假", "retired": "退休", "other": "其他"}

DEPARTMENT_KIND_LABELS = {"office": _l("Bureau office"), "brigade": _l("Enforcement brigade"),
                          "other_bureau": _l("Other department")}

YES_FILE, NO_FILE = "是", "否"

#: Labels of record fields, for change histories and the audit trail.
FIELD_LABELS = {
    "uscc": _l("Credit code"), "name": _l("Name"), "address": _l("Operating address"),
    "region_id": _l("Township"), "lat": _l("Latitude"), "lng": _l("Longitude"), "industry": _l("Industry"),
    "legal_rep": _l("Legal representative"), "phone": _l("Phone"), "status": _l("Status"),
    "department_id": _l("Department"), "post": _l("Post"), "cert_no": _l("Certificate number"),
    "cert_expiry": _l("Certificate valid to"), "active": _l("Status"), "inactive_reason": _l("Reason when inactive"),
    "inactive_note": _l("Note"), "competences": _l("Competences"), "legal_basis": _l("Legal basis"),
    "content": _l("Content"), "method": _l("Method"), "is_random": _l("Random"), "valid_from": _l("Valid from"),
    "valid_to": _l("Valid to"), "version": _l("Version"), "code": _l("Code"), "reason": _l("Reason"),
    **FLAG_LABELS,
    # An import's columns and its trail entry (issue #12): the fields a file's column may map to, how it was read.
    "region_name": _l("Township"), "region_code": _l("Township code"), "department": _l("Department"),
    "encoding": _l("File encoding"), "header_row": _l("Header row"), "not_imported": _l("Columns not imported"),
}
