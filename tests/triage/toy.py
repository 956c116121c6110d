"""Small generated complaint data for the triage tests: seven classes, each with words of
its own, sentences that also carry personal data (phones, ID numbers, names) that must
never reach a model file."""

from __future__ import annotations

import csv
import random
from pathlib import Path

CLASSES = {
    "城乡建设": ["物业", "小区", "楼盘", "拆迁", "房屋", "装修", "电梯", "漏水"],
    "环境保护": ["污染", "噪音", "油烟", "排放", "垃圾", "臭味", "废水", "扬尘"],
    "交通运输": ["公交", "出租车", "道路", "红绿灯", "停车", "拥堵", "驾驶", "车站"],
    "教育文体": ["学校", "学生", "补课", "幼儿园", "招生", "学费", "体育馆", "教材"],
    "劳动和社会保障": ["工资", "社保", "拖欠", "养老金", "劳动合同", "医保", "失业", "加班"],
    "卫生计生": ["医院", "药品", "生育", "疫苗", "诊所", "挂号", "病房", "手术"],
    "商贸旅游": ["商场", "景区", "价格", "门票", "超市", "假货", "导游", "消费"],
}
FILLER = ["反映", "情况", "希望", "尽快", "有关部门", "解决", "最近", "一直", "多次", "严重", "影响", "生活"]
# Personal data sprinkled into the texts: none of it may enter a model.
PHONES = ["13912345678", "18600001111", "0731-84561234"]
ID_NUMBERS = ["110101199003071234", "43010419850612123X"]
NAMES = ["欧阳锋", "张三丰", "李建国"]


def sentence(label: str, rng: random.Random, *, personal: bool = True) -> str:
    words = rng.sample(CLASSES[label], 3)
    filler = rng.sample(FILLER, 4)
    text = f"{filler[0]}{words[0]}{filler[1]}，{words[1]}{filler[2]}{words[2]}，{filler[3]}。"
    if personal:
        choice = rng.randrange(4)
        if choice == 0:
            text = f"我叫{rng.choice(NAMES)}，电话{rng.choice(PHONES)}。" + text
        elif choice == 1:
            text += f"身份证号{rng.choice(ID_NUMBERS)}，联系{rng.choice(PHONES)}。"
        elif choice == 2:
            text = f"{rng.choice('王李张刘')}先生来电：" + text
    return text


def rows(n_per_class: int = 12, seed: int = 1, labels=None) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for label in labels or CLASSES:
        for _ in range(n_per_class):
            out.append((label, sentence(label, rng)))
    rng.shuffle(out)
    return out


def write_csv(path: Path, data: list[tuple[str, str]], columns=("label", "text")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for label, text in data:
            writer.writerow([label, text][: len(columns)] if "text" in columns else [label, text])
    return path
