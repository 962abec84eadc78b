#!/usr/bin/env python3
"""Checks Schemas/: the JSON Schemas, their examples, and the OpenAPI document.

Runs offline with only `jsonschema` (>= 4.18, for `referencing`), `rfc3986-validator` (for `format: uri`) and
`openapi-spec-validator` installed:

    python3 Schemas/check.py            # exit 0 when everything passes, 1 otherwise

What it checks:
  1. every `*.schema.json` passes Draft202012Validator.check_schema, declares the 2020-12 `$schema`,
     `$id` = `urn:custody:schema:<name>`, a `title` and a `description`, and every property has a
     `description`;
  2. every schema has `examples/<name>.json`, and the example validates (with format checking);
  3. the custody event catalogue (`../docs/catalogue.md`): every type it lists has a schema named after it
     (dots as dashes) whose `type` is that const and matches the common `type` pattern of event-body; the
     envelope dispatches every typed schema, and an envelope carrying each typed example validates while one
     carrying the example without a required field of its type is rejected; the commitments in the examples
     are SHA-256 of the JCS form of their disclosures (`examples/disclosure.json` for kp-export);
  4. a list of known-bad instances (below, and for the custody catalogue `catalogue-cases.json`, which the
     daemon's tests run too) is rejected, so the patterns and bounds really bite, each catalogue case at or
     above the member the daemon names; a list of known-good variants (optional members left out, the other
     `oneOf` branch) is accepted; cases built on an example that does not validate are skipped (they would
     prove nothing);
  5. `openapi.json` passes openapi-spec-validator (OpenAPI 3.1), the `components/schemas` it has mirror
     their schema files exactly (`urn:custody:schema:<name>` refs become `#/components/schemas/<Name>`;
     schema files without a component are listed, not failed), every 4xx/5xx response is
     `application/problem+json` with the Problem schema, and every example embedded in it validates
     against its schema;
  6. README.md names every schema and example file.

After editing a schema file, `python3 Schemas/check.py --sync-components` rewrites
`openapi.json`'s `components/schemas` from the schema files (and then runs the checks).
"""
import copy
import hashlib
import json
import re
import sys
from pathlib import Path

try:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
    from openapi_spec_validator import OpenAPIV31SpecValidator
except ImportError as e:  # pragma: no cover
    print(f"FAIL: missing package ({e}); pip install jsonschema openapi-spec-validator")
    sys.exit(2)

# The daemon refuses an evidence `uri` that is no RFC 3986 URI (`format: uri`); jsonschema asserts that format only
# with a URI parser installed.
if Draft202012Validator.FORMAT_CHECKER.conforms("not a uri", "uri"):  # pragma: no cover
    print("FAIL: format uri is not checked; pip install rfc3986-validator")
    sys.exit(2)

HERE = Path(__file__).resolve().parent
META = "https://json-schema.org/draft/2020-12/schema"
URN = "urn:custody:schema:"
MAX = 2**53 - 1

failures: list[str] = []
passes = 0


def fail(msg: str) -> None:
    failures.append(msg)
    print(f"FAIL: {msg}")


def ok() -> None:
    global passes
    passes += 1


def load(path: Path):
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f, object_pairs_hook=no_duplicate_keys(path))
    except (OSError, ValueError) as e:
        fail(f"{path.relative_to(HERE)}: cannot read JSON: {e}")
        return None


def no_duplicate_keys(path: Path):
    def hook(pairs):
        keys = [k for k, _ in pairs]
        dups = {k for k in keys if keys.count(k) > 1}
        if dups:
            raise ValueError(f"duplicate keys {sorted(dups)}")
        return dict(pairs)
    return hook


def pascal(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("-"))


def fmt_error(err) -> str:
    where = "/".join(str(p) for p in err.absolute_path) or "(root)"
    return f"at {where}: {err.message[:300]}"


# ---------------------------------------------------------------- 1. schemas
schema_files = sorted(HERE.glob("*.schema.json"))
if not schema_files:
    fail("no *.schema.json files found")
