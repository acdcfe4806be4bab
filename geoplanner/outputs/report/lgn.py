"""A page per local network (LGN) for its coordinator, and the index of the 8: plain inputs in, HTML text out.

An LGN page (template ``templates/lgn.html.j2``) holds a map zoomed to the network (embedded, see
:func:`geoplanner.outputs.maps.render_parts`), the network's figures per scenario — the very numbers of
``compare/comparison_lgn.csv`` —, its priority wijken, whom each scenario still misses and why (too far, or the
sessions within reach are full), the sessions of the mobile teams and the new sites that fall in it, and what is
estimated or incomplete, in plain words. It prints to A4 like the report. :func:`render_lgn_index` lists the 8.
:mod:`geoplanner.pipeline.lgn` gathers the inputs and writes the pages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geoplanner.core import settings
from geoplanner.core.i18n import DEFAULT_LANG, LABELS, check_lang, fmt_num, label, value_label
from geoplanner.outputs.report.render import template_environment
from geoplanner.outputs.report.tables import format_cell

__all__ = ["LgnPage", "MissedTable", "FIGURE_COLUMNS", "render_lgn_page", "render_lgn_index"]

#: The figures of an LGN per scenario, in the order of the page's table (columns of ``comparison_lgn.csv``).
FIGURE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("children", "count"),
    ("children_within_threshold", "count"),
    ("share_within_threshold", "share"),
    ("consultations_demand", "count"),
    ("consultations_served", "count"),
    ("share_consultations_served", "share"),
    ("children_served", "count"),
    ("sessions_per_week", "count"),
)

# The page's own words (nl, fr, en), kept next to the function that uses them (as the report's summary does).
_TEXT: dict[str, tuple[str, str, str]] = {
    "index_title": (
        "Lokale netwerken gezinsondersteuning (LGN): een pagina per netwerk",
        "Réseaux locaux de soutien aux familles (LGN) : une page par réseau",
        "Local family-support networks (LGN): a page per network",
    ),
    "index_intro": (
        "Elk van de 8 lokale netwerken van het Huis van het Kind heeft een eigen pagina: een kaart ingezoomd op "
        "het netwerk, de cijfers per scenario, de prioritaire wijken, wie we nog missen en waarom, de sessies van "
        "de mobiele teams in het netwerk en wat geschat of onvolledig is. Elke pagina print op A4.",
        "Chacun des 8 réseaux locaux du Huis van het Kind a sa page : une carte centrée sur le réseau, ses chiffres "
        "par scénario, les quartiers prioritaires, qui manque encore et pourquoi, les séances des équipes mobiles "
        "dans le réseau et ce qui est estimé ou incomplet. Chaque page s'imprime en A4.",
        "Each of the 8 local networks of the Huis van het Kind has a page of its own: a map zoomed to the network, "
        "its figures per scenario, its priority districts, whom we still miss and why, the mobile teams' sessions "
        "in the network and what is estimated or incomplete. Each page prints on A4.",
    ),
    "communes": ("Gemeenten", "Communes", "Municipalities"),
    "page": ("Pagina", "Page", "Page"),
    "all_lgn": ("Alle LGN's", "Tous les LGN", "All LGNs"),
    "report": ("Rapport voor heel Brussel", "Rapport pour toute la Région", "Report for the whole region"),
    "region_map": (
        "Kaart van heel Brussel, op dit LGN",
        "Carte de toute la Région, sur ce LGN",
        "Map of the whole region, on this LGN",
    ),  # fmt: skip
    "lead": (
        "In dit netwerk wonen ongeveer {children} kinderen van 0 tot 2 jaar en zijn er ongeveer {births} geboorten "
        "per jaar (afgeleid, geen telling). {priority}",
        "Ce réseau compte environ {children} enfants de 0 à 2 ans et environ {births} naissances par an (dérivé, "
        "pas compté). {priority}",
        "About {children} children aged 0–2 live in this network and there are about {births} births a year "
        "(derived, not counted). {priority}",
    ),
    "lead_priority": (
        "{n} van de 21 prioritaire wijken liggen (deels) in dit netwerk.",
        "{n} des 21 quartiers prioritaires sont (en partie) dans ce réseau.",
        "{n} of the 21 priority districts lie (partly) in this network.",
    ),
    "lead_no_priority": (
        "Geen van de prioritaire wijken ligt in dit netwerk.",
        "Aucun quartier prioritaire n'est dans ce réseau.",
        "None of the priority districts lies in this network.",
    ),
    "map_title": ("Kaart", "Carte", "Map"),
    "map_note": (
        "Aan: wandeltijd naar de dichtste bekende dienst en de kinderen die verder wonen dan de drempel; in de "
        "lagenlijst (rechtsboven) ook geboorten, kansarmoede, isochronen en de locaties van elk scenario.",
        "Affichés : temps de marche vers le service connu le plus proche et les enfants au-delà du seuil ; dans la "
        "liste des couches (en haut à droite) aussi naissances, précarité, isochrones et les lieux de chaque scénario.",
        "On: walking time to the nearest known service and the children beyond the threshold; in the layer list "
        "(top right) also births, deprivation, isochrones and each scenario's sites.",
    ),
    "figures_title": ("Cijfers per scenario", "Chiffres par scénario", "Figures per scenario"),
    "figures_note": (
        "Dezelfde cijfers als compare/comparison_lgn.csv en het blad 'Vergelijking per LGN' van de werkmap. "
        "Kinderen en consultaties zijn afgeleid uit aannames (zie het rapport); binnen bereik: binnen {t} minuten "
        "wandelen van een open locatie.",
        "Les mêmes chiffres que compare/comparison_lgn.csv et la feuille « Comparaison par LGN » du classeur. "
        "Enfants et consultations sont dérivés d'hypothèses (voir le rapport) ; à portée : à moins de {t} minutes "
        "à pied d'un lieu ouvert.",
        "The same figures as compare/comparison_lgn.csv and the workbook's sheet 'Comparison per LGN'. Children "
        "and consultations are derived from assumptions (see the report); within reach: within {t} minutes' walk "
        "of an open site.",
    ),
    "priority_title": (
        "Prioritaire wijken in dit netwerk",
        "Quartiers prioritaires dans ce réseau",
        "Priority districts in this network",
    ),  # fmt: skip
    "children_here": (
        "kinderen 0–2 in dit netwerk",
        "enfants de 0–2 ans dans ce réseau",
        "children aged 0–2 in this network",
    ),  # fmt: skip
    "wijk_lgn": ("LGN van de wijk", "LGN du quartier", "District's LGN"),
    "partly": (
        "ligt deels in een ander netwerk; hier telt enkel het deel in dit netwerk",
        "en partie dans un autre réseau ; seule la partie dans ce réseau compte ici",
        "partly in another network; only the part in this network counts here",
    ),
    "belongs": (
        "hoort bij LGN {n} (daar wonen de meeste van zijn jonge kinderen); hier telt enkel het deel in dit netwerk",
        "rattaché au LGN {n} (où vivent la plupart de ses jeunes enfants) ; seule la partie dans ce réseau compte ici",
        "belongs to LGN {n} (where most of its young children live); only the part in this network counts here",
    ),
    "missed_title": ("Wie missen we nog?", "Qui manque-t-on encore ?", "Whom do we still miss?"),
    "missed_intro": (
        "Per wijk (en de sectoren met de meeste kinderen die we missen): kinderen van 0 tot 2 jaar die niet "
        "bereikt worden, met de reden. Te ver: geen open locatie binnen {t} minuten wandelen. Sessies vol: een "
        "locatie binnen bereik, maar haar sessies zijn vol (het deel van de kinderen waarvan de verwachte "
        "consultaties niet passen). Geschat, afgerond.",
        "Par quartier (et les secteurs où nous manquons le plus d'enfants) : les enfants de 0 à 2 ans non "
        "atteints, avec la raison. Trop loin : aucun lieu ouvert à moins de {t} minutes à pied. Séances "
        "complètes : un lieu à portée, mais ses séances sont pleines (la part des enfants dont les consultations "
        "attendues n'y tiennent pas). Estimé, arrondi.",
        "Per district (and the sectors where we miss most children): children aged 0–2 not reached, with the "
        "reason. Too far: no open site within {t} minutes' walk. Sessions full: a site within reach, but its "
        "sessions are full (the share of the children whose expected consultations do not fit). Estimated, "
        "rounded.",
    ),
    "not_reached": ("niet bereikt", "non atteints", "not reached"),
    "far": ("te ver", "trop loin", "too far"),
    "full": ("sessies vol", "séances complètes", "sessions full"),
    "reason": ("reden", "raison", "reason"),
    "none_missed": ("niemand", "personne", "nobody"),
    "top_sectors": (
        "Sectoren met de meeste kinderen die we missen",
        "Secteurs où nous manquons le plus d'enfants",
        "Sectors where we miss most children",
    ),  # fmt: skip
    "timetable_title": (
        "Sessies van de mobiele teams in dit netwerk",
        "Séances des équipes mobiles dans ce réseau",
        "Sessions of the mobile teams in this network",
    ),  # fmt: skip
    "no_sessions": ("geen sessie in dit netwerk", "aucune séance dans ce réseau", "no session in this network"),
    "sites_title": (
        "Nieuwe vaste locaties in dit netwerk",
        "Nouveaux sites fixes dans ce réseau",
        "New fixed sites in this network",
    ),  # fmt: skip
    "no_sites": (
        "geen nieuwe locatie in dit netwerk",
        "aucun nouveau site dans ce réseau",
        "no new site in this network",
    ),  # fmt: skip
    "caveats_title": (
        "Wat geschat is en wat ontbreekt",
        "Ce qui est estimé et ce qui manque",
        "What is estimated and what is missing",
    ),  # fmt: skip
    "caveat_children": (
        "Kinderen en geboorten per buurt zijn afgeleid uit de leeftijdsopbouw van de sectoren en de cijfers per "
        "gemeente, niet geteld: kleine verschillen tussen wijken zeggen weinig. Wie echte cijfers heeft, laadt ze "
        "met `geoplanner indicators import`.",
        "Enfants et naissances par quartier sont dérivés de la structure par âge des secteurs et des chiffres "
        "communaux, pas comptés : de petites différences entre quartiers ont peu de sens. Qui a de vrais chiffres "
        "les charge avec `geoplanner indicators import`.",
        "Children and births per neighbourhood are derived from the sectors' age structure and the municipal "
        "figures, not counted: small differences between districts mean little. Whoever has real figures loads "
        "them with `geoplanner indicators import`.",
    ),
    "caveat_layer": (
        "{name}: {here} in dit netwerk op de kaart. {note}",
        "{name} : {here} dans ce réseau sur la carte. {note}",
        "{name}: {here} in this network on the map. {note}",
    ),
    "caveat_assumptions": (
        "Consultaties, sessies en 'bediend' rusten op aannames (consultaties per leeftijd, gebruik, kinderen per "
        "sessie, werkweken); het rapport noemt elke aanname met haar bron.",
        "Consultations, séances et « servi » reposent sur des hypothèses (consultations par âge, recours, enfants "
        "par séance, semaines de travail) ; le rapport cite chaque hypothèse avec sa source.",
        "Consultations, sessions and 'served' rest on assumptions (consultations per age, uptake, children per "
        "session, working weeks); the report names each assumption with its source.",
    ),
    "caveat_network": (
        "Wandeltijden zijn berekend op het OpenStreetMap-stratennet van 2013.",
        "Les temps de marche sont calculés sur le réseau de rues OpenStreetMap de 2013.",
        "Walking times are computed on the OpenStreetMap street network of 2013.",
    ),
    "make": (
        "Opnieuw maken: `geoplanner lgn` (of `geoplanner run`).",
        "Refaire : `geoplanner lgn` (ou `geoplanner run`).",
        "Make again: `geoplanner lgn` (or `geoplanner run`).",
    ),
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][("nl", "fr", "en").index(check_lang(lang))]


@dataclass(frozen=True)
class MissedTable:
    """Whom one scenario still misses in an LGN.

    Attributes
    ----------
    title
        The scenario's title.
    wijken, sectors
        One row per wijk (``mdrc``, ``name_nl``, ``name_fr``) or sector (``cd_sector``, ``sector_name_nl``,
        ``sector_name_fr``) part in the network: ``children``, ``children_far`` (no open site within the
        threshold), ``children_full`` (within reach, sessions full), largest first.
    """

    title: str
    wijken: pd.DataFrame
    sectors: pd.DataFrame


@dataclass(frozen=True)
class LgnPage:
    """What one LGN's page shows, gathered by :mod:`geoplanner.pipeline.lgn` (nothing is computed here).

    Attributes
    ----------
    lgn, name, communes
        The network's number, name and communes (names in the page's language).
    figures
        Its rows of ``comparison_lgn.csv`` (:func:`geoplanner.pipeline.siting.comparison_tables`), with ``title``.
    births
        Births a year in its sectors (derived).
    threshold_min
        The walking threshold of the figures.
    priority
        The priority wijken with a part in it: ``rank``, ``mdrc``, ``name_nl``, ``name_fr``, ``lgn`` (the wijk's
        own network), ``children_here`` and ``children`` (the whole wijk).
    missed
        Per scenario, whom it still misses (:class:`MissedTable`).
    timetables
        ``(scenario title, sessions in the network)`` of each mobile scenario: team, dag, dagdeel, venue_name,
        type, expected_attendance.
    sites
        ``(scenario title, new fixed sites in the network)``: rank, name, type, sessions_per_week.
    layers
        The known-service layers: ``name``, ``note`` (completeness) and ``here`` (located in the network).
    map_parts
        ``(head, body, script)`` of the embedded map, or None.
    map_key
        ``(symbol markup, words)`` printed under the map (:func:`geoplanner.outputs.maps.pages.lgn_map_key`).
    bounds
        The network's bounds ``[[south, west], [north, east]]`` (the map refits to them when printed).
    links
        Relative links: ``index``, ``report``, ``region_map`` (None when absent).
    """

    lgn: int
    name: str
    communes: Sequence[str]
    figures: pd.DataFrame
    births: float | None = None
    threshold_min: float = 10.0
    priority: pd.DataFrame | None = None
    missed: Sequence[MissedTable] = ()
    timetables: Sequence[tuple[str, pd.DataFrame]] = ()
    sites: Sequence[tuple[str, pd.DataFrame]] = ()
    layers: Sequence[Mapping[str, Any]] = ()
    map_parts: tuple[str, str, str] | None = None
    map_key: Sequence[tuple[str, str]] = ()
    bounds: list[list[float]] | None = None
    links: Mapping[str, str | None] = field(default_factory=dict)


def _n(v: Any, lang: str) -> str:
    return format_cell(v, "count", lang)


def _figures(page: LgnPage, lang: str) -> dict[str, Any]:
    """Return the figures table: one row per scenario, each cell with its measure and raw value (for the test)."""
    header = [label("scenario_title", lang), *(label(c, lang) if c != "children" else label("pop_0_2", lang)
                                               for c, _ in FIGURE_COLUMNS)]  # fmt: skip
    rows = []
    for r in page.figures.to_dict("records"):
        cells = []
        for col, kind in FIGURE_COLUMNS:
            v = r.get(col)
            present = v is not None and not (isinstance(v, float) and v != v)
            cells.append({"measure": col, "value": float(v) if present else None, "text": format_cell(v, kind, lang)})
        rows.append({"scenario": r["scenario"], "title": r.get("title") or r["scenario"], "cells": cells})
    return {"header": header, "rows": rows}


def _priority(page: LgnPage, lang: str) -> list[dict[str, Any]]:
    p = page.priority
    if p is None or not len(p):
        return []
    name = "name_fr" if lang == "fr" else "name_nl"
    out = []
    for r in p.sort_values("rank").to_dict("records"):
        own, whole = int(r["lgn"]) == page.lgn, float(r["children_here"]) >= float(r["children"]) - 0.5
        note = "" if own and whole else _t("partly", lang) if own else _t("belongs", lang).format(n=int(r["lgn"]))
        out.append({"rank": int(r["rank"]), "mdrc": int(r["mdrc"]), "name": r[name],
                    "here": _n(r["children_here"], lang), "children": _n(r["children"], lang), "lgn": int(r["lgn"]),
                    "note": note})  # fmt: skip
    return out


def _missed_rows(frame: pd.DataFrame, key: str, names: tuple[str, str], lang: str, limit: int | None) -> list:
    name = names[1] if lang == "fr" else names[0]
    rows = []
    f = frame.assign(_lost=frame["children_far"] + frame["children_full"])
    f = f[f["children"] >= 0.5].sort_values(["_lost", key], ascending=[False, True])  # no row for a park
    if limit is not None:
        f = f[f["_lost"] >= 0.5].head(limit)
    for r in f.to_dict("records"):
        far, full = float(r["children_far"]), float(r["children_full"])
        reason = _t("none_missed", lang) if far + full < 0.5 else _t("far", lang) if far >= full else _t("full", lang)
        rows.append({"key": r[key], "name": r.get(name) or r.get(names[0]) or r[key],
                     "children": _n(r["children"], lang), "lost": _n(far + full, lang), "far": _n(far, lang),
                     "full": _n(full, lang), "reason": reason, "value": round(far + full, 1)})  # fmt: skip
    return rows


def _missed(page: LgnPage, lang: str) -> list[dict[str, Any]]:
    return [{"title": m.title,
             "wijken": _missed_rows(m.wijken, "mdrc", ("name_nl", "name_fr"), lang, None),
             "sectors": _missed_rows(m.sectors, "cd_sector", ("sector_name_nl", "sector_name_fr"), lang, 10)}
            for m in page.missed]  # fmt: skip


def _sessions(page: LgnPage, lang: str) -> list[dict[str, Any]]:
    out = []
    for title, t in page.timetables:
        rows = [[str(r["team"]), value_label("dag", r["dag"], lang), value_label("dagdeel", r["dagdeel"], lang),
                 str(r["venue_name"]), value_label("type", r.get("type"), lang),
                 fmt_num(r.get("expected_attendance"), lang, 1)] for r in t.to_dict("records")]  # fmt: skip
        out.append({"title": title, "rows": rows})
    return out


def _sites(page: LgnPage, lang: str) -> list[dict[str, Any]]:
    out = []
    for title, s in page.sites:
        rows = [[str(int(r["rank"])), str(r["name"]), value_label("type", r.get("type"), lang),
                 _n(r.get("sessions_per_week"), lang)] for r in s.to_dict("records")]  # fmt: skip
        out.append({"title": title, "rows": rows})
    return out


def _caveats(page: LgnPage, lang: str) -> list[str]:
    out = [_t("caveat_children", lang)]
    for layer in page.layers:
        out.append(_t("caveat_layer", lang).format(name=layer["name"], here=layer["here"], note=layer["note"]))
    out += [_t("caveat_assumptions", lang), _t("caveat_network", lang)]
    return out


def _words(lang: str) -> dict[str, str]:
    return {key: _t(key, lang) for key in _TEXT}


def render_lgn_page(page: LgnPage, *, lang: str = DEFAULT_LANG) -> str:
    """Render one LGN's page (HTML text; the map's scripts inlined when its parts were rendered so)."""
    check_lang(lang)
    priority = _priority(page, lang)
    children = page.figures["children"].iloc[0] if len(page.figures) else None
    lead_priority = (_t("lead_priority", lang).format(n=len(priority)) if priority
                     else _t("lead_no_priority", lang))  # fmt: skip
    t = f"{page.threshold_min:g}"
    ctx = {
        "lang": lang, "L": LABELS[lang], "W": _words(lang), "page": page,
        "title": f"LGN {page.lgn} — {page.name}",
        "lead": _t("lead", lang).format(children=_n(children, lang), births=_n(page.births, lang),
                                        priority=lead_priority),
        "figures": _figures(page, lang), "figures_note": _t("figures_note", lang).format(t=t),
        "missed_intro": _t("missed_intro", lang).format(t=t),
        "priority": priority, "missed": _missed(page, lang), "sessions": _sessions(page, lang),
        "sites": _sites(page, lang), "caveats": _caveats(page, lang),
        "map": None if page.map_parts is None else dict(zip(("head", "body", "script"), page.map_parts, strict=True)),
        "bounds": json.dumps(page.bounds) if page.bounds else "",
        "links": dict(page.links), "attribution": "; ".join(settings.ATTRIBUTION),
    }  # fmt: skip
    return template_environment().get_template("lgn.html.j2").render(**ctx)


def render_lgn_index(pages: Sequence[LgnPage], files: Mapping[int, str], *, lang: str = DEFAULT_LANG,
                     links: Mapping[str, str | None] | None = None) -> str:  # fmt: skip
    """Render the index of the LGN pages: each network with its communes, children, births and a link.

    Parameters
    ----------
    pages
        The pages written (their figures give the index's numbers).
    files
        Network number -> the page's file name (relative to the index).
    lang
        ``nl`` (default), ``fr`` or ``en``.
    links
        ``report`` and ``region_map`` links, relative to the index (None: not written).
    """
    check_lang(lang)
    rows = []
    for p in pages:
        base = p.figures.iloc[0] if len(p.figures) else {}
        rows.append({"lgn": p.lgn, "name": p.name, "communes": ", ".join(p.communes), "href": files[p.lgn],
                     "children": _n(base.get("children"), lang), "births": _n(p.births, lang),
                     "within": format_cell(base.get("share_within_threshold"), "share", lang),
                     "priority": str(0 if p.priority is None else len(p.priority))})  # fmt: skip
    first = str(pages[0].figures["title"].iloc[0]) if pages and len(pages[0].figures) else ""
    header = ["LGN", label("name", lang), _t("communes", lang), label("pop_0_2", lang), label("births_wijk", lang),
              f"{label('share_within_threshold', lang)} *", label("priority_wijken", lang)]  # fmt: skip
    ctx = {"lang": lang, "L": LABELS[lang], "W": _words(lang), "title": _t("index_title", lang), "rows": rows,
           "header": header, "share_note": f"* {first}" if first else "", "links": dict(links or {}),
           "attribution": "; ".join(settings.ATTRIBUTION)}  # fmt: skip
    return template_environment().get_template("lgn_index.html.j2").render(**ctx)
