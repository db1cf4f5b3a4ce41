"""SQL that creates a PostGIS table holding the features of a GeoJSON file.

Usage: table_sql.py FILE TABLE > table.sql
       table_sql.py --properties FILE     (the property columns, as a TOML array)

Columns: `fid` (text, bigint or jsonb, from the feature ids), `geom` (geometry, EPSG:4326,
altitudes kept, from ST_GeomFromGeoJSON) and one column per property, in first-seen order,
typed from the values: bigint, double precision, boolean, text, or json for anything else
(arrays, objects, mixed types), which keeps the value's text. Standard library only.
"""

import json
import sys


def column_type(values):
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "text"
    if kinds == {bool}:
        return "boolean"
    if kinds == {int}:
        return "bigint"
    if kinds <= {int, float}:
        return "double precision"
    if kinds == {str}:
        return "text"
    return "json"


def literal(value, kind):
    if value is None:
        return "NULL"
    if kind in ("json", "jsonb"):
        text = json.dumps(value, ensure_ascii=False)
        return "'" + text.replace("'", "''") + "'::" + kind
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("bigint", "double precision"):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


def property_names(features):
    names = []
    for feature in features:
        for name in feature.get("properties") or {}:
            if name not in names:
                names.append(name)
    return names


def main():
    if sys.argv[1] == "--properties":
        with open(sys.argv[2], encoding="utf-8") as f:
            print(json.dumps(property_names(json.load(f)["features"])))
        return
    path, table = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        features = json.load(f)["features"]
    names = property_names(features)
    kinds = [
        column_type([(f.get("properties") or {}).get(n) for f in features]) for n in names
    ]
    id_kinds = {type(f.get("id")) for f in features}
    id_kind = {frozenset([str]): "text", frozenset([int]): "bigint"}.get(
        frozenset(id_kinds), "jsonb"
    )
    columns = [f"fid {id_kind}", "geom geometry"] + [
        f"{quoted(n)} {k}" for n, k in zip(names, kinds)
    ]
    out = [f"CREATE TABLE {quoted(table)} ({', '.join(columns)});"]
    for feature in features:
        props = feature.get("properties") or {}
        geometry = feature.get("geometry")
        geom = (
            "NULL"
            if geometry is None
            else "ST_SetSRID(ST_GeomFromGeoJSON("
            + literal(json.dumps(geometry), "text")
            + "), 4326)"
        )
        values = [literal(feature.get("id"), id_kind), geom] + [
            literal(props.get(n), k) for n, k in zip(names, kinds)
        ]
        out.append(f"INSERT INTO {quoted(table)} VALUES ({', '.join(values)});")
    out.append(f"CREATE INDEX ON {quoted(table)} USING gist (geom);")
    print("\n".join(out))


if __name__ == "__main__":
    main()
