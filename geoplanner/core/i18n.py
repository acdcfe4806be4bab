"""Labels of maps and reports in Dutch (default), French and English.

Every word a map or report shows comes from here, so a translation is complete or fails
loudly: :func:`label` raises for an unknown key or language.
"""

from __future__ import annotations

import math

from geoplanner.core.errors import ConfigError

__all__ = ["LANGUAGES", "DEFAULT_LANG", "LABELS", "VALUE_PREFIXES", "label", "value_label", "check_lang", "fmt_num"]

LANGUAGES = ("nl", "fr", "en")
DEFAULT_LANG = "nl"

# key: (nl, fr, en)
_TABLE: dict[str, tuple[str, str, str]] = {
    "gap_title": ("Dekkingstekort", "Déficit de couverture", "Coverage gap"),
    "scenario_title": ("Scenario", "Scénario", "Scenario"),
    "basemap": ("OpenStreetMap-achtergrond", "Fond OpenStreetMap", "OpenStreetMap background"),
    "outlines": ("Gemeente- en wijkgrenzen", "Limites des communes et quartiers", "Commune and district outlines"),
    "births": ("Geboorten per sector", "Naissances par secteur", "Births per sector"),
    "births_wijk": ("Geboorten", "Naissances", "Births"),
    "births_unit": ("geboorten per jaar", "naissances par an", "births per year"),
    "pop_0_2": ("Kinderen 0–2 jaar", "Enfants de 0–2 ans", "Children aged 0–2"),
    "deprivation": ("Kansarmoede (wijkindex)", "Précarité (indice du quartier)", "Deprivation (district index)"),
    "priority": ("Prioritaire wijken (rang)", "Quartiers prioritaires (rang)", "Priority districts (rank)"),
    "rank": ("Rang", "Rang", "Rank"),
    "score": ("Score", "Score", "Score"),
    "walk_time": ("Wandeltijd", "Temps de marche", "Walking time"),
    "mean_min": ("gemiddelde wandeltijd", "temps de marche moyen", "mean walking time"),
    "isochrone": ("Isochroon", "Isochrone", "Isochrone"),
    "services": ("Diensten", "Services", "Services"),
    "gap": ("Niet-bereikte jonge kinderen", "Jeunes enfants non couverts", "Young children not reached"),
    "gap_unit": ("kinderen 0–2 buiten", "enfants de 0–2 ans au-delà de", "children aged 0–2 beyond"),
    "new_sites": ("Nieuwe locaties", "Nouveaux sites", "New sites"),
    "timetable": ("Uurrooster", "Horaire", "Timetable"),
    "team": ("Team", "Équipe", "Team"),
    "day": ("Dag", "Jour", "Day"),
    "dagdeel": ("Dagdeel", "Demi-journée", "Half-day"),
    "order": ("Volgorde", "Ordre", "Order"),
    "marginal_demand": ("Extra bereikte kinderen", "Enfants supplémentaires couverts", "Additional children reached"),
    "name": ("Naam", "Nom", "Name"),
    "address": ("Adres", "Adresse", "Address"),
    "type": ("Type", "Type", "Type"),
    "source": ("Bron", "Source", "Source"),
    "approximate": ("Ligging bij benadering", "Position approximative", "Location approximate"),
    "uncertainty": ("Onzekerheid ligging", "Incertitude de position", "Location uncertainty"),
    "yes": ("ja", "oui", "yes"),
    "no": ("nee", "non", "no"),
    "sector": ("Sector", "Secteur", "Sector"),
    "commune": ("Gemeente", "Commune", "Municipality"),
    "wijk": ("Wijk", "Quartier", "District"),
    "estimated": ("geschat", "estimé", "estimated"),
    "observed": ("waargenomen", "observé", "observed"),
    "estimate_note": (
        "Kinderen per sector zijn afgeleid of geschat (geen telling), tenzij anders vermeld.",
        "Les enfants par secteur sont dérivés ou estimés (pas comptés), sauf mention contraire.",
        "Children per sector are derived or estimated (not counted) unless stated otherwise.",
    ),
    "legend": ("Legende", "Légende", "Legend"),
    "unserved": ("Niet bediende consultaties", "Consultations non servies", "Consultations not served"),
    "unserved_distance": (
        "Niet bediend: geen sessie binnen wandelafstand",
        "Non servi : aucune séance à distance de marche",
        "Not served: no session within walking distance",
    ),
    "unserved_capacity": (
        "Niet bediend: sessies binnen bereik zijn vol",
        "Non servi : les séances à portée sont complètes",
        "Not served: sessions within reach are full",
    ),
    "consult_unit": ("consultaties per jaar", "consultations par an", "consultations a year"),
    "teams_title": ("Hoeveel teams?", "Combien d'équipes ?", "How many teams?"),
    "teams_axis": ("aantal mobiele teams", "nombre d'équipes mobiles", "number of mobile teams"),
    "served_share_axis": (
        "aandeel verwachte consultaties bediend",
        "part des consultations attendues servies",
        "share of expected consultations served",
    ),
    "served_all": ("alle wijken", "tous les quartiers", "all districts"),
    "served_priority": ("prioritaire wijken", "quartiers prioritaires", "priority districts"),
    "served_deprivation": ("kansarmoede-gewogen", "pondéré par la précarité", "deprivation-weighted"),
    "teams_needed": ("teams nodig", "équipes nécessaires", "teams needed"),
    "teams_needed_text": (
        "teams nodig voor {share} van de verwachte consultaties in de prioritaire wijken (afgelezen op de curve)",
        "équipes nécessaires pour {share} des consultations attendues dans les quartiers prioritaires "
        "(lu sur la courbe)",
        "teams needed for {share} of the expected consultations in the priority districts (read off the curve)",
    ),
    "teams_more_than": ("meer dan {n}", "plus de {n}", "more than {n}"),
    "unserved_table": (
        "Wie missen we nog? Consultaties per jaar in de prioritaire wijken",
        "Qui manque-t-on encore ? Consultations par an dans les quartiers prioritaires",
        "Whom do we still miss? Consultations a year in the priority districts",
    ),
    "consultations_demand": (
        "verwachte consultaties/jaar",
        "consultations attendues/an",
        "expected consultations/year",
    ),
    "consultations_served": ("consultaties bediend", "consultations servies", "consultations served"),
    "share_consultations_served": (
        "aandeel consultaties bediend",
        "part des consultations servies",
        "share of consultations served",
    ),
    "share_priority_served": (
        "aandeel bediend in prioritaire wijken",
        "part servie dans les quartiers prioritaires",
        "share served in priority districts",
    ),
    "children_in_reach": ("kinderen binnen bereik", "enfants à portée", "children within reach"),
    "children_served": ("kinderen bediend", "enfants servis", "children served"),
    "sessions_per_week": ("sessies per week", "séances par semaine", "sessions a week"),
    "peak_utilisation_share": ("hoogste bezetting", "taux d'occupation maximal", "peak utilisation"),
    "solver_gap": ("gat tot de grens", "écart à la borne", "gap to the bound"),
    "teams_target_share": ("doel prioritaire wijken", "objectif quartiers prioritaires", "priority target"),
    "served_existing": (
        "bediend door bestaande bureaus",
        "servi par les bureaux existants",
        "served by existing bureaus",
    ),
    "served_new": ("bediend door mobiele teams", "servi par les équipes mobiles", "served by mobile teams"),
    "capacity_note": (
        "Bij modellen met capaciteit: kinderen bediend binnen de capaciteit van de sessies (verwachte gebruikers), "
        "niet enkel binnen wandelafstand.",
        "Pour les modèles avec capacité : enfants servis dans la capacité des séances (usagers attendus), "
        "pas seulement à distance de marche.",
        "For models with capacity: children served within the sessions' capacity (expected users), "
        "not only within walking distance.",
    ),
    "sources": ("Bronnen", "Sources", "Sources"),
    "minutes": ("min", "min", "min"),
    "no_data": ("geen gegevens", "pas de données", "no data"),
    "incomplete": ("onvolledig", "incomplet", "incomplete"),
    "scale_bar": ("km", "km", "km"),
    "north": ("N", "N", "N"),
    "report_title": (
        "Preventieve gezinsondersteuning in Brussel: bereik en scenario's",
        "Soutien préventif aux familles à Bruxelles : couverture et scénarios",
        "Preventive family support in Brussels: coverage and scenarios",
    ),
    "priority_table": ("Prioritaire wijken", "Quartiers prioritaires", "Priority districts"),
    "coverage_table": (
        "Bereik per lokaal netwerk (LGN)",
        "Couverture par réseau local (LGN)",
        "Coverage per local network (LGN)",
    ),
    "comparison_table": ("Vergelijking van scenario's", "Comparaison des scénarios", "Scenario comparison"),
    "maps": ("Kaarten", "Cartes", "Maps"),
    "interactive_map": ("interactieve kaart", "carte interactive", "interactive map"),
    "lgn": ("LGN", "LGN", "LGN"),
    "share_covered": ("Aandeel binnen", "Part à moins de", "Share within"),
    "covered": ("bereikt", "couverts", "reached"),
    "marginal_curve": ("Meerwaarde van extra locaties", "Gain des sites supplémentaires", "Gain from added sites"),
    "n_sites": ("Aantal nieuwe locaties", "Nombre de nouveaux sites", "Number of new sites"),
    "cumulative_reached": (
        "Extra bereikte kinderen (cumulatief)",
        "Enfants supplémentaires couverts (cumulé)",
        "Additional children reached (cumulative)",
    ),
    "generated": ("Gemaakt met geoplanner", "Généré avec geoplanner", "Made with geoplanner"),
    "side_by_side": ("Scenario's naast elkaar", "Scénarios côte à côte", "Scenarios side by side"),
    "children": ("kinderen", "enfants", "children"),
    "service_set": ("Dienstenset", "Ensemble de services", "Service set"),
    "notes_general": ("Algemene kanttekeningen", "Remarques générales", "General caveats"),
    "notes_scenario": ("Per scenario", "Par scénario", "Per scenario"),
    # comparison table (columns of geoplanner.scenario.compare)
    "model": ("Model", "Modèle", "Model"),
    "demand": ("Vraag", "Demande", "Demand"),
    "threshold": ("Drempel", "Seuil", "Threshold"),
    "children_total": ("Kinderen 0–2, totaal", "Enfants de 0–2 ans, total", "Children aged 0–2, total"),
    "children_covered": ("Kinderen 0–2 bereikt", "Enfants de 0–2 ans couverts", "Children aged 0–2 reached"),
    "share_reached": ("Aandeel bereikt", "Part couverte", "Share reached"),
    "deprivation_weighted_share": (
        "Aandeel bereikt, gewogen naar kansarmoede",
        "Part couverte, pondérée par la précarité",
        "Share reached, weighted by deprivation",
    ),
    "priority_reached": ("Prioritaire wijken bereikt", "Quartiers prioritaires couverts", "Priority districts reached"),
    "priority_wijken": ("Prioritaire wijken", "Quartiers prioritaires", "Priority districts"),
    "p90_min": ("90e percentiel wandeltijd", "90e centile du temps de marche", "90th percentile walking time"),
    "status": ("Status oplossing", "Statut de la solution", "Solution status"),
    "solve_s": ("Rekentijd (s)", "Temps de calcul (s)", "Solve time (s)"),
    "model_none": ("geen nieuwe locaties", "pas de nouveaux sites", "no new sites"),
    "model_rotation": ("rotatie mobiele teams", "rotation des équipes mobiles", "mobile team rotation"),
    "demand_children": ("kinderen 0–2", "enfants de 0–2 ans", "children aged 0–2"),
    "demand_deprivation_weighted": (
        "kinderen, gewogen naar kansarmoede",
        "enfants, pondérés par la précarité",
        "children, weighted by deprivation",
    ),
    "demand_priority_only": ("enkel prioritaire wijken", "quartiers prioritaires seulement", "priority districts only"),
    "status_optimal": ("optimaal", "optimal", "optimal"),
    "status_time_limit": (
        "tijdslimiet (niet bewezen optimaal)",
        "limite de temps (optimum non prouvé)",
        "time limit (not proven optimal)",
    ),
    "walk_times_hidden": (
        "De wandeltijden naar de dichtste locatie zijn hier weggelaten: met zo weinig gekende bureaus zeggen ze "
        "iets over de lijsten, niet over Brussel (comparison.csv heeft ze wel).",
        "Les temps de marche vers le lieu le plus proche sont omis ici : avec si peu de bureaux connus, ils "
        "parlent des listes, pas de Bruxelles (comparison.csv les contient).",
        "Walking times to the nearest site are left out here: with so few bureaus known they describe the lists, "
        "not Brussels (comparison.csv has them).",
    ),
    "status_node_limit": (
        "knooplimiet van de zoekboom (niet bewezen optimaal, wel reproduceerbaar)",
        "limite de nœuds de l'arbre (optimum non prouvé, mais reproductible)",
        "node limit of the search tree (not proven optimal, but reproducible)",
    ),
    "status_greedy": ("gretige heuristiek", "heuristique gloutonne", "greedy heuristic"),
    "status_within_gap": (
        "binnen het gevraagde gat tot de grens",
        "dans l'écart demandé à la borne",
        "within the requested gap to the bound",
    ),
    "model_capacitated_rotation": (
        "rotatie mobiele teams met capaciteit",
        "rotation des équipes mobiles avec capacité",
        "mobile team rotation with capacity",
    ),
    "model_capacitated_mclp": (
        "maximale dekking met capaciteit",
        "couverture maximale avec capacité",
        "capacitated maximal covering",
    ),
    # need figures and the stability of the ranking
    "derived": ("afgeleid", "dérivé", "derived"),
    "mixed": ("gemengd", "mixte", "mixed"),
    "figure_status": ("Status cijfers", "Statut des chiffres", "Status of the figures"),
    "p_top": ("Kans in de selectie", "Part des variantes dans la sélection", "Share of variations in the selection"),
    "rank_range": ("Rang (5–95 %)", "Rang (5–95 %)", "Rank (5–95 %)"),
    "stability": ("Zekerheid", "Certitude", "Certainty"),
    "stability_robust": ("robuust", "robuste", "robust"),
    "stability_likely": ("waarschijnlijk", "probable", "likely"),
    "stability_borderline": ("twijfelgeval", "incertain", "borderline"),
    "stability_unlikely": ("onwaarschijnlijk", "improbable", "unlikely"),
    "near_miss": ("net buiten de selectie", "juste hors de la sélection", "just outside the selection"),
    "stability_note": (
        "Kans in de selectie: aandeel van de plausibele varianten (gewichten, kansarmoedemethode, afgeleide "
        "aantallen) waarin de wijk bij de prioritaire wijken hoort.",
        "Part des variantes plausibles (poids, méthode de précarité, effectifs dérivés) où le quartier fait "
        "partie des quartiers prioritaires.",
        "Share of plausible variations (weights, deprivation method, derived counts) in which the district is "
        "among the priority districts.",
    ),
    "solution_of": ("oplossing van", "solution de", "solution of"),
    "dutch_share": (
        "aandeel gezinnen voor een Nederlandstalig bureau",
        "part des familles pour un bureau néerlandophone",
        "share of families for a Dutch-speaking bureau",
    ),
    "dutch_share_title": (
        "Teams nodig naargelang het aandeel gezinnen dat een Nederlandstalig bureau kiest",
        "Équipes nécessaires selon la part des familles qui choisit un bureau néerlandophone",
        "Teams needed by the share of families choosing a Dutch-speaking bureau",
    ),
    "tradeoff_title": (
        "Kost en opbrengst: sessies per week tegenover wat ze bedienen",
        "Coût et résultat : séances par semaine face à ce qu'elles servent",
        "Cost and return: sessions a week against what they serve",
    ),
    "excluded_services": ("niet in het huidige aanbod", "hors de l'offre actuelle", "not current supply"),
    "service_status": ("Status", "Statut", "Status"),
    "excluded_reason": ("Waarom niet meegeteld", "Pourquoi non compté", "Why not counted"),
    # the local networks (LGN) on the maps
    "lgn_boundaries": (
        "Grenzen van de lokale netwerken (LGN)",
        "Limites des réseaux locaux (LGN)",
        "Local network (LGN) boundaries",
    ),
    "lgn_select": ("Toon één LGN", "Afficher un LGN", "Show one LGN"),
    "lgn_all": ("alle LGN's (heel Brussel)", "tous les LGN (toute la Région)", "all LGNs (whole region)"),
    "provenance": ("Herkomst van de gegevens", "Provenance des données", "Where the data comes from"),
    "missing": ("ontbreekt", "manquant", "missing"),
}

