"""Offline geocoding of Brussels addresses against the bundled OpenStreetMap extract.

No online service is called. :mod:`~geoplanner.geocode.normalise` makes street names and house numbers
comparable, :mod:`~geoplanner.geocode.index` builds the address index from the OSM extract's frames and the
statistical sectors, :mod:`~geoplanner.geocode.match` finds the street, :mod:`~geoplanner.geocode.place`
places the number and says how sure it is, and :mod:`~geoplanner.geocode.geocoder` puts them together.
The method and its measured accuracy: ``docs/methods/geocoder.md``.
"""

from geoplanner.geocode.geocoder import ACCURACY_CLASSES, ADDRESS_FIELDS, GeocodeResult, geocode, geocode_frame
from geoplanner.geocode.index import ADDRESS_FAR_M, ADDRESS_NEAR_M, AddressIndex, address_index_key, build_address_index
from geoplanner.geocode.match import MATCH_THRESHOLD, POSTCODE_PENALTY
from geoplanner.geocode.normalise import HouseNumber, normalise_street, parse_house_number, street_variants
from geoplanner.geocode.place import ADDRESS_POINT_RADIUS_M, INTERPOLATION_RADIUS_SHARE, STREET_SETBACK_M
from geoplanner.inputs.postcodes import POSTCODE_COMMUNES, SUBMUNICIPALITY_POSTCODES

__all__ = [
    "ACCURACY_CLASSES",
    "ADDRESS_FIELDS",
    "MATCH_THRESHOLD",
    "POSTCODE_PENALTY",
    "POSTCODE_COMMUNES",
    "SUBMUNICIPALITY_POSTCODES",
    "ADDRESS_NEAR_M",
    "ADDRESS_FAR_M",
    "ADDRESS_POINT_RADIUS_M",
    "STREET_SETBACK_M",
    "INTERPOLATION_RADIUS_SHARE",
    "AddressIndex",
    "GeocodeResult",
    "HouseNumber",
    "address_index_key",
    "build_address_index",
    "parse_house_number",
    "normalise_street",
    "street_variants",
    "geocode",
    "geocode_frame",
]
