/**
 * The library's messages name no command-line flags (a program calling it has none); the CLI puts
 * the flag in front of an error that came from parsing that flag's value.
 */
import { isRpcscopeError, RpcscopeError } from '../errors.ts';

/** `parse()`, with an RpcscopeError it throws prefixed by `flag` ("--http: …"). */
export function forFlag<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (!isRpcscopeError(e)) throw e;
    throw new RpcscopeError(e.code, `${flag}: ${e.message}`, { cause: e, context: e.context });
  }
}
