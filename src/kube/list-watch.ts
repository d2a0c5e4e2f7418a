// The HTTP side of an informer: a paginated list and a streaming watch (with bookmarks and an idle
// timeout) against a real API server, behind the ListWatchSource interface the informer consumes.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ListWatchSource, WatchEvent, WatchHandle } from './informer.ts';
import type { KubeConfig } from './kubeconfig.ts';
import type { ResourceRef } from './refs.ts';
import { collectionPath, listResource } from './resources.ts';
import { KubeApiError, kubeFetch } from './transport.ts';

export interface KubeSourceOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Close a watch that received nothing for this long; default 90 s. */
  watchIdleTimeoutMs?: number;
  /** Server-side watch timeout; default a random 5–10 min, so watches of many informers do not end together. */
  watchTimeoutSeconds?: number;
  listTimeoutMs?: number;
}

/**
 * The ListWatchSource of a real API server: paginated list, then a streaming watch with bookmarks.
 * A watch that sends nothing for watchIdleTimeoutMs is closed (half-open TCP connections otherwise
 * hang forever) and reported as a clean TimeoutError close, so the informer simply resumes it.
 */
export function kubeListWatchSource<T extends KubernetesObject>(
  kc: KubeConfig,
  ref: ResourceRef,
  opts: KubeSourceOptions = {},
): ListWatchSource<T> {
  return {
    async list(signal) {
      const l = await listResource<T>(kc, ref, {
        signal,
        namespace: opts.namespace,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        timeoutMs: opts.listTimeoutMs,
      });
      return { items: l.items, resourceVersion: l.metadata.resourceVersion };
    },
    watch: (resourceVersion, onEvent, onClose) =>
      openWatch<T>(kc, ref, { ...opts, resourceVersion }, onEvent, onClose),
  };
}

/** Opens one watch stream; see ListWatchSource.watch for the contract. */
export async function openWatch<T>(
  kc: KubeConfig,
  ref: ResourceRef,
  opts: KubeSourceOptions & { resourceVersion: string },
  onEvent: (event: WatchEvent<T>) => void,
  onClose: (err?: unknown) => void,
): Promise<WatchHandle> {
  const controller = new AbortController();
  const idleMs = opts.watchIdleTimeoutMs ?? 90_000;
  let stopped = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      controller.abort(new DOMException(`watch idle for ${idleMs} ms`, 'TimeoutError'));
    }, idleMs);
    idleTimer.unref?.();
  };
  const path = collectionPath(ref, opts.namespace);
  touch();
  let res: Awaited<ReturnType<typeof kubeFetch>>;
  try {
    res = await kubeFetch(kc, {
      method: 'GET',
      path,
      query: {
        watch: 'true',
        allowWatchBookmarks: 'true',
        resourceVersion: opts.resourceVersion || undefined,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        timeoutSeconds: opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300),
      },
      timeoutMs: 0,
      signal: controller.signal,
    });
  } catch (e) {
    clearTimeout(idleTimer);
    throw e;
  }
  if (res.status !== 200) {
    clearTimeout(idleTimer);
    const body = await res.text().catch(() => '');
    controller.abort();
    const cluster = kc.getCurrentContext() || '?';
    throw new KubeApiError(cluster, 'GET', `${path}?watch=true`, res.status, body, res.headers);
  }
  touch();
  const close = (err?: unknown) => {
    clearTimeout(idleTimer);
    if (stopped) return;
    stopped = true;
    onClose(err);
  };
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const value of res.chunks()) {
        touch();
        buffer += decoder.decode(value, { stream: true });
        let nl = buffer.indexOf('\n');
        while (nl >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf('\n');
          if (line === '' || stopped) continue;
          let ev: WatchEvent<T>;
          try {
            ev = JSON.parse(line) as WatchEvent<T>;
          } catch {
            close(new Error(`watch ${path}: unparsable event: ${line.slice(0, 200)}`));
            controller.abort();
            return;
          }
          onEvent(ev);
        }
      }
      close();
    } catch (e) {
      const reason = controller.signal.reason as { name?: string } | undefined;
      close(controller.signal.aborted && reason?.name === 'TimeoutError' ? reason : e);
    }
  })();
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(idleTimer);
      controller.abort();
    },
  };
}