# Coded values of the data and the outputs, as a reader sees them (value_label): service sets, venue types,
# statuses, days. A code without a label here is shown as it is.
_VALUE_LABELS: dict[str, tuple[str, str, str]] = {
    "set_kg": ("Consultatiebureaus Kind & Gezin", "Consultations Kind & Gezin", "Kind & Gezin consultation bureaus"),
    "set_one": ("Consultaties ONE", "Consultations ONE", "ONE consultations"),
    "set_hvhk": ("Huis van het Kind", "Maison de l'Enfant (Huis van het Kind)", "Huis van het Kind (family centre)"),
    "set_any_cb": (
        "Alle consultatiebureaus (K&G + ONE)",
        "Toutes les consultations (K&G + ONE)",
        "All consultation bureaus (K&G + ONE)",
    ),
    "set_all_family": ("Alle gezinsvoorzieningen", "Tous les services aux familles", "All family services"),
    "set_candidates": (
        "Kandidaat-locaties (bestaande gezinsvoorzieningen)",
        "Lieux candidats (services aux familles existants)",
        "Candidate venues (existing family services)",
    ),
    "type_kg_consultatiebureau": (
        "Consultatiebureau Kind & Gezin",
        "Consultation Kind & Gezin",
        "Kind & Gezin consultation bureau",
    ),
    "type_one_consultation_enfants": (
        "Consultatie ONE voor kinderen",
        "Consultation ONE pour enfants",
        "ONE consultation for children",
    ),  # fmt: skip
    "type_one_consultation_prenatale": (
        "Prenatale consultatie ONE",
        "Consultation prénatale ONE",
        "ONE prenatal consultation",
    ),  # fmt: skip
    "type_consultation_nourrissons_operator_unspecified": (
        "Zuigelingenconsultatie (organisator onbekend)",
        "Consultation pour nourrissons (opérateur inconnu)",
        "Infant consultation (operator unknown)",
    ),
    "type_one_site_unverified": ("ONE-plaats (niet bevestigd)", "Lieu ONE (non vérifié)", "ONE site (unverified)"),
    "type_hvhk_physical_location": (
        "Huis van het Kind (locatie)",
        "Maison de l'Enfant (lieu)",
        "Huis van het Kind (site)",
    ),  # fmt: skip
    "type_community_centre": (
        "Gemeenschaps- of buurtcentrum (OpenStreetMap)",
        "Centre communautaire ou de quartier (OpenStreetMap)",
        "Community or neighbourhood centre (OpenStreetMap)",
    ),
    "type_community_centre_vgc": (
        "Gemeenschapscentrum (VGC)",
        "Centre communautaire néerlandophone (VGC)",
        "Dutch-language community centre (VGC)",
    ),
    "type_maison_de_quartier": ("Buurthuis", "Maison de quartier", "Neighbourhood house"),
    "type_wgc_maison_medicale": ("Wijkgezondheidscentrum", "Maison médicale", "Community health centre"),
    "type_childcare_or_preschool": (
        "Kinderopvang of kleuterschool",
        "Crèche ou école maternelle",
        "Childcare or preschool",
    ),  # fmt: skip
    "type_clinic_other": ("Kliniek of medisch centrum", "Clinique ou centre médical", "Clinic or medical centre"),
    "type_library": ("Bibliotheek", "Bibliothèque", "Library"),
    "type_inloop_spel_ontmoeting": (
        "Inloop, spel en ontmoeting (Baboes)",
        "Lieu d'accueil enfants-parents (Baboes)",
        "Drop-in play and meeting place (Baboes)",
    ),
    "type_social_facility": ("Sociale voorziening", "Service social", "Social facility"),
    "type_brede_school": ("Brede school", "École élargie (brede school)", "Community school (brede school)"),
    "type_kindercampus": ("Kindercampus", "Campus pour enfants (kindercampus)", "Children's campus (kindercampus)"),
    "type_one_site": ("Consultatieplaats ONE", "Lieu de consultation ONE", "ONE consultation site"),
    "service_current": ("huidig aanbod", "offre actuelle", "current supply"),
    "service_historical": ("historisch (niet meer actief)", "historique (plus actif)", "historical (no longer active)"),
    "service_unverified": ("niet bevestigd", "non vérifié", "unverified"),
    "service_prenatal_only": ("enkel prenataal", "prénatal seulement", "prenatal only"),
    "suit_geschikt": ("geschikt", "adapté", "suitable"),
    "suit_na_te_gaan": ("na te gaan", "à vérifier", "to check"),
    "suit_ongeschikt": ("ongeschikt", "inadapté", "unsuitable"),
    "day_maandag": ("maandag", "lundi", "Monday"),
    "day_dinsdag": ("dinsdag", "mardi", "Tuesday"),
    "day_woensdag": ("woensdag", "mercredi", "Wednesday"),
    "day_donderdag": ("donderdag", "jeudi", "Thursday"),
    "day_vrijdag": ("vrijdag", "vendredi", "Friday"),
    "day_zaterdag": ("zaterdag", "samedi", "Saturday"),
    "day_zondag": ("zondag", "dimanche", "Sunday"),
    "part_voormiddag": ("voormiddag", "matin", "morning"),
    "part_namiddag": ("namiddag", "après-midi", "afternoon"),
    "part_avond": ("avond", "soir", "evening"),
    "district_residential": ("woonwijk", "quartier résidentiel", "residential"),
    "district_park": ("park of bos", "parc ou bois", "park or woodland"),
    "district_industrial": ("industriezone", "zone industrielle", "industrial area"),
    "district_cemetery": ("begraafplaats", "cimetière", "cemetery"),
    "district_unknown": ("onbekend", "inconnu", "unknown"),
    "method_weights": ("vaste gewichten", "poids fixes", "fixed weights"),
    "method_pca": ("hoofdcomponent (PCA)", "composante principale (ACP)", "principal component (PCA)"),
    "source_composite": (
        "samengesteld uit de wijkindicatoren",
        "composite des indicateurs de quartier",
        "composite of the district indicators",
    ),  # fmt: skip
    "source_kansarmoede_index": (
        "ingevoerde kansarmoede-index",
        "indice de précarité importé",
        "imported deprivation index",
    ),  # fmt: skip
    "model_mclp": ("maximale dekking", "couverture maximale", "maximal covering"),
    "model_lscp": ("minimale set die dekt", "couverture minimale", "set covering"),
    "model_p_median": (
        "kortste gemiddelde wandeltijd (p-mediaan)",
        "temps de marche moyen minimal (p-médiane)",
        "shortest mean walking time (p-median)",
    ),  # fmt: skip
    "region_brussels": ("Brussels Hoofdstedelijk Gewest", "Région de Bruxelles-Capitale", "Brussels-Capital Region"),
}

