import { Controller, Get, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isFailureStatus, statusTitle } from '@smsfleet/contracts';
import { ApiError } from '../common/api-error';
import { CallerService } from '../common/caller.service';
import { Params } from '../common/params.decorator';
import { RequestParams } from '../common/request-params';
import { DeviceViewsService } from '../devices/device-views.service';
import { HOUR_MS, HourlyCounts } from './hourly-counts';
import { HourStatusCount } from '@smsfleet/persistence';
import { OverviewRepository } from './overview.repository';

const RANGES: Record<string, number> = { '24h': 24, '7d': 24 * 7 };

/** What a message's status says about how it ended, for the chart. */
export type Outcome = 'delivered' | 'failed' | 'waiting' | 'in_progress';

export function outcomeOf(status: number): Outcome {
  if (status === 7) return 'delivered';
  if (isFailureStatus(status)) return 'failed';
  if (status === 1 || status === 3) return 'waiting';
  return 'in_progress';
}

/** Messages per hour by outcome (every hour of the range, empty ones as zeros), failures by code. */
export function hourlyOutcomes(rows: HourStatusCount[], from: Date, hours: number, now: number) {
  const first = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS;
  const series = new Map<number, Record<Outcome, number>>();
  for (let at = first; at <= now; at += HOUR_MS)
    series.set(at, { delivered: 0, failed: 0, waiting: 0, in_progress: 0 });
  const failures = new Map<number, number>();
  for (const row of rows) {
    const bucket = series.get(new Date(row.hour).getTime());
    const outcome = outcomeOf(row.status);
    if (bucket) bucket[outcome] += row.count;
    if (outcome === 'failed') failures.set(row.status, (failures.get(row.status) ?? 0) + row.count);
  }
  return {
    hours: [...series]
      .slice(-hours - 1)
      .map(([at, counts]) => ({ hour: new Date(at).toISOString(), ...counts })),
    failures_by_code: [...failures]
      .sort((a, b) => b[1] - a[1])
      .map(([status, count]) => ({ status, status_title: statusTitle(status), count })),
  };
}

/** `GET /v1/overview?range=24h|7d`: what the dashboard's first page shows. */
@Controller('v1/overview')
export class OverviewController {
  constructor(
    private readonly caller: CallerService,
    private readonly overview: OverviewRepository,
    private readonly hourly: HourlyCounts,
    private readonly devices: DeviceViewsService,
  ) {}

  @Get()
  async get(@Params() params: RequestParams, @Req() request: FastifyRequest) {
    const account = await this.caller.byToken(params, request);
    const range = params.optionalString('range', 8) ?? '24h';
    const hours = RANGES[range];
    if (hours === undefined) throw ApiError.validation('range must be "24h" or "7d"');
    const now = Date.now();
    const from = new Date(Math.floor((now - hours * HOUR_MS) / HOUR_MS) * HOUR_MS);
    const [rows, oldest, devices] = await Promise.all([
      this.hourly.since(account, from, now),
      this.overview.oldestWaiting(account),
      this.devices.all(account),
    ]);
    return {
      error: 0,
      message: 'OK',
      range,
      ...hourlyOutcomes(rows, from, hours, now),
      devices_online: devices.filter((device) => device.online).length,
      devices_total: devices.length,
      oldest_waiting: oldest
        ? {
            id: Number(oldest.id),
            device_id: oldest.device_id,
            created_at: oldest.created_at.toISOString(),
            due_at: oldest.time_to_send.toISOString(),
            waiting_seconds: Math.max(0, Math.floor((now - oldest.time_to_send.getTime()) / 1_000)),
          }
        : null,
    };
  }
}
