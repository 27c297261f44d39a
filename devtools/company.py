"""The demo company of `generate_bulk`: its organisations, how each trains, and its people's names."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from lms.accounts.models import OrganisationKind

HISTORY_DAYS = 540               # the programmes were rolled out about 18 months ago


@dataclass(frozen=True)
class OrgPlan:
    """One organisation of the demo company and how its agents are trained."""

    name: str
    kind: OrganisationKind
    country: str
    contract: str
    contact: str
    domain: str
    weight: int                    # share of the agents, in percent
    joined_days_ago: int           # when it started working for the client (programmes assigned then)
    utc_offset: float              # local office hours -> UTC
    programmes: tuple[str, ...]    # programme slugs assigned to the whole organisation


ORG_PLANS = [
    OrgPlan("Northwind Utilities", OrganisationKind.CLIENT, "IE", "", "privacy@northwind.example",
            "northwind.example", 16, HISTORY_DAYS, 0, ("agent-certification", "recording-and-payments")),
    OrgPlan("Lisboa Contact Services", OrganisationKind.PARTNER, "PT", "DPA-2025-014", "compliance@lisboacs.example",
            "lisboacs.example", 15, HISTORY_DAYS, 0,
            ("agent-certification", "partner-onboarding", "recording-and-payments")),
    OrgPlan("Atlas Customer Care", OrganisationKind.PARTNER, "MA", "DPA-2025-022 (SCC module 2)",
            "dpo@atlascare.example", "atlascare.example", 13, HISTORY_DAYS, 1,
            ("agent-certification", "partner-onboarding", "recording-and-payments")),
    OrgPlan("Manila Bay Contact Solutions Inc.", OrganisationKind.PARTNER, "PH", "DPA-2025-031 (SCC module 2)",
            "dpo@manilabaycs.example", "manilabaycs.example", 14, 500, 8,
            ("agent-certification", "partner-onboarding", "recording-and-payments")),
    OrgPlan("Deccan CX Services Pvt Ltd", OrganisationKind.PARTNER, "IN", "DPA-2025-037 (SCC module 2)",
            "grievance.officer@deccancx.example", "deccancx.example", 12, 470, 5.5,
            ("agent-certification", "partner-onboarding")),
    OrgPlan("Cape Coast Contact Centre (Pty) Ltd", OrganisationKind.PARTNER, "ZA", "DPA-2025-041 (SCC module 2)",
            "information.officer@capecoastcc.example", "capecoastcc.example", 7, 420, 2,
            ("agent-certification", "partner-onboarding", "recording-and-payments")),
    OrgPlan("Wisła Customer Care sp. z o.o.", OrganisationKind.PARTNER, "PL", "DPA-2025-044",
            "iod@wislacare.example", "wislacare.example", 6, 390, 1,
            ("agent-certification", "partner-onboarding")),
    OrgPlan("Carpathia Call Centre SRL", OrganisationKind.PARTNER, "RO", "DPA-2025-048",
            "dpo@carpathiacc.example", "carpathiacc.example", 5, 330, 2,
            ("agent-certification", "partner-onboarding", "recording-and-payments")),
    OrgPlan("Nile Delta Customer Care", OrganisationKind.PARTNER, "EG", "DPA-2026-003 (SCC module 2)",
            "privacy@niledeltacc.example", "niledeltacc.example", 6, 300, 2,
            ("agent-certification", "partner-onboarding")),
    OrgPlan("Andes Nearshore Contact S.A.S.", OrganisationKind.PARTNER, "CO", "DPA-2026-009 (SCC module 2)",
            "datos.personales@andesnearshore.example", "andesnearshore.example", 6, 210, -5,
            ("agent-certification", "partner-onboarding")),
]

DUE_DAYS = {"agent-certification": 30, "partner-onboarding": 45, "recording-and-payments": 30}
DEFAULT_DUE_DAYS = 30

# First and last names per country; two surnames are common where the flag says so.
NAMES: dict[str, tuple[list[str], list[str], float]] = {
    "IE": ("Aoife Ciarán Siobhán Darragh Niamh Cian Róisín Eoin Saoirse Conor Gráinne Oisín Emma Patrick Sinéad "
           "Liam Orla Shane Clodagh Fionn".split(),
           "Murphy Kelly O'Sullivan Walsh Byrne Ryan O'Brien Doyle McCarthy Gallagher O'Connor Kennedy Lynch "
           "Quinn Fitzgerald Nolan Brennan Daly Kavanagh Farrell".split(), 0.0),
    "PT": ("Inês João Beatriz Tiago Mariana Rui Catarina Miguel Sofia Diogo Ana Pedro Leonor Gonçalo Marta "
           "Francisco Joana Bruno Carolina Nuno".split(),
           "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Sousa Fernandes Gonçalves Gomes "
           "Lopes Marques Carvalho Almeida Ribeiro Pinto Teixeira Moreira".split(), 0.5),
    "MA": ("Yassine Salma Khadija Youssef Imane Hamza Meryem Othmane Zineb Anas Soukaina Mehdi Fatima-Zahra "
           "Ayoub Hajar Reda Nadia Karim Ghita Amine".split(),
           "Alaoui Benjelloun El Amrani Bennani Tazi Berrada Chraibi El Idrissi Lahlou Ouazzani El Fassi Bouzidi "
           "Zeroual Naciri El Mansouri Kettani Sqalli Benkirane Tahiri Filali".split(), 0.0),
    "PH": ("Maria Jose Angelica Mark Kristine John Paul Jericho Patricia Ramon Joy Carlo Mae Rhea Jerome Lovely "
           "Christian Jasmine Marvin Princess Rodel".split(),
           "Santos Reyes Cruz Bautista Ocampo Garcia Mendoza Dela Cruz Villanueva Aquino Ramos Castillo Navarro "
           "Manalo Pascual Soriano Tolentino Gonzales Domingo Flores".split(), 0.0),
    "IN": ("Priya Rahul Ananya Arjun Sneha Vikram Pooja Rohan Kavya Aditya Neha Siddharth Divya Karan "
           "Aishwarya Nikhil Shreya Amit Meera Varun".split(),
           "Sharma Patil Deshpande Kulkarni Iyer Nair Reddy Joshi Gupta Menon Pawar Jadhav Rao Shinde Mehta "
           "Singh Bhosale Gaikwad Chavan Verma".split(), 0.0),
    "ZA": ("Thabo Lerato Sipho Naledi Johan Ayanda Zanele Pieter Nomvula Kagiso Charlene Mandla Busisiwe Riaan "
           "Palesa Lwazi Thandeka Willem Precious Tshepo".split(),
           "Nkosi Dlamini Van der Merwe Mokoena Botha Khumalo Naidoo Ndlovu Pillay Mthembu Jacobs Adams Le Roux "
           "Mahlangu Petersen Zulu Molefe Fourie Govender Sithole".split(), 0.0),
    "PL": ("Anna Piotr Katarzyna Tomasz Magdalena Łukasz Agnieszka Michał Joanna Paweł Małgorzata Krzysztof "
           "Zofia Jakub Ewa Mateusz Aleksandra Bartosz Natalia Wojciech".split(),
           "Nowak Wójcik Kowalczyk Woźniak Mazur Krawczyk Kaczmarek Zając Król Wieczorek Wróbel Dudek Pawlak "
           "Walczak Sikora Baran Szymczak Michalak Górecki Nowicki".split(), 0.0),
    "RO": ("Andrei Elena Mihai Ioana Alexandru Maria Ștefan Andreea Gabriel Cristina Vlad Raluca Bogdan Irina "
           "Radu Diana Adrian Oana Cosmin Larisa".split(),
           "Popescu Ionescu Popa Dumitru Stan Stoica Gheorghe Matei Ciobanu Rusu Munteanu Constantin Mihăilescu "
           "Lungu Moldovan Pop Marinescu Toma Barbu Nistor".split(), 0.0),
    "EG": ("Ahmed Mohamed Mariam Nour Omar Youssef Salma Hana Mostafa Aya Karim Rana Mahmoud Dina Tarek Yasmin "
           "Heba Amr Nada Khaled".split(),
           "Hassan Abdelrahman El-Sayed Mahmoud Ibrahim Mostafa Farouk Soliman Abdallah Gamal Shaker Fahmy "
           "Naguib Zaki Kamel Hegazy Ramadan Saleh Fawzy Radwan".split(), 0.0),
    "CO": ("Valentina Santiago Daniela Sebastián Camila Andrés Laura Juan David Mariana Julián Natalia Felipe "
           "Paula Alejandro Catalina Mateo Sara Nicolás Manuela Esteban".split(),
           "Rodríguez Gómez González Martínez García López Hernández Sánchez Ramírez Torres Díaz Vargas Moreno "
           "Rojas Castro Ospina Restrepo Cárdenas Muñoz Jaramillo".split(), 0.6),
}
# Multi-word names above were split on spaces; put them back together.
_JOINED = {"IE": [], "PT": [], "MA": ["El Amrani", "El Idrissi", "El Fassi", "El Mansouri"],
           "PH": ["John Paul", "Dela Cruz"], "ZA": ["Van der Merwe", "Le Roux"], "CO": ["Juan David"]}


def _rejoin(words: list[str], phrases: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(words):
        for phrase in phrases:
            parts = phrase.split()
            if words[i:i + len(parts)] == parts:
                out.append(phrase)
                i += len(parts)
                break
        else:
            out.append(words[i])
            i += 1
    return out


NAMES = {country: (_rejoin(first, _JOINED.get(country, [])), _rejoin(last, _JOINED.get(country, [])), double)
         for country, (first, last, double) in NAMES.items()}

REVOKE_REASONS = [
    "Read a caller's full card number back on a recorded line; retraining required before recertifying.",
    "Certificate issued on a shared workstation login: identity of the trainee not established.",
    "Disclosed account details to a third party without verification (incident INC-{n}).",
    "Quiz answers shared in a team chat; the attempt cannot stand.",
    "Copied customer data to a personal phone against the outage procedure (incident INC-{n}).",
]

_ASCII = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "đ": "d", "ß": "ss", "'": "", " ": ""})


def email_part(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.translate(_ASCII))
    return "".join(c for c in folded if not unicodedata.combining(c)).lower()


