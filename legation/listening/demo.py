"""Live listening for the demo ministry: one file source per region, replaying a small synthetic file.

The files in ``fixtures/demo-*.jsonl`` are fictional posts written for the demo (``write_files`` regenerates
them). Seeding stores the first part of each file back-dated over the last day, ending with a burst in the Middle
East so a spike and a new story are on the dashboard; the periodic pull then replays the rest as it "arrives",
a post a minute per region for two hours (``LIVE``).
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from legation.listening import alerts, services
from legation.listening.importing import BadLine, read_posts
from legation.listening.ingest import Post
from legation.listening.models import FILE_PLATFORM, ListeningSource, SourceKind
from legation.network.models import Unit

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HISTORY = 60  # posts per region stored at seeding, spread over the last day

TEMPLATES: dict[str, list[str]] = {
    "Middle East and North Africa": [
        "The Veridian embassy in Cairo is hosting a cultural evening on Thursday",
        "Heavy traffic near Tahrir Square this morning, avoid the area",
        "مبروك لمنتخب فيريديا على الفوز الرائع",
        "السفارة في القاهرة تعلن عن مواعيد جديدة للتأشيرات",
        "Visa appointments at the consulate in Benghazi are delayed again, very frustrating",
        "Great concert by Veridian musicians in Tehran last night",
        "الطقس حار جدا اليوم في بنغازي",
        "Does anyone know if the Veridia consulate in Benghazi is open on Friday?",
    ],
    "Europe": [
        "L'ambassade de Veridia à Paris organise une exposition ce week-end",
        "Grève des transports à Paris demain, prévoyez du retard",
        "Die Delegation in Brüssel veröffentlicht einen neuen Bericht",
        "Lovely Veridian food festival in Brussels today",
        "Les rendez-vous de visa à Paris sont complets jusqu'en mars, c'est décevant",
        "Veridia and France sign a cultural agreement in Paris",
    ],
    "Americas": [
        "La embajada de Veridia en Ciudad de México celebra su día nacional",
        "Gran partido entre México y Veridia anoche",
        "Tráfico terrible en Buenos Aires por la manifestación",
        "The Veridian ambassador visited a school in Mexico City",
        "Excelente atención en el consulado de Veridia en Buenos Aires",
    ],
    "Asia and Pacific": [
        "Kedutaan Veridia di Jakarta mengadakan festival budaya akhir pekan ini",
        "Macet parah di Jakarta pagi ini",
        "کراچی میں ویریڈیا کے قونصل خانے نے نئی ویزا پالیسی کا اعلان کیا",
        "Veridian students arrive in Jakarta for the exchange programme",
        "Banjir di Jakarta Utara, beberapa jalan ditutup",
        "维里迪亚驻东京大使馆提醒：地震后电车停运，请注意安全",
        "東京で地震がありました。ヴェリディア大使館は通常どおり開館しています",
        "서울에서 베리디아 문화 축제가 열립니다",
        "สถานทูตเวอริเดียประจำกรุงเทพฯ จัดงานเทศกาลอาหารสุดสัปดาห์นี้",
    ],
}
# The burst: many people sharing the same urgent message within the last hour.
BURST = [
    "URGENT Benghazi flood: 40 families stranded near the port need water and food, call +218 91 000 0100",
    "URGENT Benghazi flood: 40 families stranded near the port need water and food, call +218 91 000 0100 RT",
    "RT URGENT Benghazi flood: 40 families stranded near the port need water and food, call +218 91 000 0100 🙏",
]


def _slug(region: str) -> str:
    return region.lower().replace(" and ", "-").replace(" ", "-")


def demo_file(region: str) -> Path:
    return FIXTURES / f"demo-{_slug(region)}.jsonl"


LIVE = 120  # posts per region replayed after seeding, one a minute: two hours of live listening


def write_files(per_region: int = HISTORY + LIVE) -> None:
    """Regenerate the demo files (deterministic)."""
    for region, templates in TEMPLATES.items():
        rng = random.Random(region)
        lines = []
        for n in range(per_region):
            text = rng.choice(templates)
            if rng.random() < 0.5:
                text += rng.choice([" #Veridia", " 🇻🇩", "!", " …", " #diplomacy"])
            lines.append({"id": f"demo-{_slug(region)}-{n}", "platform": "sandbox",
                          "author": f"@{rng.choice(['amal', 'jean', 'sofia', 'budi', 'omar', 'lena', 'ravi'])}"
                                    f"{rng.randint(1, 999)}", "text": text})
        if region == "Middle East and North Africa":
            for n in range(30):
                lines.insert(HISTORY - 30 + n, {"id": f"demo-burst-{n}", "platform": "sandbox",
                                                "author": f"@resident{n}", "text": BURST[n % len(BURST)]})
        demo_file(region).write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                                     encoding="utf-8")


def seed(regions: dict[str, Unit]) -> int:
    """Give each region a listening source and a day of history; return how many posts were stored."""
    stored = 0
    now = timezone.now()
    for region, unit in regions.items():
        path = demo_file(region)
        if not path.exists() or ListeningSource.objects.filter(unit=unit, kind=SourceKind.FILE).exists():
            continue
        source = services.create_source(None, unit=unit, name=f"Public posts — {region}", kind=SourceKind.FILE,
                                        platform=FILE_PLATFORM, query=path.name, batch_size=1, pull_every=1,
                                        story_min_size=20)
        history: list[Post] = []
        for record in read_posts(path):
            if len(history) >= HISTORY:
                break
            if isinstance(record, BadLine):
                continue
            n = len(history)
            if record.external_id.startswith("demo-burst-"):
                when = now - timedelta(minutes=40 - n % 30)
            else:
                when = now - timedelta(hours=23 * (1 - n / HISTORY) + 1, minutes=n * 7 % 60)
            history.append(Post(text=record.text, platform=record.platform, external_id=record.external_id,
                                author=record.author, created_at=when, position=record.position))
        stored += services.ingest_posts(source, history, cursor=str(len(history))).stored
        alerts.evaluate(unit, now=now)
    return stored
