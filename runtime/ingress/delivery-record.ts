/**
 * One record per GitHub delivery, in the platform's `deliveries` table: the envelope (event,
 * action, delivery id, installation, received time, signature result), the raw body (inline when
 * small, else a blob), and the routing state (status, attempts, last error, timestamps).
 * The row key is the GitHub delivery id, so the row is also the dedupe record.
 */

export type DeliveryStatus =
  /** Stored and announced; the router has not finished with it. */
  | 'received'
  /** No tenant has bound its installation yet; released when one does. */
  | 'parked'
  /** A forward failed with a retryable status; another attempt is scheduled. */
  | 'retrying'
  | 'delivered'
  /** Kept by the platform itself; nothing to forward. */
  | 'handled'
  /** An event Zekt does not use; recorded, never forwarded. */
  | 'ignored'
  /** A non-retryable answer or retries exhausted; replayable by an operator. */
  | 'dead';

export const deliveryStatuses: readonly DeliveryStatus[] = [
  'received',
  'parked',
  'retrying',
  'delivered',
  'handled',
  'ignored',
  'dead',
];

export interface DeliveryRecord {
  readonly deliveryId: string;
  readonly partition: string;
  readonly event: string;
  readonly action?: string;
  readonly installationId?: number;
  /** `sha256` (current secret) or `sha256-previous` (matched the previous secret during rotation). */
  readonly signature: 'sha256' | 'sha256-previous';
  readonly receivedAt: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly tenantId?: string;
  readonly lastError?: string;
  readonly updatedAt: string;
  readonly deliveredAt?: string;
  readonly nextAttemptAt?: string;
  /** A router holds the row until then (one forward at a time). */
  readonly leaseUntil?: string;
  /** When the installation registry took this (installation) event; it is then forwarded like any other. */
  readonly appliedAt?: string;
  /** Body bytes when kept inline (raw-deflated when `bodyEncoding` says so). */
  readonly body?: Uint8Array;
  /** `deflate-raw`: the inline body is compressed (GitHub's JSON shrinks about 6×). */
  readonly bodyEncoding?: 'deflate-raw';
  /** Blob name when the body was too large to keep inline. */
  readonly bodyBlob?: string;
  readonly bodyBytes: number;
  readonly etag?: string;
}

/** Events the platform acts on; every other event is recorded as ignored. */
/** GitHub's delivery ids are GUIDs; anything outside this shape cannot be one, and names a row. */
export const deliveryIdShape = /^[A-Za-z0-9-]{1,64}$/;

export const forwardedEvents = new Set(['workflow_run', 'workflow_job', 'push']);
export const registryEvents = new Set(['installation', 'installation_repositories']);

/**
 * Deliveries are spread over two partitions by a hash of their id. A table transaction holds
 * one partition, so each partition costs one storage request per group-commit round: two
 * rather than four carry twice the rows per request (about a fifth less storage CPU per delivery
 * on the local emulator), while still doubling one partition's throughput target of
 * 2,000 entities/s (https://learn.microsoft.com/azure/storage/tables/scalability-targets).
 * Fixed for good: a delivery's partition is found again from its id alone.
 */
export const deliveryPartitionCount = 2;

export function deliveryPartition(deliveryId: string): string {
  let h = 0;
  for (let i = 0; i < deliveryId.length; i++) h = (h * 31 + deliveryId.charCodeAt(i)) >>> 0;
  return `d${h % deliveryPartitionCount}`;
}

/** Table entity shape (flat properties, `Edm.Binary` body). */
export type DeliveryEntity = {
  partitionKey: string;
  rowKey: string;
  event: string;
  action?: string;
  installationId?: number;
  signature: string;
  receivedAt: string;
  status: DeliveryStatus;
  attempts: number;
  tenantId?: string;
  lastError?: string;
  updatedAt: string;
  deliveredAt?: string;
  nextAttemptAt?: string;
  leaseUntil?: string;
  appliedAt?: string;
  body?: Uint8Array;
  bodyEncoding?: string;
  bodyBlob?: string;
  bodyBytes: number;
  etag?: string;
};

export function toEntity(record: DeliveryRecord): DeliveryEntity {
  const entity: DeliveryEntity = {
    partitionKey: record.partition,
    rowKey: record.deliveryId,
    event: record.event,
    signature: record.signature,
    receivedAt: record.receivedAt,
    status: record.status,
    attempts: record.attempts,
    updatedAt: record.updatedAt,
    bodyBytes: record.bodyBytes,
  };
  if (record.action !== undefined) entity.action = record.action;
  if (record.installationId !== undefined) entity.installationId = record.installationId;
  if (record.tenantId !== undefined) entity.tenantId = record.tenantId;
  if (record.lastError !== undefined) entity.lastError = record.lastError;
  if (record.deliveredAt !== undefined) entity.deliveredAt = record.deliveredAt;
  if (record.nextAttemptAt !== undefined) entity.nextAttemptAt = record.nextAttemptAt;
  if (record.leaseUntil !== undefined) entity.leaseUntil = record.leaseUntil;
  if (record.appliedAt !== undefined) entity.appliedAt = record.appliedAt;
  if (record.body !== undefined) entity.body = record.body;
  if (record.bodyEncoding !== undefined) entity.bodyEncoding = record.bodyEncoding;
  if (record.bodyBlob !== undefined) entity.bodyBlob = record.bodyBlob;
  return entity;
}

export function fromEntity(entity: DeliveryEntity): DeliveryRecord {
  return {
    deliveryId: entity.rowKey,
    partition: entity.partitionKey,
    event: entity.event,
    ...(entity.action ? { action: entity.action } : {}),
    ...(entity.installationId !== undefined && entity.installationId !== null ? { installationId: Number(entity.installationId) } : {}),
    signature: entity.signature === 'sha256-previous' ? 'sha256-previous' : 'sha256',
    receivedAt: entity.receivedAt,
    status: entity.status,
    attempts: Number(entity.attempts),
    ...(entity.tenantId ? { tenantId: entity.tenantId } : {}),
    ...(entity.lastError ? { lastError: entity.lastError } : {}),
    updatedAt: entity.updatedAt,
    ...(entity.deliveredAt ? { deliveredAt: entity.deliveredAt } : {}),
    ...(entity.nextAttemptAt ? { nextAttemptAt: entity.nextAttemptAt } : {}),
    ...(entity.leaseUntil ? { leaseUntil: entity.leaseUntil } : {}),
    ...(entity.appliedAt ? { appliedAt: entity.appliedAt } : {}),
    ...(entity.body ? { body: entity.body } : {}),
    ...(entity.bodyEncoding === 'deflate-raw' ? { bodyEncoding: 'deflate-raw' as const } : {}),
    ...(entity.bodyBlob ? { bodyBlob: entity.bodyBlob } : {}),
    bodyBytes: Number(entity.bodyBytes),
    ...(entity.etag ? { etag: entity.etag } : {}),
  };
}
