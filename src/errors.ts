/**
 * One error type for the whole tool, and the one catalogue of its codes. `code` is stable (tests
 * and scripts match on it), the message tells the user what to do without naming command-line
 * flags (the library has no flags; the CLI adds those hints), `cause` keeps the original error.
 *
 * Every code means one thing and maps to one exit status, shared by every command. The table
 * below is the only place codes and statuses are defined: `rpcscope --help`, docs/errors.md and
 * the README print it (docs/errors.md is checked against it by test/cli/errors.test.ts).
 */

/** The exit statuses of every command, by meaning. */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  input: 3,
  damaged: 4,
  broker: 5,
  output: 6,
  environment: 7,
  incomplete: 8,
  interrupted: 130,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/** What each exit status means, in the words `--help` and docs/errors.md use. */
export const EXIT_MEANING: Readonly<Record<ExitStatus, string>> = {
  0: 'success',
  1: 'internal error (a bug in rpcscope: please report it)',
  2: 'usage: a bad argument, scenario or an input that is not a capture',
  3: 'an input was not found or could not be read',
  4: 'an input was damaged: what could be decoded was used and printed, the rest counted as skipped',
  5: 'the broker or its management API was unreachable or refused',
  6: 'an output failed: a file could not be written, or records or spans were lost on the way out',
  7: 'the environment lacks something: an external tool, or the local cluster failed',
  8: 'a run ended incomplete: not every message was accounted for, or services did not come up',
  130: 'interrupted (a second Ctrl-C/SIGTERM; the first one stops gracefully)',
};

interface CodeEntry {
  readonly exit: ExitStatus;
  readonly meaning: string;
}

/** The catalogue: each code, its exit status and what it means. */
export const ERROR_CODES = {
  RPCSCOPE_INTERNAL: { exit: EXIT.internal, meaning: 'an unexpected error: a bug in rpcscope' },
  RPCSCOPE_BAD_ARGUMENT: {
    exit: EXIT.usage,
    meaning: 'an argument or option value is invalid (a duration, a size, a URL, a node index…)',
  },
  RPCSCOPE_SCENARIO_INVALID: {
    exit: EXIT.usage,
    meaning: 'a scenario or chaos file does not match its schema (schema/scenario.schema.json)',
  },
  RPCSCOPE_INPUT_FORMAT: {
    exit: EXIT.usage,
    meaning:
      'an input is not a capture in any format rpcscope reads (pcap, pcapng, tracing log, firehose JSONL)',
  },
  RPCSCOPE_INPUT_NOT_FOUND: {
    exit: EXIT.input,
    meaning: 'an input file, directory or store does not exist or cannot be read',
  },
  RPCSCOPE_INPUT_DAMAGED: {
    exit: EXIT.damaged,
    meaning:
      'an input was decoded with damage: results printed, the damaged bytes, frames or records counted',
  },
  RPCSCOPE_BROKER_UNREACHABLE: { exit: EXIT.broker, meaning: 'no AMQP connection to the broker' },
  RPCSCOPE_BROKER_REFUSED: {
    exit: EXIT.broker,
    meaning: 'the broker refused: credentials, vhost, permission or a missing plugin',
  },
  RPCSCOPE_MANAGEMENT_API: {
    exit: EXIT.broker,
    meaning: 'the RabbitMQ management API was unreachable or answered with an error',
  },
  RPCSCOPE_OUTPUT_WRITE: { exit: EXIT.output, meaning: 'an output file or directory could not be written' },
  RPCSCOPE_OUTPUT_LOST: {
    exit: EXIT.output,
    meaning: 'records or spans were lost on the way to an output (firehose drops, failed OTLP exports)',
  },
  RPCSCOPE_STORE: { exit: EXIT.output, meaning: 'the DuckDB store failed (open, write, retention, export)' },
  RPCSCOPE_TOOL_MISSING: {
    exit: EXIT.environment,
    meaning: 'an external tool is missing (tcpdump, rabbitmq-server, ip, esbuild in a checkout)',
  },
  RPCSCOPE_CLUSTER: {
    exit: EXIT.environment,
    meaning: 'the local RabbitMQ cluster failed to start, change or stop',
  },
  RPCSCOPE_RUN_INCOMPLETE: {
    exit: EXIT.incomplete,
    meaning: 'an emulation or chaos run ended without every message accounted for, or with services down',
  },
  RPCSCOPE_INTERRUPTED: { exit: EXIT.interrupted, meaning: 'stopped by a second Ctrl-C or SIGTERM' },
} as const satisfies Record<string, CodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The exit status of an error code. */
export function exitStatus(code: ErrorCode): ExitStatus {
  return ERROR_CODES[code].exit;
}

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

  /** The exit status the CLI ends with for this error. */
  get exitStatus(): ExitStatus {
    return exitStatus(this.code);
  }

  /** "file:line:col", "file@offset" or "file": the place, in the form editors and grep understand. */
  location(): string | undefined {
    const c = this.context;
    if (c.input === undefined) return undefined;
    if (c.line !== undefined) return `${c.input}:${c.line}${c.column !== undefined ? `:${c.column}` : ''}`;
    if (c.offset !== undefined) return `${c.input}@${c.offset}`;
    return c.input;
  }

  /** "file:line:col: message" or "file@offset: message" (the message alone without a place). */
  where(): string {
    const at = this.location();
    return at === undefined ? this.message : `${at}: ${this.message}`;
  }
}

export function isRpcscopeError(e: unknown): e is RpcscopeError {
  return e instanceof RpcscopeError;
}

/** The catalogue as a plain-text table (for `--help`): exit status, then the codes that end with it. */
export function exitStatusTable(): string {
  const rows: string[] = [];
  for (const [status, meaning] of Object.entries(EXIT_MEANING)) {
    const codes = Object.entries(ERROR_CODES)
      .filter(([, e]) => String(e.exit) === status)
      .map(([c]) => c);
    rows.push(`  ${status.padStart(3)}  ${meaning}${codes.length > 0 ? `\n       ${codes.join(', ')}` : ''}`);
  }
  return rows.join('\n');
}
