import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { providerFromEnv } from './index.ts';
import { groupMembers, isRunning, lostPortRace, startProcess, stopProcess } from './processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'fedctl-proc-'));

describe('recorded processes', () => {
  it('starts detached in its own process group, logging to a file, and stops by pid', async () => {
    const log = join(dir, 'sh.log');
    const rec = startProcess({
      name: 't/sh',
      cmd: 'sh',
      args: ['-c', 'echo started; sleep 30 & sleep 30'],
      log,
    });
    expect(rec.pid).toBeGreaterThan(0);
    expect(isRunning(rec)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(groupMembers(rec.pid!).length).toBeGreaterThanOrEqual(2); // the shell and its children
    expect(await stopProcess(rec, 2000)).toBe(true);
    expect(isRunning(rec)).toBe(false);
    expect(groupMembers(rec.pid!)).toEqual([]);
    expect(readFileSync(log, 'utf8')).toContain('started');
  });

  it('never signals a pid that now belongs to another process', async () => {
    const rec = startProcess({ name: 't/sleep', cmd: 'sleep', args: ['30'], log: join(dir, 'sleep.log') });
    const stranger = { ...rec, startTicks: (rec.startTicks ?? 0) + 12345 };
    expect(isRunning(stranger)).toBe(false);
    expect(await stopProcess(stranger, 100)).toBe(false);
    expect(isRunning(rec)).toBe(true);
    await stopProcess(rec, 0);
    expect(isRunning(rec)).toBe(false);
  });

  it('treats a stopped record (pid null) as not running', async () => {
    const rec = { name: 'x', pid: null, startTicks: null, cmd: 'x', args: [], log: '' };
    expect(isRunning(rec)).toBe(false);
    expect(await stopProcess(rec)).toBe(false);
  });

  it('recognises lost bind races in logs of etcd, Go servers and CoreDNS', () => {
    expect(lostPortRace('listen tcp 127.0.0.1:2379: bind: address already in use')).toBe(true);
    expect(lostPortRace('Error: listen udp 127.0.0.1:5353: bind: address already in use')).toBe(true);
    expect(lostPortRace('panic: something else')).toBe(false);
  });
});

describe('provider choice', () => {
  it('follows FEDCTL_PROVIDER, defaulting to local', () => {
    expect(providerFromEnv({})).toBe('local');
    expect(providerFromEnv({ FEDCTL_PROVIDER: 'kind' })).toBe('kind');
    expect(() => providerFromEnv({ FEDCTL_PROVIDER: 'docker' })).toThrow(/FEDCTL_PROVIDER/);
  });
});
