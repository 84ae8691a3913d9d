import { describe, expect, it } from "vitest";
import { ERROR_KINDS, ProtocolError, errorCodeOf, isPeerGoneError, toAuthFail, toErrorMessage, toOpRejected } from "./errors.ts";

describe("error kinds", () => {
  it("gives every kind a 4xx or 5xx code and a meaning", () => {
    for (const { code, meaning } of Object.values(ERROR_KINDS)) {
      expect(code >= 400 && code < 600).toBe(true);
      expect(meaning.length).toBeGreaterThan(0);
    }
  });

  it("carries the kind's code on a ProtocolError", () => {
    const err = new ProtocolError("TOO_LARGE", "frame too large");
    expect(err.kind).toBe("TOO_LARGE");
    expect(err.code).toBe(413);
    expect(err.code).toBe(errorCodeOf("TOO_LARGE"));
    expect(err.safeMessage).toBe("frame too large");
    expect(err).toBeInstanceOf(Error);
  });
});

describe("wire replies", () => {
  it("reports a socket error as ERROR with code and safe message", () => {
    const err = new ProtocolError("UNKNOWN_TYPE", "unknown message type", { cause: new Error("secret detail") });
    expect(toErrorMessage(err)).toEqual({ type: "ERROR", payload: { code: 400, message: "unknown message type" } });
  });

  it("reports a rejected op as OP_REJECTED with its op id, reason and code", () => {
    const err = new ProtocolError("DRIFT", "timestamp too far ahead");
    expect(toOpRejected("17", err)).toEqual({
      type: "OP_REJECTED",
      payload: { opId: "17", reason: "timestamp too far ahead", code: 409 },
    });
  });

  it("reports a failed handshake as AUTH_FAIL with the error text only", () => {
    expect(toAuthFail(new ProtocolError("AUTH_FAILED", "InvalidSignature"))).toEqual({
      type: "AUTH_FAIL",
      error: "InvalidSignature",
    });
  });
});

describe("isPeerGoneError", () => {
  it.each([
    "Can't call WebSocket send() after close().",
    "Network connection lost.",
    "WebSocket peer disconnected",
    "WebSocket is closed",
    "WebSocket is not open: readyState 3 (CLOSED)",
    "Cannot send message on a closed WebSocket",
  ])("classifies %j as the peer being gone", (message) => {
    expect(isPeerGoneError(new Error(message))).toBe(true);
  });

  it("classifies a bare message string too", () => {
    expect(isPeerGoneError("Network connection lost.")).toBe(true);
  });

  it.each([
    new Error("SQLITE_FULL: database or disk is full"),
    new TypeError("Cannot read properties of undefined"),
    new ProtocolError("INTERNAL", "internal error"),
    undefined,
    null,
    42,
    { message: "Network connection lost." },
  ])("does not classify %j as the peer being gone", (err) => {
    expect(isPeerGoneError(err)).toBe(false);
  });
});
