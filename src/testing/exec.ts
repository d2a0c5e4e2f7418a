// Test support: a CommandRunner that records calls and answers from a function.
import {
  CommandError,
  type CommandRunner,
  formatCommand,
  type RunOptions,
  type RunResult,
} from '../kube/exec.ts';

export interface RecordedCall {
  cmd: string;
  args: readonly string[];
  opts: RunOptions;
}

export type FakeResponse = Partial<RunResult> | string | undefined;

export interface FakeRunner extends CommandRunner {
  /** Every call in order. */
  readonly calls: RecordedCall[];
  /** The calls as command lines, for exact-list assertions. */
  commandLines(): string[];
}

/**
 * A CommandRunner for tests. `respond` decides each answer (a string is stdout; a non-zero
 * exitCode throws CommandError unless allowFailure, like the real runner; throwing from it
 * simulates a missing binary or crash). Without `respond` every command succeeds silently.
 */
export function fakeRunner(
  respond: (
    cmd: string,
    args: readonly string[],
    opts: RunOptions,
  ) => FakeResponse | Promise<FakeResponse> = () => undefined,
): FakeRunner {
  const calls: RecordedCall[] = [];
  const runner = async (cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> => {
    calls.push({ cmd, args: [...args], opts });
    const answer = await respond(cmd, args, opts);
    const partial = typeof answer === 'string' ? { stdout: answer } : (answer ?? {});
    const result: RunResult = { stdout: '', stderr: '', exitCode: 0, ...partial };
    if (result.exitCode !== 0 && !opts.allowFailure) {
      throw new CommandError(cmd, args, `exited with code ${result.exitCode}`, result);
    }
    return result;
  };
  return Object.assign(runner, {
    calls,
    commandLines: () => calls.map((c) => formatCommand(c.cmd, c.args)),
  });
}
