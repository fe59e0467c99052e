#!/usr/bin/env python3
"""A strict parser of Prometheus' text exposition format (version 0.0.4), standard library only.

    parse(text) -> {family_name: Family}; raises PromTextError naming the line on anything wrong.

Checked: the metric and label name grammar, label value escapes (only \\\\, \\" and \\n), one HELP
and one TYPE per family and both before its samples, samples of a family together, no
duplicate series, values in Go's float syntax, a final newline, and for histograms: an `le`
label on each _bucket, the bounds sorted and ending at +Inf, the cumulative counts never
decreasing, +Inf equal to _count, and _sum present.

Run as a program on a file (or - for standard input): exit 0 when it is valid, 1 otherwise.
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
VALUE = re.compile(r"[+-]?(Inf|NaN|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)\Z")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class PromTextError(ValueError):
    pass


class Family:
    def __init__(self, name):
        self.name = name
        self.help = None
        self.type = None
        self.samples = []  # (sample name, labels dict, value)

    def value(self, **labels):
        """The value of the series with exactly these labels (sample name == family name)."""
        for n, l, v in self.samples:
            if n == self.name and l == labels:
                return v
        return None

    def total(self, **match):
        """Sum of the samples (sample name == family name) whose labels include `match`."""
        return sum(v for n, l, v in self.samples if n == self.name and all(l.get(k) == x for k, x in match.items()))


def parse_value(s, where):
    if not VALUE.match(s):
        raise PromTextError(f"{where}: bad value {s!r}")
    return float(s.replace("Inf", "inf").replace("NaN", "nan"))


def parse_labels(s, i, where):
    """Parses {a="x",...} from s[i] == '{'; returns (labels, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(s, i)
        if not m:
            raise PromTextError(f"{where}: bad label name at column {i + 1}")
        key = m.group(0)
        i = m.end()
        if s[i : i + 2] != '="':
            raise PromTextError(f"{where}: expected =\" after label {key}")
        i += 2
        out = []
        while True:
            if i >= len(s):
                raise PromTextError(f"{where}: unterminated value of label {key}")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1 : i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise PromTextError(f"{where}: bad escape \\{nxt} in label {key}")
                out.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise PromTextError(f"{where}: newline in label {key}")
            else:
                out.append(c)
                i += 1
        if key in labels:
            raise PromTextError(f"{where}: label {key} twice")
        if key.startswith("__"):
            raise PromTextError(f"{where}: reserved label name {key}")
        labels[key] = "".join(out)
        if i < len(s) and s[i] == ",":
            i += 1
            if i < len(s) and s[i] == "}":
                raise PromTextError(f"{where}: trailing comma in labels")
        elif i < len(s) and s[i] == "}":
            continue
        else:
            raise PromTextError(f"{where}: expected , or }} after label {key}")


def family_of(sample, families):
    """The family a sample belongs to: its own name, or a histogram's/summary's base."""
    for suffix in ("_bucket", "_sum", "_count"):
        if sample.endswith(suffix):
            base = sample[: -len(suffix)]
            f = families.get(base)
            if f is not None and f.type in ("histogram", "summary"):
                return base
    return sample


def check_histogram(f):
    series = {}
    for name, labels, value in f.samples:
        key_labels = {k: v for k, v in labels.items() if k != "le"}
        key = tuple(sorted(key_labels.items()))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name == f.name + "_bucket":
            if "le" not in labels:
                raise PromTextError(f"{f.name}: a _bucket without le {labels}")
            s["buckets"].append((parse_value(labels["le"], f"{f.name} le"), value))
        elif name == f.name + "_sum":
            s["sum"] = value
        elif name == f.name + "_count":
            s["count"] = value
        else:
            raise PromTextError(f"{f.name}: sample {name} in a histogram")
    for key, s in series.items():
        b = s["buckets"]
        where = f"{f.name}{dict(key)}"
        if not b or b[-1][0] != math.inf:
            raise PromTextError(f"{where}: no +Inf bucket last")
        les = [le for le, _ in b]
        if les != sorted(les) or len(set(les)) != len(les):
            raise PromTextError(f"{where}: le not sorted: {les}")
        counts = [c for _, c in b]
        if any(b2 < b1 for b1, b2 in zip(counts, counts[1:])):
            raise PromTextError(f"{where}: cumulative counts decrease: {counts}")
        if s["sum"] is None:
            raise PromTextError(f"{where}: no _sum")
        if s["count"] is None:
            raise PromTextError(f"{where}: no _count")
        if s["count"] != counts[-1]:
            raise PromTextError(f"{where}: +Inf bucket {counts[-1]} != _count {s['count']}")


def parse(text):
    if not text.endswith("\n"):
        raise PromTextError("no final newline")
    families = {}
    order = []  # family names in the order their samples came
    seen_series = set()
    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {lineno}"
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                if len(parts) < 3 or not NAME.match(parts[2]):
                    raise PromTextError(f"{where}: bad metric name in {parts[1]}")
                name = parts[2]
                f = families.setdefault(name, Family(name))
                if f.samples:
                    raise PromTextError(f"{where}: {parts[1]} of {name} after its samples")
                if parts[1] == "HELP":
                    if f.help is not None:
                        raise PromTextError(f"{where}: a second HELP for {name}")
                    help_text = parts[3] if len(parts) > 3 else ""
                    if not re.fullmatch(r"(?:[^\\]|\\[\\n])*", help_text):
                        raise PromTextError(f"{where}: bad escape in HELP of {name}")
                    f.help = help_text
                else:
                    if f.type is not None:
                        raise PromTextError(f"{where}: a second TYPE for {name}")
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise PromTextError(f"{where}: bad TYPE line")
                    f.type = parts[3]
            continue  # other comments are allowed
        m = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*").match(line)
        if not m:
            raise PromTextError(f"{where}: bad metric name")
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, where)
        if i >= len(line) or line[i] != " ":
            raise PromTextError(f"{where}: expected a space before the value")
        rest = line[i + 1 :].split(" ")
        if len(rest) not in (1, 2):
            raise PromTextError(f"{where}: extra text after the value")
        value = parse_value(rest[0], where)
        if len(rest) == 2 and not re.fullmatch(r"-?\d+", rest[1]):
            raise PromTextError(f"{where}: bad timestamp {rest[1]!r}")
        fam = family_of(name, families)
        f = families.get(fam)
        if f is None or f.type is None or f.help is None:
            raise PromTextError(f"{where}: sample {name} before the HELP and TYPE of its family")
        if order and order[-1] != fam and fam in order:
            raise PromTextError(f"{where}: samples of {fam} are not together")
        if not order or order[-1] != fam:
            order.append(fam)
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            raise PromTextError(f"{where}: duplicate series {name}{labels}")
        seen_series.add(key)
        if f.type in ("counter", "gauge", "untyped") and name != fam:
            raise PromTextError(f"{where}: sample {name} in {f.type} {fam}")
        if f.type == "counter" and not (value >= 0):
            raise PromTextError(f"{where}: negative or NaN counter {name}")
        f.samples.append((name, labels, value))
    for f in families.values():
        if f.type == "histogram":
            check_histogram(f)
    return families


def main(argv):
    if len(argv) != 2:
        print("usage: promtext.py FILE|-", file=sys.stderr)
        return 2
    text = sys.stdin.read() if argv[1] == "-" else open(argv[1], encoding="utf-8").read()
    try:
        families = parse(text)
    except PromTextError as e:
        print(f"promtext: {e}", file=sys.stderr)
        return 1
    print(f"promtext: {len(families)} families, {sum(len(f.samples) for f in families.values())} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
