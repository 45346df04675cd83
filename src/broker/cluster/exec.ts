/**
 * Runs a short external command (ip, rabbitmqctl, rabbitmq-server) and returns its output; a
 * non-zero exit becomes an RpcscopeError naming the command, so cluster set-up failures tell the
 * operator which step broke and what the tool printed.
 */
import { spawn } from 'node:child_process';
import { RpcscopeError } from '../../errors.ts';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the command after this many ms (default 120 s). */
  readonly timeoutMs?: number;
  /** Do not throw on a non-zero exit; the caller reads `code`. */
  readonly allowFail?: boolean;
}

export function exec(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    timer.unref();
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new RpcscopeError('RPCSCOPE_TOOL_MISSING', `cannot run ${cmd}: ${e.message}`, {
          cause: e,
          context: { input: cmd },
        }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const rc = code ?? (signal ? 128 : 1);
      if (rc !== 0 && !opts.allowFail) {
        const what = `${cmd} ${args.join(' ')}`;
        reject(
          new RpcscopeError(
            'RPCSCOPE_CLUSTER',
            `${what} failed (exit ${rc}${signal ? `, ${signal}` : ''}): ${(stderr || stdout).trim().slice(-800)}`,
            { context: { input: cmd } },
          ),
        );
        return;
      }
      resolve({ code: rc, stdout, stderr });
    });
  });
}
