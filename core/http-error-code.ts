/** The `error.code` of an HTTP status in `/v1` error bodies (`{error:{code, message}}`). */
export function httpErrorCode(status: number): string {
  return HTTP_ERROR_CODES[status] ?? (status >= 500 ? "internal" : "bad_request");
}

const HTTP_ERROR_CODES: Readonly<Record<number, string>> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
  500: "internal",
  501: "not_implemented",
  503: "unavailable",
  504: "timeout",
};
