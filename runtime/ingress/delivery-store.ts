/**
 * Reads and writes delivery records after they were persisted: point reads, ETag-guarded
 * updates, queries for operators and sweepers, and the raw body (inline or blob).
 */
import { odata, type TableClient } from '@azure/data-tables';
import type { ContainerClient } from '@azure/storage-blob';
import { inflateRawSync } from 'node:zlib';
import { fromEntity, toEntity, type DeliveryEntity, type DeliveryRecord, type DeliveryStatus } from './delivery-record.ts';
import { statusOf } from '../storage/status-of.ts';

export class DeliveryNotFoundError extends Error {
  override name = 'DeliveryNotFoundError';
}

/** Someone else updated the row first (ETag mismatch); the caller's view is stale. */
export class DeliveryChangedError extends Error {
  override name = 'DeliveryChangedError';
}

export interface DeliveryQuery {
  readonly tenantId?: string;
  readonly status?: DeliveryStatus;
  readonly installationId?: number;
  /** ISO time: received at or after. */
  readonly since?: string;
  /** ISO time: received before. */
  readonly until?: string;
  /** ISO time: last written before (the sweeper's stalled `received` rows). */
  readonly updatedBefore?: string;
  /** ISO time: next attempt due before (the sweeper's overdue `retrying` rows). */
  readonly dueBefore?: string;
  readonly limit?: number;
}

export interface DeliveryStore {
  get(deliveryId: string): Promise<DeliveryRecord>;
  /** Replaces the row if it still has `record.etag`; returns the record with its new ETag. */
  update(record: DeliveryRecord): Promise<DeliveryRecord>;
  query(filter: DeliveryQuery): Promise<DeliveryRecord[]>;
  body(record: DeliveryRecord): Promise<Buffer>;
  remove(record: DeliveryRecord): Promise<void>;
}

export function createDeliveryStore(table: TableClient, payloads: ContainerClient, partitionOf: (id: string) => string): DeliveryStore {
  return {
    async get(deliveryId) {
      try {
        return fromEntity(await table.getEntity<DeliveryEntity>(partitionOf(deliveryId), deliveryId));
      } catch (err) {
        if (statusOf(err) === 404) throw new DeliveryNotFoundError(`no delivery ${deliveryId}`, { cause: err });
        throw err;
      }
    },
    async update(record) {
      const { etag, ...rest } = record;
      // A replace without the body would lose it: only full rows (from get) may be written back.
      if (!rest.body && !rest.bodyBlob) throw new Error(`delivery ${record.deliveryId}: refusing to write a row without its body`);
      try {
        const result = await table.updateEntity(toEntity(rest), 'Replace', { etag: etag ?? '*' });
        return { ...record, ...(result.etag ? { etag: result.etag } : {}) };
      } catch (err) {
        if (statusOf(err) === 412) throw new DeliveryChangedError(`delivery ${record.deliveryId} changed meanwhile`, { cause: err });
        if (statusOf(err) === 404) throw new DeliveryNotFoundError(`no delivery ${record.deliveryId}`, { cause: err });
        throw err;
      }
    },
    async query(filter) {
      // Delivery rows live in partitions d0…d3; other rows of the table (the redelivery cursor) never match.
      const clauses: string[] = [odata`PartitionKey ge ${'d'} and PartitionKey lt ${'e'}`];
      if (filter.tenantId) clauses.push(odata`tenantId eq ${filter.tenantId}`);
      if (filter.status) clauses.push(odata`status eq ${filter.status}`);
      if (filter.installationId !== undefined) clauses.push(odata`installationId eq ${filter.installationId}`);
      if (filter.since) clauses.push(odata`receivedAt ge ${filter.since}`);
      if (filter.until) clauses.push(odata`receivedAt lt ${filter.until}`);
      if (filter.updatedBefore) clauses.push(odata`updatedAt lt ${filter.updatedBefore}`);
      if (filter.dueBefore) clauses.push(odata`nextAttemptAt lt ${filter.dueBefore}`);
      const limit = filter.limit ?? Number.POSITIVE_INFINITY;
      const out: DeliveryRecord[] = [];
      const select = ['PartitionKey', 'RowKey', 'event', 'action', 'installationId', 'signature', 'receivedAt', 'status', 'attempts', 'tenantId', 'lastError', 'updatedAt', 'deliveredAt', 'nextAttemptAt', 'leaseUntil', 'bodyBlob', 'bodyBytes'];
      const iter = table.listEntities<DeliveryEntity>({
        queryOptions: { filter: clauses.join(' and '), select },
      });
      for await (const entity of iter) {
        out.push(fromEntity(entity));
        if (out.length >= limit) break;
      }
      return out.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    },
    async body(record) {
      const inline = (r: DeliveryRecord) => (r.bodyEncoding === 'deflate-raw' ? inflateRawSync(r.body as Uint8Array) : Buffer.from(r.body as Uint8Array));
      if (record.body) return inline(record);
      if (record.bodyBlob) return payloads.getBlobClient(record.bodyBlob).downloadToBuffer();
      // Query results leave the body out; read the row itself.
      const full = await this.get(record.deliveryId);
      if (full.body) return inline(full);
      if (full.bodyBlob) return payloads.getBlobClient(full.bodyBlob).downloadToBuffer();
      throw new DeliveryNotFoundError(`delivery ${record.deliveryId} has no stored body`);
    },
    async remove(record) {
      if (record.bodyBlob) await payloads.getBlobClient(record.bodyBlob).deleteIfExists();
      try {
        await table.deleteEntity(record.partition, record.deliveryId);
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    },
  };
}
