"""A small Swedish evaluation set for the radar, written for the purpose.

CORPUS holds post-its of a fictional region's departments over several meetings.
Each case is a post-it being written (as a head would type it) with the corpus
post-its that should come up (`relevant`) and ones that share a surface word
or two but are about something else (`unrelated`). Precision at 5 is
measured by `tests/insights/test_similarity.py` and reported in
docs/performance.md.
"""

# key: (department, title, background, now, goal, obstacle)
CORPUS = {
    "akut_kvall": (
        "HR",
        "Bemanning av akuten kvällstid",
        "Akuten har mycket varierande antal besökare från kväll till kväll.",
        "Schemat läggs tre veckor i förväg och vi hyr in sjuksköterskor samma dag.",
        "Att veta dagen innan hur många patienter som kommer.",
        "Vi har ingen prognos över besöken.",
    ),
    "webbstatistik": (
        "Kommunikation",
        "Webbstatistiken används inte",
        "Webbteamet följer besöken på den publika hälsosajten.",
        "En månadsrapport skickas men ingen läser den.",
        "Att statistiken gör nytta i verksamheten.",
        "Vi vet inte vem som har nytta av besöksdata.",
    ),
    "bemanningsproblem_sommar": (
        "HR",
        "Bemanningsproblem under sommaren",
        "Semestrar gör att avdelningarna står utan vikarier i juli.",
        "Vi ringer runt till timanställda varje morgon.",
        "En pool av vikarier som bokas i god tid.",
        "Bemanningen planeras avdelning för avdelning utan överblick.",
    ),
    "fakturor_attest": (
        "Ekonomi",
        "Fakturor fastnar i attestflödet",
        "Leverantörsfakturor ska attesteras av två personer.",
        "Fakturor blir liggande under semestrar och vi betalar dröjsmålsränta.",
        "Inga fakturor ligger mer än tre dagar.",
        "Ersättare för attestanter läggs in för hand och ofta för sent.",
    ),
    "attest_ersattare": (
        "Ekonomi",
        "Ersättare i attestordningen saknas",
        "Attestordningen uppdateras en gång per år.",
        "När chefer slutar blir attesterna hängande.",
        "Attestordningen ska följa organisationen automatiskt.",
        "Ingen koppling mellan HR-systemet och ekonomisystemet.",
    ),
    "offerter": (
        "Sälj",
        "Offerter görs om från noll",
        "Säljarna skriver offerter till liknande kunder varje vecka.",
        "Varje offert börjar från ett tomt dokument.",
        "Återanvända texter och priser från tidigare offerter.",
        "Offerterna ligger utspridda i mejlkorgar.",
    ),
    "kampanjer": (
        "Marknad",
        "Kampanjer krockar med andra utskick",
        "Marknad skickar nyhetsbrev till samma mottagare som andra avdelningar.",
        "Mottagarna får tre utskick samma vecka.",
        "En gemensam utskickskalender för hela organisationen.",
        "Ingen vet vad de andra planerar att skicka.",
    ),
    "utskick_kalender": (
        "Kommunikation",
        "Ingen överblick över utskicken",
        "Kommunikation, marknad och HR mejlar alla medarbetare.",
        "Samma vecka kan tio utskick gå till alla.",
        "En kalender där alla utskick syns.",
        "Varje avdelning har sitt eget verktyg för nyhetsbrev.",
    ),
    "kunddata": (
        "Sälj",
        "Kunddata finns i tre system",
        "Säljare, kundtjänst och ekonomi har var sitt kundregister.",
        "Adresser och kontaktpersoner skiljer sig åt.",
        "En gemensam bild av varje kund.",
        "Ingen äger kunddata.",
    ),
    "kundregister_dubbletter": (
        "Ekonomi",
        "Dubbletter i kundregistret",
        "Fakturor skickas till gamla adresser.",
        "Samma kund finns flera gånger med olika kundnummer.",
        "Ett kundregister utan dubbletter.",
        "Kundregistret uppdateras från tre olika system.",
    ),
    "rekrytering": (
        "HR",
        "Rekryteringen tar för lång tid",
        "Det tar fyra månader att anställa en sjuksköterska.",
        "Ansökningar hanteras i mejl och kalkylblad.",
        "Att erbjuda anställning inom fyra veckor.",
        "Chefer hinner inte läsa ansökningarna.",
    ),
    "introduktion": (
        "HR",
        "Nyanställda saknar datorer första dagen",
        "Nya medarbetare börjar utan konto och dator.",
        "Beställningen till IT görs först när personen har börjat.",
        "Allt klart första dagen.",
        "HR-systemet säger inte till IT när någon anställs.",
    ),
    "konton_behorighet": (
        "IT",
        "Behörigheter dröjer för nya medarbetare",
        "Konton och behörigheter beställs på blanketter.",
        "Det tar två veckor innan en nyanställd kommer åt sina system.",
        "Konton skapas automatiskt när anställningen registreras.",
        "Ingen koppling från HR-systemet till behörighetssystemet.",
    ),
    "lokaler": (
        "Ekonomi",
        "Mötesrum står tomma",
        "Vi hyr fler mötesrum än vi använder.",
        "Rummen bokas men ingen kommer.",
        "Betala bara för lokaler som används.",
        "Vi vet inte hur rummen faktiskt används.",
    ),
    "sjukfranvaro": (
        "HR",
        "Sjukfrånvaron ökar på vårdavdelningarna",
        "Korttidsfrånvaron har ökat två år i rad.",
        "Frånvaro rapporteras i tre olika system.",
        "Tidiga signaler innan någon blir långtidssjuk.",
        "Vi ser frånvaron först i lönekörningen.",
    ),
    "lonefel": (
        "Ekonomi",
        "Fel i lönekörningen varje månad",
        "Tillägg för kvällar och helger räknas för hand.",
        "Lönefel rättas i efterhand.",
        "Rätt lön första gången.",
        "Schemat och lönesystemet pratar inte med varandra.",
    ),
    "webbplats_tillganglighet": (
        "Kommunikation",
        "Webbplatsen klarar inte tillgänglighetskraven",
        "Lagen om tillgänglighet gäller våra webbplatser.",
        "Många pdf-filer går inte att läsa med skärmläsare.",
        "Allt vi publicerar ska gå att läsa för alla.",
        "Redaktörerna vet inte hur man gör tillgängliga dokument.",
    ),
    "crm_lead": (
        "Marknad",
        "Leads från mässor försvinner",
        "Vi samlar kontakter på mässor på papper.",
        "Listorna når säljarna veckor senare.",
        "Säljarna ska få nya kontakter samma dag.",
        "Det finns inget gemensamt system för kontakter.",
    ),
}

