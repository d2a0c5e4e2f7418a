// The HTTP layer every request of fedctl goes through: one pooled undici dispatcher per KubeConfig
// (cluster + identity), the KubeConfig's own credentials and TLS settings, deadlines, optional
// client-side limits, and errors that name the cluster, the verb and the path.
//
// Failures throw KubeApiError, an ApiException with `.code` and the Status JSON *string* in `.body`,
// so `apiStatus()`, `isNotFound()` & co. in errors.ts work on them.
import { ApiException, type HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { getGlobalDispatcher } from 'undici';
import { apiStatus } from './errors.ts';
import { limiterFor, NO_LIMITS, type RequestLimits, type TokenBucket } from './rate-limit.ts';

/** An API error with the request in its message; `.code`/`.body` as client-node's ApiException. */
export class KubeApiError extends ApiException<string> {
  readonly method: string;
  readonly path: string;
  readonly cluster: string;
  constructor(
    cluster: string,
    method: string,
    path: string,
    code: number,
    body: string,
    headers: Record<string, string>,
  ) {
    super(code, 'Unsuccessful HTTP Request', body, headers);
    this.name = 'KubeApiError';
    this.method = method;
    this.path = path;
    this.cluster = cluster;
    const s = apiStatus(this);
    this.message = `${method} ${path} on cluster "${cluster}": ${s.message} (HTTP ${code}${s.reason ? `, ${s.reason}` : ''})`;
  }
}

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Default application/json when there is a body. */
  contentType?: string;
  /** Default application/json (e.g. the Table form kubectl asks for: `application/json;as=Table;g=meta.k8s.io;v=v1`). */
  accept?: string;
  /** Default 60 s; 0 for none (watches). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface KubeResponse {
  status: number;
  headers: Record<string, string>;
  /** The response body as it arrives; read it once (or text()). */
  chunks(): AsyncIterable<Uint8Array>;
  text(): Promise<string>;
}

export const contextName = (kc: KubeConfig): string =>
  kc.getCurrentContext() || kc.getCurrentCluster()?.name || '?';

