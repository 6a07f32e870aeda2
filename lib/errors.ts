/**
 * Operating errors: not leader, peer gone, timeout, bad input from a peer.
 * Every one carries a code from the error table and whether a retry may help.
 * @module
 */
import { errorInfo, type ErrorName, ERRORS } from "./protocol/error_codes.ts";

/** An error with a code from {@linkcode ERRORS}; clients retry only when `retriable`. */
export class KaError extends Error {
  override name = "KaError";
  readonly code: number;
  readonly errorName: string;
  readonly retriable: boolean;
  readonly httpStatus: number;

  constructor(code: number, message?: string, options?: ErrorOptions) {
    const info = errorInfo(code);
    super(message ?? info.message, options);
    this.code = code;
    this.errorName = info.name;
    this.retriable = info.retriable;
    this.httpStatus = info.httpStatus;
  }

  /** Builds a KaError from the table entry `name`. */
  static of(name: ErrorName, message?: string, options?: ErrorOptions): KaError {
    return new KaError(ERRORS[name].code, message, options);
  }

  /** A plain object for logs and JSON answers. */
  toJSON(): { code: number; error: string; message: string; retriable: boolean } {
    return {
      code: this.code,
      error: this.errorName,
      message: this.message,
      retriable: this.retriable,
    };
  }
}

/** True when `err` is a KaError with the table entry `name`. */
export function isKaError(err: unknown, name?: ErrorName): err is KaError {
  return err instanceof KaError && (name === undefined || err.code === ERRORS[name].code);
}