# The measures every scenario has (geoplanner.scenario.measures.MEASURES): one label per column, everywhere
# (capitalised in LABELS: they head rows, columns and axes).
_MEASURE_LABELS: dict[str, tuple[str, str, str]] = {
    "threshold_min": ("drempel (min)", "seuil (min)", "threshold (min)"),
    "children_total": ("kinderen 0–2", "enfants de 0–2 ans", "children aged 0–2"),
    "children_within_threshold": ("kinderen binnen bereik", "enfants à portée", "children within reach"),
    "share_within_threshold": ("aandeel binnen bereik", "part à portée", "share within reach"),
    "deprivation_weighted_share_within": (
        "bereik, gewogen naar kansarmoede",
        "portée, pondérée par la précarité",
        "reach, weighted by deprivation",
    ),
    "priority_wijken": ("prioritaire wijken", "quartiers prioritaires", "priority districts"),
    "priority_wijken_reached": (
        "prioritaire wijken bereikt",
        "quartiers prioritaires à portée",
        "priority districts reached",
    ),
    "mean_min": ("gemiddelde wandeltijd (min)", "temps de marche moyen (min)", "mean walking time (min)"),
    "p90_min": (
        "wandeltijd, 90e percentiel (min)",
        "temps de marche, 90e centile (min)",
        "walking time, 90th pct (min)",
    ),
    "consultations_demand": (
        "verwachte consultaties/jaar",
        "consultations attendues/an",
        "expected consultations/year",
    ),
    "consultations_served": ("consultaties/jaar bediend", "consultations servies/an", "consultations served/year"),
    "consultations_served_existing": (
        "bediend door bekende bureaus",
        "servies par les bureaux connus",
        "served by known bureaus",
    ),
    "consultations_served_new": (
        "bediend door nieuwe sessies",
        "servies par les nouvelles séances",
        "served by new sessions",
    ),
    "consultations_unserved_distance": ("niet bediend: te ver", "non servies : trop loin", "unserved: too far"),
    "consultations_unserved_capacity": ("niet bediend: vol", "non servies : complet", "unserved: full"),
    "share_consultations_served": ("aandeel bediend", "part servie", "share served"),
    "share_priority_served": (
        "aandeel bediend in prioritaire wijken",
        "part servie dans les quartiers prioritaires",
        "share served in priority districts",
    ),
    "priority_wijken_served": (
        "prioritaire wijken bediend",
        "quartiers prioritaires servis",
        "priority districts served",
    ),
    "share_deprivation_served": (
        "bediend, gewogen naar kansarmoede",
        "servi, pondéré par la précarité",
        "served, weighted by deprivation",
    ),
    "children_served": ("kinderen bediend", "enfants servis", "children served"),
    "new_sites": ("nieuwe locaties", "nouveaux sites", "new sites"),
    "teams": ("mobiele teams", "équipes mobiles", "mobile teams"),
    "sessions_per_week": ("nieuwe sessies/week", "nouvelles séances/semaine", "new sessions/week"),
    "consultations_per_session": (
        "consultaties/jaar per wekelijkse sessie",
        "consultations/an par séance hebdomadaire",
        "consultations/year per weekly session",
    ),
    "dutch_session_share": (
        "sessies bij Nederlandstalige partner",
        "séances chez un partenaire néerlandophone",
        "sessions at Dutch-speaking partners",
    ),
    "peak_utilisation_share": (
        "hoogste bezetting van de geplande plaatsen",
        "occupation maximale des places prévues",
        "peak use of the planned places",
    ),
    "teams_needed": ("teams nodig", "équipes nécessaires", "teams needed"),
    "teams_target_share": (
        "doel voor de teams: aandeel bediend in prioritaire wijken",
        "objectif des équipes : part servie dans les quartiers prioritaires",
        "teams' target: share served in priority districts",
    ),
}

