"""What of the certification app can be imported from CSV or XLSX (the core runs the import): the
device inventory. A row whose serial names an existing device of the agency updates it (a serial is unique per vendor;
the model refuses a second device with the same vendor and serial)."""

from django.utils.translation import gettext_lazy as _

from certification.models import Device
from qgov.imports import Choice, ImportSpec, Member, Related, Text, register
from risks.models import Asset

DEVICE_IMPORT = register(ImportSpec(Device, key="serial", columns=[
    Text("name", required=True),
    Choice("kind", required=True),
    Text("vendor", required=True),
    Text("model", required=True),
    Text("serial", required=True, help_text=_("Unique per vendor: an existing serial updates that device")),
    Text("firmware_version"),
    Text("firmware_sha256", help_text=_("SHA-256/384/512 of the firmware image, in hex")),
    Text("site"),
    Member("owner"),
    Related("assets", Asset, key="name", many=True),
    Text("notes"),
]))
