/**
 * Zekt events in the tenant's `events` table (beside the run states of workflow-event-store.ts,
 * in partitions of their own):
 * - `event` / `<eventId>`: the event; created with `create`, so the first writer wins and every
 *   later copy of the same run attempt finds it (exactly once per attempt);
 * - `event` / `time.<inverted created time>-<eventId>`: the same event, for listing newest first,
 *   in the event's own partition, so the event and its listing row are written in one
 *   transaction (one request, and never one without the other). Events stored by earlier versions
 *   are listed from `event-time` / `<inverted created time>-<eventId>`, after the newer ones; their
 *   event row has no `listed` column, so their updates keep that row up to date instead;
 * - `message` / `<messageId>`: the event that references a message (for `WasMessageDeliveredTo`),
 *   also for a message added after the event was built (`addMessages`);
 * - `event` / `open.<eventId>`: an event not yet settled (settle-event.ts), with `checkedAt` (epoch
 *   ms), so the sweeper can settle one whose last delivery ended while its process died. In the
 *   event's own partition, so a new event and its open row are one transaction (one request, and
 *   never one without the other). Earlier versions kept these rows as `open` / `<eventId>`: the
 *   sweeper still reads that partition, and settling removes such a row.
 * The index rows are upserts of values derived from the event, written after it, so a crash
 * between the writes is repaired by the next copy (the fan-out is retried until it succeeds).
 */
import type { TableClient } from '@azure/data-tables';
import { odata, type TransactionAction } from '@azure/data-tables';
import { statusOf } from '../../storage/status-of.ts';
import { mergeReferences, type MessageReference } from '../message-reference.ts';
import type { ZektEvent } from './zekt-event.ts';

type Row = { partitionKey: string; rowKey: string; value: string; listed?: string; etag?: string };

/** The event changed between its read and its write too often. */
export class EventChangedError extends Error {
  override name = 'EventChangedError';
}

/** The listing row of an event stored with it (the `listed` column of its row). */
const listedHere = 'event';
const timePrefix = 'time.';
const timeEnd = 'time/';
const listingRow = (event: ZektEvent) => ({ partitionKey: 'event', rowKey: `${timePrefix}${newestFirst(event)}`, value: JSON.stringify(event) });
const legacyListingRow = (event: ZektEvent) => ({ partitionKey: 'event-time', rowKey: newestFirst(event), value: JSON.stringify(event) });

/** Open rows' keys in the `event` partition: `open.<eventId>` (event ids start with a digit). */
const openPrefix = 'open.';
const openEnd = 'open/';
const openRow = (id: string, at: number, sequence?: number) => ({ partitionKey: 'event', rowKey: `${openPrefix}${id}`, checkedAt: at, ...(sequence !== undefined ? { sequence } : {}) });

/** Row keys sort ascending; 10^13 ms (year 2286) minus the time sorts the newest first. */
const newestFirst = (event: ZektEvent) => `${String(1e13 - Date.parse(event.createdAt)).padStart(13, '0')}-${event.id}`;

/** An event as this process last wrote it, with that write's ETag. */
export interface Known {
  readonly event: ZektEvent;
  readonly etag: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Opaque; pass back as `cursor` for the next page. Absent on the last page. */
  readonly next?: string;
}

