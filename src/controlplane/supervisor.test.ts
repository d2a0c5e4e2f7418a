import { describe, expect, it } from 'vitest';
import { superviseControlPlane } from './supervisor.ts';

/** An election driven by hand: win() starts a term, lose() ends it. */
function handElection() {
  let term = 0;
  let leader = false;
  let leading: Array<(t: number) => void> = [];
  let lost: Array<(why: string) => void> = [];
  return {
    leading: () => (leader ? Promise.resolve(term) : new Promise<number>((r) => leading.push(r))),
    lost: (t: number) =>
      leader && t === term ? new Promise<string>((r) => lost.push(r)) : Promise.resolve('over'),
    win() {
      leader = true;
      term++;
      for (const r of leading) r(term);
      leading = [];
    },
    lose(why = 'renew deadline passed') {
      leader = false;
      for (const r of lost) r(why);
      lost = [];
    },
  };
}

const quiet = { info() {}, warn() {}, error() {} };
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const apiError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code, body: '{}' });

/** A start function that records what happened, in order. */
function planes(failures: unknown[] = []) {
  const events: string[] = [];
  let n = 0;
  return {
    events,
    start: async () => {
      const failure = failures.shift();
      if (failure) {
        events.push('start failed');
        throw failure;
      }
      const id = ++n;
      events.push(`start ${id}`);
      return {
        id,
        stop: async () => {
          events.push(`stop ${id}`);
        },
      };
    },
  };
}

describe('superviseControlPlane', () => {
  it('runs nothing and is not ready until this process leads', async () => {
    const election = handElection();
    const p = planes();
    const s = superviseControlPlane({ election, start: p.start, log: quiet });
    await tick();
    expect(p.events).toEqual([]);
    expect(s.ready()).toBe(false);
    election.win();
    await tick();
    expect(p.events).toEqual(['start 1']);
    expect(s.ready()).toBe(true);
    await s.stop();
    expect(p.events).toEqual(['start 1', 'stop 1']);
  });

  it('stops the controllers when the lease is lost and starts them afresh when it returns', async () => {
    const election = handElection();
    const p = planes();
    const s = superviseControlPlane({ election, start: p.start, log: quiet });
    election.win();
    await tick();
    election.lose();
    await tick();
    expect(p.events).toEqual(['start 1', 'stop 1']);
    expect(s.ready()).toBe(false);
    election.win();
    await tick();
    expect(p.events).toEqual(['start 1', 'stop 1', 'start 2']);
    expect(s.current()?.id).toBe(2);
    await s.stop();
  });

  it('retries a start that failed because the host was away, with backoff, instead of ending', async () => {
    const election = handElection();
    const p = planes([new Error('GET https://127.0.0.1:6443/... ECONNREFUSED'), apiError(503)]);
    const s = superviseControlPlane({ election, start: p.start, log: quiet, retryBaseMs: 1 });
    election.win();
    await tick(50);
    expect(p.events).toEqual(['start failed', 'start failed', 'start 1']);
    expect(s.ready()).toBe(true);
    await s.stop();
  });

  it('ends through `done` on a configuration error (401, 403)', async () => {
    const p = planes([apiError(403)]);
    const s = superviseControlPlane({ start: p.start, log: quiet });
    await expect(s.done).rejects.toThrow('HTTP 403');
    expect(s.ready()).toBe(false);
  });

  it('retries a permanent error after the control plane has run, ending only if it persists', async () => {
    const election = handElection();
    let start = planes().start;
    const s = superviseControlPlane({ election, start: () => start(), log: quiet, retryBaseMs: 1 });
    election.win();
    await tick();
    // The host comes back with its authorizer not warmed up yet: two 403s, then it works.
    const again = planes([apiError(403), apiError(403)]);
    start = again.start;
    election.lose();
    election.win();
    await tick(50);
    expect(again.events).toEqual(['start failed', 'start failed', 'start 1']);
    expect(s.ready()).toBe(true);
    // A 403 that does not go away ends it after a few attempts.
    const revoked = planes(Array(10).fill(apiError(403)));
    start = revoked.start;
    election.lose();
    election.win();
    await expect(s.done).rejects.toThrow('HTTP 403');
    expect(revoked.events).toEqual(Array(5).fill('start failed'));
  });

  it('stops a plane whose start finished after its term was already over', async () => {
    const election = handElection();
    let release!: () => void;
    const events: string[] = [];
    const s = superviseControlPlane({
      election,
      log: quiet,
      start: async () => {
        await new Promise<void>((r) => {
          release = r;
        });
        events.push('started');
        return { stop: async () => void events.push('stopped') };
      },
    });
    election.win();
    await tick();
    election.lose();
    release();
    await tick();
    expect(events).toEqual(['started', 'stopped']);
    expect(s.ready()).toBe(false);
    await s.stop();
  });

  it('runs from the start without an election, until stopped', async () => {
    const p = planes();
    const s = superviseControlPlane({ start: p.start, log: quiet });
    await tick();
    expect(s.ready()).toBe(true);
    await s.stop();
    expect(p.events).toEqual(['start 1', 'stop 1']);
    await expect(s.done).resolves.toBeUndefined();
  });
});
