"""The demo world's crisis resources: each country's emergency number and its crisis lines.

Facts as checked in late 2026. They stay editable on the staff pages, and each deployment
confirms every number, its hours and its cost with its sites before go-live. Where a fact was
not confirmed (the hours of Poland's 116 123) the line says so instead of guessing.
"""

from __future__ import annotations

from rarebridge.demo.world import COUNTRIES

_EMERGENCY_TEXT = {
    "en": "Police, ambulance and fire brigade. Call if anyone is in immediate danger.",
    "de": "Polizei, Rettungsdienst und Feuerwehr. Rufen Sie an, wenn jemand in unmittelbarer Gefahr ist.",
    "pl": "Policja, pogotowie i straż pożarna. Prosimy dzwonić, jeśli ktoś jest w bezpośrednim niebezpieczeństwie.",
    "nl": "Politie, ambulance en brandweer. Bel als iemand in direct gevaar is.",
    "hu": "Rendőrség, mentők és tűzoltóság. Hívja, ha valaki közvetlen veszélyben van.",
    "fr": "Police, ambulance et pompiers. Appelez si quelqu'un est en danger immédiat.",
}

_TELEFONSEELSORGE = {
    "en": "Talk to someone, day and night, free and anonymous, in German. Also by e-mail and chat.",
    "de": "Gespräch rund um die Uhr, kostenfrei und anonym. Auch per E-Mail und Chat.",
    "pl": "Rozmowa w dzień i w nocy, bezpłatnie i anonimowo, po niemiecku. Także przez e-mail i czat.",
    "nl": "Praat dag en nacht met iemand, gratis en anoniem, in het Duits. Ook via e-mail en chat.",
    "hu": "Beszélgetés éjjel-nappal, ingyenesen és névtelenül, német nyelven. E-mailben és chaten is.",
    "fr": "Parler à quelqu'un, jour et nuit, gratuitement et anonymement, en allemand. Aussi par e-mail et chat.",
}

_TELEFONSEELSORGE_2 = {
    "en": "Second number of TelefonSeelsorge, the same service: use it if the first is busy.",
    "de": "Zweite Nummer der TelefonSeelsorge, derselbe Dienst: wählen Sie sie, wenn die erste besetzt ist.",
    "pl": "Drugi numer TelefonSeelsorge, ta sama usługa: zadzwoń, jeśli pierwszy jest zajęty.",
    "nl": "Tweede nummer van TelefonSeelsorge, dezelfde dienst: bel dit als het eerste bezet is.",
    "hu": "A TelefonSeelsorge második száma, ugyanaz a szolgálat: hívja ezt, ha az első foglalt.",
    "fr": "Deuxième numéro de TelefonSeelsorge, le même service : appelez-le si le premier est occupé.",
}

_988 = {
    "en": "Call or text 988, any time, in English or French.",
    "de": "Rufen Sie 988 an oder schreiben Sie eine SMS, jederzeit, auf Englisch oder Französisch.",
    "pl": "Zadzwoń lub napisz SMS pod 988, o każdej porze, po angielsku lub francusku.",
    "nl": "Bel of sms 988, op elk moment, in het Engels of Frans.",
    "hu": "Hívja a 988-at vagy írjon SMS-t, bármikor, angolul vagy franciául.",
    "fr": "Appelez ou textez le 988, à toute heure, en français ou en anglais.",
}

_1813 = {
    "en": "Dutch-language suicide prevention line, day and night. Also chat on zelfmoord1813.be.",
    "de": "Niederländischsprachige Suizidpräventionslinie, Tag und Nacht. Auch Chat auf zelfmoord1813.be.",
    "pl": "Niderlandzkojęzyczny telefon zapobiegania samobójstwom, w dzień i w nocy. Także czat na zelfmoord1813.be.",
    "nl": "Bel of chat via zelfmoord1813.be, dag en nacht.",
    "hu": "Holland nyelvű öngyilkosság-megelőzési vonal, éjjel-nappal. Chat is a zelfmoord1813.be oldalon.",
    "fr": "Ligne de prévention du suicide en néerlandais, jour et nuit. Aussi par chat sur zelfmoord1813.be.",
}

_CPS = {
    "en": "French-language suicide prevention line, day and night.",
    "de": "Französischsprachige Suizidpräventionslinie, Tag und Nacht.",
    "pl": "Francuskojęzyczny telefon zapobiegania samobójstwom, w dzień i w nocy.",
    "nl": "Franstalige lijn voor zelfmoordpreventie, dag en nacht.",
    "hu": "Francia nyelvű öngyilkosság-megelőzési vonal, éjjel-nappal.",
    "fr": "Ligne d'écoute de prévention du suicide en français, jour et nuit.",
}

_BE_ENGLISH = {
    "en": "English-language listening line.",
    "de": "Englischsprachiges Zuhörtelefon.",
    "pl": "Telefon zaufania w języku angielskim.",
    "nl": "Engelstalige luisterlijn.",
    "hu": "Angol nyelvű lelkisegély-vonal.",
    "fr": "Ligne d'écoute en anglais.",
}