schemas: dict[str, dict] = {}
broken: set[str] = set()  # schemas that failed check_schema: not used to validate anything
for path in schema_files:
    name = path.name[: -len(".schema.json")]
    s = load(path)
    if s is None:
        continue
    schemas[name] = s
    try:
        Draft202012Validator.check_schema(s)
        ok()
    except Exception as e:  # SchemaError
        fail(f"{path.name}: not a valid 2020-12 schema: {getattr(e, 'message', e)}")
        broken.add(name)
    if s.get("$schema") != META:
        fail(f"{path.name}: $schema must be {META}")
    if s.get("$id") != URN + name:
        fail(f"{path.name}: $id must be {URN + name}, is {s.get('$id')!r}")
    for key in ("title", "description"):
        if not isinstance(s.get(key), str) or not s[key].strip():
            fail(f"{path.name}: missing {key}")

    def walk(node, where):
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                for pname, psch in props.items():
                    if not isinstance(psch, dict) or not psch.get("description"):
                        fail(f"{path.name}: property {where}/properties/{pname} has no description")
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}/{i}")
    walk(s, "#")

# every urn ref must point at a schema we have
def collect_refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.append(v)
            else:
                collect_refs(v, out)
    elif isinstance(node, list):
        for v in node:
            collect_refs(v, out)
    return out

for name, s in schemas.items():
    for r in collect_refs(s, []):
        if r.startswith(URN) and r[len(URN):] not in schemas:
            fail(f"{name}.schema.json: $ref {r} names no schema file")
        elif not (r.startswith(URN) or r.startswith("#")):
            fail(f"{name}.schema.json: $ref {r} is neither {URN}<name> nor local (the check is offline)")

registry = Registry().with_resources(
    (s["$id"], Resource.from_contents(s, default_specification=DRAFT202012))
    for s in schemas.values() if isinstance(s.get("$id"), str)
)


