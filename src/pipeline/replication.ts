/** One copy a multicast group makes: an egress port and its replication id (instance). */
export interface Replica {
  readonly port: number;
  readonly instance: number;
}

/**
 * The packet replication engine: multicast groups of (port, instance) and clone sessions,
 * written by the control plane, read by the traffic manager.
 */
export class ReplicationEngine {
  readonly groups = new Map<number, readonly Replica[]>();
  readonly cloneSessions = new Map<number, number>();

  constructor(readonly maxGroups = 4096, readonly maxReplicas = 256) {}
}
