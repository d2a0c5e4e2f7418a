import { describe, expect, it } from 'vitest';
import { resolveHostnames } from './resolve.ts';

describe('resolveHostnames', () => {
  it('maps each host name to its sorted unique addresses and lists the ones that fail', async () => {
    const lookup = async (h: string) => {
      if (h === 'lb.test') return ['10.0.0.2', '10.0.0.1', '10.0.0.2'];
      if (h === 'empty.test') return [];
      throw new Error(`getaddrinfo ENOTFOUND ${h}`);
    };
    const r = await resolveHostnames(['lb.test', 'gone.test', 'lb.test', 'empty.test'], lookup);
    expect(r.resolved).toEqual(new Map([['lb.test', ['10.0.0.1', '10.0.0.2']]]));
    expect(r.failed).toEqual([
      { hostname: 'empty.test', error: 'no addresses' },
      { hostname: 'gone.test', error: 'getaddrinfo ENOTFOUND gone.test' },
    ]);
  });
});
