"""CycloneDX JSON import (spec 1.4 – 1.6) of components, as a core document import.

A BOM is validated against the official schema of its declared specVersion by
cyclonedx-python-lib, then its components (nested ones flattened) become the agency's
Components, keyed by (agency, serialNumber, bom-ref):
- the same BOM again changes nothing (every component "unchanged");
- a higher `version` of the same serial number updates what differs (audited per component, the
  run page lists the fields changed) and creates what is new; components it no longer lists are
  left as they are;
- a lower version than the one imported is refused, and so is the same version with different
  content (a BOM's version must change when its content does);
- a BOM without serialNumber is keyed by its file's SHA-256 (re-importing the file is idempotent).
Suppliers are matched by name (case-insensitively) among the agency's suppliers; none is created:
a name that matches none is kept in the component's notes. Any problem fails the whole file,
with the JSON path of each.
"""

import json
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from procurement.choices import CryptoAssetTypeChoices, CryptoPrimitiveChoices, KeyStateChoices
from procurement.models import Component, Supplier
from procurement.services import crypto_policy_held
from qgov.imports.documents import DocumentImporter
from qgov.imports.services import FILE_ROW, ImportFailed, problem
from qgov.services import object_create, object_update

SUPPORTED_VERSIONS = ("1.4", "1.5", "1.6")
HASH_PREFERENCE = ("SHA-256", "SHA-384", "SHA-512")
MAX_PROBLEMS = 200
# The fields a BOM sets; other fields (device, asset, authenticity…) are the agency's and kept.
BOM_FIELDS = ("name", "component_type", "component_version", "purl", "supplier", "firmware_sha256",
              "crypto_asset_type", "primitive", "algorithm", "parameter_set_identifier",
              "classical_security_level", "nist_quantum_security_level", "certification_level", "key_state",
              "notes", "bom_version")


def _fail(path: str, message) -> ImportFailed:
    return ImportFailed([problem(FILE_ROW, path, message)])


# The two arrays a large BOM is made of. jsonschema checks `uniqueItems` by comparing every pair of
# items (dicts are unhashable), so a 10,000-component BOM would take minutes: they are validated in
# chunks by the library, and their uniqueness is checked here, in linear time.
CHUNKED = ("components", "dependencies")
CHUNK = 100


def _schema_problems(bom: dict, spec_version: str) -> list[dict]:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonValidator

    validator = JsonValidator(SchemaVersion.from_version(spec_version))
    problems = []

    def check(document, name=None, offset=0):
        for error in validator.validate_str(json.dumps(document), all_errors=True) or ():
            data = error.data
            path = getattr(data, "json_path", "$")
            if name is not None:
                if getattr(data, "validator", "") == "uniqueItems" and path == f"$.{name}":
                    continue  # checked across the whole array below
                path = re.sub(rf"^\$\.{name}\[(\d+)\]", lambda m: f"$.{name}[{int(m.group(1)) + offset}]", path)
            problems.append(problem(FILE_ROW, path, _("Not valid CycloneDX %(version)s: %(message)s") % {
                "version": spec_version, "message": str(getattr(data, "message", error))[:500]}))

    check({key: value for key, value in bom.items() if key not in CHUNKED})
    header = {"bomFormat": bom["bomFormat"], "specVersion": spec_version}
    for name in CHUNKED:
        items = bom.get(name)
        if not isinstance(items, list):
            if name in bom:
                check({**header, name: items})
            continue
        seen = {}
        for start in range(0, len(items), CHUNK):
            check({**header, name: items[start:start + CHUNK]}, name, start)
            if len(problems) >= MAX_PROBLEMS:
                return problems[:MAX_PROBLEMS]
        for index, item in enumerate(items):
            canonical = json.dumps(item, sort_keys=True)
            if canonical in seen:
                problems.append(problem(FILE_ROW, f"$.{name}[{index}]", _(
                    "Not valid CycloneDX %(version)s: the same as $.%(name)s[%(first)s]; items must be unique.") % {
                    "version": spec_version, "name": name, "first": seen[canonical]}))
            else:
                seen[canonical] = index
    return problems[:MAX_PROBLEMS]