function networkError(kc: KubeConfig, req: KubeRequest, e: unknown): Error {
  // fetch wraps the socket error in `cause`; the dispatcher throws it directly.
  const err0 = e as {
    code?: string;
    message?: string;
    name?: string;
    cause?: { code?: string; message?: string };
  };
  const name = err0.name;
  const why =
    name === 'TimeoutError'
      ? `timed out after ${req.timeoutMs ?? 60_000} ms`
      : name === 'AbortError'
        ? 'aborted'
        : [err0.cause?.code ?? err0.code, err0.cause?.message ?? err0.message].filter(Boolean).join(' ');
  const server = kc.getCurrentCluster()?.server ?? '?';
  const err = new Error(`${req.method} ${server}${req.path} (cluster "${contextName(kc)}"): ${why}`, {
    cause: e,
  });
  if (name === 'TimeoutError' || name === 'AbortError') err.name = name;
  return err;
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * How requests reach one KubeConfig's cluster: its connection pool (PooledKubeConfig keeps one) and,
 * for static credentials (client certificate, bearer token), the headers computed once. Credentials
 * that can change (exec plugins, auth providers, token files) are applied again per request.
 */
interface Transport {
  origin: string;
  basePath: string;
  dispatcher: Dispatcher;
  staticHeaders?: Record<string, string>;
  limiter?: TokenBucket;
}

const transports = new WeakMap<KubeConfig, Transport>();
let requestLimits: RequestLimits = NO_LIMITS;

/**
 * Client-side limits for every cluster connection made from now on (`fedctl controller
 * --kube-api-qps/--kube-api-burst`): each cluster's API gets at most `qps` requests per second from
 * this process, watches excepted.
 */
export function configureRequestLimits(limits: RequestLimits): void {
  requestLimits = limits;
}

async function authenticate(kc: KubeConfig): Promise<RequestContext> {
  const ctx = new RequestContext('http://unused/', 'GET' as HttpMethod);
  await kc.applySecurityAuthentication(ctx);
  return ctx;
}

async function transportOf(kc: KubeConfig): Promise<Transport> {
  const known = transports.get(kc);
  if (known) return known;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig context "${kc.getCurrentContext()}" has no cluster`);
  const server = new URL(cluster.server);
  const ctx = await authenticate(kc);
  const user = kc.getCurrentUser();
  const fixed = !user?.exec && !user?.authProvider && !(user as { tokenFile?: string } | null)?.tokenFile;
  const t: Transport = {
    origin: server.origin,
    basePath: server.pathname.replace(/\/+$/, ''),
    // No TLS settings of its own (a public CA, bearer token): Node's shared pool, as fetch would use.
    dispatcher: ctx.getDispatcher() ?? (getGlobalDispatcher() as unknown as Dispatcher),
    ...(fixed ? { staticHeaders: ctx.getHeaders() } : {}),
    limiter: limiterFor(requestLimits),
  };
  transports.set(kc, t);
  return t;
}

/** The request's abort signal: the caller's, and the timeout (cleared by `done`). */
function deadline(req: KubeRequest): { signal?: AbortSignal; done(): void } {
  const timeoutMs = req.timeoutMs ?? 60_000;
  if (timeoutMs <= 0) return { signal: req.signal, done: () => undefined };
  const ctrl = new AbortController();
  const timer = setTimeout(
    () => ctrl.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  const onAbort = () => ctrl.abort(req.signal?.reason);
  if (req.signal?.aborted) onAbort();
  else req.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ctrl.signal,
    done: () => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Sends one request with the KubeConfig's credentials and returns the response without judging its
 * status. Network failures throw an Error naming the server and path (cause attached). Requests go
 * straight to the KubeConfig's pooled undici dispatcher (not through fetch and web streams, which
 * cost about a third of the controller's CPU under bulk propagation).
 */
export async function kubeFetch(kc: KubeConfig, req: KubeRequest): Promise<KubeResponse> {
  const t = await transportOf(kc);
  let query = '';
  for (const [k, v] of Object.entries(req.query ?? {}))
    if (v !== undefined)
      query += `${query ? '&' : '?'}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
  const headers: Record<string, string> = {
    ...(t.staticHeaders ?? (await authenticate(kc)).getHeaders()),
    accept: req.accept ?? 'application/json',
    'user-agent': 'fedctl',
  };
  let body: string | undefined;
  if (req.body !== undefined) {
    headers['content-type'] = req.contentType ?? 'application/json';
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  }
  if (t.limiter && req.query?.watch === undefined) await t.limiter.take();
  const { signal, done } = deadline(req);
  try {
    const res = await t.dispatcher.request({
      origin: t.origin,
      path: `${t.basePath}${req.path}${query}`,
      method: req.method,
      headers,
      body,
      signal,
      // Deadlines are the signal's; a watch may be silent for minutes.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = String(v);
    return {
      status: res.statusCode,
      headers: flat,
      chunks: () => {
        const body = res.body as AsyncIterable<Uint8Array>;
        return {
          async *[Symbol.asyncIterator]() {
            try {
              yield* body;
            } catch (e) {
              throw networkError(kc, req, signal?.aborted ? signal.reason : e);
            } finally {
              done();
            }
          },
        };
      },
      text: async () => {
        try {
          return await res.body.text();
        } catch (e) {
          throw networkError(kc, req, signal?.aborted ? signal.reason : e);
        } finally {
          done();
        }
      },
    };
  } catch (e) {
    done();
    throw networkError(kc, req, signal?.aborted ? signal.reason : e);
  }
}

/** Sends a request and parses the JSON answer; a non-2xx status throws KubeApiError. */
export async function kubeRequest<T = unknown>(kc: KubeConfig, req: KubeRequest): Promise<T> {
  const res = await kubeFetch(kc, req);
  const text = await res.text();
  if (res.status < 200 || res.status > 299) {
    throw new KubeApiError(contextName(kc), req.method, req.path, res.status, text, res.headers);
  }
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(
      `${req.method} ${req.path} on cluster "${contextName(kc)}": response is not JSON: ${text.slice(0, 200)}`,
    );
  }
}
