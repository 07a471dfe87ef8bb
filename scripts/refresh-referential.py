#!/usr/bin/env python3
"""Refresh the bundled territorial referential in data/referential/.

Reads the JSON files of the npm package @etalab/decoupage-administratif
(unpacked directory, e.g. from `npm pack @etalab/decoupage-administratif@6.0.0`)
and writes trimmed copies in the same etalab JSON format (same field names,
a JSON array with one object per line for readable diffs).

Usage:
    python3 scripts/refresh-referential.py PACKAGE_DIR [OUTPUT_DIR]

PACKAGE_DIR is the unpacked package (the directory holding `data/`, or the
`data/` directory itself). OUTPUT_DIR defaults to data/referential/ at the
repository root. Standard library only.
"""

import json
import os
import sys

COMMUNE_TYPE_FIELD = "type"
COMMUNE_ACTUELLE = "commune-actuelle"
# Fields kept for communes, in this order (absent fields are omitted).
COMMUNE_FIELDS = (
    "code",
    "nom",
    COMMUNE_TYPE_FIELD,
    "departement",
    "region",
    "siren",
    "population",
    "codesPostaux",
)
# Fields kept for communes déléguées/associées and arrondissements municipaux: they map the
# codes older files (such as the Annuaire de l'éducation) still use to the current commune.
ATTACHED_FIELDS = ("code", "nom", COMMUNE_TYPE_FIELD, "chefLieu", "commune", "departement")
EPCI_FIELDS = ("code", "nom", "type")
EPCI_MEMBER_FIELDS = ("code", "siren")


def fail(message):
    print(f"refresh-referential: {message}", file=sys.stderr)
    sys.exit(1)


def load(data_dir, name):
    path = os.path.join(data_dir, name)
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")
    if not isinstance(value, list):
        fail(f"{path}: expected a JSON array")
    return value


def pick(entry, fields):
    return {k: entry[k] for k in fields if k in entry}


def write(out_dir, name, entries):
    path = os.path.join(out_dir, name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("[\n")
        for i, entry in enumerate(entries):
            line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
            f.write(line)
            f.write(",\n" if i + 1 < len(entries) else "\n")
        f.write("]\n")
    os.replace(tmp, path)
    print(f"{path}: {len(entries)} entries")


def main(argv):
    if len(argv) not in (2, 3):
        fail("usage: refresh-referential.py PACKAGE_DIR [OUTPUT_DIR]")
    data_dir = argv[1]
    if os.path.isdir(os.path.join(data_dir, "data")):
        data_dir = os.path.join(data_dir, "data")
    if len(argv) == 3:
        out_dir = argv[2]
    else:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out_dir = os.path.join(root, "data", "referential")
    os.makedirs(out_dir, exist_ok=True)

    # Régions and départements: every entry, every field, as shipped.
    write(out_dir, "regions.json", load(data_dir, "regions.json"))
    write(out_dir, "departements.json", load(data_dir, "departements.json"))

    # Communes: current communes with their selected fields, then the communes
    # déléguées/associées and arrondissements municipaux with the code of the current
    # commune they belong to (`chefLieu` or `commune`).
    all_communes = load(data_dir, "communes.json")
    communes = [
        pick(c, COMMUNE_FIELDS)
        for c in all_communes
        if c.get(COMMUNE_TYPE_FIELD) == COMMUNE_ACTUELLE
    ] + [
        pick(c, ATTACHED_FIELDS)
        for c in all_communes
        if c.get(COMMUNE_TYPE_FIELD) != COMMUNE_ACTUELLE
    ]
    write(out_dir, "communes.json", communes)

    # EPCI à fiscalité propre: identity and member communes (code + SIREN).
    epci = []
    for e in load(data_dir, "epci.json"):
        trimmed = pick(e, EPCI_FIELDS)
        trimmed["membres"] = [pick(m, EPCI_MEMBER_FIELDS) for m in e.get("membres", [])]
        epci.append(trimmed)
    write(out_dir, "epci.json", epci)


if __name__ == "__main__":
    main(sys.argv)