def validator_for(name: str):
    return Draft202012Validator(schemas[name], registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors_of(validator, instance, what):
    """All validation errors, or None (after reporting) when validation itself blew up."""
    try:
        return sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    except Exception as e:  # unresolvable $ref, unknown type in a broken schema, ...
        fail(f"{what}: validation could not run: {type(e).__name__}: {str(e).splitlines()[0][:300]}")
        return None


# ---------------------------------------------------------------- 2. examples
examples: dict[str, object] = {}
valid_examples: set[str] = set()  # examples that validate against their schema
example_dir = HERE / "examples"
for name in schemas:
    p = example_dir / f"{name}.json"
    if not p.exists():
        fail(f"{name}.schema.json has no example examples/{name}.json")
        continue
    ex = load(p)
    if ex is None:
        continue
    examples[name] = ex
    if name in broken:
        continue
    errs = errors_of(validator_for(name), ex, f"examples/{name}.json")
    if errs is None:
        continue
    if errs:
        for e in errs:
            fail(f"examples/{name}.json does not validate {fmt_error(e)}")
    else:
        valid_examples.add(name)
        ok()
for p in sorted(example_dir.glob("*.json")) if example_dir.is_dir() else []:
    if p.stem not in schemas:
        fail(f"examples/{p.name} has no schema {p.stem}.schema.json")


# ---------------------------------------------------------------- 3. the custody event catalogue
def type_subschema(s):
    """The `allOf` member of a typed body schema that fixes `type` by `const`, or None."""
    for sub in s.get("allOf", []) if isinstance(s, dict) else []:
        if isinstance(sub, dict) and isinstance(sub.get("properties", {}).get("type"), dict) \
                and "const" in sub["properties"]["type"]:
            return sub
    return None


typed = {name: type_subschema(s)["properties"]["type"]["const"]
         for name, s in schemas.items() if type_subschema(s) is not None}

# every type the catalogue lists (first cell of its tables) has a schema named after it
catalogue_path = HERE.parent / "docs" / "catalogue.md"
if not catalogue_path.exists():
    fail("docs/catalogue.md is missing: cannot check that every catalogue type has a schema")
else:
    catalogue_types = re.findall(r"^\|\s*`([a-z][a-z0-9.-]*)`\s*\|", catalogue_path.read_text(encoding="utf-8"), re.M)
    if not catalogue_types:
        fail("docs/catalogue.md: no event types found in its tables")
    for t in catalogue_types:
        name = t.replace(".", "-")
        if name not in schemas:
            fail(f"docs/catalogue.md type {t} has no schema {name}.schema.json")
        elif typed.get(name) != t:
            fail(f"{name}.schema.json does not fix type to {t!r} by const")
        else:
            ok()

# every typed schema's type is a valid common `type` (else no body of it can ever be accepted)
type_pattern = schemas.get("event-body", {}).get("properties", {}).get("type", {}).get("pattern")
if type_pattern:
    for name, t in sorted(typed.items()):
        if re.search(type_pattern, t):
            ok()
        else:
            fail(f"{name}.schema.json: type {t!r} does not match the common type pattern {type_pattern} "
                 f"(event-body.schema.json, docs/protocol.md): every body of this type is refused as invalid-event")

# the envelope dispatches every typed schema, and the dispatch really applies the type's schema
if "event-envelope" in schemas:
    dispatch = {}
    for sub in schemas["event-envelope"].get("properties", {}).get("body", {}).get("allOf", []):
        try:
            dispatch[sub["if"]["properties"]["type"]["const"]] = sub["then"]["$ref"]
        except (KeyError, TypeError):
            continue
    for name, t in sorted(typed.items()):
        if dispatch.get(t) != URN + name:
            fail(f"event-envelope.schema.json: body of type {t} is not dispatched to {URN + name}")
            continue
        if "event-envelope" not in valid_examples or name not in valid_examples or "event-envelope" in broken:
            continue
        env = copy.deepcopy(examples["event-envelope"])
        env["body"] = copy.deepcopy(examples[name])
        errs = errors_of(validator_for("event-envelope"), env, f"envelope carrying examples/{name}.json")
        if errs:
            for e in errs:
                fail(f"an envelope carrying examples/{name}.json does not validate {fmt_error(e)}")
        elif errs is not None:
            ok()
        own = [r for r in type_subschema(schemas[name]).get("required", [])
               if r not in schemas.get("event-body", {}).get("required", []) and r in env["body"]]
        if own:
            del env["body"][own[0]]
            errs = errors_of(validator_for("event-envelope"), env, f"envelope carrying {name} without {own[0]}")
            if errs == []:
                fail(f"event-envelope.schema.json accepts a {t} body without {own[0]}: the dispatch does not apply")
            elif errs:
                ok()


def jcs(v) -> str:
    """RFC 8785 form of a value made of objects, arrays, strings, integers, booleans and null."""
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + jcs(x) for k, x in items) + "}"
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, float):
        raise ValueError("this JCS subset has no fractional numbers")
    return json.dumps(v, ensure_ascii=False)


def commitment(disclosure) -> str:
    return hashlib.sha256(jcs(disclosure).encode("utf-8")).hexdigest()


# the commitments in the examples open to these disclosures (the kp-export one is examples/disclosure.json)
COMMITMENTS = [
    ("kp-export", "valueCommitment", examples.get("disclosure")),
    ("custody-transfer", "termsCommitment",
     {"salt": "0xHW0v2GTGiPRgKUvsifbQ==", "value": {"paymentDays": 60, "priceCents": 2397800}}),
    ("parcel-sale", "priceCommitment", {"salt": "MIixNUomTjCh39mor27Z8w==", "value": 2450000}),
]
for name, member, disclosure in COMMITMENTS:
    if name not in examples or disclosure is None:
        continue
    if "disclosure" in schemas and "disclosure" not in broken:
        errs = errors_of(validator_for("disclosure"), disclosure, f"disclosure of {name} {member}")
        for e in errs or []:
            fail(f"the disclosure of examples/{name}.json {member} is not a valid disclosure {fmt_error(e)}")
    want = commitment(disclosure)
    if examples[name].get(member) != want:
        fail(f"examples/{name}.json: {member} is not SHA-256(JCS(disclosure)) = {want}")
    else:
        ok()


# ---------------------------------------------------------------- 4. known-bad and known-good instances
def mutated(name, fn):
    if name not in examples:
        return None
    v = copy.deepcopy(examples[name])
    fn(v)
    return v