def read_bom(raw: bytes) -> tuple[dict, str]:
    """(the BOM, its text), validated; ImportFailed with JSON paths otherwise."""
    try:
        text = raw.decode("utf-8-sig")
        bom = json.loads(text)
    except UnicodeDecodeError:
        raise _fail("$", _("The file is not UTF-8 text.")) from None
    except json.JSONDecodeError as error:
        raise _fail("$", _("Malformed JSON at line %(line)s, column %(column)s: %(message)s.") % {
            "line": error.lineno, "column": error.colno, "message": error.msg}) from None
    if not isinstance(bom, dict) or bom.get("bomFormat") != "CycloneDX":
        raise _fail("$.bomFormat", _('This is not a CycloneDX BOM: "bomFormat" must be "CycloneDX".'))
    spec_version = bom.get("specVersion")
    if spec_version not in SUPPORTED_VERSIONS:
        raise _fail("$.specVersion", _("CycloneDX %(version)s is not supported; export the BOM as CycloneDX "
                                       "%(supported)s.") % {"version": spec_version,
                                                            "supported": ", ".join(SUPPORTED_VERSIONS)})
    problems = _schema_problems(bom, spec_version)
    if problems:
        raise ImportFailed(problems)
    return bom, text


def flatten(bom: dict) -> list[tuple[str, dict]]:
    """(JSON path, component) of every component, nested ones included, in document order."""
    found = []

    def walk(components, path):
        for index, component in enumerate(components or ()):
            here = f"{path}[{index}]"
            found.append((here, component))
            walk(component.get("components"), f"{here}.components")

    walk(bom.get("components"), "$.components")
    return found


def component_key(component: dict) -> str:
    return component.get("bom-ref") or component.get("purl") or (
        f"{component.get('name', '')}@{component.get('version', '')}")


def _firmware_hash(component: dict) -> str:
    if component.get("type") != "firmware":
        return ""
    hashes = {item.get("alg"): item.get("content", "") for item in component.get("hashes") or ()}
    return next((hashes[alg].lower() for alg in HASH_PREFERENCE if hashes.get(alg)), "")


def _supplier_name(component: dict, bom: dict) -> str:
    supplier = component.get("supplier") or (bom.get("metadata") or {}).get("supplier") or {}
    return (supplier.get("name") or "").strip()


def _choice(value, choices) -> str:
    return value if value in choices.values else ""


def component_fields(component: dict, *, bom: dict, names_by_ref: dict, suppliers: dict) -> dict:
    """The Component fields a BOM component sets."""
    crypto = component.get("cryptoProperties") or {}
    algorithm_properties = crypto.get("algorithmProperties") or {}
    asset_type = _choice(crypto.get("assetType"), CryptoAssetTypeChoices)
    algorithm = ""
    notes = []
    if asset_type == CryptoAssetTypeChoices.ALGORITHM:
        algorithm = component.get("name", "")
    elif asset_type == CryptoAssetTypeChoices.CERTIFICATE:
        algorithm = names_by_ref.get((crypto.get("certificateProperties") or {}).get("signatureAlgorithmRef"), "")
    elif asset_type == CryptoAssetTypeChoices.RELATED_CRYPTO_MATERIAL:
        algorithm = names_by_ref.get((crypto.get("relatedCryptoMaterialProperties") or {}).get("algorithmRef"), "")
    elif asset_type == CryptoAssetTypeChoices.PROTOCOL:
        protocol = crypto.get("protocolProperties") or {}
        notes.append(_("Protocol: %(type)s %(version)s") % {"type": protocol.get("type", ""),
                                                           "version": protocol.get("version", "")})
    certification = algorithm_properties.get("certificationLevel") or []
    if isinstance(certification, str):
        certification = [certification]
    supplier_name = _supplier_name(component, bom)
    supplier = suppliers.get(supplier_name.lower()) if supplier_name else None
    if supplier_name and supplier is None:
        notes.append(_("Supplier named in the BOM (not one of the agency's suppliers): %(name)s") % {
            "name": supplier_name})
    return {
        "name": (component.get("name") or "")[:200],
        "component_type": (component.get("type") or "library")[:30],
        "component_version": (component.get("version") or "")[:100],
        "purl": (component.get("purl") or "")[:500],
        "supplier": supplier,
        "firmware_sha256": _firmware_hash(component),
        "crypto_asset_type": asset_type,
        "primitive": _choice(algorithm_properties.get("primitive"), CryptoPrimitiveChoices),
        "algorithm": algorithm[:100],
        "parameter_set_identifier": str(algorithm_properties.get("parameterSetIdentifier") or "")[:100],
        "classical_security_level": algorithm_properties.get("classicalSecurityLevel"),
        "nist_quantum_security_level": algorithm_properties.get("nistQuantumSecurityLevel"),
        "certification_level": list(certification),
        "key_state": _choice((crypto.get("relatedCryptoMaterialProperties") or {}).get("state"), KeyStateChoices),
        "notes": "\n".join(notes),
    }


