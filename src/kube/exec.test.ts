import { describe, expect, it } from 'vitest';
import { fakeRunner } from '../testing/exec.ts';
import { CommandError, CommandNotFoundError, formatCommand, run, startChild, stdoutOf } from './exec.ts';

describe('run', () => {
  it('returns stdout, stderr and the exit code of a successful command', async () => {
    const r = await run('sh', ['-c', 'echo out; echo err >&2']);
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 0 });
  });

  it('feeds input on stdin and adds env to the parent environment', async () => {
    const r = await run('sh', ['-c', 'cat; printf "%s" "$FEDCTL_TEST_VAR"; test -n "$PATH"'], {
      input: 'hello ',
      env: { FEDCTL_TEST_VAR: 'world' },
    });
    expect(r.stdout).toBe('hello world');
  });

  it('says the binary is missing and asks whether it is installed', async () => {
    await expect(run('fedctl-no-such-tool', ['--version'])).rejects.toThrow(
      'fedctl-no-such-tool not found: is fedctl-no-such-tool installed?',
    );
    await expect(run('/opt/nowhere/coredns', [])).rejects.toBeInstanceOf(CommandNotFoundError);
    await expect(run('/opt/nowhere/coredns', [])).rejects.toThrow('is coredns installed?');
  });

  it('names where to get the tools whose absence is common', () => {
    expect(new CommandNotFoundError('/usr/sbin/ip').message).toBe(
      '/usr/sbin/ip not found: is iproute2 installed? (apt-get install iproute2)',
    );
  });

  it('throws with the command line, exit code and stderr tail on a non-zero exit', async () => {
    const err = await run('sh', ['-c', 'for i in $(seq 1 30); do echo line$i >&2; done; exit 3']).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(CommandError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/^sh -c 'for i in .* exited with code 3:\n/);
    expect(err.message).toContain('line30');
    expect(err.message).not.toContain('line15\n');
    expect(err.stderr).toContain('line1\n');
  });

  it('returns a non-zero exit instead of throwing when allowFailure is set', async () => {
    const r = await run('sh', ['-c', 'echo no >&2; exit 1'], { allowFailure: true });
    expect(r).toEqual({ stdout: '', stderr: 'no\n', exitCode: 1 });
  });

  it('kills a command that runs past its timeout', async () => {
    await expect(run('sleep', ['5'], { timeoutMs: 100 })).rejects.toThrow(/sleep 5 timed out after 100 ms/);
  });

  it('kills a command when its signal aborts', async () => {
    const ac = new AbortController();
    const p = run('sleep', ['5'], { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toThrow(/sleep 5 was cancelled/);
  });
});

describe('stdoutOf', () => {
  it('returns stdout of a command that succeeds and throws on a non-zero exit', async () => {
    expect(await stdoutOf('sh', ['-c', 'echo out; echo err >&2'])).toBe('out\n');
    await expect(stdoutOf('sh', ['-c', 'exit 2'])).rejects.toThrow("sh -c 'exit 2' exited with code 2");
  });
});

describe('startChild', () => {
  it('resolves with the running child', async () => {
    const child = await startChild('sh', ['-c', 'echo ready'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const out = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout?.on('data', (d: Buffer) => {
        text += d.toString();
      });
      child.once('close', () => resolve(text));
    });
    expect(out).toBe('ready\n');
  });

  it('rejects with "is X installed?" when the binary is missing', async () => {
    await expect(startChild('/opt/nowhere/coredns', [])).rejects.toThrow(
      '/opt/nowhere/coredns not found: is coredns installed?',
    );
  });
});

describe('formatCommand', () => {
  it('quotes only arguments a shell would split or expand', () => {
    expect(formatCommand('ip', ['route', 'add', '10.1.0.0/24', 'via', '10.0.0.2'])).toBe(
      'ip route add 10.1.0.0/24 via 10.0.0.2',
    );
    expect(formatCommand('sh', ['-c', "echo 'hi' $X"])).toBe(`sh -c 'echo '\\''hi'\\'' $X'`);
  });
});

describe('fakeRunner', () => {
  it('records calls and answers from the responder', async () => {
    const runner = fakeRunner((cmd, args) =>
      cmd === 'kind' && args[0] === 'version' ? 'v1.2.3\n' : undefined,
    );
    expect((await runner('kind', ['version'])).stdout).toBe('v1.2.3\n');
    await runner('ip', ['netns', 'add', 'c1-n1']);
    expect(runner.commandLines()).toEqual(['kind version', 'ip netns add c1-n1']);
  });

  it('throws like the real runner on a non-zero exit unless failure is allowed', async () => {
    const runner = fakeRunner(() => ({ exitCode: 2, stderr: 'RTNETLINK answers: File exists' }));
    await expect(runner('ip', ['route', 'add', 'x'])).rejects.toThrow(
      /ip route add x exited with code 2:\nRTNETLINK/,
    );
    expect((await runner('ip', ['route', 'add', 'x'], { allowFailure: true })).exitCode).toBe(2);
  });
});