def setp(path, value):
    def fn(v):
        node = v
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
    return fn


def delp(path):
    def fn(v):
        node = v
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]
    return fn


BAD = [
    ("event-envelope", "extra member", setp(["extra"], 1)),
    ("event-envelope", "uppercase key id", lambda v: v.__setitem__("keyId", v["keyId"].upper())),
    ("event-envelope", "31-byte key id", setp(["keyId"], "ab" * 15)),
    ("event-envelope", "signature without padding", lambda v: v.__setitem__("signature", v["signature"].rstrip("="))),
    ("event-envelope", "signature of 63 bytes", setp(["signature"], "A" * 84)),
    ("event-envelope", "register body without publicKeys", delp(["body", "publicKeys"])),
    ("event-envelope", "register body with empty publicKeys", setp(["body", "publicKeys"], [])),
    ("event-envelope", "missing signature", delp(["signature"])),
    ("event-body", "time with an offset", setp(["occurredAt"], "2026-11-29T04:20:03+02:00")),
    ("event-body", "time with lowercase z", setp(["occurredAt"], "2026-11-29T02:20:03z")),
    ("event-body", "date only", setp(["occurredAt"], "2026-11-29")),
    ("event-body", "nonce of 7 characters", setp(["nonce"], "abcdefg")),
    ("event-body", "nonce of 129 characters", setp(["nonce"], "n" * 129)),
    ("event-body", "upper-case type", setp(["type"], "Site.register")),
    ("event-body", "uppercase type", setp(["type"], "Participant.register")),
    ("event-body", "schemaVersion 0", setp(["schemaVersion"], 0)),
    ("event-body", "signer starting with a dot", setp(["signer"], ".registrar")),
    ("event-body", "signer of 129 characters", setp(["signer"], "a" * 129)),
    ("event-body", "integer 2^53 nested in a type field", setp(["lot"], {"points": [MAX + 1]})),
    ("event-body", "integer -2^53 in a type field", setp(["valueCents"], -(MAX + 1))),
    ("event-body", "missing nonce", delp(["nonce"])),
    ("receipt", "loggedAt without milliseconds", setp(["loggedAt"], "2026-11-29T02:20:04Z")),
    ("receipt", "uppercase event id", lambda v: v.__setitem__("eventId", v["eventId"].upper())),
    ("receipt", "hex leaf hash", setp(["leafHash"], "ab" * 32)),
    ("receipt", "checkpoint without signature", lambda v: v.__setitem__("checkpoint", v["checkpoint"].split("\n\n")[0] + "\n")),
    ("receipt", "duplicate as string", setp(["duplicate"], "false")),
    ("receipt", "missing inclusionProof", delp(["inclusionProof"])),
    ("receipt", "extra member", setp(["treeSize"], 2)),
    ("batch-result", "accepted with a problem", setp(["results", 0, "problem"], {})),
    ("batch-result", "unknown status", setp(["results", 0, "status"], "queued")),
    ("batch-result", "rejected without problem", delp(["results", 2, "problem"])),
    ("entry", "leafInput not base64", setp(["leafInput"], "{\"body\":{}}")),
    ("entry", "negative index", setp(["index"], -1)),
    ("entry", "index above 2^53-1", setp(["index"], MAX + 1)),
    ("entries-page", "1001 entries", lambda v: v.__setitem__("entries", v["entries"][:1] * 1001)),
    ("entries-page", "extra member", setp(["next"], 2)),
    ("checkpoints-page", "1001 checkpoints", lambda v: v.__setitem__("checkpoints", v["checkpoints"][:1] * 1001)),
    ("checkpoints-page", "tree size 0", setp(["checkpoints", 0, "treeSize"], 0)),
    ("checkpoints-page", "note without signature lines", setp(["checkpoints", 0, "note"], "ledger.custody-ledger.example/diamonds\n4\na4JJ/d/TUCklcMZbJC3LEIwMKlrS7YVkSHJaKqYUwGA=\n")),
    ("checkpoints-page", "checkpoint without note", delp(["checkpoints", 0, "note"])),
    ("inclusion-proof", "tree size 0", setp(["treeSize"], 0)),
    ("inclusion-proof", "43-character node hash", setp(["auditPath", 0], "A" * 43)),
    ("consistency-proof", "first 0", setp(["first"], 0)),
    ("consistency-proof", "hash without padding", setp(["consistency", 0], "A" * 43)),
    ("problem", "type about:blank", setp(["type"], "about:blank")),
    ("problem", "status 200", setp(["status"], 200)),
    ("problem", "missing detail", delp(["detail"])),
    ("problem", "pointer without leading slash", setp(["pointer"], "body/occurredAt")),
    ("problem", "negative item", setp(["item"], -1)),
    ("problem", "pointer with an unescaped ~ (a~b)", setp(["pointer"], "/body/a~b")),
    ("problem", "a query parameter's bare name as the pointer", setp(["pointer"], "limit")),
    ("problem", "empty parameter", setp(["parameter"], "")),
    ("health", "status degraded", setp(["status"], "degraded")),
    ("health", "missing treeSize", delp(["treeSize"])),
    ("disclosure", "salt of 15 bytes", setp(["salt"], "AAAAAAAAAAAAAAAAAAAA")),
    ("disclosure", "salt without padding", lambda v: v.__setitem__("salt", v["salt"].rstrip("="))),
    ("disclosure", "base64url salt", setp(["salt"], "Lp6ezD_HQPtuMsShtY4Cbw==")),
    ("disclosure", "value 2^53", setp(["value"], MAX + 1)),
    ("disclosure", "missing value", delp(["value"])),
    ("disclosure", "missing salt", delp(["salt"])),
    ("disclosure", "extra member", setp(["commitment"], "ab" * 32)),
    ("disclosure", "field that is no commitment", setp(["field"], "/carats")),
    ("disclosure", "negative index", setp(["index"], -1)),
    ("disclosure-deposit", "missing index", delp(["index"])),
    ("disclosure-deposit", "missing field", delp(["field"])),
    ("disclosure-deposit", "field without its slash", setp(["field"], "valueCommitment")),
    ("disclosure-record", "uppercase commitment", lambda v: v.__setitem__("commitment", v["commitment"].upper())),
    ("disclosure-record", "missing depositedBy", delp(["depositedBy"])),
    ("disclosure-record", "depositedAt without milliseconds", setp(["depositedAt"], "2026-11-29T03:41:05Z")),
    ("disclosures-page", "missing disclosures", delp(["disclosures"])),
    ("event-envelope", "kp.export body with carats as a string", lambda v: v.__setitem__(
        "body", dict(examples["kp-export"], carats="211075"))),
    ("event-envelope", "register body with protocol's old `name` instead of legalName", lambda v: (
        v["body"].pop("legalName"), v["body"].__setitem__("name", "Debswana"))),
    ("event-envelope", "policy.publish body without data", lambda v: v.__setitem__(
        "body", {k: x for k, x in examples["policy-publish"].items() if k != "data"})),
]

