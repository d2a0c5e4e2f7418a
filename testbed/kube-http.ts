import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

// A minimal JSON client for the few calls the testbed makes while bringing clusters up (create,
// read, patch including status subresources, health). Fewer moving parts than a full client.

export interface KubeHttpCredentials {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

export interface KubeHttpResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

export class KubeHttpError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(message: string, status: number, body: string) {
    super(message);
    this.name = 'KubeHttpError';
    this.status = status;
    this.body = body;
  }
}

export class KubeHttp {
  readonly server: string;
  readonly #agent: Agent;

  constructor(creds: KubeHttpCredentials) {
    this.server = creds.server;
    this.#agent = new Agent({
      keepAlive: false,
      ca: readFileSync(creds.ca),
      cert: readFileSync(creds.cert),
      key: readFileSync(creds.key),
    });
  }

  raw<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs = 10_000,
  ): Promise<KubeHttpResponse<T>> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        new URL(path, this.server),
        {
          agent: this.#agent,
          method,
          timeout: timeoutMs,
          headers: {
            accept: 'application/json',
            ...(payload !== undefined
              ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON (e.g. /readyz) */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T, text });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${this.server}${path} timed out`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Like raw, but non-2xx statuses (other than those in `ok`) throw with the server's message. */
  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: { contentType?: string; ok?: number[] } = {},
  ): Promise<KubeHttpResponse<T>> {
    const r = await this.raw<T>(method, path, body, opts.contentType);
    if ((r.status >= 200 && r.status < 300) || opts.ok?.includes(r.status)) return r;
    const msg = (r.body as { message?: string } | undefined)?.message ?? r.text.slice(0, 300);
    throw new KubeHttpError(`${method} ${this.server}${path}: HTTP ${r.status}: ${msg}`, r.status, r.text);
  }

  get<T = unknown>(path: string): Promise<KubeHttpResponse<T>> {
    return this.call<T>('GET', path);
  }

  /** Creates; an existing object (409) is fine. */
  async create(path: string, body: unknown): Promise<void> {
    await this.call('POST', path, body, { ok: [409] });
  }

  async mergePatch(path: string, body: unknown): Promise<void> {
    await this.call('PATCH', path, body, { contentType: 'application/merge-patch+json' });
  }

  async strategicPatch(path: string, body: unknown): Promise<void> {
    await this.call('PATCH', path, body, { contentType: 'application/strategic-merge-patch+json' });
  }

  close(): void {
    this.#agent.destroy();
  }
}
