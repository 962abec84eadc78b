#!/usr/bin/env python3
"""Checks Schemas/: the JSON Schemas, their examples, and the OpenAPI document.

Runs offline with only `jsonschema` (>= 4.18, for `referencing`) and `openapi-spec-validator` installed:

    python3 Schemas/check.py            # exit 0 when everything passes, 1 otherwise

What it checks:
  1. every `*.schema.json` passes Draft202012Validator.check_schema, declares the 2020-12 `$schema`,
     `$id` = `urn:custody:schema:<name>`, a `title` and a `description`, and every property has a
     `description`;
  2. every schema has `examples/<name>.json`, and the example validates (with format checking);
  3. a list of known-bad instances (below) is rejected, so the patterns and bounds really bite;
  4. `openapi.json` passes openapi-spec-validator (OpenAPI 3.1), its `components/schemas` mirror the
     schema files exactly (`urn:custody:schema:<name>` refs become `#/components/schemas/<Name>`),
     every 4xx/5xx response is `application/problem+json` with the Problem schema, and every example
     embedded in it validates against its schema;
  5. README.md names every schema and example file.

After editing a schema file, `python3 Schemas/check.py --sync-components` rewrites
`openapi.json`'s `components/schemas` from the schema files (and then runs the checks).
"""
import copy
import json
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
        ok()
for p in sorted(example_dir.glob("*.json")) if example_dir.is_dir() else []:
    if p.stem not in schemas:
        fail(f"examples/{p.name} has no schema {p.stem}.schema.json")


# ---------------------------------------------------------------- 3. known-bad instances
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
    ("event-body", "one-segment type", setp(["type"], "register")),
    ("event-body", "uppercase type", setp(["type"], "Participant.register")),
    ("event-body", "schemaVersion 0", setp(["schemaVersion"], 0)),
    ("event-body", "signer starting with a dot", setp(["signer"], ".registrar")),
    ("event-body", "signer of 129 characters", setp(["signer"], "a" * 129)),
    ("event-body", "integer 2^53 nested in a type field", setp(["lot"], {"points": [MAX + 1]})),
    ("event-body", "integer -2^53 in a type field", setp(["valueCents"], -(MAX + 1))),
    ("event-body", "missing nonce", delp(["nonce"])),
    ("log-genesis", "wrong type", setp(["type"], "log.start")),
    ("log-genesis", "missing registrar", delp(["registrar"])),
    ("log-genesis", "registrar key of 31 bytes", setp(["registrar", "publicKey"], "A" * 40 + "AA==")),
    ("log-genesis", "origin with a space", setp(["origin"], "custody ledger")),
    ("log-genesis", "origin with a plus", setp(["origin"], "custody+ledger")),
    ("log-genesis", "log key without the 0x01 prefix", lambda v: v.__setitem__(
        "logKey", v["logKey"].rsplit("+", 1)[0] + "+" + "B" + v["logKey"].rsplit("+", 1)[1][1:])),
    ("log-genesis", "log key with a 7-hex key id", lambda v: v.__setitem__(
        "logKey", "+".join((lambda n, k, r: (n, k[:7], r))(*v["logKey"].split("+", 2))))),
    ("participant-register", "public key not base64 of 32 bytes", setp(["publicKeys"], ["not-a-key"])),
    ("participant-register", "missing participant", delp(["participant"])),
    ("participant-register", "schemaVersion 2", setp(["schemaVersion"], 2)),
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
    ("inclusion-proof", "tree size 0", setp(["treeSize"], 0)),
    ("inclusion-proof", "43-character node hash", setp(["auditPath", 0], "A" * 43)),
    ("consistency-proof", "first 0", setp(["first"], 0)),
    ("consistency-proof", "hash without padding", setp(["consistency", 0], "A" * 43)),
    ("problem", "type about:blank", setp(["type"], "about:blank")),
    ("problem", "status 200", setp(["status"], 200)),
    ("problem", "missing detail", delp(["detail"])),
    ("problem", "pointer without leading slash", setp(["pointer"], "body/occurredAt")),
    ("problem", "negative item", setp(["item"], -1)),
    ("health", "status degraded", setp(["status"], "degraded")),
    ("health", "missing treeSize", delp(["treeSize"])),
]
for name, what, fn in BAD:
    if name not in schemas:
        continue
    try:
        bad = mutated(name, fn)
    except (KeyError, IndexError, TypeError) as e:
        fail(f"known-bad case '{name}: {what}' could not be built from the example ({e!r})")
        continue
    if bad is None or name in broken:
        continue
    errs = errors_of(validator_for(name), bad, f"known-bad case '{name}: {what}'")
    if errs is None:
        continue
    if not errs:
        fail(f"{name}.schema.json accepts a known-bad instance: {what}")
    else:
        ok()


# ---------------------------------------------------------------- 4. OpenAPI
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
    for name, s in schemas.items():
        cname = pascal(name)
        if cname not in comps:
            fail(f"openapi.json: components/schemas/{cname} (mirror of {name}.schema.json) is missing")
            continue
        want = to_component(name, s)
        d = first_diff(want, comps[cname])
        if d:
            fail(f"openapi.json: components/schemas/{cname} differs from {name}.schema.json at {d}")
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
                          ("inclusion-proof", "/v1/proofs/inclusion", "200"),
                          ("consistency-proof", "/v1/proofs/consistency", "200"), ("health", "/healthz", "200")]:
        try:
            emb = doc["paths"][p]["get"]["responses"][code]["content"]["application/json"].get("example")
        except KeyError:
            emb = None
        if name in examples and emb is not None and emb != examples[name]:
            fail(f"openapi.json: example of GET {p} differs from examples/{name}.json")


# ---------------------------------------------------------------- 5. README
readme = HERE / "README.md"
if not readme.exists():
    fail("README.md is missing")
else:
    text = readme.read_text(encoding="utf-8")
    for name in schemas:
        for fname in (f"{name}.schema.json", f"examples/{name}.json"):
            if fname not in text:
                fail(f"README.md does not mention {fname}")

print(f"{passes} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
