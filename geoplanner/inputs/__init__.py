"""Load and validate every input file: the data bundle, areas, figures, service sets, the user's own data.

Each loader returns plain (Geo)DataFrames in EPSG:31370 with stable column names and turns any defect of
the file into a :class:`~geoplanner.core.errors.DataError` naming the file, the row and the column. This is
the only layer (besides ``pipeline``) that finds files in the data folder by itself; the engines above it
get what they need as arguments.
"""

from geoplanner.inputs.areas import load_communes, load_crosswalk, load_region, load_sectors, load_wijken
from geoplanner.inputs.figures import (
    AGE_BANDS,
    SECTOR_TOTAL_TOLERANCE,
    load_commune_age_shares,
    load_commune_population,
    load_sector_age_bands,
    load_sector_bimd,
    load_sector_population,
    load_wijk_indicators,
)
from geoplanner.inputs.lgn import lgn_table
from geoplanner.inputs.services import (
    CURRENT_STATUSES,
    SERVICE_COLUMNS,
    SERVICE_SETS,
    SERVICE_STATUSES,
    ServiceSet,
    load_services,
    service_set_names,
)
from geoplanner.inputs.tables import read_table

__all__ = [
    "AGE_BANDS",
    "CURRENT_STATUSES",
    "SECTOR_TOTAL_TOLERANCE",
    "SERVICE_COLUMNS",
    "SERVICE_SETS",
    "SERVICE_STATUSES",
    "ServiceSet",
    "lgn_table",
    "load_commune_age_shares",
    "load_commune_population",
    "load_communes",
    "load_crosswalk",
    "load_region",
    "load_sector_age_bands",
    "load_sector_bimd",
    "load_sector_population",
    "load_sectors",
    "load_services",
    "load_wijk_indicators",
    "load_wijken",
    "read_table",
    "service_set_names",
]
