import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from './metrics.ts';
import { type RunningHttpServer, startHttpServer } from './server.ts';

let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const start = async (health = true, ready = true) => {
  const metrics = new Registry();
  metrics.counter('fedctl_test_total', 'A test counter.').inc(3);
  server = await startHttpServer({ port: 0, healthz: () => health, readyz: () => ready, metrics });
  return `http://127.0.0.1:${server.port}`;
};

describe('startHttpServer', () => {
  it('binds to loopback on a free port when asked for port 0', async () => {
    await start();
    expect(server?.host).toBe('127.0.0.1');
    expect(server?.port).toBeGreaterThan(0);
  });

  it('answers 200 ok on /healthz and /readyz when the checks pass', async () => {
    const base = await start();
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok\n');
    }
  });

  it('answers 503 when a check fails or throws', async () => {
    const metrics = new Registry();
    server = await startHttpServer({
      port: 0,
      healthz: () => false,
      readyz: () => {
        throw new Error('host cache not synced');
      },
      metrics,
    });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('host cache not synced');
  });

  it('serves the registry on /metrics with the Prometheus content type', async () => {
    const base = await start();
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toContain('fedctl_test_total 3\n');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const base = await start();
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('reports a port already in use clearly', async () => {
    await start();
    await expect(
      startHttpServer({
        port: server?.port ?? 0,
        healthz: () => true,
        readyz: () => true,
        metrics: new Registry(),
      }),
    ).rejects.toThrow(/cannot serve on 127\.0\.0\.1:\d+/);
  });

  it('closes even with keep-alive connections open', async () => {
    const base = await start();
    await fetch(`${base}/healthz`, { keepalive: true });
    await server?.close();
    server = undefined;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
