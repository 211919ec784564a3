/**
 * Names of the platform's tables, queues and containers, shared by the runtime, the control plane
 * and the platform's Pulumi program. Table names: 3–63 letters/digits; queue and container names:
 * lowercase letters, digits and hyphens.
 */
export const platformStorageLayout = {
  tables: {
    tenants: 'tenants',
    installations: 'installations',
    deliveries: 'deliveries',
    authStates: 'authstates',
    sessions: 'sessions',
    tokenAudit: 'tokenaudit',
    accounts: 'accounts',
  },
  queues: {
    provisioning: 'provisioning',
    ingressDeliveries: 'ingress-deliveries',
  },
  containers: {
    webhookPayloads: 'webhook-payloads',
    pulumiState: 'pulumi-state',
  },
} as const;

/** Everything `Storage.ensure` should create for the platform (poison queues included). */
export const platformStorageResources = {
  tables: Object.values(platformStorageLayout.tables),
  queues: Object.values(platformStorageLayout.queues).flatMap((q) => [q, `${q}-poison`]),
  containers: Object.values(platformStorageLayout.containers),
};
