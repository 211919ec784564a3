/**
 * The tenant runtime's read and redeliver API, each handler behind `requireTenantApiCredential`
 * (a 60 s credential the platform issues for this tenant; 401 otherwise):
 * `GET /api/events`, `GET /api/events/{id}`, `GET /api/deliveries?status=`,
 * `POST /api/deliveries/{id}/redeliver`. Shapes in api-json.ts and docs/orchestration.md.
 * Bad input is a 400 that changes nothing; errors become statuses in `errorResponse` alone.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import type { ForwardSecrets } from '../../ingress/forward-to-tenant.ts';
import { requireTenantApiCredential } from '../tenant-api-credential.ts';
import { deliveryJson, eventJson } from './api-json.ts';
import { deliveryStatuses, type DeliveryRecord, type DeliveryStatus } from './delivery-record.ts';
import type { DeliveryStore } from './delivery-store.ts';
import type { EventStore } from './event-store.ts';
import { DeliveryNotFoundError } from './link-consumer-run.ts';
import { DeliveryPendingError } from './redeliver-delivery.ts';

export class BadQueryError extends Error {
  override name = 'BadQueryError';
}

export const defaultPageSize = 20;
export const maxPageSize = 100;

function paging(request: HttpRequest): { limit: number; cursor?: string } {
  const raw = request.query.get('limit');
  const limit = raw === null ? defaultPageSize : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) throw new BadQueryError(`limit must be an integer from 1 to ${maxPageSize}`);
  const cursor = request.query.get('cursor');
  if (cursor !== null && !/^[A-Za-z0-9+/=_-]{1,2048}$/.test(cursor)) throw new BadQueryError('cursor is not one this API gave');
  return { limit, ...(cursor ? { cursor } : {}) };
}

function errorResponse(err: unknown, context: { error: (...args: unknown[]) => void }): HttpResponseInit {
  if (err instanceof BadQueryError) return { status: 400, jsonBody: { error: err.message } };
  if (err instanceof DeliveryNotFoundError) return { status: 404, jsonBody: { error: 'no such delivery' } };
  if (err instanceof DeliveryPendingError) return { status: 409, jsonBody: { error: 'the delivery is queued already' } };
  context.error(err);
  return { status: 500, jsonBody: { error: 'internal error' } };
}

export interface TenantApiOptions {
  readonly tenantId: string;
  readonly secrets: () => Promise<ForwardSecrets | undefined>;
  readonly events: EventStore;
  readonly deliveries: DeliveryStore;
  /** The settled reports sent to the provider (`report` partition). */
  readonly reports?: DeliveryStore;
  readonly redeliver: (id: string) => Promise<DeliveryRecord>;
}

export function createTenantApiHandlers(options: TenantApiOptions): Record<'listEvents' | 'getEvent' | 'listDeliveries' | 'redeliver', HttpHandler> {
  const guard = (fn: (request: HttpRequest) => Promise<HttpResponseInit>): HttpHandler =>
    requireTenantApiCredential(options, async (request, context) => {
      try {
        return await fn(request);
      } catch (err) {
        return errorResponse(err, context);
      }
    });

  return {
    listEvents: guard(async (request) => {
      const page = await options.events.list(paging(request));
      return { status: 200, jsonBody: { events: page.items.map(eventJson), next_cursor: page.next ?? null } };
    }),

    getEvent: guard(async (request) => {
      const id = request.params.id ?? '';
      const event = /^\d+-\d+-\d+$/.test(id) ? await options.events.get(id) : undefined;
      if (!event) return { status: 404, jsonBody: { error: 'no such event' } };
      const [deliveries, reports] = await Promise.all([options.deliveries.ofEvent(event.id), options.reports?.ofEvent(event.id) ?? []]);
      return { status: 200, jsonBody: { event: eventJson(event), deliveries: deliveries.map(deliveryJson), settled_reports: reports.map(deliveryJson) } };
    }),

    listDeliveries: guard(async (request) => {
      const status = request.query.get('status');
      if (status !== null && !(deliveryStatuses as readonly string[]).includes(status)) throw new BadQueryError(`status must be one of ${deliveryStatuses.join(', ')}`);
      const page = await options.deliveries.list({ ...paging(request), ...(status ? { status: status as DeliveryStatus } : {}) });
      return { status: 200, jsonBody: { deliveries: page.items.map(deliveryJson), next_cursor: page.next ?? null } };
    }),

    redeliver: guard(async (request) => {
      const id = request.params.id ?? '';
      if (!/^\d+-\d+-\d+\.\d+$/.test(id)) throw new DeliveryNotFoundError(`no delivery ${id}`);
      const record = await options.redeliver(id);
      return { status: 202, jsonBody: { delivery: deliveryJson(record) } };
    }),
  };
}
