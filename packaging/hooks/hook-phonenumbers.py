"""PyInstaller hook: phonenumbers' region metadata, without the place, carrier and zone names."""

from PyInstaller.utils.hooks import collect_submodules

# The console parses and formats numbers; it never asks for geocoding, carriers or time zones,
# whose data is 45 MB of source that also takes PyInstaller a minute and a half to analyse.
UNUSED = ("geocoder", "geodata", "carrier", "carrierdata", "timezone", "tzdata")


def _used(name: str) -> bool:
    return not any(
        name == f"phonenumbers.{u}" or name.startswith(f"phonenumbers.{u}.") for u in UNUSED
    )


hiddenimports = collect_submodules("phonenumbers", filter=_used)
excludedimports = [f"phonenumbers.{name}" for name in UNUSED]
