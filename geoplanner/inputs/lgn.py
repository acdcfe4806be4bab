"""The 8 local family-support networks (LGN) of Huis van het Kind Brussel.

Authored from public facts: which communes form each network. A wijk that spans communes of
two networks is given the network of the commune holding most of its young children
(see :func:`geoplanner.need.wijk_need`).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["COMMUNES", "LGN", "lgn_table", "lgn_of_commune", "with_lgn_names"]

#: Commune NIS code -> (Dutch name, French name).
COMMUNES: dict[int, tuple[str, str]] = {
    21001: ("Anderlecht", "Anderlecht"),
    21002: ("Oudergem", "Auderghem"),
    21003: ("Sint-Agatha-Berchem", "Berchem-Sainte-Agathe"),
    21004: ("Brussel", "Bruxelles"),
    21005: ("Etterbeek", "Etterbeek"),
    21006: ("Evere", "Evere"),
    21007: ("Vorst", "Forest"),
    21008: ("Ganshoren", "Ganshoren"),
    21009: ("Elsene", "Ixelles"),
    21010: ("Jette", "Jette"),
    21011: ("Koekelberg", "Koekelberg"),
    21012: ("Sint-Jans-Molenbeek", "Molenbeek-Saint-Jean"),
    21013: ("Sint-Gillis", "Saint-Gilles"),
    21014: ("Sint-Joost-ten-Node", "Saint-Josse-ten-Noode"),
    21015: ("Schaarbeek", "Schaerbeek"),
    21016: ("Ukkel", "Uccle"),
    21017: ("Watermaal-Bosvoorde", "Watermael-Boitsfort"),
    21018: ("Sint-Lambrechts-Woluwe", "Woluwe-Saint-Lambert"),
    21019: ("Sint-Pieters-Woluwe", "Woluwe-Saint-Pierre"),
}

#: LGN number -> (name, commune NIS codes).
LGN: dict[int, tuple[str, tuple[int, ...]]] = {
    1: ("Brussel stad", (21004,)),
    2: ("Sint-Jans-Molenbeek & Koekelberg", (21012, 21011)),
    3: ("Jette, Ganshoren & Sint-Agatha-Berchem", (21010, 21008, 21003)),
    4: ("Anderlecht", (21001,)),
    5: ("Schaarbeek, Evere & Sint-Joost-ten-Node", (21015, 21006, 21014)),
    6: ("Sint-Gillis, Ukkel & Vorst", (21013, 21016, 21007)),
    7: ("Elsene & Etterbeek", (21009, 21005)),
    8: (
        "Oudergem, Watermaal-Bosvoorde, Sint-Pieters- & Sint-Lambrechts-Woluwe",
        (21002, 21017, 21019, 21018),
    ),
}


def lgn_table() -> pd.DataFrame:
    """Return one row per commune: commune_nis, commune_name_nl, commune_name_fr, lgn, lgn_name."""
    rows = [
        {
            "commune_nis": nis,
            "commune_name_nl": COMMUNES[nis][0],
            "commune_name_fr": COMMUNES[nis][1],
            "lgn": number,
            "lgn_name": name,
        }
        for number, (name, communes) in LGN.items()
        for nis in communes
    ]
    return pd.DataFrame(rows).sort_values("commune_nis", ignore_index=True)


def lgn_of_commune(nis: int) -> int:
    """Return the LGN number of a commune NIS code (``KeyError`` if not a Brussels commune)."""
    for number, (_, communes) in LGN.items():
        if nis in communes:
            return number
    raise KeyError(nis)


def with_lgn_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with ``lgn_name`` right after its ``lgn`` column (the name of each local network)."""
    if "lgn" not in frame.columns:
        return frame
    names = frame["lgn"].map(lambda n: LGN[int(n)][0] if pd.notna(n) and int(n) in LGN else None)
    out = frame.drop(columns=["lgn_name"], errors="ignore")
    out.insert(list(out.columns).index("lgn") + 1, "lgn_name", names.to_numpy())
    return out