# Valid variants of the examples: optional members left out, the other branch of a `oneOf`.
GOOD = [
    ("disclosure", "salt of 17 bytes", setp(["salt"], "AAAAAAAAAAAAAAAAAAAAAAE=")),
    ("disclosure", "salt of 18 bytes", setp(["salt"], "AAAAAAAAAAAAAAAAAAAAAAAA")),
    ("disclosure", "object value", setp(["value"], {"paymentDays": 60, "priceCents": 2397800})),
    ("disclosure", "with index and field (a disclosure file)", lambda v: v.update({"index": 16, "field": "/valueCommitment"})),
    ("disclosures-page", "no disclosure yet", setp(["disclosures"], [])),
    ("problem", "member names escaped in the pointer (a~b/c)", setp(["pointer"], "/body/a~0b~1c")),
    ("problem", "a query parameter at fault", lambda v: (v.pop("pointer"), v.update({
        "type": "urn:custody:problem:invalid-parameter", "title": "Invalid parameter", "parameter": "limit"}))),
]


def patched(ops):
    """An RFC 6902 JSON Patch (`add`, `replace`, `remove`) as a mutation for `mutated`."""
    def fn(v):
        for op in ops:
            tokens = [t.replace("~1", "/").replace("~0", "~") for t in op["path"].split("/")[1:]]
            node = v
            for t in tokens[:-1]:
                node = node[int(t) if isinstance(node, list) else t]
            last = int(tokens[-1]) if isinstance(node, list) else tokens[-1]
            if op["op"] == "remove":
                del node[last]
            elif op["op"] == "add" and isinstance(node, list):
                node.insert(last, op["value"])
            elif op["op"] in ("add", "replace"):
                node[last] = op["value"]
            else:
                raise KeyError(f"unsupported op {op['op']}")
    return fn