# (the post-it being written as (title, obstacle, goal, now, background),
#  keys that should come up, keys that should not)
CASES = [
    (
        ("Bemanningen på akuten kvällstid", "", "", "", ""),
        ["akut_kvall", "bemanningsproblem_sommar"],
        ["lokaler", "crm_lead"],
    ),
    (
        (
            "Vi vet inte hur många patienter som kommer",
            "Ingen prognos",
            "Planera personalen efter besöken",
            "",
            "",
        ),
        ["akut_kvall", "webbstatistik"],
        ["kampanjer", "offerter"],
    ),
    (
        ("Fakturor blir liggande när attestanten är borta", "Ersättare saknas", "", "", ""),
        ["fakturor_attest", "attest_ersattare"],
        ["rekrytering", "webbplats_tillganglighet"],
    ),
    (
        (
            "För många utskick till samma mottagare",
            "Ingen gemensam kalender för nyhetsbrev",
            "",
            "",
            "",
        ),
        ["kampanjer", "utskick_kalender"],
        ["akut_kvall", "lonefel"],
    ),
    (
        ("Kundregistret har dubbletter", "Kunddata i flera system", "", "", ""),
        ["kunddata", "kundregister_dubbletter"],
        ["sjukfranvaro", "introduktion"],
    ),
    (
        ("Nya medarbetare saknar konton", "HR-systemet är inte kopplat till IT", "", "", ""),
        ["introduktion", "konton_behorighet"],
        ["kampanjer", "offerter"],
    ),
    (
        ("Bemanningsproblem på vårdavdelningarna", "", "", "", ""),
        ["bemanningsproblem_sommar", "akut_kvall", "sjukfranvaro"],
        ["crm_lead", "fakturor_attest"],
    ),
    (
        ("Tillägg för kvällar blir fel på lönen", "Schemat och lönen hänger inte ihop", "", "", ""),
        ["lonefel"],
        ["webbplats_tillganglighet", "kunddata"],
    ),
    (
        ("Kontakter från mässan når inte säljarna", "", "", "", ""),
        ["crm_lead"],
        ["akut_kvall", "lokaler"],
    ),
    (
        (
            "Offerterna skrivs från början varje gång",
            "Gamla offerter går inte att hitta",
            "",
            "",
            "",
        ),
        ["offerter"],
        ["rekrytering", "sjukfranvaro"],
    ),
]
