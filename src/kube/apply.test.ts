import { describe, expect, it } from 'vitest';
import { retryTransient } from './apply.ts';
import { isPermanent } from './errors.ts';

const apiError = (code: number, reason = '') =>
  Object.assign(new Error(`HTTP ${code}`), {
    code,
    body: JSON.stringify({ reason, message: `HTTP ${code}` }),
  });

describe('isPermanent', () => {
  it('is true for invalid requests, bad credentials and missing permissions', () => {
    for (const code of [400, 401, 403, 405, 422]) expect(isPermanent(apiError(code))).toBe(true);
  });
  it('is false for the network, races, unknown kinds, throttling and server errors', () => {
    expect(isPermanent(new Error('fetch failed'))).toBe(false);
    for (const code of [404, 409, 429, 500, 503, 504]) expect(isPermanent(apiError(code))).toBe(false);
  });
  it('is false for a write refused because its namespace is still being deleted', () => {
    const e = Object.assign(new Error('HTTP 403'), {
      code: 403,
      body: JSON.stringify({
        reason: 'Forbidden',
        message: 'unable to create new content in namespace x because it is being terminated',
        details: { causes: [{ type: 'NamespaceTerminating' }] },
      }),
    });
    expect(isPermanent(e)).toBe(false);
  });
});

describe('retryTransient', () => {
  it('retries transient failures until the call succeeds, logging each one', async () => {
    const failures = [new Error('ECONNREFUSED'), apiError(409, 'AlreadyExists'), apiError(503)];
    const logged: string[] = [];
    const result = await retryTransient(
      'creating CRD x',
      async () => {
        const f = failures.shift();
        if (f) throw f;
        return 'done';
      },
      { baseMs: 1, maxMs: 2, log: { warn: (m) => logged.push(m) } },
    );
    expect(result).toBe('done');
    expect(logged).toEqual(Array(3).fill('creating CRD x failed; retrying'));
  });

  it('throws a permanent failure at once', async () => {
    let calls = 0;
    await expect(
      retryTransient('x', async () => {
        calls++;
        throw apiError(403, 'Forbidden');
      }),
    ).rejects.toThrow('HTTP 403');
    expect(calls).toBe(1);
  });

  it('gives up with the last error when aborted or out of attempts', async () => {
    await expect(
      retryTransient(
        'x',
        async () => {
          throw new Error('still down');
        },
        { baseMs: 1, attempts: 3 },
      ),
    ).rejects.toThrow('still down');
    const ac = new AbortController();
    const p = retryTransient(
      'x',
      async () => {
        throw new Error('host away');
      },
      { baseMs: 60_000, signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 10);
    await expect(p).rejects.toThrow('host away');
  });
});