def _known_refs(bom: dict) -> set[str]:
    """Every bom-ref a dependency may name: components, services and the BOM's own subject."""
    refs = set()

    def walk(items, nested):
        for item in items or ():
            if item.get("bom-ref"):
                refs.add(item["bom-ref"])
            walk(item.get(nested), nested)

    walk(bom.get("components"), "components")
    walk(bom.get("services"), "services")
    subject = (bom.get("metadata") or {}).get("component") or {}
    if subject.get("bom-ref"):
        refs.add(subject["bom-ref"])
    walk(subject.get("components"), "components")
    return refs


def dependency_map(bom: dict, keys: set[str]) -> dict[str, set[str]]:
    """{bom-ref: the bom-refs it depends on} among the imported components; a dependency naming a
    ref the BOM does not define fails the file."""
    known = _known_refs(bom)
    problems, graph = [], {}
    for index, entry in enumerate(bom.get("dependencies") or ()):
        ref = entry.get("ref")
        if ref not in known:
            problems.append(problem(FILE_ROW, f"$.dependencies[{index}].ref", _(
                "%(ref)s is not the bom-ref of any component of this BOM.") % {"ref": ref}))
        for position, target in enumerate(entry.get("dependsOn") or ()):
            if target not in known:
                problems.append(problem(FILE_ROW, f"$.dependencies[{index}].dependsOn[{position}]", _(
                    "%(ref)s is not the bom-ref of any component of this BOM.") % {"ref": target}))
            elif ref in keys and target in keys:
                graph.setdefault(ref, set()).add(target)
    if problems:
        raise ImportFailed(problems[:MAX_PROBLEMS])
    return graph


def _dependency_order(plan, graph) -> list:
    """The plan with each component after those it depends on (depth first), so that most
    components are written once, their dependencies included; a cycle is closed afterwards."""
    by_key = {item[0]: item for item in plan}
    ordered, state = [], {}
    for root in by_key:
        if root in state:
            continue
        stack = [(root, iter(sorted(graph.get(root, ()))))]
        state[root] = "open"
        while stack:
            key, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                stack.pop()
                state[key] = "done"
                ordered.append(by_key[key])
            elif target not in state:
                state[target] = "open"
                stack.append((target, iter(sorted(graph.get(target, ())))))
    return ordered


def _write(plan, graph, *, agency, user, serial, version, counts) -> None:
    saved, problems, deferred, unchanged = {}, [], [], set()
    for key, path, fields, instance, changed in _dependency_order(plan, graph):
        targets = graph.get(key, set())
        ready = {saved[target].pk for target in targets if target in saved}
        if len(ready) < len(targets):
            deferred.append(key)  # part of a cycle: its dependencies are written at the end
        data = {name: fields[name] for name in (changed or ())}
        if (instance is not None and len(ready) == len(targets)
                and {c.pk for c in instance.depends_on.all()} != ready):
            data["depends_on"] = sorted(ready)
        try:
            if instance is None:
                saved[key] = object_create(model=Component, user=user, data={
                    "agency": agency, **fields, "bom_serial": serial, "bom_version": version, "bom_ref": key[:300],
                    "depends_on": sorted(ready)})
                counts["created"] += 1
            elif data:
                saved[key] = object_update(instance=instance, user=user, data=data | {"bom_version": version})
                counts["updated"] += 1
            else:
                saved[key] = instance
                unchanged.add(key)
                counts["unchanged"] += 1
        except ValidationError as error:
            messages = error.message_dict if hasattr(error, "error_dict") else {"component": error.messages}
            problems += [problem(FILE_ROW, path, f"{name}: {' '.join(texts)}") for name, texts in messages.items()]
    if problems:
        raise ImportFailed(problems[:MAX_PROBLEMS])
    for key in deferred:
        component = Component.objects.prefetch_related("depends_on").get(pk=saved[key].pk)
        wanted = {saved[target].pk for target in graph[key]}
        if {c.pk for c in component.depends_on.all()} != wanted:
            object_update(instance=component, user=user, data={"depends_on": sorted(wanted)})
            if key in unchanged:
                counts["unchanged"] -= 1
                counts["updated"] += 1


