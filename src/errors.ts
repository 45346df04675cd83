/**
 * One error type for the whole tool. `code` is stable (tests and scripts match on it), the message
 * tells the user what to do, `cause` keeps the original error.
 */
export type ErrorCode =
  | 'RPCSCOPE_INPUT_NOT_FOUND'
  | 'RPCSCOPE_INPUT_FORMAT'
  | 'RPCSCOPE_BAD_ARGUMENT'
  | 'RPCSCOPE_BROKER_UNREACHABLE'
  | 'RPCSCOPE_BROKER_REFUSED'
  | 'RPCSCOPE_MANAGEMENT_API'
  | 'RPCSCOPE_TOOL_MISSING'
  | 'RPCSCOPE_SCENARIO_INVALID'
  | 'RPCSCOPE_CLUSTER'
  | 'RPCSCOPE_STORE'
  | 'RPCSCOPE_INTERNAL';

export interface ErrorContext {
  /** File, URL (credentials removed) or source label the error is about. */
  readonly input?: string;
  /** Byte offset, when the error is at a place in a binary input. */
  readonly offset?: number;
  readonly line?: number;
  readonly column?: number;
}

export class RpcscopeError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RpcscopeError';
    this.code = code;
    this.context = options.context ?? {};
  }

  /** "file:line:col: message" or "file@offset: message", the form editors and grep understand. */
  where(): string {
    const c = this.context;
    if (c.input === undefined) return this.message;
    if (c.line !== undefined)
      return `${c.input}:${c.line}${c.column !== undefined ? `:${c.column}` : ''}: ${this.message}`;
    if (c.offset !== undefined) return `${c.input}@${c.offset}: ${this.message}`;
    return `${c.input}: ${this.message}`;
  }
}

export function isRpcscopeError(e: unknown): e is RpcscopeError {
  return e instanceof RpcscopeError;
}
