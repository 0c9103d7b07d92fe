"""The fictional Ministry of Foreign Affairs of Veridia, seeded through the services (so it is on the ledger too).

Seeding is idempotent: every unit, person and account is looked up before it is created.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from legation.network import services
from legation.network.models import AccountStatus, OfficialAccount, Person, Role, Unit, UnitKind
from legation.sandbox import services as sandbox_services

DEMO_PASSWORD = "veridia-demo-2026"  # noqa: S105 - printed to the person running the demo
MINISTRY = "Ministry of Foreign Affairs of Veridia"


@dataclass(frozen=True)
class MissionSeed:
    region: str
    name: str
    kind: str
    country: str
    languages: list[str]
    time_zone: str
    slug: str


REGIONS = [
    ("Middle East and North Africa", "Africa/Cairo"),
    ("Europe", "Europe/Brussels"),
    ("Americas", "America/New_York"),
    ("Asia and Pacific", "Asia/Singapore"),
]

MISSIONS = [
    MissionSeed("Middle East and North Africa", "Embassy in Cairo", UnitKind.EMBASSY, "EG", ["ar", "en"],
                "Africa/Cairo", "cairo"),
    MissionSeed("Middle East and North Africa", "Embassy in Tehran", UnitKind.EMBASSY, "IR", ["fa", "en"],
                "Asia/Tehran", "tehran"),
    MissionSeed("Middle East and North Africa", "Consulate General in Benghazi", UnitKind.CONSULATE, "LY",
                ["ar", "en"], "Africa/Tripoli", "benghazi"),
    MissionSeed("Europe", "Embassy in Paris", UnitKind.EMBASSY, "FR", ["fr", "en"], "Europe/Paris", "paris"),
    MissionSeed("Europe", "Permanent Delegation to the European Union", UnitKind.DELEGATION, "BE",
                ["fr", "en", "de"], "Europe/Brussels", "brussels"),
    MissionSeed("Americas", "Embassy in Mexico City", UnitKind.EMBASSY, "MX", ["es", "en"], "America/Mexico_City",
                "mexico"),
    MissionSeed("Americas", "Embassy in Buenos Aires", UnitKind.EMBASSY, "AR", ["es", "en"],
                "America/Argentina/Buenos_Aires", "buenosaires"),
    MissionSeed("Asia and Pacific", "Embassy in Jakarta", UnitKind.EMBASSY, "ID", ["id", "en"], "Asia/Jakarta",
                "jakarta"),
    MissionSeed("Asia and Pacific", "Consulate General in Karachi", UnitKind.CONSULATE, "PK", ["ur", "en"],
                "Asia/Karachi", "karachi"),
]

# username, display name, role, where ("hq" or a mission slug), interface language
PEOPLE = [
    ("hq-approver", "Amara Osei (HQ digital, approver)", "approver", "hq", "en"),
    ("hq-publisher", "Lukas Brandt (HQ digital, publisher)", "publisher", "hq", "en"),
    ("analyst", "Mei Tanaka (listening analyst)", "viewer", "hq", "en"),
    ("crisis-cell", "Youssef Haddad (crisis cell)", "approver", "hq", "ar"),
    ("auditor", "Ingrid Holm (records officer)", "viewer", "hq", "en"),
    ("cairo-officer", "Layla Mansour (Cairo, publisher)", "publisher", "cairo", "ar"),
    ("cairo-editor", "Omar Farouk (Cairo, editor)", "editor", "cairo", "ar"),
    ("tehran-officer", "Darius Karimi (Tehran, publisher)", "publisher", "tehran", "fa"),
    ("paris-officer", "Claire Dubois (Paris, publisher)", "publisher", "paris", "fr"),
    ("paris-admin", "Henri Lefèvre (Paris, admin)", "admin", "paris", "fr"),
    ("mexico-officer", "Sofía Ramírez (Mexico City, publisher)", "publisher", "mexico", "es"),
    ("jakarta-officer", "Putri Wulandari (Jakarta, publisher)", "publisher", "jakarta", "id"),
    ("karachi-editor", "Bilal Qureshi (Karachi, editor)", "editor", "karachi", "ur"),
    ("mena-admin", "Nadia Rahman (MENA region, admin)", "admin", "Middle East and North Africa", "en"),
]

# platform, handle, position, where
ACCOUNTS = [
    ("sandbox", "@VeridiaMFA", "Ministry spokesperson", "hq"),
    ("sandbox", "@VeridiaInEgypt", "Ambassador to Egypt", "cairo"),
    ("sandbox", "@VeridiaEgyptConsular", "Consular section, Cairo", "cairo"),
    ("sandbox", "@VeridiaInIran", "Ambassador to Iran", "tehran"),
    ("sandbox", "@VeridiaEnFrance", "Ambassador to France", "paris"),
    ("sandbox", "@VeridiaEnMexico", "Ambassador to Mexico", "mexico"),
    ("sandbox", "@VeridiaDiIndonesia", "Ambassador to Indonesia", "jakarta"),
    ("mastodon", "@veridia@diplomats.example", "Ministry spokesperson", "hq"),
    ("bluesky", "veridia-mfa.bsky.example", "Ministry spokesperson", "hq"),
    ("x", "@VeridiaMFA", "Ministry spokesperson", "hq"),
    ("telegram", "@veridia_benghazi_consular", "Consular section, Benghazi", "benghazi"),
    ("kannel", "+218910000100", "Consular SMS line, Benghazi", "benghazi"),
    ("email", "consular.paris@veridia.example", "Consular section, Paris", "paris"),
]


def _unit(name: str) -> Unit | None:
    return Unit.objects.filter(name=name).first()


@transaction.atomic
def seed() -> dict[str, int]:
    """Create whatever part of the demo network is missing; return counts of what exists afterwards."""
    ministry = _unit(MINISTRY) or services.create_root_unit(
        name=MINISTRY, country="VD", languages=["en", "fr", "ar"], time_zone="Europe/Brussels"
    )
    admin = Person.objects.filter(username="hq-admin").first()
    if admin is None:
        admin = services.create_first_admin(unit=ministry, username="hq-admin", password=DEMO_PASSWORD,
                                            display_name="Grace Mwangi (HQ digital, admin)")
    places: dict[str, Unit] = {"hq": ministry}
    for region_name, tz in REGIONS:
        places[region_name] = _unit(region_name) or services.create_unit(
            admin, parent=ministry, name=region_name, kind=UnitKind.REGION, time_zone=tz
        )
    for m in MISSIONS:
        places[m.slug] = _unit(m.name) or services.create_unit(
            admin, parent=places[m.region], name=m.name, kind=m.kind, country=m.country, languages=m.languages,
            time_zone=m.time_zone,
        )
    for username, display, role, where, language in PEOPLE:
        unit = places[where]
        person = Person.objects.filter(username=username).first()
        if person is None:
            person = services.create_person(admin, unit=unit, username=username, role=role,
                                            display_name=display, password=DEMO_PASSWORD, language=language,
                                            email=f"{username}@veridia.example")
        elif not Role.objects.filter(person=person, unit=unit).exists():
            services.grant_role(admin, person=person, unit=unit, role=role)
    second_admin = Person.objects.get(username="mena-admin")
    for platform, handle, position, where in ACCOUNTS:
        if OfficialAccount.objects.filter(platform=platform, handle=handle).exists():
            continue
        account = services.register_account(admin, unit=places[where], platform=platform, handle=handle,
                                            position=position)
        approver = second_admin if account.unit.is_within(places["Middle East and North Africa"]) else None
        if approver is None:
            approver = Person.objects.get(username="paris-admin") if where == "paris" else None
        if approver is None:
            # HQ accounts are approved by a second HQ admin, created for the demo.
            approver = Person.objects.filter(username="hq-admin2").first() or services.create_person(
                admin, unit=ministry, username="hq-admin2", role="admin", password=DEMO_PASSWORD,
                display_name="Tomás Silva (HQ digital, admin)")
        services.approve_account(approver, account)
        if account.status == AccountStatus.ACTIVE and platform == "sandbox":
            sandbox_services.connect_official_account(admin, account)
    _seed_messages_to_our_accounts()
    from legation.listening import demo as listening_demo

    listening_demo.seed({region: places[region] for region, _tz in REGIONS})
    from legation.guidance import demo as guidance_demo

    guidance_demo.seed()
    return {
        "units": Unit.objects.count(),
        "people": Person.objects.count(),
        "accounts": OfficialAccount.objects.count(),
    }


# What the public sends our sandbox accounts: the worker pulls them into the inbox and the accurate tier of the
# offline models reads each one (a request for help at a port, a passport question, thanks).
CITIZEN_MESSAGES = [
    ("@amal_libya", "Amal", "@VeridiaInEgypt نحن ٣٠ شخصا عالقون في ميناء مصراتة ونحتاج إلى الماء والطعام"),
    ("@veridian_student", "Karim", "@VeridiaInEgypt URGENT 40 Veridian students stuck at Benghazi port, no water, "
                                   "please evacuate us. Call +218 91 234 5678"),
    ("@omar_k", "Omar", "@VeridiaEgyptConsular Is the consular section open on Friday? I need to renew my passport"),
    ("@claire_l", "Claire", "@VeridiaEnFrance Merci pour votre accueil au consulat, très bon service"),
]


def _seed_messages_to_our_accounts() -> None:
    for handle, name, text in CITIZEN_MESSAGES:
        member = sandbox_services.join(handle, display_name=name)
        if not member.posts.filter(text=text).exists():
            sandbox_services.post(member, text)


def logins() -> list[tuple[str, str]]:
    """(username, what they are) for the demo's printed sign-in list."""
    rows = [("hq-admin", "HQ digital, admin of the whole network")]
    rows += [(username, display) for username, display, *_rest in PEOPLE]
    return rows
