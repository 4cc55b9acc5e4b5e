import { statusTitle } from '@smsfleet/contracts';
import { CallerZone } from '../common/caller-zone';
import { phpDate, phpDateOrNull } from '../common/php-date';
import { MessageListRow } from '@smsfleet/persistence';

/**
 * The getallsms answer as JSON text. `smss` is an object keyed by id whose member order must follow the
 * requested order; JSON.stringify would put integer-like keys in ascending order, so that part is
 * written here, member by member.
 */
export function messageListJson(count: number, rows: MessageListRow[], zone: CallerZone): string {
  const members = rows.map((row) => `"${row.id}":${JSON.stringify(listedMessage(row, zone))}`);
  return `{"error":0,"message":"Ok","count":${count},"smss":{${members.join(',')}}}`;
}

function listedMessage(row: MessageListRow, zone: CallerZone) {
  return {
    id: row.id,
    sendto: row.sendto,
    body: row.body,
    customerid: row.customer_id,
    status: row.status,
    statustitle: statusTitle(row.status),
    deviceid: row.device_id,
    sim: row.sim,
    urgent: row.urgent ? 1 : 0,
    created: phpDate(row.created_at, zone),
    senttime: phpDateOrNull(row.sent_at, zone),
    timetosend: phpDate(row.time_to_send, zone),
    paketid: row.newsletter_id,
    pakettitle: row.newsletter_title,
    paketbody: row.newsletter_body,
  };
}
