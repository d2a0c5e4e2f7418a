import type { ClusterPlan } from './plan.ts';
import { topologyLabels } from './plan.ts';

// kwok plays the kubelet of the fake nodes. Run bare (without kwokctl) it needs its lifecycle
// "stages" in a config file; these are the testbed's own, kept minimal: nodes become Ready and keep
// a heartbeat, pods become Running/Ready with an IP from their node's podCIDR, Job pods complete,
// deleted pods go away. Pure.

export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const FAKE_NODE_SELECTOR = `${FAKE_NODE_ANNOTATION}=fake`;

const stage = (name: string, kind: 'Node' | 'Pod', body: string): string =>
  [
    'apiVersion: kwok.x-k8s.io/v1alpha1',
    'kind: Stage',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  resourceRef:',
    '    apiGroup: v1',
    `    kind: ${kind}`,
    body.trimEnd(),
  ].join('\n');

const NODE_READY = stage(
  'testbed-node-ready',
  'Node',
  `
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - type: Ready
        status: "True"
        reason: KubeletReady
        message: "fake kubelet (kwok) is posting ready status"
        lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
      - type: MemoryPressure
        status: "False"
        reason: KubeletHasSufficientMemory
        message: "fake kubelet has sufficient memory"
        lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
      - type: DiskPressure
        status: "False"
        reason: KubeletHasNoDiskPressure
        message: "fake kubelet has no disk pressure"
        lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
      - type: PIDPressure
        status: "False"
        reason: KubeletHasSufficientPID
        message: "fake kubelet has sufficient PID"
        lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
      {{ if not .status.addresses }}
      addresses:
      - type: InternalIP
        address: {{ NodeIP | Quote }}
      - type: Hostname
        address: {{ NodeName | Quote }}
      {{ end }}
      capacity:
        cpu: "32"
        memory: 64Gi
        pods: "110"
      allocatable:
        cpu: "32"
        memory: 64Gi
        pods: "110"
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        kubeletVersion: {{ printf "fake-kwok-%s" Version | Quote }}
        kubeProxyVersion: ""
        containerRuntimeVersion: "fake://kwok"
        kernelVersion: "fake"
        osImage: "fedctl testbed fake node"
        machineID: ""
        systemUUID: ""
        bootID: ""
      phase: Running
`,
);

const NODE_HEARTBEAT = stage(
  'testbed-node-heartbeat',
  'Node',
  `
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: In
      values: ['True']
  delay:
    durationMilliseconds: 15000
    jitterDurationMilliseconds: 20000
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range .status.conditions }}
      - type: {{ .type | Quote }}
        status: {{ .status | Quote }}
        reason: {{ .reason | Quote }}
        message: {{ .message | Quote }}
        lastTransitionTime: {{ .lastTransitionTime | Quote }}
        lastHeartbeatTime: {{ $now | Quote }}
      {{ end }}
`,
);

const POD_RUNNING = stage(
  'testbed-pod-running',
  'Pod',
  `
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: ['Pending']
  next:
    statusTemplate: |
      {{ $now := Now }}
      phase: Running
      startTime: {{ $now | Quote }}
      conditions:
      - type: PodReadyToStartContainers
        status: "True"
        lastTransitionTime: {{ $now | Quote }}
      - type: Initialized
        status: "True"
        lastTransitionTime: {{ $now | Quote }}
      - type: ContainersReady
        status: "True"
        lastTransitionTime: {{ $now | Quote }}
      - type: Ready
        status: "True"
        lastTransitionTime: {{ $now | Quote }}
      {{ range .spec.readinessGates }}
      - type: {{ .conditionType | Quote }}
        status: "True"
        lastTransitionTime: {{ $now | Quote }}
      {{ end }}
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        imageID: ""
        ready: true
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      {{ with .spec.initContainers }}
      initContainerStatuses:
      {{ range . }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        imageID: ""
        ready: true
        restartCount: 0
        state:
          terminated:
            exitCode: 0
            reason: Completed
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}
      {{ end }}
      {{ end }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
`,
);

const POD_JOB_COMPLETE = stage(
  'testbed-pod-job-complete',
  'Pod',
  `
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: ['Running']
    - key: '.metadata.ownerReferences.[].kind'
      operator: In
      values: ['Job']
  delay:
    durationMilliseconds: 1000
  next:
    statusTemplate: |
      {{ $now := Now }}
      phase: Succeeded
      conditions:
      - type: Ready
        status: "False"
        reason: PodCompleted
        lastTransitionTime: {{ $now | Quote }}
      - type: ContainersReady
        status: "False"
        reason: PodCompleted
        lastTransitionTime: {{ $now | Quote }}
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        imageID: ""
        ready: false
        started: false
        restartCount: 0
        state:
          terminated:
            exitCode: 0
            reason: Completed
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}
      {{ end }}
`,
);

const POD_DELETE = stage(
  'testbed-pod-delete',
  'Pod',
  `
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: Exists
  next:
    finalizers:
      empty: true
    delete: true
`,
);

/** The kwok config file: every stage, as a multi-document YAML. */
export function kwokConfig(): string {
  return `${[NODE_READY, NODE_HEARTBEAT, POD_RUNNING, POD_JOB_COMPLETE, POD_DELETE].join('\n---\n')}\n`;
}

export function kwokArgs(kubeconfig: string, configPath: string, podCIDR: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--config=${configPath}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${FAKE_NODE_SELECTOR}`,
    `--cidr=${podCIDR}`,
    '--node-lease-duration-seconds=40',
  ];
}

export const fakeNodeName = (cluster: string, j: number): string => `${cluster}-node${j}`;

/**
 * A fake Node object. Its status carries the InternalIP (an address that exists inside the node's
 * network namespace) so kwok keeps it instead of inventing one.
 */
export function fakeNode(plan: ClusterPlan, j: number, ip: string): Record<string, unknown> {
  const name = fakeNodeName(plan.name, j);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        ...topologyLabels(plan),
      },
    },
    spec: {},
    status: {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
    },
  };
}
