"""Fill the database with a realistic Swedish organisation to try the app with.

Idempotent: every row is looked up by a natural key first, so running the
command again changes nothing.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from groups.models import BoardColour, Department, Group, StrategyGoal
from meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus, Schedule
from outbox.models import Message, MessageStatus
from summaries.messages import SUMMARY_KIND, summary_key
from summaries.models import Summary, SummaryStatus
from summaries.services import summary_render
from topics.models import (
    Contribution,
    ContributionKind,
    Effort,
    FollowUp,
    FollowUpStatus,
    ITPerspective,
    LinkKind,
    MicroProject,
    MicroProjectChange,
    MicroProjectStatus,
    Solution,
    Topic,
    TopicLink,
    TopicStatus,
)

# The documented demo login of `make run` (README); never used in production.
DEMO_PASSWORD = "tvargrupp-demo"  # noqa: S105 # nosec B105
DOMAIN = "demo.tvargrupp.se"
ZONE = ZoneInfo("Europe/Stockholm")
PAST_CODE = "demoforra"
NEXT_CODE = "demonasta"

PEOPLE = [
    # (local part, full name, language)
    ("karin.aberg", "Karin Åberg", "sv"),
    ("lars.oberg", "Lars Öberg", "sv"),
    ("maria.lindqvist", "Maria Lindqvist", "sv"),
    ("johan.ek", "Johan Ek", "sv"),
    ("sara.nystrom", "Sara Nyström", "sv"),
    ("erik.berg", "Erik Berg", "en"),
    ("aisha.karimi", "Aisha Karimi", "sv"),
    ("omar.haddad", "Omar Haddad", "sv"),
    ("ivar.holm", "Ivar Holm", "sv"),
]

DEPARTMENTS = [
    # (name, short name, colour, head)
    ("HR", "HR", BoardColour.ORANGE, "maria.lindqvist"),
    ("Ekonomi", "EKO", BoardColour.BLUE, "johan.ek"),
    ("Marknad", "MARK", BoardColour.PURPLE, "sara.nystrom"),
    ("Sälj", "SÄLJ", BoardColour.GREEN, "erik.berg"),
    ("Kommunikation", "KOM", BoardColour.SKY, "aisha.karimi"),
    ("IT", "IT", BoardColour.GREY, "lars.oberg"),
]

PAST_TOPICS = [
    # (department, author, title, background, now, goal, obstacle, status)
    (
        "HR",
        "maria.lindqvist",
        "Bemanning av akuten kvällstid",
        "Akuten har mycket varierande antal besökare från kväll till kväll.",
        "Schemat läggs tre veckor i förväg. När det blir fullt hyr vi in "
        "sjuksköterskor samma dag, vilket är dyrt och stressigt för alla.",
        "Att redan dagen innan veta ungefär hur många som kommer, så att vi kan "
        "bemanna rätt utan akuta inhyrningar.",
        "Vi har ingen prognos, och vi vet inte vilka data som skulle kunna ge en.",
        TopicStatus.DISCUSSED,
    ),
    (
        "Kommunikation",
        "aisha.karimi",
        "Webbstatistiken används inte",
        "Webbteamet följer besöken på den publika hälsosajten i detalj.",
        "En månadsrapport skickas ut men ingen verkar läsa den.",
        "Att statistiken gör nytta i verksamheten, inte bara i webbteamet.",
        "Vi vet inte vem i organisationen som skulle ha nytta av den.",
        TopicStatus.DISCUSSED,
    ),
    (
        "Ekonomi",
        "johan.ek",
        "Fakturor fastnar i attestflödet",
        "Leverantörsfakturor ska attesteras av två personer.",
        "Fakturor blir liggande när en attestant är på semester; vi betalar dröjsmålsränta.",
        "Inga fakturor ska bli liggande mer än tre dagar.",
        "Ersättare läggs in för hand och ofta för sent.",
        TopicStatus.DISCUSSED,
    ),
    (
        "Sälj",
        "erik.berg",
        "Offerter görs om från noll",
        "Säljarna skriver offerter till liknande kunder varje vecka.",
        "Varje offert börjar från ett tomt dokument.",
        "Återanvända text och priser från tidigare offerter.",
        "Offerterna ligger utspridda i mejlkorgar.",
        TopicStatus.DISCUSSED,
    ),
    (
        "Marknad",
        "sara.nystrom",
        "Kampanjer krockar med andra utskick",
        "Marknad skickar nyhetsbrev och kampanjer till samma mottagare som andra avdelningar.",
        "Mottagarna får tre utskick samma vecka.",
        "En gemensam utskickskalender.",
        "Ingen vet vad de andra planerar.",
        TopicStatus.PARKED,
    ),
]

CONTRIBUTIONS = [
    # (topic title, author, department, kind, text)
    (
        "Bemanning av akuten kvällstid",
        "aisha.karimi",
        "Kommunikation",
        ContributionKind.IDEA,
        "Besöken på vår hälsosajt kvällen innan förutsäger de fysiska besöken på "
        "akuten nästa dag inom 5 %. Vi har data för tre år bakåt.",
    ),
    (
        "Bemanning av akuten kvällstid",
        "lars.oberg",
        "IT",
        ContributionKind.IDEA,
        "Vi kan bygga ett dagligt prognosmejl från webbstatistiken till bemanningsenheten.",
    ),
    (
        "Bemanning av akuten kvällstid",
        "johan.ek",
        "Ekonomi",
        ContributionKind.THOUGHT,
        "Inhyrd personal samma dag kostar ungefär 40 % mer. En prognos sparar mycket.",
    ),
    (
        "Fakturor fastnar i attestflödet",
        "lars.oberg",
        "IT",
        ContributionKind.IDEA,
        "Ekonomisystemet kan läsa frånvaro från HR-systemet och lägga in ersättare automatiskt.",
    ),
    (
        "Offerter görs om från noll",
        "sara.nystrom",
        "Marknad",
        ContributionKind.THOUGHT,
        "Marknad har en textbank för kampanjer som kan bli en början.",
    ),
]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def _first_tuesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7)


def _month_shift(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


class Command(BaseCommand):
    help = "Create demo data: a Swedish organisation with one Tvärgrupp. Safe to run twice."

    @transaction.atomic
    def handle(self, *args, **options):
        today = timezone.localdate()
        users = self._people()
        group, departments = self._group(users)
        past = self._meeting(group, PAST_CODE, _first_tuesday(*_month_shift(today, -1)))
        upcoming = self._meeting(group, NEXT_CODE, _first_tuesday(*_month_shift(today, 1)))
        self._past_meeting_content(past, users, departments)
        self._upcoming_meeting_content(upcoming, users, departments)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        self.stdout.write(
            f"Sign in at /accounts/login/ as karin.aberg@{DOMAIN} (moderator) or "
            f"maria.lindqvist@{DOMAIN} (head of HR), password: {DEMO_PASSWORD}\n"
            f"Admin: admin@{DOMAIN}, same password. Sign-in codes and other e-mail "
            "land in var/mail/."
        )

    def _people(self) -> dict[str, User]:
        users = {}
        for local, name, language in PEOPLE:
            users[local] = self._user(f"{local}@{DOMAIN}", name, language)
        admin = self._user(f"admin@{DOMAIN}", "Administratör", "sv")
        if not admin.is_superuser:
            admin.is_staff = admin.is_superuser = True
            admin.save(update_fields=["is_staff", "is_superuser"])
        return users

    def _user(self, email: str, name: str, language: str) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, password=DEMO_PASSWORD, full_name=name, language=language
            )
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def _group(self, users):
        group, _created = Group.objects.get_or_create(
            name="Tvärgrupp IT – Region Norrbacka",
            defaults={
                "description": "Avdelningscheferna träffas första tisdagen varje månad och "
                "delar sina utmaningar. IT modererar.",
                "time_zone": "Europe/Stockholm",
            },
        )
        Schedule.objects.get_or_create(
            group=group,
            defaults={
                "start_time": time(14),
                "duration_minutes": 60,
                "location": "Rum Ljuset, plan 3",
                "deadline_hours_before": 48,
            },
        )
        group.moderators.add(users["karin.aberg"])
        group.participants.add(users["omar.haddad"])
        group.it_members.add(users["ivar.holm"])
        departments = {}
        for position, (name, short, colour, head) in enumerate(DEPARTMENTS):
            department, _created = Department.objects.get_or_create(
                group=group,
                name=name,
                defaults={"short_name": short, "colour": colour, "position": position},
            )
            department.heads.add(users[head])
            departments[name] = department
        return group, departments

    def _meeting(self, group: Group, code: str, day: date) -> Meeting:
        meeting = Meeting.objects.filter(code=code).first()
        if meeting is None:
            starts = _at(day, 14)
            meeting = Meeting.objects.create(
                group=group,
                code=code,
                schedule_date=day,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                location="Rum Ljuset, plan 3",
                submission_deadline=starts - timedelta(days=2),
                status=MeetingStatus.SUMMARY_SENT if code == PAST_CODE else MeetingStatus.OPEN,
            )
        return meeting

    def _attendances(self, meeting, users, departments, answers, present=()):
        """Everyone invited, with the answers given (`answers`: person → status) and,
        for a held meeting, who was marked present."""
        invited = [(head, departments[name]) for name, _short, _colour, head in DEPARTMENTS]
        invited += [("omar.haddad", departments["Kommunikation"]), ("karin.aberg", None)]
        for person, department in invited:
            status = answers.get(person, AttendanceStatus.INVITED)
            Attendance.objects.get_or_create(
                meeting=meeting,
                user=users[person],
                defaults={
                    "department": department,
                    "status": status,
                    "responded_at": None
                    if status == AttendanceStatus.INVITED
                    else meeting.submission_deadline,
                    "response_version": 0 if status == AttendanceStatus.INVITED else 1,
                    "present": person in present,
                    "marked_at": meeting.starts_at if present else None,
                },
            )

    def _topic(self, meeting, departments, users, position, spec) -> Topic:
        department, author, title, background, now, goal, obstacle, status = spec
        topic, _created = Topic.objects.get_or_create(
            meeting=meeting,
            title=title,
            defaults={
                "department": departments[department],
                "author": users[author],
                "background": background,
                "current_state": now,
                "goal": goal,
                "obstacle": obstacle,
                "status": status,
                "position": position,
                "submitted_at": meeting.submission_deadline - timedelta(days=1),
            },
        )
        return topic

    def _past_meeting_content(self, meeting, users, departments):
        came = [p for p, _name, _language in PEOPLE if p != "erik.berg"]
        answers = {person: AttendanceStatus.ACCEPTED for person in came}
        answers["erik.berg"] = AttendanceStatus.DECLINED
        self._attendances(meeting, users, departments, answers, present=came)
        topics = {
            spec[2]: self._topic(meeting, departments, users, position, spec)
            for position, spec in enumerate(PAST_TOPICS)
        }
        for title, author, department, kind, text in CONTRIBUTIONS:
            Contribution.objects.get_or_create(
                topic=topics[title],
                text=text,
                defaults={
                    "author": users[author],
                    "department": departments[department],
                    "kind": kind,
                },
            )
        links = [
            ("Webbstatistiken används inte", "Bemanning av akuten kvällstid", LinkKind.HELPS_SOLVE),
            ("Kampanjer krockar med andra utskick", "Offerter görs om från noll", LinkKind.SIMILAR),
        ]
        for source, target, kind in links:
            TopicLink.objects.get_or_create(
                from_topic=topics[source],
                to_topic=topics[target],
                defaults={"kind": kind, "created_by": users["karin.aberg"]},
            )
        follow_ups = [
            (
                "Pilot: daglig akutprognos från webbtrafiken",
                "Bemanning av akuten kvällstid",
                "aisha.karimi",
                "Kommunikation",
                FollowUpStatus.OPEN,
                "",
            ),
            (
                "Ta fram kostnaden för inhyrd personal samma dag",
                "Bemanning av akuten kvällstid",
                "johan.ek",
                "Ekonomi",
                FollowUpStatus.DONE,
                "Ungefär 40 % dyrare än planerad bemanning, 2,1 mkr förra året.",
            ),
        ]
        due = (meeting.starts_at + timedelta(days=35)).date()
        for title, topic, owner, department, status, outcome in follow_ups:
            FollowUp.objects.get_or_create(
                meeting=meeting,
                title=title,
                defaults={
                    "topic": topics[topic],
                    "owner": users[owner],
                    "owner_department": departments[department],
                    "due_date": due,
                    "status": status,
                    "outcome": outcome,
                },
            )
        self._it_perspective(meeting, users, topics)
        self._strategy_goals(meeting.group, topics)
        sent_at = meeting.ends_at + timedelta(hours=3)
        summary, _created = Summary.objects.get_or_create(
            meeting=meeting,
            defaults={
                "intro": "Tack för ett givande möte! Den stora upptäckten: webbtrafiken "
                "kvällen innan förutsäger besöken på akuten nästa dag.",
                "status": SummaryStatus.SENT,
                "sent_at": sent_at,
            },
        )
        # A sent summary always has its PDF (made here once, like the worker would).
        summary_render(summary_id=summary.pk)
        # The summary went out through the outbox: one sent message per attendee.
        for attendance in meeting.attendances.select_related("user"):
            user = attendance.user
            Message.objects.get_or_create(
                key=summary_key(summary=summary, email=user.email),
                defaults={
                    "kind": SUMMARY_KIND,
                    "about": meeting,
                    "recipient": user,
                    "address": user.email,
                    "name": user.full_name,
                    "language": user.language,
                    "payload": {"summary": summary.pk},
                    "status": MessageStatus.SENT,
                    "attempts": 1,
                    "not_before": sent_at,
                    "sent_at": sent_at,
                },
            )

    def _strategy_goals(self, group, topics):
        """Two of the organisation's goals; the emergency ward's post-it serves both (and
        its micro-project with it, untagged), the web statistics the second."""
        processes, _created = StrategyGoal.objects.get_or_create(
            group=group,
            title="Enhetliga och standardiserade processer och verktyg",
            defaults={"position": 0},
        )
        data, _created = StrategyGoal.objects.get_or_create(
            group=group,
            title="Beslut som grundar sig på data",
            defaults={
                "position": 1,
                "description": "Vi använder de data vi redan har innan vi samlar in nya.",
            },
        )
        topics["Bemanning av akuten kvällstid"].goals.add(processes, data)
        topics["Webbstatistiken används inte"].goals.add(data)

    def _it_perspective(self, meeting, users, topics):
        """IT's reading of the past meeting, published, with one micro-project."""
        ITPerspective.objects.get_or_create(
            meeting=meeting,
            defaults={
                "introduction": "Två av utmaningarna kan mötas med data vi redan har.",
                "published_at": meeting.ends_at + timedelta(days=2),
                "published_by": users["karin.aberg"],
            },
        )
        topic = topics["Bemanning av akuten kvällstid"]
        solution, _created = Solution.objects.get_or_create(
            topic=topic,
            title="Prognos för akuten från webbtrafiken",
            defaults={
                "description": "Besöken på 1177-sidorna kvällen innan förutsäger besöken "
                "på akuten nästa dag inom 5 %. En daglig prognos skickas till bemanningen.",
                "systems": "Webbanalys, bemanningssystemet",
                "effort": Effort.M,
                "risks": "Datakvaliteten vid helger och storhelger.",
                "recommendation": "Pilot i tre månader på en akutmottagning.",
                "created_by": users["ivar.holm"],
            },
        )
        Solution.objects.get_or_create(
            topic=topic,
            title="Bemanningspool som delas mellan avdelningarna",
            defaults={"effort": Effort.L, "created_by": users["ivar.holm"]},
        )
        project, created = MicroProject.objects.get_or_create(
            solution=solution,
            defaults={
                "topic": topic,
                "title": "Pilot: daglig akutprognos",
                "owner": users["ivar.holm"],
                "status": MicroProjectStatus.APPROVED,
                "target_date": (meeting.starts_at + timedelta(days=90)).date(),
                "version": 2,
            },
        )
        if created:
            MicroProjectChange.objects.create(
                micro_project=project,
                by=users["karin.aberg"],
                by_name="Karin Åberg",
                changes=[{"field": "created"}],
            )
            MicroProjectChange.objects.create(
                micro_project=project,
                by=users["karin.aberg"],
                by_name="Karin Åberg",
                changes=[{"field": "status", "old": "proposed", "new": "approved"}],
            )

    def _upcoming_meeting_content(self, meeting, users, departments):
        answers = {
            "maria.lindqvist": AttendanceStatus.ACCEPTED,
            "aisha.karimi": AttendanceStatus.ACCEPTED,
            "johan.ek": AttendanceStatus.DECLINED,
        }
        self._attendances(meeting, users, departments, answers)
        spec = (
            "Sälj",
            "erik.berg",
            "Kunddata finns i tre system",
            "Säljare, kundtjänst och ekonomi har var sitt kundregister.",
            "Adresser och kontaktpersoner skiljer sig åt mellan systemen.",
            "En gemensam bild av varje kund.",
            "Ingen äger kunddata.",
            TopicStatus.SUBMITTED,
        )
        self._topic(meeting, departments, users, 0, spec)
