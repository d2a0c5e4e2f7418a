import { type KubeConfig, type KubernetesObject, Watch } from '@kubernetes/client-node';

/**
 * Records every watch event for one object from `resourceVersion` on, so a test can tell whether a
 * member copy ever passed through a state (e.g. without an annotation another controller restores
 * within milliseconds) that polling would miss.
 */
export async function recordEvents(
  kc: KubeConfig,
  path: string,
  name: string,
  resourceVersion: string,
): Promise<{ events: Array<{ type: string; object: KubernetesObject }>; stop(): void }> {
  const events: Array<{ type: string; object: KubernetesObject }> = [];
  let ended: unknown;
  const abort = await new Watch(kc).watch(
    path,
    { fieldSelector: `metadata.name=${name}`, resourceVersion, allowWatchBookmarks: false },
    (type, object: KubernetesObject) => events.push({ type, object }),
    (err) => {
      ended = err ?? 'closed';
    },
  );
  return {
    events,
    stop() {
      abort.abort();
      if (ended && ended !== 'closed' && !(ended instanceof Error && ended.name === 'AbortError'))
        throw new Error(`watch of ${path} ${name} ended early: ${String(ended)}`);
    },
  };
}