export function createEventStore(table: TableClient) {
  return {
    /**
     * Stores the event unless one with its id exists; answers the stored one either way, and the
     * ETag of the one this call created (so its creator can change it without reading it back).
     */
    async createIfAbsent(event: ZektEvent, open?: { at: number; sequence: number }): Promise<{ event: ZektEvent; created: boolean; etag?: string }> {
      let stored = event;
      let created = true;
      let etag: string | undefined;
      const row = { partitionKey: 'event', rowKey: event.id, value: JSON.stringify(event), listed: listedHere };
      let listing: Promise<unknown> | undefined;
      try {
        // With its listing row and (`open`) on the open list (markOpen), in one transaction.
        const actions: TransactionAction[] = [['create', row], ['upsert', listingRow(event), 'Replace']];
        if (open) actions.push(['upsert', openRow(event.id, open.at, open.sequence), 'Merge']);
        const answer = await table.submitTransaction(actions);
        etag = (answer.subResponses.find((r) => r.rowKey === event.id) ?? answer.subResponses[0])?.etag;
      } catch (err) {
        if (statusOf(err) !== 409) throw err;
        created = false;
        const found = await table.getEntity<Row>('event', event.id);
        stored = JSON.parse(found.value) as ZektEvent;
        // Written with the event's row in one transaction, or kept apart (earlier versions): repeated all the same.
        listing = table.upsertEntity(found.listed === listedHere ? listingRow(stored) : legacyListingRow(stored), 'Replace');
      }
      await Promise.all([listing, ...stored.messages.map((m) => table.upsertEntity({ partitionKey: 'message', rowKey: m.id, value: stored.id }, 'Replace'))]);
      return { event: stored, created, ...(etag ? { etag } : {}) };
    },

    async get(id: string): Promise<ZektEvent | undefined> {
      // The open and listing rows share the partition: never an event.
      if (id.startsWith(openPrefix) || id.startsWith(timePrefix)) return undefined;
      try {
        return JSON.parse((await table.getEntity<Row>('event', id)).value) as ZektEvent;
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },

    /**
     * Newest first: the events listed in their own partition, then those stored by earlier
     * versions (all older). The cursor says which of the two it continues (`N…`, `L…`).
     */
    async list(options: { limit: number; cursor?: string }): Promise<Page<ZektEvent>> {
      const page = async (filter: string, limit: number, token?: string) => {
        const pages = table.listEntities<Row>({ queryOptions: { filter } }).byPage({ maxPageSize: limit, ...(token ? { continuationToken: token } : {}) });
        const first = await pages.next();
        return first.done ? { items: [] as ZektEvent[] } : { items: first.value.map((r) => JSON.parse(r.value) as ZektEvent), next: first.value.continuationToken };
      };
      const legacy = `PartitionKey eq 'event-time'`;
      const token = options.cursor?.slice(1) || undefined;
      if (options.cursor?.startsWith('L')) {
        const older = await page(legacy, options.limit, token);
        return { items: older.items, ...(older.next ? { next: `L${older.next}` } : {}) };
      }
      const newer = await page(odata`PartitionKey eq 'event' and RowKey ge ${timePrefix} and RowKey lt ${timeEnd}`, options.limit, token);
      if (newer.next) return { items: newer.items, next: `N${newer.next}` };
      // The newer ones are all here: the page is filled with older ones (or one is asked for, to know whether a next page has any).
      const older = await page(legacy, Math.max(1, options.limit - newer.items.length));
      if (newer.items.length >= options.limit) return { items: newer.items, ...(older.items.length ? { next: 'L' } : {}) };
      return { items: [...newer.items, ...older.items], ...(older.next ? { next: `L${older.next}` } : {}) };
    },

    /**
     * Reads, changes and writes the event under its ETag until no concurrent change meets it, and
     * repeats the value on its listing row (in the same transaction, unless an earlier version
     * stored the event). `change` answers undefined to leave it as it is.
     */
    async update(id: string, change: (current: ZektEvent) => ZektEvent | undefined, known?: Known): Promise<ZektEvent | undefined> {
      for (let i = 0; i < 10; i++) {
        let row: Row;
        try {
          // The caller's copy first (its ETag guards the write as a read's would), then reads.
          row = i === 0 && known ? { partitionKey: 'event', rowKey: id, value: JSON.stringify(known.event), listed: listedHere, etag: known.etag } : await table.getEntity<Row>('event', id);
        } catch (err) {
          if (statusOf(err) === 404) return undefined;
          throw err;
        }
        const current = JSON.parse(row.value) as ZektEvent;
        const next = change(current);
        if (!next) return current;
        const here = row.listed === listedHere;
        const entity = { partitionKey: 'event', rowKey: id, value: JSON.stringify(next), ...(here ? { listed: listedHere } : {}) };
        try {
          if (here) await table.submitTransaction([['update', entity, 'Replace', { etag: row.etag ?? '*' }], ['upsert', listingRow(next), 'Replace']]);
          else await table.updateEntity(entity, 'Replace', { etag: row.etag ?? '*' });
        } catch (err) {
          if (statusOf(err) === 412 || statusOf(err) === 409) continue;
          throw err;
        }
        // An earlier version's listing row: a later update may overtake this upsert; the next one repeats its own value (the listing is a copy).
        if (!here) await table.upsertEntity(legacyListingRow(next), 'Replace');
        return next;
      }
      throw new EventChangedError(`event ${id}: too much contention`);
    },

    /**
     * Adds message references a run posted after its event was built (follow-up-delivery.ts), one
     * per name, the later post winning, and indexes them for `eventOfMessage`. Answers the event
     * and the references that were new to it; undefined when there is no such event (yet).
     * `known`: the event as its creator wrote it, with that write's ETag (no reads while it holds).
     */
    async addMessages(id: string, refs: readonly MessageReference[], known?: Known): Promise<{ event: ZektEvent; added: MessageReference[] } | undefined> {
      // Indexed first: a crash after the index and before the event leaves a message its run's
      // consumers may fetch but were not told of, never one they were told of and may not fetch.
      if (!known && !(await this.get(id))) return undefined;
      await Promise.all(refs.map((m) => table.upsertEntity({ partitionKey: 'message', rowKey: m.id, value: id }, 'Replace')));
      let added: MessageReference[] = [];
      const event = await this.update(id, (current) => {
        added = [];
        const merged = mergeReferences(current.messages, refs);
        if (merged === current.messages) return undefined;
        added = merged.filter((m) => !current.messages.some((c) => c.id === m.id));
        return { ...current, messages: merged };
      }, known);
      return event ? { event, added } : undefined;
    },

    /** Notes that the event is open at `sequence` (or, without it, still open at `at`): the sweeper looks at it again later. */
    async markOpen(id: string, at: number, sequence?: number): Promise<void> {
      await table.upsertEntity(openRow(id, at, sequence), 'Merge');
    },

    /** Takes the event off the open list, unless a later sequence reopened it meanwhile. */
    async markSettled(id: string, sequence: number): Promise<void> {
      for (const [partitionKey, rowKey] of [['event', `${openPrefix}${id}`], ['open', id]] as const) {
        try {
          const row = await table.getEntity<{ sequence?: number; etag?: string }>(partitionKey, rowKey);
          if ((row.sequence ?? 0) > sequence) return;
          await table.deleteEntity(partitionKey, rowKey, { etag: row.etag ?? '*' });
          return;
        } catch (err) {
          // Gone already (or kept where earlier versions kept it: looked for there), or reopened between the read and the delete.
          if (statusOf(err) === 412) return;
          if (statusOf(err) !== 404) throw err;
        }
      }
    },

    /** Open events last looked at before `before`, at most `limit` (and as many again kept by earlier versions). */
    async openSince(before: number, limit: number): Promise<string[]> {
      const first = async (filter: string) => {
        const page = await table.listEntities<Row>({ queryOptions: { filter } }).byPage({ maxPageSize: limit }).next();
        return page.done ? [] : page.value.map((r) => r.rowKey);
      };
      const [current, earlier] = await Promise.all([
        first(odata`PartitionKey eq 'event' and RowKey ge ${openPrefix} and RowKey lt ${openEnd} and checkedAt lt ${before}`),
        first(odata`PartitionKey eq 'open' and checkedAt lt ${before}`),
      ]);
      return [...new Set([...current.map((k) => k.slice(openPrefix.length)), ...earlier])];
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
