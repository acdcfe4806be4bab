"""Brussels postcodes: which communes and which sub-municipalities each covers (authored public facts).

Used to check a user's postcode against the point given with it, and by the geocoder to draw the postcode
areas from the Statbel sub-municipalities (``cd_sub_munty``, the first six characters of a sector code).
"""

from __future__ import annotations

__all__ = ["POSTCODE_COMMUNES", "SUBMUNICIPALITY_POSTCODES"]

#: Brussels postcodes -> commune NIS codes whose territory they cover (public fact, authored).
#: 1000/1020/1120/1130 are parts of the City of Brussels; 1040 and 1050 also cover parts of
#: the City (European quarter, Avenue Louise / Bois de la Cambre). The geocoder matches on the
#: finer :data:`SUBMUNICIPALITY_POSTCODES`; this table serves checks at commune level.
POSTCODE_COMMUNES: dict[str, tuple[int, ...]] = {
    "1000": (21004,),
    "1020": (21004,),
    "1030": (21015,),
    "1040": (21005, 21004),
    "1050": (21009, 21004),
    "1060": (21013,),
    "1070": (21001,),
    "1080": (21012,),
    "1081": (21011,),
    "1082": (21003,),
    "1083": (21008,),
    "1090": (21010,),
    "1120": (21004,),
    "1130": (21004,),
    "1140": (21006,),
    "1150": (21019,),
    "1160": (21002,),
    "1170": (21017,),
    "1180": (21016,),
    "1190": (21007,),
    "1200": (21018,),
    "1210": (21014,),
}

#: Postcodes of the City of Brussels' Statbel sub-municipalities (``cd_sub_munty``; authored,
#: public fact). The postcodes follow the former communes annexed in 1921 (Laeken 1020,
#: Neder-Over-Heembeek 1120, Haren 1130); the Rue de la Loi (Leopold quarter) and Louise
#: sub-municipalities use 1000 next to 1040 and 1050 respectively. Every other commune's
#: sub-municipalities take the commune's single postcode from :data:`POSTCODE_COMMUNES`.
SUBMUNICIPALITY_POSTCODES: dict[str, tuple[str, ...]] = {
    "21004A": ("1000",),  # Pentagon
    "21004B": ("1000", "1040"),  # Rue de la Loi / Leopold quarter
    "21004C": ("1000", "1050"),  # Louise, Bois de la Cambre
    "21004D": ("1000",),  # Chaussée d'Anvers / Northern quarter
    "21004E": ("1020",),  # Laeken
    "21004F": ("1120",),  # Neder-Over-Heembeek
    "21004G": ("1130",),  # Haren
}