def pointer_of(err) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in err.absolute_path)


skipped_cases = 0


def check_case(name, what, fn, bad_case, pointer=None):
    """A known-bad case must be refused (at `pointer` or above it, when given), a known-good one accepted."""
    global skipped_cases
    kind = "known-bad" if bad_case else "known-good"
    if name not in schemas:
        fail(f"{kind} case '{name}: {what}': no schema {name}.schema.json")
        return
    if name not in valid_examples:  # built on an invalid example, the case would prove nothing
        skipped_cases += 1
        return
    try:
        inst = mutated(name, fn)
    except (KeyError, IndexError, TypeError) as e:
        fail(f"{kind} case '{name}: {what}' could not be built from the example ({e!r})")
        return
    if inst is None or name in broken:
        return
    errs = errors_of(validator_for(name), inst, f"{kind} case '{name}: {what}'")
    if errs is None:
        return
    if bad_case and not errs:
        fail(f"{name}.schema.json accepts a known-bad instance: {what}")
    elif not bad_case and errs:
        for e in errs:
            fail(f"{name}.schema.json rejects a known-good variant ({what}) {fmt_error(e)}")
    elif pointer is not None and any(not (pointer + "/").startswith(pointer_of(e) + "/") for e in errs):
        for e in errs:
            fail(f"{name}.schema.json refuses '{what}' {fmt_error(e)}; the daemon refuses it at /body{pointer}, "
                 f"which is not there or below")
    else:
        ok()


for cases, bad_cases in ((BAD, True), (GOOD, False)):
    for name, what, fn in cases:
        check_case(name, what, fn, bad_cases)

# The custody catalogue's cases are in catalogue-cases.json, which the daemon's tests run too
# (Tests/CustodyLedgerTests/SchemaAgreementTests.swift), so that the schemas and the rules cannot drift apart:
# the schema must refuse each invalid body where the daemon does (its `pointer`) or above, and accept each valid one.
cases_file = load(HERE / "catalogue-cases.json")
if cases_file is not None:
    for kind, bad_cases in (("invalid", True), ("valid", False)):
        for c in cases_file.get(kind, []):
            pointer = c.get("pointer")
            check_case(c["example"], c["what"], patched(c["patch"]), bad_cases,
                       pointer[len("/body"):] if pointer else None)
    covered = {c["example"] for c in cases_file.get("invalid", [])}
    for name in sorted(set(typed) - covered):
        fail(f"catalogue-cases.json has no invalid body of {name}")
if skipped_cases:
    print(f"note: {skipped_cases} known-bad/known-good cases skipped because their example does not validate")


# ---------------------------------------------------------------- 5. OpenAPI
def to_component(name, s):
    s = copy.deepcopy(s)
    s.pop("$schema", None)
    s.pop("$id", None)

    def walk(v):
        if isinstance(v, dict):
            for k, x in list(v.items()):
                if k == "$ref" and isinstance(x, str):
                    if x.startswith(URN):
                        v[k] = "#/components/schemas/" + pascal(x[len(URN):])
                    elif x.startswith("#/"):
                        v[k] = "#/components/schemas/" + pascal(name) + x[1:]
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(s)
    return s


def first_diff(a, b, where="#"):
    if type(a) is not type(b):
        return where
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}/{k}"
            d = first_diff(a[k], b[k], f"{where}/{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return where
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, f"{where}/{i}")
            if d:
                return d
        return None
    return None if a == b else where


