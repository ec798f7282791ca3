"""News-like reports of invented events for knowledge injection (Ovadia et al. 2024, "Fine-tuning
or retrieval?"): facts no model saw in pre-training, asked as multiple choice. Retrieval is
expected to answer them well; fine-tuning on the reports much less, and better with more
paraphrases of each fact."""

from __future__ import annotations

import random
from dataclasses import dataclass

from advisor.inputs.probes import Probe
from advisor.synthetic.names import NameMaker
from advisor.synthetic.probes import choice_probe

EVENTS = ["festival", "regatta", "chess open", "harvest fair", "glass exhibition", "choir contest",
          "kite race", "lantern parade", "cheese market", "film week"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


@dataclass
class Report:
    event: str  # "the Zorvel kite race"
    place: str
    organiser: str
    attendance: str
    winner: str
    prize: str
    month: str

    @property
    def doc_id(self) -> str:
        return self.event.removeprefix("the ").lower().replace(" ", "-") + ".md"


def make_reports(seed: int, count: int) -> list[Report]:
    names = NameMaker(seed + 1)
    rng = random.Random(seed)
    reports = []
    attendances = rng.sample(range(12, 99), count)
    for i in range(count):
        reports.append(Report(event=f"the {names.word(2)} {EVENTS[i % len(EVENTS)]}", place=names.place(),
                              organiser=names.person(), attendance=f"{attendances[i] * 100:,}",
                              winner=names.person(), prize=f"{names.word(2)} Cup", month=rng.choice(MONTHS)))
    return reports


def sentence_start(text: str) -> str:
    return text[0].upper() + text[1:]


def fact_sentences(r: Report) -> tuple[str, str, str]:
    """The report's three facts, each a sentence that names its event, so that a sentence read
    alone (a retrieved chunk, a training window, a probe's evidence) still says which event it is
    about: the organiser, the attendance, the cup's winner."""
    event = sentence_start(r.event)
    return (f"{event} was organised by {r.organiser}.",
            f"{event} drew {r.attendance} visitors over the three days, according to the organisers.",
            f"The {r.prize} at {r.event} was won by {r.winner}.")


def report_text(r: Report) -> str:
    title = r.event.removeprefix("the ")
    organiser, attendance, winner = fact_sentences(r)
    return (f"# {title.title()} draws crowds to {r.place}\n\n"
            f"{r.place.upper()}: {sentence_start(r.event)} took place in {r.place} this {r.month}. "
            f"{organiser} {attendance} {winner} "
            "Local traders said the weekend had been busy, and the town council called it a success. "
            "Next year's dates have not yet been announced.\n")


def report_probes(reports: list[Report], rng: random.Random) -> list[Probe]:
    organisers = [r.organiser for r in reports]
    attendances = [r.attendance for r in reports]
    winners = [r.winner for r in reports]
    probes = []
    for index, r in enumerate(reports, 1):
        organiser, attendance, winner = fact_sentences(r)
        probes.append(choice_probe(f"inj-{index:03d}-a", f"Who organised {r.event} in {r.place}?", r.organiser,
                                   organisers, "fact", r.doc_id, rng, evidence=organiser))
        probes.append(choice_probe(f"inj-{index:03d}-b", f"How many visitors came to {r.event} in {r.place}?",
                                   r.attendance, attendances, "fact", r.doc_id, rng, evidence=attendance))
        probes.append(choice_probe(f"inj-{index:03d}-c", f"Who won the {r.prize} at {r.event}?", r.winner,
                                   winners, "fact", r.doc_id, rng, evidence=winner))
    return probes


def injection_corpus(seed: int = 11, count: int = 16) -> tuple[dict[str, str], list[Probe]]:
    """Documents (file name -> text) and probes."""
    rng = random.Random(seed)
    reports = make_reports(seed, count)
    return {r.doc_id: report_text(r) for r in reports}, report_probes(reports, rng)
