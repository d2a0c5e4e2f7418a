// Test support for join/unjoin: an in-memory stand-in for the few API calls they make, recording every
// write as "create Secret ns/name" so tests assert the exact list of writes. Not a general fake. The
// typed client-node calls of join/unjoin are methods here; reads through transport.ts (`get
// clusters`) are served from the same store by GET.
import { kubeConfigForEndpoint, type TypedClients } from '../kube/clients.ts';
import { type FakeApiRequest, type FakeApiResponse, serveFromMemory, statusResponse } from './fake-api.ts';

type Obj = {
  metadata?: { name?: string; namespace?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
};

/** The kinds GETs can reach, by resource (plural) name. */
const KINDS: Record<string, string> = {
  namespaces: 'Namespace',
  serviceaccounts: 'ServiceAccount',
  secrets: 'Secret',
  clusterroles: 'ClusterRole',
  clusterrolebindings: 'ClusterRoleBinding',
  roles: 'Role',
  rolebindings: 'RoleBinding',
  kubefedclusters: 'KubeFedCluster',
  kubefedconfigs: 'KubeFedConfig',
  federatedtypeconfigs: 'FederatedTypeConfig',
};

const apiError = (code: number, reason: string, message: string) =>
  Object.assign(new Error(message), {
    code,
    body: JSON.stringify({ kind: 'Status', code, reason, message }),
  });

export const FAKE_CA = Buffer.from(
  '-----BEGIN CERTIFICATE-----\nMIIfake\n-----END CERTIFICATE-----\n',
).toString('base64');

export class FakeCluster {
  readonly name: string;
  readonly server: string;
  readonly store = new Map<string, Obj>();
  readonly writes: string[] = [];
  /** Fill `data.token` of service-account-token Secrets, as kube-controller-manager would. */
  tokenController = true;
  /** The core CRDs exist from the start; when false, join must create them. */
  crdInstalled = true;
  /** Creating CRDs is forbidden (a user without cluster-admin). */
  crdCreateForbidden = false;
  unreachable = false;
  #uid = 0;

  constructor(name: string, server = `https://127.0.0.1:${6443 + name.length}`) {
    this.name = name;
    this.server = server;
  }

  get(kind: string, name: string, namespace = ''): Obj | undefined {
    return this.store.get(`${kind}/${namespace}/${name}`);
  }

  put(kind: string, obj: Obj): void {
    const m = obj.metadata ?? {};
    this.store.set(`${kind}/${m.namespace ?? ''}/${m.name ?? ''}`, structuredClone(obj));
  }

  #check() {
    if (this.unreachable) {
      throw Object.assign(new TypeError('fetch failed'), {
        cause: new Error(`connect ECONNREFUSED ${this.server}`),
      });
    }
  }

  #read(kind: string, name: string, namespace = ''): Obj {
    this.#check();
    const o = this.get(kind, name, namespace);
    if (!o) throw apiError(404, 'NotFound', `${kind} "${name}" not found`);
    return structuredClone(o);
  }

  #create(kind: string, body: Obj, namespace = ''): Obj {
    this.#check();
    const name = body.metadata?.name ?? '';
    if (this.get(kind, name, namespace))
      throw apiError(409, 'AlreadyExists', `${kind} "${name}" already exists`);
    const obj = structuredClone(body);
    obj.metadata = {
      ...obj.metadata,
      namespace: namespace || undefined,
      uid: `${this.name}-uid-${++this.#uid}`,
    };
    if (!namespace) delete obj.metadata.namespace;
    if (kind === 'Secret' && obj.type === 'kubernetes.io/service-account-token' && this.tokenController) {
      const sa = (obj.metadata.annotations as Record<string, string> | undefined)?.[
        'kubernetes.io/service-account.name'
      ];
      obj.data = { token: Buffer.from(`token-for-${sa}`).toString('base64'), 'ca.crt': FAKE_CA };
    }
    this.store.set(`${kind}/${namespace}/${name}`, obj);
    this.writes.push(`create ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
    return structuredClone(obj);
  }

  #replace(kind: string, name: string, body: Obj, namespace = ''): Obj {
    this.#read(kind, name, namespace);
    this.store.set(`${kind}/${namespace}/${name}`, structuredClone(body));
    this.writes.push(`update ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
    return structuredClone(body);
  }

  #delete(kind: string, name: string, namespace = ''): Obj {
    const o = this.#read(kind, name, namespace);
    this.store.delete(`${kind}/${namespace}/${name}`);
    this.writes.push(`delete ${kind} ${namespace ? `${namespace}/` : ''}${name}`);
    return o;
  }

  /** GET of one object or a list (`/api/v1/...`, `/apis/<group>/<version>/...`) from the store. */
  #serve(req: FakeApiRequest): FakeApiResponse {
    this.#check();
    const parts = req.path.split('/').filter(Boolean);
    const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
    const group = parts[0] === 'api' ? '' : (parts[1] ?? '');
    let namespace = '';
    if (rest[0] === 'namespaces' && rest.length > 2) {
      namespace = rest[1] ?? '';
      rest.splice(0, 2);
    }
    const [plural = '', name] = rest;
    const kind = KINDS[plural];
    if (req.method !== 'GET' || !kind)
      return statusResponse(405, 'MethodNotAllowed', `${req.method} ${req.path}`);
    if (
      group === 'core.kubefed.io' &&
      !this.crdInstalled &&
      !this.get('CustomResourceDefinition', 'kubefedclusters.core.kubefed.io')
    )
      return { status: 404, body: '404 page not found' };
    if (name !== undefined) {
      const o = this.get(kind, name, namespace);
      return o ? { status: 200, body: o } : statusResponse(404, 'NotFound', `${plural} "${name}" not found`);
    }
    const items = [...this.store.entries()]
      .filter(([k]) => k.startsWith(`${kind}/${namespace}/`))
      .map(([, v]) => v);
    return { status: 200, body: { kind: `${kind}List`, metadata: { resourceVersion: '1' }, items } };
  }

  clients(): TypedClients {
    const kc = serveFromMemory(
      kubeConfigForEndpoint({ name: this.name, server: this.server, caData: FAKE_CA, token: 'admin' }),
      (req) => this.#serve(req),
    );
    type P = { name: string; namespace: string; body: Obj; plural?: string };
    // The custom objects this fake knows, by plural (join reads KubeFedConfig and FederatedTypeConfigs).
    const kindOf = (p: P) =>
      p.plural === 'kubefedconfigs'
        ? 'KubeFedConfig'
        : p.plural === 'federatedtypeconfigs'
          ? 'FederatedTypeConfig'
          : 'KubeFedCluster';
    const core = {
      readNamespace: async (p: P) => this.#read('Namespace', p.name),
      createNamespace: async (p: P) => this.#create('Namespace', p.body),
      deleteNamespace: async (p: P) => this.#delete('Namespace', p.name),
      readNamespacedServiceAccount: async (p: P) => this.#read('ServiceAccount', p.name, p.namespace),
      createNamespacedServiceAccount: async (p: P) => this.#create('ServiceAccount', p.body, p.namespace),
      replaceNamespacedServiceAccount: async (p: P) =>
        this.#replace('ServiceAccount', p.name, p.body, p.namespace),
      deleteNamespacedServiceAccount: async (p: P) => this.#delete('ServiceAccount', p.name, p.namespace),
      listNamespacedServiceAccount: async (p: P) => {
        this.#check();
        return {
          items: [...this.store.entries()]
            .filter(([k]) => k.startsWith(`ServiceAccount/${p.namespace}/`))
            .map(([, v]) => structuredClone(v)),
        };
      },
      readNamespacedSecret: async (p: P) => this.#read('Secret', p.name, p.namespace),
      createNamespacedSecret: async (p: P) => this.#create('Secret', p.body, p.namespace),
      replaceNamespacedSecret: async (p: P) => this.#replace('Secret', p.name, p.body, p.namespace),
      deleteNamespacedSecret: async (p: P) => this.#delete('Secret', p.name, p.namespace),
    };
    const rbac = {
      readClusterRole: async (p: P) => this.#read('ClusterRole', p.name),
      createClusterRole: async (p: P) => this.#create('ClusterRole', p.body),
      replaceClusterRole: async (p: P) => this.#replace('ClusterRole', p.name, p.body),
      deleteClusterRole: async (p: P) => this.#delete('ClusterRole', p.name),
      readClusterRoleBinding: async (p: P) => this.#read('ClusterRoleBinding', p.name),
      createClusterRoleBinding: async (p: P) => this.#create('ClusterRoleBinding', p.body),
      replaceClusterRoleBinding: async (p: P) => this.#replace('ClusterRoleBinding', p.name, p.body),
      deleteClusterRoleBinding: async (p: P) => this.#delete('ClusterRoleBinding', p.name),
      readNamespacedRole: async (p: P) => this.#read('Role', p.name, p.namespace),
      createNamespacedRole: async (p: P) => this.#create('Role', p.body, p.namespace),
      replaceNamespacedRole: async (p: P) => this.#replace('Role', p.name, p.body, p.namespace),
      deleteNamespacedRole: async (p: P) => this.#delete('Role', p.name, p.namespace),
      readNamespacedRoleBinding: async (p: P) => this.#read('RoleBinding', p.name, p.namespace),
      createNamespacedRoleBinding: async (p: P) => this.#create('RoleBinding', p.body, p.namespace),
      replaceNamespacedRoleBinding: async (p: P) => this.#replace('RoleBinding', p.name, p.body, p.namespace),
      deleteNamespacedRoleBinding: async (p: P) => this.#delete('RoleBinding', p.name, p.namespace),
    };
    const kfcGuard = () => {
      this.#check();
      // The API server's answer for an unknown resource type: 404 without a Status reason.
      if (!this.crdInstalled && !this.get('CustomResourceDefinition', 'kubefedclusters.core.kubefed.io')) {
        throw Object.assign(new Error('404 page not found'), { code: 404, body: '404 page not found' });
      }
    };
    const custom = {
      getNamespacedCustomObject: async (p: P) => {
        kfcGuard();
        return this.#read(kindOf(p), p.name, p.namespace);
      },
      createNamespacedCustomObject: async (p: P) => {
        kfcGuard();
        return this.#create('KubeFedCluster', p.body, p.namespace);
      },
      replaceNamespacedCustomObject: async (p: P) => {
        kfcGuard();
        return this.#replace('KubeFedCluster', p.name, p.body, p.namespace);
      },
      deleteNamespacedCustomObject: async (p: P) => {
        kfcGuard();
        return this.#delete('KubeFedCluster', p.name, p.namespace);
      },
      listNamespacedCustomObject: async (p: P) => {
        kfcGuard();
        return {
          apiVersion: 'core.kubefed.io/v1beta1',
          kind: `${kindOf(p)}List`,
          items: [...this.store.entries()]
            .filter(([k]) => k.startsWith(`${kindOf(p)}/${p.namespace}/`))
            .map(([, v]) => structuredClone(v)),
        };
      },
    };
    const objects = {
      read: async (spec: Obj) => {
        if (spec.kind === 'CustomResourceDefinition' && this.crdInstalled)
          return { ...spec, status: { conditions: [{ type: 'Established', status: 'True' }] } };
        return this.#read(String(spec.kind), spec.metadata?.name ?? '');
      },
      create: async (spec: Obj) => {
        if (this.crdCreateForbidden)
          throw apiError(403, 'Forbidden', 'customresourcedefinitions is forbidden');
        this.#create(String(spec.kind), spec);
        const stored = this.get(String(spec.kind), spec.metadata?.name ?? '')!;
        stored.status = { conditions: [{ type: 'Established', status: 'True' }] };
        return structuredClone(stored);
      },
    };
    return { name: this.name, kc, core, rbac, custom, objects } as unknown as TypedClients;
  }
}