_BE_ENGLISH_HOURS = {
    "en": "Not around the clock: check the times on the service's website before you rely on it.",
    "de": "Nicht rund um die Uhr: Prüfen Sie die Zeiten auf der Website des Dienstes, bevor Sie sich darauf verlassen.",
    "pl": "Nie całą dobę: zanim na nim polegasz, sprawdź godziny na stronie tej usługi.",
    "nl": "Niet dag en nacht: controleer de tijden op de website van de dienst voordat u erop rekent.",
    "hu": "Nem éjjel-nappal: mielőtt számítana rá, nézze meg az időpontokat a szolgálat honlapján.",
    "fr": "Pas 24 h sur 24 : vérifiez les horaires sur le site du service avant de compter dessus.",
}

_PL_116123 = {
    "en": "Helpline for adults in emotional crisis, in Polish.",
    "de": "Telefon für Erwachsene in einer emotionalen Krise, auf Polnisch.",
    "pl": "Telefon dla dorosłych w kryzysie emocjonalnym.",
    "nl": "Hulplijn voor volwassenen in een emotionele crisis, in het Pools.",
    "hu": "Segélyvonal érzelmi válságban lévő felnőtteknek, lengyel nyelven.",
    "fr": "Ligne d'aide pour les adultes en crise émotionnelle, en polonais.",
}

_CENTRUM_WSPARCIA = {
    "en": "Centrum Wsparcia: psychologists around the clock, in Polish; also chat and e-mail.",
    "de": "Centrum Wsparcia: Psycholog:innen rund um die Uhr, auf Polnisch; auch Chat und E-Mail.",
    "pl": "Psycholodzy całą dobę; także czat i e-mail.",
    "nl": "Centrum Wsparcia: psychologen dag en nacht, in het Pools; ook chat en e-mail.",
    "hu": "Centrum Wsparcia: pszichológusok éjjel-nappal, lengyel nyelven; chat és e-mail is.",
    "fr": "Centrum Wsparcia : des psychologues jour et nuit, en polonais ; aussi par chat et e-mail.",
}

_LELKI = {
    "en": "Emotional first aid, day and night, in Hungarian.",
    "de": "Seelische Erste Hilfe, Tag und Nacht, auf Ungarisch.",
    "pl": "Pierwsza pomoc emocjonalna, w dzień i w nocy, po węgiersku.",
    "nl": "Emotionele eerste hulp, dag en nacht, in het Hongaars.",
    "hu": "Lelki elsősegély-telefon, éjjel-nappal.",
    "fr": "Premiers secours émotionnels, jour et nuit, en hongrois.",
}

_ALWAYS_FREE = {"hours": "always", "cost": "free"}

CRISIS_RESOURCES = [
    {
        "country": "DE",
        "name": "TelefonSeelsorge",
        "phone": "0800 111 0 111",
        "website": "https://www.telefonseelsorge.de",
        "languages": ["de"],
        "descriptions": _TELEFONSEELSORGE,
        "position": 1,
        **_ALWAYS_FREE,
    },
    {
        "country": "DE",
        "name": "TelefonSeelsorge",
        "phone": "0800 111 0 222",
        "website": "https://www.telefonseelsorge.de",
        "languages": ["de"],
        "descriptions": _TELEFONSEELSORGE_2,
        "position": 2,
        **_ALWAYS_FREE,
    },
    {
        "country": "CA",
        "name": "988 Suicide Crisis Helpline",
        "phone": "988",
        "text_number": "988",
        "website": "https://988.ca",
        "languages": ["en", "fr"],
        "descriptions": _988,
        "position": 1,
        **_ALWAYS_FREE,
    },
    {
        "country": "BE",
        "name": "Zelfmoordlijn 1813",
        "phone": "1813",
        "website": "https://www.zelfmoord1813.be",
        "languages": ["nl"],
        "descriptions": _1813,
        "position": 1,
        **_ALWAYS_FREE,
    },
    {
        "country": "BE",
        "name": "Centre de Prévention du Suicide",
        "phone": "0800 32 123",
        "languages": ["fr"],
        "descriptions": _CPS,
        "position": 2,
        **_ALWAYS_FREE,
    },
    {
        "country": "BE",
        "name": "English-speaking helpline",
        "phone": "02 648 40 14",
        "languages": ["en"],
        "descriptions": _BE_ENGLISH,
        "hours": "limited",
        "hours_texts": _BE_ENGLISH_HOURS,
        "cost": "standard",
        "position": 3,
    },
    {
        "country": "PL",
        "name": "Telefon zaufania dla dorosłych",
        "phone": "116 123",
        "languages": ["pl"],
        "descriptions": _PL_116123,
        # Free; the hours were not confirmed: the page says so rather than promising 24/7.
        "hours": "unknown",
        "cost": "free",
        "position": 1,
    },
    {
        "country": "PL",
        "name": "Centrum Wsparcia",
        "phone": "800 70 2222",
        "languages": ["pl"],
        "descriptions": _CENTRUM_WSPARCIA,
        "position": 2,
        **_ALWAYS_FREE,
    },
    {
        "country": "HU",
        "name": "Lelki Elsősegély",
        "phone": "116 123",
        "website": "https://sos116123.hu",
        "languages": ["hu"],
        "descriptions": _LELKI,
        "position": 1,
        **_ALWAYS_FREE,
    },
]


def emergency_resource(code: str) -> dict:
    """The emergency number of a country: its heading is translated on every page."""
    return {
        "country": code,
        "kind": "emergency",
        "name": f"Emergency {COUNTRIES[code]['emergency']}",
        "phone": COUNTRIES[code]["emergency"],
        "descriptions": _EMERGENCY_TEXT,
        "position": 0,
        **_ALWAYS_FREE,
    }