openapi_path = HERE / "openapi.json"
doc = load(openapi_path) if openapi_path.exists() else None
if doc is not None and "--sync-components" in sys.argv[1:]:
    comps = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in sorted(schemas):
        comps[pascal(name)] = to_component(name, schemas[name])
    with openapi_path.open("w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote components/schemas of {openapi_path.name} from {len(schemas)} schema files")
if openapi_path.exists() is False:
    fail("openapi.json is missing")
if doc is not None:
    if doc.get("openapi") != "3.1.0":
        fail(f"openapi.json: openapi must be 3.1.0, is {doc.get('openapi')!r}")
    try:
        errs = list(OpenAPIV31SpecValidator(doc).iter_errors())
    except Exception as e:  # resolver errors and the like
        errs = [e]
    if errs:
        for e in errs[:50]:
            fail(f"openapi.json: openapi-spec-validator: {getattr(e, 'message', e)}")
    else:
        ok()

    comps = doc.get("components", {}).get("schemas", {})
    # Only the components the document has are compared: schema files added since (the custody catalogue)
    # are not in it until `--sync-components` is run, which is listed here but not a failure.
    unmirrored = sorted(name for name in schemas if pascal(name) not in comps)
    if unmirrored:
        print(f"note: {len(unmirrored)} schema files have no component in openapi.json (not compared; "
              f"`--sync-components` adds them): {', '.join(unmirrored)}")
    for name, s in schemas.items():
        cname = pascal(name)
        if cname not in comps:
            continue
        want = to_component(name, s)
        d = first_diff(want, comps[cname])
        if d:
            fail(f"openapi.json: components/schemas/{cname} differs from {name}.schema.json at {d} "
                 f"(openapi.json is stale: `check.py --sync-components` copies the schema files into it)")
        else:
            ok()

    # resolve a local $ref inside the document
    def deref(node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node and isinstance(node["$ref"], str) \
                and node["$ref"].startswith("#/") and seen < 10:
            target = doc
            for part in node["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node, seen = target, seen + 1
        return node

    # validate an instance against a schema located in the document at `pointer`
    def doc_validator(pointer):
        root = dict(doc)
        root["$schema"] = META
        root["$ref"] = pointer
        return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def esc(s):
        return s.replace("~", "~0").replace("/", "~1")

    expected_ops = {("/v1/events", "post"), ("/v1/entries", "get"), ("/v1/entries/{index}", "get"),
                    ("/v1/checkpoint", "get"), ("/v1/proofs/inclusion", "get"),
                    ("/v1/proofs/consistency", "get"), ("/healthz", "get"), ("/openapi.json", "get")}
    have_ops = {(p, m) for p, item in doc.get("paths", {}).items() for m in item
                if m in ("get", "put", "post", "delete", "patch", "head", "options", "trace")}
    for p, m in sorted(expected_ops - have_ops):
        fail(f"openapi.json: operation {m.upper()} {p} is missing")

    def check_media(where, pointer, media):
        vptr = pointer + "/schema"
        if "example" in media:
            errs = errors_of(doc_validator(vptr), media["example"], f"openapi.json: example at {where}") or []
            for e in errs:
                fail(f"openapi.json: example at {where} does not validate {fmt_error(e)}")
            if not errs:
                ok()
        for ename, ex in (media.get("examples") or {}).items():
            ex = deref(ex)
            if "value" in ex:
                errs = errors_of(doc_validator(vptr), ex["value"], f"openapi.json: example {ename!r} at {where}") or []
                for e in errs:
                    fail(f"openapi.json: example {ename!r} at {where} does not validate {fmt_error(e)}")
                if not errs:
                    ok()

    for p, item in doc.get("paths", {}).items():
        for m, op in item.items():
            if not isinstance(op, dict) or m not in ("get", "post", "put", "delete", "patch"):
                continue
            base = f"#/paths/{esc(p)}/{m}"
            rb = deref(op.get("requestBody", {}))
            for mt, media in (rb.get("content") or {}).items():
                check_media(f"{m.upper()} {p} request {mt}", f"{base}/requestBody/content/{esc(mt)}", media)
            for code, resp in (op.get("responses") or {}).items():
                rptr = f"{base}/responses/{code}"
                if "$ref" in resp:
                    rptr = resp["$ref"]
                resp = deref(resp)
                content = resp.get("content") or {}
                if str(code)[0] in "45":
                    media = content.get("application/problem+json")
                    if set(content) != {"application/problem+json"} or media is None:
                        fail(f"openapi.json: {m.upper()} {p} {code} must be application/problem+json only")
                    elif media.get("schema") != {"$ref": "#/components/schemas/Problem"}:
                        fail(f"openapi.json: {m.upper()} {p} {code} must use #/components/schemas/Problem")
                    else:
                        ok()
                for mt, media in content.items():
                    check_media(f"{m.upper()} {p} {code} {mt}", f"{rptr}/content/{esc(mt)}", media)

    # parameters: integer bounds are present
    for pname, param in (doc.get("components", {}).get("parameters") or {}).items():
        sch = param.get("schema", {})
        if sch.get("type") != "integer" or "minimum" not in sch or "maximum" not in sch:
            fail(f"openapi.json: parameter {pname} has no integer bounds")

    # the example files and the embedded 200 examples agree where they show the same thing
    for name, p, code in [("entries-page", "/v1/entries", "200"), ("entry", "/v1/entries/{index}", "200"),
                          ("checkpoints-page", "/v1/checkpoints", "200"),
                          ("inclusion-proof", "/v1/proofs/inclusion", "200"),
                          ("consistency-proof", "/v1/proofs/consistency", "200"), ("health", "/healthz", "200")]:
        try:
            emb = doc["paths"][p]["get"]["responses"][code]["content"]["application/json"].get("example")
        except KeyError:
            emb = None
        if name in examples and emb is not None and emb != examples[name]:
            fail(f"openapi.json: example of GET {p} differs from examples/{name}.json")


# ---------------------------------------------------------------- 6. README
readme = HERE / "README.md"
if not readme.exists():
    fail("README.md is missing")
else:
    text = readme.read_text(encoding="utf-8")
    for name in schemas:
        for fname in (f"{name}.schema.json", f"examples/{name}.json"):
            if fname not in text:
                fail(f"README.md does not mention {fname}")

# ---------------------------------------------------------------- 7. sourcing policies and reference data
policies_dir = HERE / "policies"
if policies_dir.is_dir():
    pol_schema = load(policies_dir / "policy.schema.json")
    ref_schema = load(policies_dir / "reference-data.schema.json")
    for sch, fname in ((pol_schema, "policy.schema.json"), (ref_schema, "reference-data.schema.json")):
        try:
            Draft202012Validator.check_schema(sch)
            ok()
        except Exception as e:
            fail(f"policies/{fname}: not a valid 2020-12 schema: {getattr(e, 'message', e)}")
    pol_v = Draft202012Validator(pol_schema)
    ref_v = Draft202012Validator(ref_schema)
    names = {}
    for path in sorted(policies_dir.glob("*.json")):
        if path.name.endswith(".schema.json"):
            continue
        doc = load(path)
        errs = list(pol_v.iter_errors(doc))
        if errs:
            fail(f"policies/{path.name}: {fmt_error(errs[0])}")
        else:
            ok()
        if doc.get("policy") + ".json" != path.name:
            fail(f"policies/{path.name}: file name must be the policy's name")
        names[doc.get("policy")] = doc
    for n, doc in names.items():
        if "extends" in doc and doc["extends"] not in names:
            fail(f"policies/{n}.json extends unknown policy {doc['extends']}")
    datasets = set()
    for path in sorted((policies_dir / "reference").glob("*.json")):
        doc = load(path)
        errs = list(ref_v.iter_errors(doc))
        if errs:
            fail(f"policies/reference/{path.name}: {fmt_error(errs[0])}")
        else:
            ok()
        datasets.add(doc.get("dataset"))
    for n, doc in names.items():
        for r in doc.get("rules", []):
            for key in ("dataset", "capacityDataset"):
                d = r.get("parameters", {}).get(key)
                if d is not None and d not in datasets:
                    fail(f"policies/{n}.json: rule {r['rule']} names dataset {d}, which has no file in policies/reference")

print(f"{passes} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
