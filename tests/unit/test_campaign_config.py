"""campaign.yaml and the roster: what loads, and the messages for what does not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from functions.config.loading import ConfigError, load_campaign, load_roster
from functions.services.setup.examples import example_names, write_example
from schemas.roster import ROSTER_HEADERS

ACTIVITY_HEADERS = [
    "序号", "活动名称", "活动类别", "开始日期", "结束日期", "活动地点", "活动形式",
    "参与对象", "预计参与人数", "是否免费惠民", "主办单位", "负责人", "联系电话", "备注",
]  # fmt: skip
STAT_LABELS = [
    "活动总场次", "讲座场次", "培训场次", "展览展示场次", "读书活动场次", "线上活动场次", "参与总人次",
    "线上参与人次", "智慧助老培训人次", "免费惠民培训班期数", "免费惠民培训人次", "志愿者人数",
    "发放宣传资料份数", "宣传标语条数", "展板块数", "媒体报道篇数", "推荐百姓学习之星人数",
    "推荐终身学习品牌项目数", "开放学习场所数", "填报人", "联系电话",
]  # fmt: skip


def _edit(folder: Path, change: dict) -> None:
    path = folder / "campaign.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in change.items():
        node = data
        *parents, last = dotted.split(".")
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_both_examples_load_with_their_own_data(wujin_dir: Path, xinbei_dir: Path) -> None:
    assert example_names() == ["wujin-2022", "xinbei-2017"]
    wj, xb = load_campaign(wujin_dir), load_campaign(xinbei_dir)
    assert wj.theme == "砥砺奋进启新程 全民学习再出发"
    assert (wj.week.start, wj.week.end) == (dt.date(2022, 12, 2), dt.date(2022, 12, 8))
    assert wj.deliverable("plan").due == dt.date(2022, 11, 24)
    assert wj.deliverable("summary").due == dt.date(2022, 12, 9)
    assert wj.rules.required_activities[0].items == ["国旗下讲话", "主题讲座", "主题班会", "主题板报"]
    assert wj.rules.free_class[0].unit_types == ["非学历教育机构"]
    assert wj.rules.photo_minimum == 5
    assert (xb.week.start, xb.week.end) == (dt.date(2017, 10, 23), dt.date(2017, 10, 29))
    assert xb.deliverable("plan").due == dt.date(2017, 10, 10)
    assert xb.deliverable("summary").due == dt.date(2017, 10, 31)
    assert xb.rules.required_activities[0].items == ["主题讲座", "主题班会", "主题板报", "志愿服务"]
    assert xb.rules.free_class[0].unit_types == ["镇（街道）社区教育中心"]
    assert xb.rules.photo_minimum == 3
    # due at end of day in the campaign's zone
    assert wj.due_at("plan").isoformat() == "2022-11-24T23:59:59+08:00"
    wr, wp = load_roster(wujin_dir, wj)
    assert wp == [] and 35 <= len(wr.units) <= 45
    assert len({u.area for u in wr.units if u.type != "区社区教育委员会成员单位"}) == 6
    assert {u.type for u in wr.units} == {t.name for t in wj.unit_types}


def test_form_spec_headers_are_the_contract(wujin_dir: Path) -> None:
    spec = load_campaign(wujin_dir).form_spec
    acts = spec.table("activities")
    assert acts.title_zh == "主要活动安排表"
    assert [f.label_zh for f in acts.fields] == ACTIVITY_HEADERS
    required = [f.label_zh for f in acts.fields if f.required]
    assert required == ["活动名称", "活动类别", "开始日期", "活动地点", "活动形式", "参与对象", "预计参与人数",
                        "是否免费惠民", "负责人", "联系电话"]  # fmt: skip
    assert acts.field("category").choices == [
        "启动仪式", "讲座", "培训", "论坛", "展览展示", "读书活动", "学习体验", "文艺展演", "志愿服务",
        "宣传活动", "国旗下讲话", "主题班会", "主题板报", "其他",
    ]  # fmt: skip
    assert acts.field("mode").choices == ["线下", "线上", "线上线下结合"]
    assert acts.field("audience").choices == [
        "社区居民", "老年人", "青少年", "学生", "家长", "职工", "农民", "农民工", "残疾人", "其他"
    ]  # fmt: skip
    assert [f.label_zh for f in spec.table("plan_materials").fields] == [
        "工作方案链接",
        "启动仪式方案链接",
        "填报人",
        "联系电话",
    ]
    stats = spec.table("statistics")
    assert stats.title_zh == "活动周情况统计表"
    assert [f.label_zh for f in stats.fields] == STAT_LABELS
    assert [f.label_zh for f in stats.fields if f.required] == [
        "活动总场次",
        "参与总人次",
        "填报人",
        "联系电话",
    ]
    mats = spec.table("summary_materials")
    assert [f.label_zh for f in mats.fields] == [
        "工作总结链接",
        "典型案例链接",
        "照片张数",
        "照片链接",
        "视频链接",
    ]
    assert [f.label_zh for f in mats.fields if f.required] == ["工作总结链接"]


def test_organiser_customises_the_form_without_code(wujin_dir: Path) -> None:
    _edit(
        wujin_dir,
        {
            "form": {
                "fields": {
                    "activities.venue": {"label_zh": "活动地址"},
                    "activities.category": {"add_choices": ["非遗体验"]},
                },
                "extra_fields": {
                    "activities": [{"key": "link", "label_zh": "活动链接", "label_en": "Link", "type": "url"}]
                },
            },
            "rules.photo_minimum": 8,
            "rules.grace_days": 0,
            "rules.free_class.unit_types": ["非学历教育机构", "开放大学"],
        },
    )
    c = load_campaign(wujin_dir)
    acts = c.form_spec.table("activities")
    assert acts.field("venue").label_zh == "活动地址"
    assert acts.field("category").choices[-1] == "非遗体验"
    assert acts.fields[-1].label_zh == "活动链接" and not acts.fields[-1].required
    assert c.rules.photo_minimum == 8 and c.rules.grace_days == 0
    assert c.rules.free_class[0].unit_types == ["非学历教育机构", "开放大学"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"deliverables.0.due": "11月24日"}, ["deliverables[0].due", "需要日期"]),
        ({"week.start": "2022-12-10"}, ["week", "week.end is before week.start"]),
        ({"timezone": "Mars/Olympus"}, ["timezone", "unknown time zone"]),
        ({"rules.free_class.unit_types": ["幼儿园"]}, ["rules.free_class", "幼儿园"]),
        ({"deliverables.0.tables": ["activities", "nonsense"]}, ["没有名为", "nonsense"]),
        ({"organiser.emails": ["not-an-email"]}, ["organiser.emails", "not-an-email"]),
        ({"reminders.hour": 25}, ["reminders.hour", "数值太大"]),
        ({"titel": "typo"}, ["titel", "不认识的键"]),
        ({"form": {"fields": {"activities.nope": {"label_zh": "x"}}}}, ["activities.nope"]),
        (
            {"form": {"fields": {"activities.venue": {"label_zh": "活动名称"}}}},
            ["duplicate labels", "活动名称"],
        ),
    ],
)
def test_campaign_errors_name_file_key_and_expectation(
    wujin_dir: Path, change: dict, expected: list[str]
) -> None:
    _edit(wujin_dir, change)
    with pytest.raises(ConfigError) as info:
        load_campaign(wujin_dir)
    text = str(info.value)
    assert "campaign.yaml" in text
    for part in expected:
        assert part in text


def test_broken_yaml_names_line(wujin_dir: Path) -> None:
    (wujin_dir / "campaign.yaml").write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="第 3 行"):
        load_campaign(wujin_dir)


def test_roster_bad_rows_reported_by_line(wujin_dir: Path) -> None:
    campaign = load_campaign(wujin_dir)
    lines = [
        ",".join(ROSTER_HEADERS),
        "U1,甲学校,中小学,湖塘镇,张三,a@example.org;b@example.org,13812345678",
        "U1,乙学校,中小学,湖塘镇,李四,c@example.org,13812345679",
        "U2,丙机构,幼儿园,湖塘镇,王五,d@example.org,13812345670",
        "U3,丁中心,镇（街道）社区教育中心,湖塘镇,赵六,bad-email,13812345671",
        "",
        'U4,戊中心,镇（街道）社区教育中心,牛塘镇,钱七,"e@example.org, f@example.org",0519-86311234',
    ]
    # With a BOM, as Excel writes "CSV UTF-8".
    (wujin_dir / "units.csv").write_bytes("\n".join(lines).encode("utf-8-sig"))
    roster, problems = load_roster(wujin_dir, campaign)
    assert [u.code for u in roster.units] == ["U1", "U4"]
    assert roster.get("U1").emails == ("a@example.org", "b@example.org")
    assert roster.get("U4").emails == ("e@example.org", "f@example.org")
    by_line = {p.line: p.message for p in problems}
    assert set(by_line) == {3, 4, 5}
    assert "重复" in by_line[3] and "第 2 行" in by_line[3]
    assert "幼儿园" in by_line[4]
    assert "bad-email" in by_line[5]


def test_roster_from_xlsx_and_wrong_headers(wujin_dir: Path) -> None:
    from openpyxl import Workbook

    campaign = load_campaign(wujin_dir)
    (wujin_dir / "units.csv").unlink()
    wb = Workbook()
    ws = wb.active
    ws.append(list(ROSTER_HEADERS))
    ws.append(["X01", "某学校", "中小学", "湖塘镇", "张三", "x@example.org", 13812345678])
    wb.save(wujin_dir / "units.xlsx")
    roster, problems = load_roster(wujin_dir, campaign)
    assert problems == [] and roster.get("X01").phone == "13812345678"

    ws["B1"] = "名称"
    wb.save(wujin_dir / "units.xlsx")
    with pytest.raises(ConfigError, match="表头应为"):
        load_roster(wujin_dir, campaign)


def test_roster_not_utf8(wujin_dir: Path) -> None:
    campaign = load_campaign(wujin_dir)
    (wujin_dir / "units.csv").write_bytes(",".join(ROSTER_HEADERS).encode("gbk"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_roster(wujin_dir, campaign)


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    write_example(tmp_path, "xinbei-2017")
    with pytest.raises(ConfigError, match="已存在"):
        write_example(tmp_path, "xinbei-2017")
    with pytest.raises(ConfigError, match="wujin-2022"):
        write_example(tmp_path / "x", "nowhere-1999")
