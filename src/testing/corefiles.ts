// Corefiles tests start from, shared by the unit tests and the real-CoreDNS e2e suite.

/** A kubeadm-style cluster Corefile (the shape most distributions ship in kube-system/coredns). */
export const KUBEADM = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
}
`;
