import { Injectable, Logger } from '@nestjs/common';
import { paceRangeMs } from '@smsfleet/contracts';
import { DeviceProfileService } from '../device-profile.service';
import { StatusReportBatcher } from '../status-report-batcher';
import { SessionRegistry } from '../sessions/session-registry';
import { ourNumericId, parseDevicePatch, parseRegistration, parseStateReports } from './app-input';
import { AppMessage, toAppMessage } from './app-protocol';
import { reportsOfAppState } from './app-state-mapping';
import { PullSessions } from './pull-sessions';
import { AppRegistrationAnswer, appVersionOf, SmsGateDevice, SmsGateDevices } from './smsgate-devices';

/** Where the app posts webhooks, under the base URL it uses for us. */
export const INCOMING_WEBHOOK_PATH = '/webhooks/incoming';
const INCOMING_WEBHOOK_ID = 'smsfleet-sms-received';

/** The work behind each `/mobile/v1` route (docs/phones.md), for a phone the controller authenticated. */
@Injectable()
export class MobileApi {
  private readonly logger = new Logger(MobileApi.name);

  constructor(
    private readonly devices: SmsGateDevices,
    private readonly sessions: PullSessions,
    private readonly registry: SessionRegistry,
    private readonly reports: StatusReportBatcher,
    private readonly profiles: DeviceProfileService,
  ) {}

  async register(
    authorization: string | undefined,
    body: unknown,
    userAgent: string | undefined,
  ): Promise<AppRegistrationAnswer> {
    const answer = await this.devices.register(
      authorization,
      parseRegistration(body),
      appVersionOf(userAgent),
    );
    this.logger.log({ deviceId: Number(answer.id) }, 'smsgate phone registered');
    return answer;
  }

  async updateDevice(device: SmsGateDevice, body: unknown, userAgent: string | undefined): Promise<void> {
    await this.devices.update(device, parseDevicePatch(body), appVersionOf(userAgent));
  }

  async messages(device: SmsGateDevice): Promise<AppMessage[]> {
    this.registry.seen(device.deviceId);
    return (await this.sessions.pull(device)).map(toAppMessage);
  }

  /**
   * The phone's state reports: each acknowledges its message to the session (2), and its states go to
   * the status service. Ids that are not ours, or not this device's, are ignored there.
   */
  async reportStates(device: SmsGateDevice, body: unknown): Promise<void> {
    const items = parseStateReports(body);
    this.registry.seen(device.deviceId);
    const known = items.flatMap((item) => {
      const messageId = ourNumericId(item.id);
      return messageId === undefined ? [] : [{ messageId, item }];
    });
    if (known.length === 0) return;
    const reports = known.flatMap(({ messageId, item }) => reportsOfAppState(messageId, item));
    // Committed in PostgreSQL before the ack completes the job and before the 2xx (ADR 1801): a crash in
    // between means a repeat, never a loss.
    if (reports.length > 0) await this.reports.submit(device.deviceId, reports);
    await this.sessions.reported(
      device,
      known.map(({ messageId }) => messageId),
    );
  }

  /**
   * The phone's settings: its pace (the app's send interval, a range when the pace is random), our order (first in first out: we hand
   * out urgent messages first already), and its webhook signing key. Never a `gateway` group, which
   * would overwrite the phone's server settings.
   */
  settings(device: SmsGateDevice): Record<string, Record<string, unknown>> {
    const settings = this.registry.settingsOf(device.deviceId) ?? device.settings;
    // The app draws its own gap between the two ends, as our session does: a fixed pace gives both ends.
    const [min, max] = paceRangeMs(settings).map((ms) => ms / 1_000);
    return {
      messages: {
        send_interval_min: max > 0 ? min : null,
        send_interval_max: max > 0 ? max : null,
        processing_order: 'FIFO',
      },
      webhooks: { signing_key: device.signingKey },
    };
  }

  /** Our own receiver of incoming SMS, under the base URL the phone reached us at. */
  webhooks(baseUrl: string): Array<{ id: string; url: string; event: string }> {
    return [{ id: INCOMING_WEBHOOK_ID, url: `${baseUrl}${INCOMING_WEBHOOK_PATH}`, event: 'sms:received' }];
  }

  /** The phone's event stream opened: its session comes here and lastseen is saved. */
  async streamOpened(device: SmsGateDevice): Promise<void> {
    this.registry.seen(device.deviceId);
    await this.sessions.streamOpened(device);
  }

  streamClosed(device: SmsGateDevice): void {
    this.logger.log({ deviceId: device.deviceId }, 'smsgate event stream closed');
    void this.registry.leftIfGone(device.deviceId);
    void this.profiles
      .touch(device.deviceId)
      .catch((error: Error) => this.logger.warn({ err: error }, 'lastseen not saved'));
  }
}
