import type { V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from './coredns-check.ts';
import { currentSection, renderSection, SECTION_BEGIN } from './corefile.ts';
import { type ConfigMapApi, readCorefile, sectionFor, writeCorefileSection } from './writer.ts';

const KUBEADM = `.:53 {
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
    }
    forward . /etc/resolv.conf
    cache 30
    reload
}
`;

const K3S = `.:53 {
    errors
    kubernetes cluster.local
    forward . /etc/resolv.conf
    import /etc/coredns/custom/*.override
}
import /etc/coredns/custom/*.server
`;

const apiError = (code: number, reason: string) => ({
  code,
  body: JSON.stringify({ reason, message: reason }),
});

/** An in-memory kube-system ConfigMap store that checks resourceVersions like the API server. */
function fakeCluster(initial: Record<string, Record<string, string>>) {
  const store = new Map<string, V1ConfigMap>();
  let rv = 100;
  for (const [name, data] of Object.entries(initial)) {
    store.set(name, { metadata: { name, namespace: 'kube-system', resourceVersion: String(rv++) }, data });
  }
  const writes: string[] = [];
  let beforeReplace: ((name: string) => void) | undefined;
  const core: ConfigMapApi = {
    async readNamespacedConfigMap({ name }) {
      const cm = store.get(name);
      if (!cm) throw apiError(404, 'NotFound');
      return structuredClone(cm);
    },
    async replaceNamespacedConfigMap({ name, body }) {
      beforeReplace?.(name);
      const cm = store.get(name);
      if (!cm) throw apiError(404, 'NotFound');
      if (body.metadata?.resourceVersion !== cm.metadata?.resourceVersion) throw apiError(409, 'Conflict');
      writes.push(`replace ${name}`);
      const next = {
        ...structuredClone(body),
        metadata: { ...body.metadata, resourceVersion: String(rv++) },
      };
      store.set(name, next);
      return next;
    },
    async createNamespacedConfigMap({ body }) {
      const name = body.metadata!.name!;
      if (store.has(name)) throw apiError(409, 'AlreadyExists');
      writes.push(`create ${name}`);
      store.set(name, {
        ...structuredClone(body),
        metadata: { ...body.metadata, resourceVersion: String(rv++) },
      });
      return body;
    },
  };
  return {
    clients: { name: 'c1', configMaps: core },
    store,
    writes,
    data: (name: string) => store.get(name)?.data,
    onReplace(f: (name: string) => void) {
      beforeReplace = f;
    },
    bump(name: string, key: string, value: string) {
      const cm = store.get(name)!;
      store.set(name, {
        ...cm,
        data: { ...cm.data, [key]: value },
        metadata: { ...cm.metadata, resourceVersion: String(rv++) },
      });
    },
  };
}

const ok = async (): Promise<CheckResult> => ({ ok: true });
const forward = [{ zone: 'b.local', upstreams: ['10.2.0.10'] }];
const section = renderSection(forward, 53);

describe('writeCorefileSection into the Corefile', () => {
  it('adds the section, saves the previous Corefile as backup first and reports updated', async () => {
    const c = fakeCluster({ coredns: { Corefile: KUBEADM } });
    const checked: string[] = [];
    const out = await writeCorefileSection(c.clients, section, {
      check: async (f) => {
        checked.push(f);
        return { ok: true };
      },
      now: () => new Date('2025-01-02T03:04:05Z'),
    });
    expect(out).toEqual({
      outcome: 'updated',
      target: 'Corefile',
      backup: 'kube-system/coredns-fedctl-backup',
    });
    expect(c.writes).toEqual(['create coredns-fedctl-backup', 'replace coredns']);
    expect(c.data('coredns')).toEqual({ Corefile: KUBEADM + section });
    expect(checked).toEqual([KUBEADM + section]);
    const backup = c.store.get('coredns-fedctl-backup')!;
    expect(backup.data).toEqual({ Corefile: KUBEADM });
    expect(backup.metadata?.annotations).toEqual({
      'fedctl.io/backup-of': 'kube-system/coredns/Corefile',
      'fedctl.io/backup-time': '2025-01-02T03:04:05.000Z',
    });
  });

  it('writes nothing and does not check when the section is already there', async () => {
    const c = fakeCluster({ coredns: { Corefile: KUBEADM + section } });
    let checks = 0;
    const out = await writeCorefileSection(c.clients, section, {
      check: async () => {
        checks++;
        return { ok: true };
      },
    });
    expect(out).toEqual({ outcome: 'unchanged', target: 'Corefile' });
    expect(c.writes).toEqual([]);
    expect(checks).toBe(0);
  });

  it('removes the section with an empty one, restoring the original bytes, and replaces an old backup', async () => {
    const c = fakeCluster({
      coredns: { Corefile: KUBEADM + section },
      'coredns-fedctl-backup': { Corefile: 'old' },
    });
    expect(await writeCorefileSection(c.clients, '', { check: ok })).toMatchObject({ outcome: 'updated' });
    expect(c.data('coredns')).toEqual({ Corefile: KUBEADM });
    expect(c.data('coredns-fedctl-backup')).toEqual({ Corefile: KUBEADM + section });
    expect(c.writes).toEqual(['replace coredns-fedctl-backup', 'replace coredns']);
  });

  it('renders for the main server port and bind when given a function', async () => {
    const testbed = '.:40123 {\n    bind 127.0.0.1\n    whoami\n}\n';
    const c = fakeCluster({ coredns: { Corefile: testbed } });
    expect(await writeCorefileSection(c.clients, sectionFor(forward), { check: ok })).toMatchObject({
      outcome: 'updated',
    });
    expect(currentSection(c.data('coredns')!.Corefile!)).toBe(
      renderSection(forward, 40123, { bind: ['127.0.0.1'] }),
    );
  });

  it('renders zones and records given as an object for the main server', async () => {
    const testbed = '.:40123 {\n    bind 127.0.0.1\n    whoami\n}\n';
    const c = fakeCluster({ coredns: { Corefile: testbed } });
    const records = [{ zone: 'example.com', records: [] }];
    expect(await writeCorefileSection(c.clients, { zones: forward, records }, { check: ok })).toMatchObject({
      outcome: 'updated',
    });
    expect(currentSection(c.data('coredns')!.Corefile!)).toBe(
      renderSection(forward, 40123, { bind: ['127.0.0.1'], records }),
    );
    expect(await writeCorefileSection(c.clients, { zones: [] }, { check: ok })).toMatchObject({
      outcome: 'updated',
    });
    expect(c.data('coredns')).toEqual({ Corefile: testbed });
  });

  it('refuses a section with an invalid zone, naming it', async () => {
    const c = fakeCluster({ coredns: { Corefile: KUBEADM } });
    expect(
      await writeCorefileSection(
        c.clients,
        { zones: [{ zone: 'evil.com {', upstreams: ['10.0.0.1'] }] },
        { check: ok },
      ),
    ).toEqual({
      outcome: 'refused',
      reason: 'InvalidSection',
      message: expect.stringContaining('zone "evil.com {"'),
    });
  });

  it('refuses, without writing, a zone already served outside the section', async () => {
    const c = fakeCluster({ coredns: { Corefile: `${KUBEADM}b.local:53 {\n    whoami\n}\n` } });
    const out = await writeCorefileSection(c.clients, section, { check: ok });
    expect(out).toEqual({
      outcome: 'refused',
      reason: 'SectionConflict',
      message:
        'cluster c1: zone b.local on port 53 is already served by the block at line 10; fedctl will not serve it too',
    });
    expect(c.writes).toEqual([]);
  });

  it('refuses, without writing, what the CoreDNS check rejects', async () => {
    const c = fakeCluster({ coredns: { Corefile: KUBEADM } });
    const out = await writeCorefileSection(c.clients, section, {
      check: async () => ({ ok: false, error: 'boom' }),
    });
    expect(out).toEqual({
      outcome: 'refused',
      reason: 'CheckFailed',
      message: 'cluster c1: CoreDNS check failed: boom',
    });
    expect(c.writes).toEqual([]);
  });

  it('refuses when the check cannot run at all', async () => {
    const c = fakeCluster({ coredns: { Corefile: KUBEADM } });
    const out = await writeCorefileSection(c.clients, section, {
      check: async () => ({
        ok: false,
        unavailable: true,
        error: 'coredns not found: is coredns installed?',
      }),
    });
    expect(out).toMatchObject({
      outcome: 'refused',
      reason: 'CheckUnavailable',
      message: expect.stringContaining('could not run: coredns not found: is coredns installed?'),
    });
  });

  it('refuses a Corefile with broken markers and one without a main server block', async () => {
    const broken = fakeCluster({ coredns: { Corefile: `${KUBEADM}${SECTION_BEGIN}\n` } });
    expect(await writeCorefileSection(broken.clients, section, { check: ok })).toMatchObject({
      outcome: 'refused',
      reason: 'CorefileUnparseable',
      message: expect.stringMatching(/marker without/),
    });
    const noMain = fakeCluster({ coredns: { Corefile: 'example.org {\n    whoami\n}\n' } });
    expect(await writeCorefileSection(noMain.clients, sectionFor(forward), { check: ok })).toMatchObject({
      outcome: 'refused',
      reason: 'CorefileUnparseable',
      message: expect.stringMatching(/no "\." server block/),
    });
  });

  it('refuses when CoreDNS is not deployed or its ConfigMap has no Corefile', async () => {
    expect(await writeCorefileSection(fakeCluster({}).clients, section, { check: ok })).toEqual({
      outcome: 'refused',
      reason: 'CoreDNSConfigNotFound',
      message: 'ConfigMap kube-system/coredns not found in cluster c1: is CoreDNS deployed?',
    });
    expect(
      await writeCorefileSection(fakeCluster({ coredns: {} }).clients, section, { check: ok }),
    ).toMatchObject({
      outcome: 'refused',
      reason: 'CoreDNSConfigNotFound',
      message: expect.stringMatching(/has no key Corefile/),
    });
  });

  it('starts over from a fresh read when the ConfigMap changed in between, keeping the other change', async () => {
    const c = fakeCluster({ coredns: { Corefile: KUBEADM } });
    let once = true;
    c.onReplace((name) => {
      if (name === 'coredns' && once) {
        once = false;
        c.bump('coredns', 'Corefile', `${KUBEADM}# edited by someone\n`);
      }
    });
    expect(await writeCorefileSection(c.clients, section, { check: ok })).toMatchObject({
      outcome: 'updated',
    });
    expect(c.data('coredns')).toEqual({ Corefile: `${KUBEADM}# edited by someone\n${section}` });
  });

  it('gives up with an error naming the cluster after too many conflicts', async () => {
    const c = fakeCluster({ coredns: { Corefile: KUBEADM } });
    let n = 0;
    c.onReplace((name) => {
      if (name === 'coredns') c.bump('coredns', 'x', String(n++));
    });
    await expect(writeCorefileSection(c.clients, section, { check: ok, maxAttempts: 2 })).rejects.toThrow(
      /cluster c1: updating kube-system\/coredns: Conflict \(HTTP 409, Conflict\)/,
    );
  });

  it('throws API errors other than NotFound, naming cluster and object', async () => {
    const c = fakeCluster({});
    c.clients.configMaps.readNamespacedConfigMap = async () => {
      throw apiError(403, 'Forbidden');
    };
    await expect(writeCorefileSection(c.clients, section, { check: ok })).rejects.toThrow(
      'cluster c1: reading kube-system/coredns: Forbidden (HTTP 403, Forbidden)',
    );
  });
});

describe('readCorefile', () => {
  it('returns the Corefile with its main server, or undefined without CoreDNS', async () => {
    const testbed = '.:40123 {\n    bind 127.0.0.1\n    whoami\n}\n';
    expect(await readCorefile(fakeCluster({ coredns: { Corefile: testbed } }).clients)).toEqual({
      corefile: testbed,
      main: { port: 40123, bind: ['127.0.0.1'], line: 1 },
      target: 'Corefile',
    });
    expect(await readCorefile(fakeCluster({}).clients)).toBeUndefined();
  });
});

describe('writeCorefileSection with imported *.server files', () => {
  it('writes its own fedctl.server key into coredns-custom and leaves the Corefile alone', async () => {
    const c = fakeCluster({
      coredns: { Corefile: K3S },
      'coredns-custom': { 'other.server': 'x.org:53 {\n    whoami\n}\n' },
    });
    const checked: string[] = [];
    const out = await writeCorefileSection(c.clients, sectionFor(forward), {
      check: async (f) => {
        checked.push(f);
        return { ok: true };
      },
    });
    expect(out).toMatchObject({ outcome: 'updated', target: 'coredns-custom/fedctl.server' });
    expect(c.data('coredns')).toEqual({ Corefile: K3S });
    expect(c.data('coredns-custom')).toEqual({
      'other.server': 'x.org:53 {\n    whoami\n}\n',
      'fedctl.server': section,
    });
    // The check sees what CoreDNS will load: the Corefile, the other server files, then fedctl's.
    expect(checked).toEqual([`${K3S}x.org:53 {\n    whoami\n}\n${section}`]);
    expect(c.data('coredns-fedctl-backup')).toEqual({ 'fedctl.server': '' });
  });

  it('uses the coredns ConfigMap itself when it already holds *.server keys', async () => {
    const c = fakeCluster({ coredns: { Corefile: K3S, 'a.server': '' } });
    expect(await writeCorefileSection(c.clients, section, { check: ok })).toMatchObject({
      target: 'coredns/fedctl.server',
    });
    expect(c.data('coredns')).toEqual({ Corefile: K3S, 'a.server': '', 'fedctl.server': section });
  });

  it('refuses a zone that another imported server file already serves', async () => {
    const c = fakeCluster({
      coredns: { Corefile: K3S },
      'coredns-custom': { 'b.server': 'b.local:53 {\n    whoami\n}\n' },
    });
    expect(await writeCorefileSection(c.clients, section, { check: ok })).toMatchObject({
      outcome: 'refused',
      reason: 'SectionConflict',
      message: expect.stringMatching(/zone b.local on port 53 is already served/),
    });
  });

  it('removes its key when the section becomes empty', async () => {
    const c = fakeCluster({ coredns: { Corefile: K3S }, 'coredns-custom': { 'fedctl.server': section } });
    expect(await writeCorefileSection(c.clients, '', { check: ok })).toMatchObject({ outcome: 'updated' });
    expect(c.data('coredns-custom')).toEqual({});
  });

  it('falls back to the Corefile when no ConfigMap holds server files', async () => {
    const c = fakeCluster({ coredns: { Corefile: K3S } });
    expect(await writeCorefileSection(c.clients, section, { check: ok })).toMatchObject({
      target: 'Corefile',
    });
    expect(c.data('coredns')).toEqual({ Corefile: K3S + section });
  });

  it('keeps using the Corefile when its section is already there', async () => {
    const c = fakeCluster({ coredns: { Corefile: K3S + section }, 'coredns-custom': {} });
    const s2 = renderSection([...forward, { zone: 'c.local', upstreams: ['10.3.0.10'] }], 53);
    expect(await writeCorefileSection(c.clients, s2, { check: ok })).toMatchObject({ target: 'Corefile' });
    expect(c.data('coredns')).toEqual({ Corefile: K3S + s2 });
    expect(c.data('coredns-custom')).toEqual({});
  });
});