def _differs(instance, fields: dict) -> list[str]:
    changed = []
    for name, value in fields.items():
        current = getattr(instance, f"{name}_id") if name == "supplier" else getattr(instance, name)
        new = value.pk if name == "supplier" and value is not None else value
        if current != new:
            changed.append(name)
    return changed


class CycloneDxImporter(DocumentImporter):
    model = Component
    format = "cyclonedx-json"
    label = "CycloneDX JSON"
    extensions = (".json",)
    description = _("Upload a CycloneDX JSON SBOM or CBOM (spec 1.4, 1.5 or 1.6). It is checked against the "
                    "official schema, then its components are created, or updated when a newer version of the "
                    "same BOM (serial number) is imported; the same BOM twice changes nothing. Either the whole "
                    "file is imported or nothing, with the JSON path of each problem.")

    def execute(self, run, file) -> dict:
        bom, _text = read_bom(file.read())
        return import_bom(bom, agency=run.agency, user=run.requested_by, file_sha256=run.sha256)


def import_bom(bom: dict, *, agency, user, file_sha256: str) -> dict:
    """Write the validated `bom` into `agency` (the caller holds the transaction)."""
    serial = bom.get("serialNumber") or f"sha256:{file_sha256}"
    version = bom.get("version", 1)
    entries = flatten(bom)
    by_key, problems = {}, []
    for path, component in entries:
        key = component_key(component)
        if key in by_key:
            problems.append(problem(FILE_ROW, f"{path}.bom-ref", _("%(ref)s is used by two components.") % {
                "ref": key}))
        by_key[key] = (path, component)
    if problems:
        raise ImportFailed(problems[:MAX_PROBLEMS])
    graph = dependency_map(bom, set(by_key))

    existing = {c.bom_ref: c for c in Component.objects.filter(agency=agency, bom_serial=serial)
                .prefetch_related("depends_on")}
    imported_version = max((c.bom_version or 0 for c in existing.values()), default=None)
    if imported_version is not None and version < imported_version:
        raise _fail("$.version", _("Version %(version)s of this BOM is older than version %(imported)s, already "
                                   "imported; nothing was changed.") % {"version": version,
                                                                       "imported": imported_version})
    suppliers = {supplier.name.lower(): supplier for supplier in Supplier.objects.filter(agency=agency)}
    names_by_ref = {key: component.get("name", "") for key, (_path, component) in by_key.items()}

    plan, counts = [], {"created": 0, "updated": 0, "unchanged": 0}
    for key, (path, component) in by_key.items():
        fields = component_fields(component, bom=bom, names_by_ref=names_by_ref, suppliers=suppliers)
        instance = existing.get(key)
        changed = _differs(instance, fields) if instance is not None else None
        plan.append((key, path, fields, instance, changed))
    if imported_version is not None and version == imported_version:
        differing = [path for key, path, _f, instance, changed in plan if instance is None or changed
                     or {c.bom_ref for c in instance.depends_on.all()} != graph.get(key, set())]
        if differing:
            raise ImportFailed([problem(FILE_ROW, "$.version", _(
                "Version %(version)s of this BOM was imported with other content; give the changed BOM a higher "
                "version.") % {"version": version})] + [
                problem(FILE_ROW, path, _("Differs from the imported version.")) for path in differing[:50]])

    with crypto_policy_held(agency.pk):
        _write(plan, graph, agency=agency, user=user, serial=serial, version=version, counts=counts)
    return counts