#: ``LABELS[lang][key]``: the full tables, for templates.
LABELS: dict[str, dict[str, str]] = {
    lang: {
        **{key: values[i] for key, values in _TABLE.items()},
        **{key: values[i][:1].upper() + values[i][1:] for key, values in _MEASURE_LABELS.items()},
        **{key: values[i] for key, values in _VALUE_LABELS.items()},
    }
    for i, lang in enumerate(LANGUAGES)
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is supported, else raise :class:`ConfigError`."""
    if lang not in LANGUAGES:
        raise ConfigError(f"unknown language {lang!r}", column="lang", hint=f"use one of {', '.join(LANGUAGES)}")
    return lang


def label(key: str, lang: str = DEFAULT_LANG) -> str:
    """Return the label ``key`` in ``lang``.

    Raises
    ------
    ConfigError
        If the language is not supported.
    KeyError
        If ``key`` is not a known label (a programming error, not a user error).
    """
    return LABELS[check_lang(lang)][key]


#: What kind of code a column holds -> the prefix of its values' labels (see :func:`value_label`).
VALUE_PREFIXES: dict[str, str] = {
    "service_set": "set_",
    "layer": "set_",
    "type": "type_",
    "status": "status_",
    "service_status": "service_",
    "model": "model_",
    "demand": "demand_",
    "stability": "stability_",
    "suitability": "suit_",
    "dag": "day_",
    "day": "day_",
    "dagdeel": "part_",
    "district_type": "district_",
    "deprivation_method": "method_",
    "deprivation_source": "source_",
    "region": "region_",
    "figure_status": "",
}


def value_label(kind: str, value: object, lang: str = DEFAULT_LANG) -> str:
    """Return a coded value as a reader sees it (``"all_family"`` of a ``service_set`` → "Alle gezinsvoorzieningen").

    ``kind`` is a key of :data:`VALUE_PREFIXES` (a column name); a figure's status (``observed``, ``derived``,
    ``estimated``, ``mixed``, ``missing``) is kind ``figure_status``. A code without a label is returned as it is
    (a user's own service set, a venue type not in the bundle), so nothing is ever lost.
    """
    table = LABELS[check_lang(lang)]
    code = str(value)
    key = f"{VALUE_PREFIXES.get(kind, kind + '_')}{code.lower()}"
    if kind == "figure_status":
        key = code
    return table.get(key, code)


def fmt_num(value: float | None, lang: str = DEFAULT_LANG, decimals: int = 0) -> str:
    """Format a number the way readers of ``lang`` expect (``1.234,5`` in nl/fr, ``1,234.5`` in en).

    Missing values (None, NaN) become the "no data" label.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return label("no_data", lang)
    text = f"{value:,.{decimals}f}"
    if lang == "en":
        return text
    thousands = "." if lang == "nl" else "\u202f"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", thousands)
