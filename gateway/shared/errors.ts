/**
 * The gateways' one error path. Handlers and validators throw; the single
 * `app.onError` handler built here turns what they threw into a JSON answer:
 *
 * - a `KaError` answers with `err.httpStatus` from the error table in
 *   `lib/protocol/error_codes.ts` (unknown topic → 404, too large → 413, not
 *   enough replicas → 503, timeout → 504); there is no second list here;
 * - a {@linkcode FieldError} (bad input) is a KaError INVALID_REQUEST (400)
 *   that also names the offending field or query parameter;
 * - anything else is a bug: it is logged and answers 500 without details.
 *
 * Every error body has the shape {@linkcode ErrorBody}.
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

/** The JSON body for `err`. */
export function errorBody(err: KaError): ErrorBody {
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

/** Answers `err` as JSON with the status the error table gives it. */
export function errorResponse(c: Context, err: KaError): Response {
  return c.json(errorBody(err), err.httpStatus as ContentfulStatusCode);
}

/** Builds the one `app.onError` handler; unexpected errors are logged through `logger`. */
export function createErrorHandler(logger: Logger): ErrorHandler {
  return function onError(err: Error, c: Context): Response {
    if (err instanceof KaError) return errorResponse(c, err);
    if (err instanceof HTTPException && err.status < 500) {
      return errorResponse(c, KaError.of("INVALID_REQUEST", err.message || "Bad request"));
    }
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
  return errorResponse(
    c,
    KaError.of("HTTP_ROUTE_NOT_FOUND", `No endpoint for ${c.req.method} ${c.req.path}`),
  );
}
