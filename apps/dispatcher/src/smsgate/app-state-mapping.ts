import { MessageStatus, StatusReport } from '@smsfleet/contracts';
import { toStorableText } from '@smsfleet/validation';
import { AppState, AppStateReport } from './app-protocol';

/** Longest failure text kept from the app. */
const MAX_ERROR_LENGTH = 500;

/**
 * The failure code an Android send error names. The app reports "Send result: RESULT_ERROR_… (…)" from
 * SmsManager's result (its `MessagesService.resultToErrorMessage`), and "TTL expired" when the message's
 * validity ended before it sent it; anything else failed before the radio took it (9).
 */
function failureCode(error: string): number {
  if (/\bTTL expired\b/.test(error)) return MessageStatus.Expired;
  if (/RESULT_ERROR_NO_SERVICE/.test(error)) return MessageStatus.NoService;
  if (/RESULT_ERROR_NULL_PDU/.test(error)) return MessageStatus.NullPdu;
  if (/RESULT_ERROR_RADIO_OFF|RESULT_RADIO_NOT_AVAILABLE/.test(error)) return MessageStatus.RadioOff;
  return MessageStatus.GenericFailure;
}

/**
 * Our status reports for one message's state as the app reports it: Processed → 2, Sent → 6,
 * Delivered → 7, Failed → 8 once it was sent (the delivery report failed), else the code its error
 * names (9–12, or 202 for "TTL expired"), Cancelled → 201. Every state of its history is reported (the
 * status service records each once and never moves a message backwards), each at the phone's time.
 * Our messages have one recipient each, whose error text is kept.
 */
export function reportsOfAppState(
  messageId: number,
  report: AppStateReport,
  now = new Date(),
): StatusReport[] {
  const at = (state: AppState) => (report.states[state] ?? now).toISOString();
  const reached = (state: AppState) => report.state === state || report.states[state] !== undefined;
  const error = report.recipients.find((recipient) => recipient.error)?.error ?? '';
  const text = error === '' ? {} : { error: toStorableText(error.slice(0, MAX_ERROR_LENGTH)) };
  const reports: StatusReport[] = [];
  if (reached('Processed'))
    reports.push({ messageId, status: MessageStatus.TakenFromServer, at: at('Processed') });
  if (reached('Sent')) reports.push({ messageId, status: MessageStatus.SentByPhone, at: at('Sent') });
  if (reached('Delivered')) reports.push({ messageId, status: MessageStatus.Delivered, at: at('Delivered') });
  if (report.state === 'Failed') {
    const status = reached('Sent') ? MessageStatus.NotDelivered : failureCode(error);
    reports.push({ messageId, status, at: at('Failed'), ...text });
  }
  if (report.state === 'Cancelled')
    reports.push({
      messageId,
      status: MessageStatus.RejectedByPhone,
      at: at('Cancelled'),
      error: 'cancelled on the phone',
    });
  return reports;
}
