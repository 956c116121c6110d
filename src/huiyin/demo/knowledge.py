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
        "本单位个人信息保密规定",
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
    # 医院投诉管理: the hospital's complaint rules (seeds/000 行 280–287) and the national rules
    # a complaint office answers by.
    "hospital": (
        Entry(
            "首诉负责制与接待分工",
            "患者及家属来院投诉，第一个接到投诉的部门负责登记、接待和协调，不得以“不归我管”推诿。"
            "门诊患者及家属的投诉由门诊部接待，住院患者及家属的投诉由医务科接待；涉及其他科室的，由接待部门协调，"
            "能当即解决的会同有关科室当即解决。",
            "本院《医院投诉接待制度》第一条至第三条",
            ("卫生计生/医疗服务", "卫生计生/医患纠纷"),
            118,
        ),
        Entry(
            "投诉处理时限的告知口径",
            "院行风办下发《信访投诉处理通知单》后，责任科室迅速调查核实，提出科室处理意见，被投诉人写出书面情况。"
            "告知投诉人：通常 3 至 7 天内答复；情况复杂不能按时办结的，责任科室告知院行风办，最迟两周内处理完毕。",
            "本院《医院投诉接待制度》第五条、第六条",
            (),
            83,
        ),
        Entry(
            "医疗纠纷的解决途径",
            "患者或家属对诊疗结果有异议、要求赔偿的，告知可以选择：医患双方自愿协商；向医疗纠纷人民调解委员会申请调解；"
            "向卫生健康主管部门申请行政调解；向人民法院提起诉讼。需要封存病历资料的，在医患双方在场的情况下进行。",
            "《医疗纠纷预防和处理条例》第二十二条、第二十四条",
            ("卫生计生/医患纠纷",),
            49,
        ),
        Entry(
            "复印病历的答复口径",
            "患者本人或其委托代理人、死亡患者的近亲属，可持有效身份证明（代理人另持委托书）到病案室申请复印门（急）诊病历和"
            "住院病历中的客观资料。",
            "《医疗机构病历管理规定》；本院病案室服务指南",
            ("卫生计生/医疗服务",),
            16,
        ),
    ),
    # 建设工程质量监督站: the station's rules on letters, visits and calls (seeds/000 行 2–17) and
    # the warranty periods it answers by.
    "construction_station": (
        Entry(
            "房屋保修期限",
            "在正常使用条件下，建设工程的最低保修期限为：地基基础工程和主体结构工程，为设计文件规定的该工程的合理使用年限；"
            "屋面防水工程、有防水要求的卫生间、房间和外墙面的防渗漏，为 5 年；供热与供冷系统，为 2 个采暖期、供冷期；"
            "电气管线、给排水管道、设备安装和装修工程，为 2 年。保修期自竣工验收合格之日起计算。",
            "《建设工程质量管理条例》第四十条",
            ("城乡建设/规划与建设/房屋质量", "城乡建设/住房保障与物业/房屋漏水"),
            132,
        ),
        Entry(
            "超过保修期的房屋问题",
            "超过保修期、在使用过程中发生问题的房屋，提请产权单位或房产管理单位处理，告知来电来访人其联系方式。"
            "确属工程质量问题的，与施工单位联系解决；双方发生争议的，由承办人及时协调。",
            "本站《人民来信来访来电接待处理工作制度》第四条",
            ("城乡建设/规划与建设/房屋质量",),
            97,
        ),
        Entry(
            "处理原则与整改方案",
            "承办人调查（调查材料须经被调查人签字认可），初步确定责任单位，提出处理原则报站领导审批；"
            "站领导签发后，以文字或电话通知责任单位，一般要求两周内以书面形式报送整改方案，"
            "承办人将整改方案及时告知来信来访来电人。群访件和上级要求“查处”的件，整改后必须回访复查。",
            "本站《人民来信来访来电接待处理工作制度》第三条",
            (),
            64,
        ),
        Entry(
            "不属于本站职责的信访件",
            "经核查不属于本站职责范围的信访函件，自收到之日起 15 日内申明理由，"
            "退还本人或退回原批转单位，不得自行转送其他单位。"
            "电话、来访反映的，当场告知应向哪个单位反映。",
            "本站《人民来信来访来电接待处理工作制度》第五条",
            (),
            28,
        ),
    ),
    # 公司接待: the company's reception rules (seeds/000 行 84–112、138–178).
    "company_front_office": (
        Entry(
            "访客预约与登记",
            "访客须提前与相关部门或人员预约，前台确认来访时间、目的和被访人。访客到达时主动迎接，核验身份证件、登记并发放访客证；"
            "按访客需要安排工作人员陪同，提供茶水、资料；访问结束收回访客证，请访客填写反馈表。",
            "本公司《办公室接待管理制度》第三条",
            (),
            141,
        ),
        Entry(
            "接待申请与审批",
            "各部门需提前向行政部门提出接待申请，写明接待对象、时间、目的及预期成果和费用预算；"
            "行政部门审核后报相关领导批准，批准后安排场所、交通和餐饮。未经批准的接待不予安排。",
            "本公司《接待日常管理制度》第三条",
            (),
            102,
        ),
        Entry(
            "接待费用与报销",
            "接待费用包括交通费、住宿费、餐饮费、礼品费等，应在批准的预算内控制，超出预算须提前报批。"
            "接待结束后，承办部门提交费用明细及合法票据，经审批后按财务制度报销；无票据或超预算未报批的不予报销。",
            "本公司《接待日常管理制度》第四条；《接待管理工作制度》第十三条至第十五条",
            (),
            55,
        ),
        Entry(
            "接待工作纪律",
            "接待人员不得接受贿赂、索取好处、滥用职权，不得泄露公司机密；访客询问非公开事项的，礼貌告知需由被访部门答复。",
            "本公司《接待管理工作制度》第十六条、第十七条",
            (),
            19,
        ),
    ),
}


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
