#!/usr/bin/env python3
"""Write N synthetic OTLP/JSON GenAI chat spans as JSON Lines (one export request per line).

Each span is a `chat` call (current GenAI conventions) in conversation `conv-{i // 8}`, customer
`cust-{i // 64}`, whose output message carries about 1 KB of synthetic text (TEXT_BYTES).
Deterministic: the same arguments give the same bytes. OUT may be a named pipe, so a large input
need never be on disk; the number of bytes written is printed to stderr at the end.
Usage: gen_otlp_spans.py N OUT.jsonl [SPANS_PER_LINE] [TEXT_BYTES]
"""
import json
import sys

WORDS = ("order refund delivery router broadband contract upgrade handset invoice returns "
         "window warranty engineer appointment signal outage tariff roaming allowance credit").split()


def text(i: int, size: int = 1000) -> str:
    out, k = [], i
    while sum(len(w) + 1 for w in out) < size:
        k = (k * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(WORDS[k % len(WORDS)])
    return " ".join(out)[:size]


def span(i: int, text_bytes: int = 1000) -> dict:
    start = 1795720000000000000 + i * 1_000_000
    messages = [{"role": "assistant", "parts": [{"type": "text", "content": text(i, text_bytes)}],
                 "finish_reason": "stop"}]
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.conversation.id": f"conv-{i // 8}",
        "user.id": f"cust-{i // 64}",
        "gen_ai.output.messages": json.dumps(messages),
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 220,
    }
    return {
        "traceId": f"{i:032x}",
        "spanId": f"{i + 1:016x}",
        "name": "chat gpt-4o-mini",
        "kind": 3,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 500_000),
        "attributes": [{"key": k, "value": ({"intValue": str(v)} if isinstance(v, int) else {"stringValue": v})}
                       for k, v in attrs.items()],
        "status": {},
    }


def main() -> None:
    n, out = int(sys.argv[1]), sys.argv[2]
    per_line = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    text_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    written = 0
    with open(out, "w") as f:
        for first in range(0, n, per_line):
            spans = [span(i, text_bytes) for i in range(first, min(n, first + per_line))]
            body = {"resourceSpans": [{"resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "support-agent"}}]},
                "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}]}
            line = json.dumps(body, separators=(",", ":")) + "\n"
            written += len(line)
            f.write(line)
    print(f"wrote {written} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
