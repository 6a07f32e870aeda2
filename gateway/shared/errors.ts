/**
 * The gateways' one error path. Handlers and validators throw; the single
 * `app.onError` handler built here turns what they threw into a JSON answer:
 *
 * - a `KaError` answers with `err.httpStatus` from the error table in
 *   `lib/protocol/error_codes.ts` (unknown topic → 404, too large → 413, not
 *   enough replicas / no leader / cluster unreachable → 503, timeout → 504);
 *   there is no second list of cluster errors here;
 * - a {@linkcode FieldError} (bad input) is a KaError INVALID_REQUEST (400)
 *   that also names the offending field or query parameter;
 * - a {@linkcode GatewayError} is one of the few HTTP-only conditions the
 *   cluster's table has no row for ({@linkcode GATEWAY_ERRORS}: missing or
 *   wrong bearer token, unknown subscription, ...), in the table's reserved
 *   gateway range 1100..1199;
 * - anything else is a bug: it is logged and answers 500 without details.
 *
 * Every error body has the shape {@linkcode ErrorBody}. 429 and 503 answers
 * carry `Retry-After`.
 * @module
 */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { KaError } from "@kafka-analog/lib/errors";
import type { Logger } from "@kafka-analog/lib/log";

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: {
    code: number;
    name: string;
    message: string;
    retriable: boolean;
    /** The body field or query/path parameter that was invalid, for 400s. */
    field?: string;
  };
}

/** One HTTP-only error: the same columns as a row of the cluster's error table. */
export interface GatewayErrorInfo {
  readonly code: number;
  readonly httpStatus: number;
  readonly retriable: boolean;
  readonly message: string;
}

/**
 * HTTP conditions with no cluster counterpart, numbered after
 * HTTP_ROUTE_NOT_FOUND (1100) in the table's gateway range.
 */
export const GATEWAY_ERRORS = Object.freeze(
  {
    UNAUTHENTICATED: {
      code: 1101,
      httpStatus: 401,
      retriable: false,
      message: "Missing bearer token",
    },
    FORBIDDEN: { code: 1102, httpStatus: 403, retriable: false, message: "Invalid bearer token" },
    UNKNOWN_SUBSCRIPTION: {
      code: 1103,
      httpStatus: 404,
      retriable: false,
      message: "Unknown or expired subscription",
    },
    SUBSCRIPTION_BUSY: {
      code: 1104,
      httpStatus: 409,
      retriable: true,
      message: "Another request of this subscription is in progress",
    },
    TRANSACTIONS_NOT_AVAILABLE: {
      code: 1105,
      httpStatus: 501,
      retriable: false,
      message: "Not available until transactions exist",
    },
    UPGRADE_REQUIRED: {
      code: 1106,
      httpStatus: 426,
      retriable: false,
      message: "This endpoint speaks WebSocket only",
    },
  } satisfies Record<string, GatewayErrorInfo>,
);

/** Name of a {@linkcode GATEWAY_ERRORS} row. */
export type GatewayErrorName = keyof typeof GATEWAY_ERRORS;

/** An HTTP-only error of the gateways (see {@linkcode GATEWAY_ERRORS}). */
export class GatewayError extends Error {
  override name = "GatewayError";
  readonly code: number;
  readonly errorName: GatewayErrorName;
  readonly retriable: boolean;
  readonly httpStatus: number;

  constructor(errorName: GatewayErrorName, message?: string) {
    const info = GATEWAY_ERRORS[errorName];
    super(message ?? info.message);
    this.code = info.code;
    this.errorName = errorName;
    this.retriable = info.retriable;
    this.httpStatus = info.httpStatus;
  }
}

const INVALID_REQUEST_CODE = KaError.of("INVALID_REQUEST").code;

/** Bad input in one named field or parameter: INVALID_REQUEST (400). */
export class FieldError extends KaError {
  /** The field or parameter that was invalid. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(INVALID_REQUEST_CODE, message);
    this.field = field;
  }
}

/** A {@linkcode FieldError} for body field `field`: "Invalid field 'value': <reason>". */
export function invalidField(field: string, reason: string): FieldError {
  return new FieldError(field, `Invalid field '${field}': ${reason}`);
}

/** A {@linkcode FieldError} for query or path parameter `name`. */
export function invalidParam(name: string, reason: string): FieldError {
  return new FieldError(name, `Invalid parameter '${name}': ${reason}`);
}

/** An error the gateways answer as JSON: a cluster error or an HTTP-only one. */
export type AnswerableError = KaError | GatewayError;

/** The JSON body for `err`. */
export function errorBody(err: AnswerableError): ErrorBody {
  const body: ErrorBody = {
    error: {
      code: err.code,
      name: err.errorName,
      message: err.message,
      retriable: err.retriable,
    },
  };
  if (err instanceof FieldError) body.error.field = err.field;
  return body;
}

/** Seconds a client should wait before retrying a 429 or 503. */
export const RETRY_AFTER_SECONDS = 1;

/** Answers `err` as JSON with its status (plus `Retry-After` for 429 and 503). */
export function errorResponse(c: Context, err: AnswerableError, extra?: object): Response {
  if (err.httpStatus === 429 || err.httpStatus === 503) {
    c.header("Retry-After", String(RETRY_AFTER_SECONDS));
  }
  if (err.errorName === "UNAUTHENTICATED") {
    c.header("WWW-Authenticate", 'Bearer realm="kafka-analog"');
  }
  if (err.errorName === "UPGRADE_REQUIRED") c.header("Upgrade", "websocket");
  return c.json({ ...errorBody(err), ...extra }, err.httpStatus as ContentfulStatusCode);
}

/** True for the errors {@linkcode errorResponse} answers (not bugs). */
export function isAnswerable(err: unknown): err is AnswerableError {
  return err instanceof KaError || err instanceof GatewayError;
}

const answeredErrors = new WeakMap<Request, string>();

/** The error name a request was answered with, if it was an error (for logs and metrics). */
export function answeredError(c: Context): string | undefined {
  return answeredErrors.get(c.req.raw);
}

/** Builds the one `app.onError` handler; unexpected errors are logged through `logger`. */
export function createErrorHandler(logger: Logger): ErrorHandler {
  return function onError(err: Error, c: Context): Response {
    if (isAnswerable(err)) {
      answeredErrors.set(c.req.raw, err.errorName);
      return errorResponse(c, err);
    }
    if (err instanceof HTTPException && err.status < 500) {
      answeredErrors.set(c.req.raw, "INVALID_REQUEST");
      return errorResponse(c, KaError.of("INVALID_REQUEST", err.message || "Bad request"));
    }
    answeredErrors.set(c.req.raw, "UNKNOWN_SERVER_ERROR");
    logger.error("unexpected error", {
      method: c.req.method,
      path: c.req.path,
      error: err,
      stack: err.stack,
    });
    return errorResponse(c, KaError.of("UNKNOWN_SERVER_ERROR"));
  };
}

/** The `app.notFound` handler: 404 HTTP_ROUTE_NOT_FOUND naming the method and path. */
export function notFoundHandler(c: Context): Response {
  answeredErrors.set(c.req.raw, "HTTP_ROUTE_NOT_FOUND");
  return errorResponse(
    c,
    KaError.of("HTTP_ROUTE_NOT_FOUND", `No endpoint for ${c.req.method} ${c.req.path}`),
  );
}
