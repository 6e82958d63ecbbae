"""The sample instances: realistic, deterministic phone numbers in CCC's ListPhoneNumbers shape."""

from __future__ import annotations

import random
import uuid
from typing import Any

from bot.config import SANDBOX_INSTANCE_IDS

# (province, city, area code, digits after the area code, weight)
AREAS = [
    ("四川", "乐山", "0833", 8, 55),
    ("四川", "成都", "028", 8, 10),
    ("北京", "北京", "010", 8, 8),
    ("上海", "上海", "021", 8, 8),
    ("浙江", "杭州", "0571", 8, 6),
    ("广东", "深圳", "0755", 8, 6),
    ("江苏", "南京", "025", 8, 4),
]
PROVIDERS = ["alicom", "alicom", "alicom", "cmcc", "chinaunicom", "chinatelecom"]
SKILL_GROUPS = [
    ("aftersales", "售后服务"),
    ("presales", "售前咨询"),
    ("vip", "VIP 热线"),
    ("support", "技术支持"),
]
FLOWS = ["默认联系流", "售后 IVR", "夜间留言", "VIP 直通"]
TAGS = ["", "", "", "M1", "M1", "VIP", "营销"]
USAGES = ["Inbound", "Inbound", "Outbound", "Bidirection"]
FIRST_ADDED_MS = 1_609_459_200_000  # 2021-01-01
LAST_ADDED_MS = 1_793_491_200_000  # 2026-11-01


def sample_instances(size: int = 400, seed: int = 833) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's instances: `ccc-test` with `size` numbers and a small second one, `ccc-demo`."""
    main, demo = SANDBOX_INSTANCE_IDS
    return {main: make_numbers(main, size, seed), demo: make_numbers(demo, 24, seed + 1)}


def make_numbers(instance_id: str, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` distinct numbers of one instance, the same ones for the same seed."""
    rng = random.Random(seed)
    numbers: dict[str, dict[str, Any]] = {}
    while len(numbers) < count:
        number, province, city = _number(rng)
        if number not in numbers:
            numbers[number] = _record(rng, instance_id, number, province, city)
    return sorted(numbers.values(), key=lambda item: int(item["CreateTime"]))


def _number(rng: random.Random) -> tuple[str, str, str]:
    kind = rng.random()
    if kind < 0.08:
        return f"400{rng.randint(1000000, 9999999)}", "", ""
    if kind < 0.2:
        province, city, *_ = rng.choice(AREAS)
        return f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}", province, city
    province, city, code, digits, _ = rng.choices(AREAS, weights=[a[4] for a in AREAS])[0]
    return f"{code}{rng.randint(10 ** (digits - 1), 10 ** digits - 1)}", province, city


def _record(rng: random.Random, instance_id: str, number: str, province: str, city: str) -> dict[str, Any]:
    usage = rng.choice(USAGES)
    flow = rng.choice(FLOWS) if usage != "Outbound" and rng.random() < 0.85 else ""
    groups = [
        {"SkillGroupId": f"{name}@{instance_id}", "Name": name, "DisplayName": display, "InstanceId": instance_id}
        for name, display in rng.sample(SKILL_GROUPS, k=rng.choice([0, 1, 1, 1, 2]))
    ]
    return {
        "Number": number,
        "Active": rng.random() < 0.85,
        "Usage": usage,
        "Province": province,
        "City": city,
        "Provider": rng.choice(PROVIDERS),
        "ContactFlowName": flow,
        "ContactFlowId": str(uuid.UUID(int=rng.getrandbits(128))) if flow else "",
        "SkillGroups": groups,
        "UserId": f"agent{rng.randint(1, 40):02d}@{instance_id}" if rng.random() < 0.1 else "",
        "Tags": rng.choice(TAGS),
        "InstanceId": instance_id,
        "CreateTime": str(rng.randint(FIRST_ADDED_MS, LAST_ADDED_MS) // 1000 * 1000),
    }
