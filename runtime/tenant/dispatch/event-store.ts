/**
 * Zekt events in the tenant's `events` table (beside the run states of workflow-event-store.ts,
 * in partitions of their own):
 * - `event` / `<eventId>`: the event; created with `create`, so the first writer wins and every
 *   later copy of the same run attempt finds it (exactly once per attempt);
 * - `event-time` / `<inverted created time>-<eventId>`: the same event, for listing newest first;
 * - `message` / `<messageId>`: the event that references a message (for `WasMessageDeliveredTo`).
 * The index rows are upserts of values derived from the event, written after it, so a crash
 * between the writes is repaired by the next copy (the fan-out is retried until it succeeds).
 */
import type { TableClient } from '@azure/data-tables';
import { statusOf } from '../../storage/status-of.ts';
import type { ZektEvent } from './zekt-event.ts';

type Row = { partitionKey: string; rowKey: string; value: string };

/** Row keys sort ascending; 10^13 ms (year 2286) minus the time sorts the newest first. */
const newestFirst = (event: ZektEvent) => `${String(1e13 - Date.parse(event.createdAt)).padStart(13, '0')}-${event.id}`;

export interface Page<T> {
  readonly items: T[];
  /** Opaque; pass back as `cursor` for the next page. Absent on the last page. */
  readonly next?: string;
}

export function createEventStore(table: TableClient) {
  return {
    /** Stores the event unless one with its id exists; answers the stored one either way. */
    async createIfAbsent(event: ZektEvent): Promise<{ event: ZektEvent; created: boolean }> {
      let stored = event;
      let created = true;
      try {
        await table.createEntity({ partitionKey: 'event', rowKey: event.id, value: JSON.stringify(event) });
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
        created = false;
        stored = JSON.parse((await table.getEntity<Row>('event', event.id)).value) as ZektEvent;
      }
      await Promise.all([
        table.upsertEntity({ partitionKey: 'event-time', rowKey: newestFirst(stored), value: JSON.stringify(stored) }, 'Replace'),
        ...stored.messages.map((m) => table.upsertEntity({ partitionKey: 'message', rowKey: m.id, value: stored.id }, 'Replace')),
      ]);
      return { event: stored, created };
    },

    async get(id: string): Promise<ZektEvent | undefined> {
      try {
        return JSON.parse((await table.getEntity<Row>('event', id)).value) as ZektEvent;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },

    /** Newest first. */
    async list(options: { limit: number; cursor?: string }): Promise<Page<ZektEvent>> {
      const pages = table
        .listEntities<Row>({ queryOptions: { filter: `PartitionKey eq 'event-time'` } })
        .byPage({ maxPageSize: options.limit, ...(options.cursor ? { continuationToken: options.cursor } : {}) });
      const first = await pages.next();
      if (first.done) return { items: [] };
      const page = first.value;
      return { items: page.map((r) => JSON.parse(r.value) as ZektEvent), ...(page.continuationToken ? { next: page.continuationToken } : {}) };
    },

    /** The id of the event that references a message, if any. */
    async eventOfMessage(messageId: string): Promise<string | undefined> {
      try {
        return (await table.getEntity<Row>('message', messageId)).value;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
  };
}

export type EventStore = ReturnType<typeof createEventStore>;
