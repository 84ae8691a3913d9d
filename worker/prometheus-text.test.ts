import { describe, expect, it } from "vitest";
import { prometheusText } from "./prometheus-text.ts";

describe("prometheusText", () => {
  it("writes HELP, TYPE and one line per sample with escaped labels", () => {
    const text = prometheusText([
      { name: "topgun_connections", help: "open sockets", type: "gauge", samples: [{ labels: { namespace: 'a"b\\c' }, value: 3 }] },
      { name: "topgun_ops_applied_total", help: "ops", type: "counter", samples: [{ labels: {}, value: 1.5 }, { labels: { namespace: "x" }, value: Infinity }] },
    ]);
    expect(text).toBe(
      [
        "# HELP topgun_connections open sockets",
        "# TYPE topgun_connections gauge",
        'topgun_connections{namespace="a\\"b\\\\c"} 3',
        "# HELP topgun_ops_applied_total ops",
        "# TYPE topgun_ops_applied_total counter",
        "topgun_ops_applied_total 1.5",
        'topgun_ops_applied_total{namespace="x"} +Inf',
        "",
      ].join("\n"),
    );
  });
});
