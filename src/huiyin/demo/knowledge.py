"""Demo knowledge base (F07): a handful of entries an administrator wrote over the past months —
the answers staff give most often and the rules they rest on — for the preset the demo runs
under, plus two that any office keeps. Written through ``huiyin.knowledge.services``, each
stamped with the day it was written (``at``), linked to the demo's categories by full name."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.utils import timezone

from huiyin.cases.models import Category
from huiyin.knowledge.models import KnowledgeEntry
from huiyin.knowledge.services import entry_create
from huiyin.orgs.models import Staff


class Entry(NamedTuple):
    title: str
    body: str
    source: str
    categories: tuple[str, ...]  # full names of the demo's categories ("" none: any matter)
    days_ago: int


COMMON = (
    Entry(
        "来电接听与记录要求",
        "铃响即接，铃声不超过五次；使用“您好、请、谢谢、再见”等文明用语，不主动挂断电话。"
        "记录来电号码、姓名、地址、联系方式，简要记录来电人的意见和要求。"
        "政策法规明确规定以外的问题不随意表态，可告知将由承办部门核实后答复。",
        "《来电接听来访接待工作准则》第一条",
        (),
        84,
    ),
    Entry(
        "个人信息保密口径",
        "来电人询问被反映对象是否知道自己的姓名时，答复：您的个人信息仅用于办理本件，"
        "转办时不向被反映单位提供您的姓名和电话。需要当面核实的，承办人会事先征得您的同意。",
        "本单位信访保密制度",
        (),
        61,
    ),
)

BY_PRESET: dict[str, tuple[Entry, ...]] = {
    "city_hotline": (
        Entry(
            "楼上漏水协调口径",
            "属于相邻关系纠纷，先由物业公司上门查明漏点并协调楼上住户维修；楼上住户拒不配合的，"
            "可申请社区、街道人民调解，调解不成可向人民法院起诉。房屋在保修期内的由建设单位负责维修。",
            "《民法典》第二百九十六条；《物业管理条例》",
            ("城乡建设/住房保障与物业/房屋漏水",),
            52,
        ),
        Entry(
            "拖欠工资投诉的受理和转办",
            "请来电人提供用人单位名称、地址、欠薪起止时间和金额、人数；转人力资源和社会保障局劳动保障监察机构办理，"
            "告知来电人一般在受理之日起 60 个工作日内办结。涉及农民工群体欠薪的按紧急件处理。",
            "《保障农民工工资支付条例》；《劳动保障监察条例》第十七条",
            ("劳动和社会保障/劳动关系/拖欠工资",),
            37,
        ),
        Entry(
            "夜间施工噪音的答复口径",
            "夜间 22 时至次日 6 时在噪声敏感建筑物集中区域施工，须持有关部门出具的夜间施工证明并公告附近居民。"
            "无证明施工的，转城管执法部门查处；有证明的，告知来电人证明的有效期限和施工单位的联系方式。",
            "《噪声污染防治法》第四十三条",
            ("城乡建设/规划与建设/施工扰民", "环境保护/噪音扰民"),
            18,
        ),
    ),
    "property_management": (
        Entry(
            "物业费调整的答复口径",
            "物业服务收费标准须经业主大会或业主共同决定，并在小区显著位置公示。未经决定擅自涨价的，"
            "业主可要求按原标准收取；对收费有疑问的，可查阅物业服务合同和收费公示。",
            "《物业管理条例》；本公司《收费公示制度》",
            ("城乡建设/住房保障与物业/物业管理",),
            70,
        ),
        Entry(
            "维修服务时限",
            "一般维修接报后 30 分钟内到场；水、电、电梯等紧急维修 15 分钟内到场；当天不能修复的，"
            "向业主说明原因并约定完成时间。维修完成后由业主签字确认，回访员回访。",
            "本公司《接待来电来访投诉处理办法》第六条、第八条",
            ("城乡建设/住房保障与物业/电梯故障", "城乡建设/住房保障与物业/房屋漏水"),
            45,
        ),
        Entry(
            "回访中不能当即答复的询问",
            "回访时业主提出的询问、意见不能当即答复的，告知业主预约答复的时间（一般不超过三个工作日），"
            "在回访记录中登记询问和预约时间；系统按预约时间提醒，答复后在案件页登记答复内容。",
            "本公司《回访制度》第八条",
            (),
            12,
        ),
    ),
    "petition_office": (
        Entry(
            "不予受理的告知口径",
            "依法应当通过诉讼、仲裁、行政复议等法定途径解决的，告知信访人向有关机关提出；"
            "属于其他机关职权范围的，告知其向有权处理的机关提出，信访人要求的，出具书面告知。",
            "《信访工作条例》第三十一条、第三十二条",
            (),
            66,
        ),
        Entry(
            "复查、复核的申请期限",
            "信访人对处理意见不服的，可以自收到书面答复之日起 30 日内请求原办理机关的上一级机关复查；"
            "对复查意见不服的，可以自收到复查意见之日起 30 日内向复查机关的上一级机关请求复核。",
            "《信访工作条例》第三十五条",
            (),
            40,
        ),
        Entry(
            "集体访推选代表",
            "多人采用走访形式提出同一信访事项的，应当推选代表，代表人数不超过 5 人；"
            "其余人员请到休息区等候，接谈结果由代表转告。",
            "《信访工作条例》第二十五条",
            (),
            21,
        ),
    ),
}
# Presets without entries of their own use the hotline's: their demo categories are the same.
BY_PRESET["hospital"] = BY_PRESET["city_hotline"]
BY_PRESET["construction_station"] = BY_PRESET["city_hotline"]
BY_PRESET["company_front_office"] = BY_PRESET["city_hotline"]


def seed_knowledge(org_id: int, admin: Staff, preset_name: str, *, now: datetime | None = None) -> int:
    """The demo's knowledge base, once (nothing when the organisation already has entries).
    Returns how many entries were written."""
    if KnowledgeEntry.objects.filter(organization_id=org_id).exists():
        return 0
    now = now or timezone.now()
    by_name = dict(Category.objects.filter(organization_id=org_id).values_list("full_name", "pk"))
    written = 0
    for entry in sorted((*COMMON, *BY_PRESET.get(preset_name, ())), key=lambda e: -e.days_ago):
        entry_create(
            actor=admin,
            title=entry.title,
            body=entry.body,
            source=entry.source,
            category_ids=[by_name[name] for name in entry.categories if name in by_name],
            at=now - timedelta(days=entry.days_ago, hours=entry.days_ago % 7 + 2),
        )
        written += 1
    return written
